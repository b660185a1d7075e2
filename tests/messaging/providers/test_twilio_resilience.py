"""Twilio failing on the way: outages, hangs, throttling and dead workers — every message
retried with backoff or found at Twilio, and sent exactly once
(docs/providers/twilio.md#retries-and-never-sending-twice)."""

import time
from datetime import timedelta

import pytest

from django.utils import timezone

from messaging.dispatch import claim, hand_off
from messaging.models import Message, SenderPace
from messaging.reconciler import reconcile
from messaging.tasks import SCHEDULER
from tests.messaging.factories import number, send
from tests.tasks import queued_tasks, run_queued_tasks

DISPATCH = "messaging.tasks.message_dispatch"
TEXT = "Your order is on its way"


@pytest.fixture
def backoff(settings):
    """Retries wait (so a first pass runs only the first attempts); run them with
    `run_queued_tasks(include_future=True)`."""
    settings.MESSAGE_RETRY_DELAY_SCALE = 1


def send_texts(account, *numbers: str) -> list[Message]:
    return send(account, list(numbers), template_name=None, text=TEXT)


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_outage_is_retried_with_backoff_and_each_message_sent_once(
    live_account, twilio, backoff
):
    twilio.outage(503)
    messages = send_texts(live_account, number(60), number(61))
    run_queued_tasks()

    for message in messages:
        message.refresh_from_db()
        assert message.status == "QUEUED" and message.next_attempt_at > timezone.now()
        error = message.activities.get(kind="provider_error")
        assert error.data["provider_response"] == {
            "code": 20503,
            "message": "Service Unavailable",
            "more_info": "https://www.twilio.com/docs/errors/20503",
            "status": 503,
        }

    twilio.outage(None)
    run_queued_tasks(include_future=True)

    for message in messages:
        message.refresh_from_db()
        assert message.status == "SENT" and message.attempts == 2
        assert len(twilio.messages_to(message.phone)) == 1
        twilio.deliver(message.provider_message_id)
        message.refresh_from_db()
        assert message.status == "DELIVERED"


def test_a_hang_past_the_timeout_is_retried_and_never_sent_twice(
    live_account, twilio, backoff, settings
):
    """Twilio took the message but its answer never came: the retry finds it there."""
    settings.PROVIDER_TIMEOUT = 0.5
    twilio.hang_seconds = 1.5
    [message] = send_texts(live_account, number(62))
    run_queued_tasks()

    message.refresh_from_db()
    assert message.status == "QUEUED"
    assert "did not answer in time" in message.activities.get(kind="provider_error").description
    wait_for(lambda: twilio.messages_to(number(62)))  # Twilio went on after we gave up
    twilio.hang_seconds = 0

    run_queued_tasks(include_future=True)

    message.refresh_from_db()
    [at_twilio] = twilio.messages_to(number(62))
    assert message.status == "SENT" and message.provider_message_id == at_twilio["sid"]
    assert message.channel_response["found_before_retry"] is True
    assert len(twilio.creates(number(62))) == 1
    twilio.deliver(at_twilio["sid"])
    message.refresh_from_db()
    assert message.status == "DELIVERED"


def test_a_retry_after_a_lost_request_sends_when_twilio_has_nothing(
    live_account, twilio, backoff, settings
):
    """The request never reached Twilio (a refused connection): the retry sends it."""
    settings.TWILIO_API_URL = "http://127.0.0.1:9"  # nothing listens there
    [message] = send_texts(live_account, number(63))
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "QUEUED"
    assert "could not be reached" in message.activities.get(kind="provider_error").description

    settings.TWILIO_API_URL = twilio.url
    run_queued_tasks(include_future=True)

    message.refresh_from_db()
    assert message.status == "SENT" and len(twilio.messages_to(number(63))) == 1


