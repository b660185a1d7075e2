"""Dispatch: the claim, at most one provider hand-off per message
(docs/reliability.md#7-at-most-one-provider-hand-off), and rollback leaving no trace
(docs/reliability.md#9-a-rolled-back-send-leaves-no-trace)."""

import threading
from decimal import Decimal

import pytest

from django.db import connection, transaction

from billing.models import LedgerEntry
from messaging.dispatch import claim, dispatch_messages
from messaging.models import Message
from messaging.tasks import SCHEDULER, message_dispatch
from sent_project.models import Event
from tests.messaging.factories import make_approved_template, number, provider_calls, send
from tests.tasks import queued_tasks, run_queued_tasks

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


@pytest.fixture
def template(account):
    return make_approved_template(account)


def test_a_claim_takes_only_queued_messages_once(account, template):
    messages = send(account, [number(60), number(61)])
    ids = [str(m.pk) for m in messages]

    first = claim(ids)
    assert sorted(str(m.pk) for m in first) == sorted(ids)
    assert {m.status for m in first} == {"PROCESSED"} and {m.attempts for m in first} == {1}
    assert claim(ids) == []


def test_a_dispatch_job_run_twice_in_turn_sends_once(account, template):
    [message] = send(account, number(60))
    [job] = queued_tasks("messaging.tasks.message_dispatch")
    kwargs = job.args_kwargs["kwargs"]

    run_queued_tasks(include_future=True)
    second = dispatch_messages(kwargs["message_ids"], scheduler=SCHEDULER)

    assert second["claimed"] == 0
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    assert provider_calls(message) == 1
    assert LedgerEntry.objects.filter(message_id=message.pk, kind="charge").count() == 1


def test_a_duplicate_job_for_the_same_batch_is_a_no_op(account, template):
    [message] = send(account, number(12))
    message_dispatch.enqueue(message_ids=[str(message.pk)])  # a second job, as if re-enqueued

    run_queued_tasks(include_future=True)

    message.refresh_from_db()
    assert message.status == "READ"
    assert provider_calls(message) == 1
    assert Event.objects.filter(subject_id=message.pk, event="message.sent").count() == 1


@pytest.mark.postgres_only
@on_postgresql
def test_four_workers_running_the_same_job_at_once_send_once(live_account):
    account = live_account
    make_approved_template(account)
    messages = send(account, [number(i, series=1) for i in range(50, 70)])
    ids = [str(m.pk) for m in messages]
    barrier = threading.Barrier(4)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(dispatch_messages(ids, scheduler=SCHEDULER))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r["claimed"] for r in results) == 20
    for message in Message.objects.filter(pk__in=ids):
        assert message.status == "SENT"
        assert provider_calls(message) == 1


def test_a_send_rolled_back_after_enqueue_leaves_nothing(account, template):
    """The jobs and events are rows of the send's transaction
    (docs/reliability.md#9-a-rolled-back-send-leaves-no-trace)."""
    before, events = account.balance, Event.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        send(account, [number(60), number(12)])
        assert queued_tasks("messaging.tasks.message_dispatch").count() == 1
        raise RuntimeError("the caller's transaction fails after the send")

    account.refresh_from_db()
    assert account.balance == before
    assert Message.objects.count() == 0
    assert Event.objects.count() == events  # the template's, from before
    assert queued_tasks().count() == 0
    assert LedgerEntry.objects.filter(kind="charge").count() == 0
    assert run_queued_tasks(include_future=True) == 0


def test_a_batch_larger_than_the_flush_records_everything(account, template, settings):
    settings.MESSAGE_DISPATCH_BATCH_SIZE = 60
    to = [number(50 + i % 30, series=i // 30) for i in range(60)]
    messages = send(account, to)
    run_queued_tasks(include_future=True)
    assert set(
        Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True)
    ) == {"DELIVERED"}
    account.refresh_from_db()
    assert account.balance == Decimal("100") - 60 * Decimal("0.0083")


def test_a_job_also_takes_other_due_messages_so_single_sends_go_in_batches(account, template):
    first = send(account, number(60))[0]
    others = [send(account, number(61 + i))[0] for i in range(3)]
    jobs = list(queued_tasks("messaging.tasks.message_dispatch").order_by("enqueued_at"))

    outcome = dispatch_messages(jobs[0].args_kwargs["kwargs"]["message_ids"], scheduler=SCHEDULER)

    assert outcome["claimed"] == 4
    for message in [first, *others]:
        message.refresh_from_db()
        assert message.status == "SENT"
    run_queued_tasks(include_future=True)  # the other jobs find nothing left
    assert all(provider_calls(m) == 1 for m in [first, *others])


@pytest.mark.parametrize("channel_digits", [range(60, 80), range(0, 20)], ids=["sms", "whatsapp"])
def test_a_groups_dispatch_costs_the_same_statements_for_5_or_20_messages(
    account, template, channel_digits
):
    """Claim, hand-off (the simulator's bookkeeping: one transaction a group) and record
    are a fixed number of statements per group, not a few per message."""
    from django.test.utils import CaptureQueriesContext

    def statements(count: int, block: int) -> int:
        messages = send(account, [number(d, series=block) for d in list(channel_digits)[:count]])
        with CaptureQueriesContext(connection) as queries:
            counts = dispatch_messages([], scheduler=SCHEDULER)
        assert counts["accepted"] == count
        assert {m.status for m in Message.objects.filter(pk__in=[m.pk for m in messages])} == {
            "SENT"
        }
        return len(queries)

    statements(1, 1)  # the first run of the process starts its round-robin over lanes
    assert statements(5, 2) == statements(20, 3)


def test_a_burst_of_sends_leaves_one_waiting_dispatch_job(account, template):
    """A send enqueues a wake-up only when none waits to run now: five sends, one job,
    which dispatches all five."""
    messages = [send(account, number(60 + i))[0] for i in range(5)]
    assert queued_tasks("messaging.tasks.message_dispatch").count() == 1
    run_queued_tasks(include_future=True)
    for message in messages:
        message.refresh_from_db()
        assert message.status == "DELIVERED"


@pytest.mark.postgres_only
@on_postgresql
def test_the_waiting_job_a_send_counts_on_is_not_taken_before_the_send_commits(live_account):
    """The send holds the waiting job it didn't duplicate until it commits: a running
    dispatch's coalescing (and a worker starting jobs) skips it, so it still runs after the
    send's messages exist — no wake-up is lost."""
    account = live_account
    make_approved_template(account)
    [first] = send(account, number(60))
    [job] = queued_tasks("messaging.tasks.message_dispatch")
    holding, release, sent = threading.Event(), threading.Event(), []

    def sender():
        try:
            with transaction.atomic():
                sent.extend(send(account, number(61)))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        assert holding.wait(10)
        assert SCHEDULER.coalesce() == 0  # another worker's drain can't mark it done
        job.refresh_from_db()
        assert job.status == "READY"
    finally:
        release.set()
        thread.join()
    assert queued_tasks("messaging.tasks.message_dispatch").count() == 1
    run_queued_tasks(include_future=True)
    for message in [first, *sent]:
        message.refresh_from_db()
        assert message.status == "DELIVERED"
