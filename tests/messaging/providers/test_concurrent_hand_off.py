"""A dispatch job hands an HTTP adapter's messages off side by side, PROVIDER_CONCURRENCY at
a time, and records every outcome of the group — also when one call hangs past
PROVIDER_TIMEOUT (docs/api/messages.md#dispatch-retries-fallback-refunds)."""

import time

import pytest

from messaging.models import Message
from tests.messaging.factories import number, send
from tests.tasks import queued_tasks, run_queued_tasks

DISPATCH = "messaging.tasks.message_dispatch"
TEXT = "Your order is on its way"
GROUP = 25  # dispatch.FLUSH_EVERY_MESSAGES: one group, recorded in one transaction


@pytest.fixture
def backoff(settings):
    """Retries wait: a first pass runs only the first attempts."""
    settings.MESSAGE_RETRY_DELAY_SCALE = 1


def one_job_of(account, count: int) -> list[Message]:
    """`count` SMS messages to different numbers, accepted in one send: one dispatch job."""
    messages = send(account, [number(50 + i) for i in range(count)], template_name=None, text=TEXT)
    assert queued_tasks(DISPATCH).count() == 1
    return messages


def assert_each_sent_once(twilio, messages: list[Message]) -> None:
    for message in messages:
        message.refresh_from_db()
        [at_twilio] = twilio.messages_to(message.phone)
        assert message.status == "SENT" and message.attempts == 1
        assert message.provider_message_id == at_twilio["sid"]
        assert len(twilio.creates(message.phone)) == 1


@pytest.mark.parametrize("concurrency", [8, 4])
def test_a_slow_twilio_gets_the_group_side_by_side_at_most_provider_concurrency_at_once(
    live_account, twilio, settings, concurrency
):
    settings.PROVIDER_CONCURRENCY = concurrency
    twilio.hang_seconds = 0.3  # every answer takes 0.3 s
    messages = one_job_of(live_account, GROUP)

    run_queued_tasks()

    assert 1 < twilio.max_in_flight <= concurrency
    assert_each_sent_once(twilio, messages)


def test_with_provider_concurrency_1_the_calls_go_one_after_the_other(
    live_account, twilio, settings
):
    settings.PROVIDER_CONCURRENCY = 1
    twilio.hang_seconds = 0.05
    messages = one_job_of(live_account, 10)

    run_queued_tasks()

    assert twilio.max_in_flight == 1
    assert_each_sent_once(twilio, messages)


def test_a_call_hung_past_the_timeout_loses_none_of_the_groups_other_outcomes(
    live_account, twilio, settings, backoff
):
    settings.PROVIDER_CONCURRENCY = 8
    # Generous against a loaded machine: only the hung call may pass the timeout.
    settings.PROVIDER_TIMEOUT = 2.0
    messages = one_job_of(live_account, GROUP)
    hung, *others = messages
    twilio.slow_numbers[hung.phone] = 4.0  # Twilio takes it, after we gave up

    run_queued_tasks()

    # Every other outcome of the group was recorded: SENT (or, should the loaded machine have
    # made one of them miss the timeout too, a recorded provider error and a retry) — none left
    # PROCESSED waiting for the hung call.
    for message in others:
        message.refresh_from_db()
        assert message.status in ("SENT", "QUEUED"), message.status
        if message.status == "QUEUED":
            assert message.activities.filter(kind="provider_error").exists()
    assert sum(m.status == "SENT" for m in others) >= len(others) - 2
    hung.refresh_from_db()
    assert hung.status == "QUEUED" and hung.attempts == 1
    error = hung.activities.get(kind="provider_error")
    assert "did not answer in time" in error.description

    deadline = time.monotonic() + 15
    while not twilio.messages_to(hung.phone):  # Twilio went on after the timeout
        assert time.monotonic() < deadline, "the fake never took the hung message"
        time.sleep(0.05)
    run_queued_tasks(include_future=True)  # the retry finds it at Twilio: not sent again

    hung.refresh_from_db()
    [at_twilio] = twilio.messages_to(hung.phone)
    assert hung.status == "SENT" and hung.provider_message_id == at_twilio["sid"]
    assert hung.channel_response["found_before_retry"] is True
    assert len(twilio.creates(hung.phone)) == 1
    for message in others:  # and in the end each of the others is at Twilio exactly once
        message.refresh_from_db()
        assert message.status == "SENT" and len(twilio.messages_to(message.phone)) == 1
