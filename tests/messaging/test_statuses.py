import pytest

from messaging.statuses import MessageStatus as S
from messaging.statuses import can_transition, is_terminal, predecessors


@pytest.mark.parametrize(
    "path",
    [
        [S.QUEUED, S.PROCESSED, S.SENT, S.DELIVERED, S.READ],
        [S.QUEUED, S.PROCESSED, S.SENT, S.DELIVERED],
        [S.QUEUED, S.PROCESSED, S.QUEUED, S.PROCESSED, S.SENT],  # transient error, retried
        [S.QUEUED, S.PROCESSED, S.FAILED],
        [S.QUEUED, S.PROCESSED, S.SENT, S.FAILED],  # carrier reports failure after accepting
        [S.QUEUED, S.FILTERED],
        [S.QUEUED, S.PROCESSED, S.SENT, S.READ],  # a read receipt may arrive before delivered
        [S.SCHEDULED, S.PROCESSED, S.SENT, S.DELIVERED],  # held, claimed when due
        [S.SCHEDULED, S.CANCELLED],
    ],
)
def test_the_lifecycle_moves_forward(path):
    for current, new in zip(path, path[1:], strict=False):
        assert can_transition(current, new), (current, new)


@pytest.mark.parametrize(
    "current,new",
    [
        (S.READ, S.DELIVERED),  # late receipt after read
        (S.DELIVERED, S.SENT),
        (S.DELIVERED, S.FAILED),
        (S.FAILED, S.DELIVERED),  # no second terminal outcome
        (S.FILTERED, S.QUEUED),
        (S.SENT, S.QUEUED),
        (S.SENT, S.PROCESSED),
        (S.CANCELLED, S.SENT),
        (S.QUEUED, S.SCHEDULED),  # SCHEDULED is only ever a first status
        (S.PROCESSED, S.SCHEDULED),
        (S.SCHEDULED, S.SENT),  # never handed off without a claim
    ],
)
def test_it_never_goes_backwards_or_leaves_a_terminal_state(current, new):
    assert not can_transition(current, new)


def test_predecessors_are_exactly_the_statuses_allowed_to_move_there():
    assert set(predecessors(S.READ)) == {S.QUEUED, S.PROCESSED, S.SENT, S.DELIVERED}
    assert set(predecessors(S.PROCESSED)) == {S.QUEUED, S.SCHEDULED}
    assert predecessors(S.QUEUED) == [S.PROCESSED]


def test_terminal_statuses():
    assert {s for s in S if is_terminal(s)} == {
        S.READ,
        S.FAILED,
        S.FILTERED,
        S.BLOCKED,
        S.CANCELLED,
        S.RECEIVED,  # inbound
    }