def test_throttling_waits_at_least_what_retry_after_asks(live_account, twilio, backoff, settings):
    settings.MESSAGE_RETRY_BASE_SECONDS = 1  # the backoff alone would wait 0.5–1 s
    twilio.throttle(retry_after=30)
    [message] = send_texts(live_account, number(64))
    before = timezone.now()
    run_queued_tasks()

    message.refresh_from_db()
    assert message.status == "QUEUED"
    assert message.next_attempt_at >= before + timedelta(seconds=30)
    [retry] = queued_tasks(DISPATCH)
    assert retry.run_after >= before + timedelta(seconds=30)
    error = message.activities.get(kind="provider_error")
    assert error.data["provider_response"]["code"] == 20429
    # The sender slows down: half its pace, paused for Twilio's wait (docs/providers/README.md#pacing).
    pace = SenderPace.objects.get(key="default:sms")
    assert (pace.factor, pace.throttles) == (0.5, 1)
    assert pace.throttled_until >= before + timedelta(seconds=30)

    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert message.status == "SENT" and len(twilio.messages_to(number(64))) == 1


def later():
    return timezone.now() + timedelta(seconds=1)


@pytest.fixture
def dead_workers(settings):
    settings.MESSAGE_STUCK_QUEUED_SECONDS = 0
    settings.MESSAGE_STUCK_PROCESSED_SECONDS = 0
    settings.MESSAGE_ORPHANED_TASK_SECONDS = 0


def test_a_worker_that_died_after_twilio_took_it_is_recorded_sent_not_resent(
    live_account, twilio, dead_workers
):
    [message] = send_texts(live_account, number(65))
    [claimed] = claim([str(message.pk)])
    assert hand_off(claimed).result is not None  # Twilio accepted; the worker dies now
    queued_tasks(DISPATCH).delete()

    outcome = reconcile(scheduler=SCHEDULER, now=later())

    assert outcome["found_at_provider"] == 1 and outcome["redispatched"] == 0
    message.refresh_from_db()
    [at_twilio] = twilio.messages_to(number(65))
    assert message.status == "SENT" and message.provider_message_id == at_twilio["sid"]
    assert message.activities.filter(kind="reconciled").exists()
    run_queued_tasks(include_future=True)
    assert len(twilio.creates(number(65))) == 1
    twilio.deliver(at_twilio["sid"])
    message.refresh_from_db()
    assert message.status == "DELIVERED"


def test_the_reconciler_asks_twilio_by_sid_when_a_callback_brought_it(
    live_account, twilio, dead_workers
):
    [message] = send_texts(live_account, number(66))
    [claimed] = claim([str(message.pk)])
    twilio.callbacks_before_reply = ["failed"]  # Twilio says, then our worker dies
    hand_off(claimed)
    queued_tasks(DISPATCH).delete()
    message.refresh_from_db()
    sid = twilio.sid_for(str(message.pk))
    assert message.provider_message_id == sid and message.status == "FAILED"
    # A FAILED message is final: the reconciler leaves it, and nothing was sent twice.
    assert reconcile(scheduler=SCHEDULER, now=later())["found_at_provider"] == 0
    assert len(twilio.creates(number(66))) == 1


def test_the_reconciler_sends_again_what_twilio_never_got(live_account, twilio, dead_workers):
    [message] = send_texts(live_account, number(67))
    claim([str(message.pk)])  # the worker dies before its request
    queued_tasks(DISPATCH).delete()

    outcome = reconcile(scheduler=SCHEDULER, now=later())

    assert outcome["redispatched"] == 1
    assert [r.path.endswith("/Messages.json") and r.method for r in twilio.received] == ["GET"]
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert message.status == "SENT" and len(twilio.messages_to(number(67))) == 1


def test_two_lost_messages_to_one_number_are_sent_not_resent_and_callbacks_name_them(
    live_account, twilio, dead_workers
):
    """Twilio can't be asked by our id: two candidates can't be told apart, so both are
    recorded SENT without a SID, and their callbacks (which carry our id) fill it in."""
    [first] = send_texts(live_account, number(68))
    [second] = send_texts(live_account, number(68))
    for message in (first, second):
        [claimed] = claim([str(message.pk)])
        hand_off(claimed)
    queued_tasks(DISPATCH).delete()

    outcome = reconcile(scheduler=SCHEDULER, now=later())

    assert outcome["found_at_provider"] == 2
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == "SENT" and message.provider_message_id == ""
        assert len(message.channel_response["candidates"]) == 2
    assert len(twilio.creates(number(68))) == 2  # one each, none again
    for message in (first, second):
        twilio.deliver(twilio.sid_for(str(message.pk)))
        message.refresh_from_db()
        assert message.status == "DELIVERED"
        assert message.provider_message_id == twilio.sid_for(str(message.pk))
