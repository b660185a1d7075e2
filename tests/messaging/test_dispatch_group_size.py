"""How many hand-offs a dispatch job makes before recording them: a slow provider keeps the
first group's size, a fast one gets bigger groups, never more than the cap
(docs/architecture.md#how-a-message-flows)."""

from messaging.dispatch import (
    FLUSH_EVERY_MESSAGES,
    FLUSH_EVERY_SECONDS,
    FLUSH_MAX_MESSAGES,
    next_group_size,
)


def test_a_provider_that_took_a_second_for_the_group_keeps_the_smallest_groups():
    assert next_group_size(FLUSH_EVERY_MESSAGES, 1.0) == FLUSH_EVERY_MESSAGES


def test_a_fast_provider_gets_groups_up_to_the_cap():
    assert next_group_size(FLUSH_EVERY_MESSAGES, 0.001) == FLUSH_MAX_MESSAGES
    assert next_group_size(FLUSH_EVERY_MESSAGES, 0.0) == FLUSH_MAX_MESSAGES


def test_in_between_a_group_is_what_the_provider_takes_in_the_flush_interval():
    # 25 in 50 ms is 500/s: 50 in 0.1 s.
    seconds = FLUSH_EVERY_MESSAGES / 500
    assert next_group_size(FLUSH_EVERY_MESSAGES, seconds) == int(500 * FLUSH_EVERY_SECONDS)


def test_a_group_whose_messages_had_all_opted_out_starts_small_again():
    assert next_group_size(0, 0.0) == FLUSH_EVERY_MESSAGES
