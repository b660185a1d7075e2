"""Scheduled sends (docs/api/messages.md#scheduling) and cancel
(docs/api/messages.md#cancelling): validation codes, SCHEDULED with its webhook, charged at
acceptance, dispatched when due (by moving the due time into the past, not by waiting),
cancel refunds with a ledger entry, 409 after hand-off, 404 for another tenant."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from django.utils import timezone

from billing.models import LedgerEntry
from messaging.models import Message
from sent_project.models import Event
from tests.messaging.factories import (
    history,
    make_approved_template,
    number,
    provider_calls,
    send_body,
)
from tests.tasks import queued_tasks, run_queued_tasks

DISPATCH = "messaging.tasks.message_dispatch"


@pytest.fixture
def template(account):
    return make_approved_template(account)


def at(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


def schedule(api_client, to, when: str, **extra):
    return api_client.post("/v3/messages", send_body(to, scheduled_at=when, **extra), format="json")


def make_due(message: Message) -> None:
    """Time travel: the message's time has come (its job's run_after too)."""
    past = timezone.now() - timedelta(seconds=1)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=past)
    queued_tasks(DISPATCH).update(run_after=past)


@pytest.mark.parametrize(
    "value,code",
    [
        ("2026-10-01T09:00:00", "MESSAGE_002"),  # no offset
        ("next tuesday", "MESSAGE_002"),
        (12345, "VALIDATION_001"),  # not a string: the body is malformed
        ("2020-01-01T09:00:00Z", "MESSAGE_003"),  # past
    ],
)
def test_a_bad_scheduled_at_is_refused_with_its_code(api_client, account, template, value, code):
    response = schedule(api_client, number(60), value)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert "scheduled_at" in response.json()["error"]["details"]
    assert not Message.objects.exists()


def test_a_time_beyond_the_horizon_is_refused(api_client, account, template, settings):
    settings.MESSAGE_SCHEDULE_HORIZON_DAYS = 30
    assert schedule(api_client, number(60), at(timedelta(days=29))).status_code == 202
    response = schedule(api_client, number(61), at(timedelta(days=31)))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MESSAGE_004"


def test_a_time_just_past_within_the_grace_is_sent_at_once(api_client, account, template):
    response = schedule(api_client, number(60), at(timedelta(seconds=-20)))
    assert response.status_code == 202
    run_queued_tasks()  # due now: no future jobs needed
    message = Message.objects.get()
    assert message.status == "DELIVERED"


def test_a_scheduled_send_is_held_charged_and_announced(api_client, account, template):
    before = account.balance
    when = timezone.now() + timedelta(hours=3)
    response = schedule(api_client, number(65), when.astimezone(UTC).isoformat())

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    expected = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["scheduled_at"] == expected
    [recipient] = data["recipients"]
    assert (recipient["status"], recipient["scheduled_at"]) == ("SCHEDULED", expected)
    message = Message.objects.get(pk=recipient["message_id"])
    assert message.status == "SCHEDULED" and message.next_attempt_at == when
    account.refresh_from_db()
    assert account.balance == before - Decimal("0.0083")  # charged now: no overdraft later
    assert LedgerEntry.objects.filter(message_id=message.pk, kind="charge").count() == 1
    event = Event.objects.get(subject_id=message.pk)
    assert event.event == "message.scheduled"
    assert (event.payload["scheduled_at"], event.payload["schedule_reason"]) == (
        expected,
        "scheduled",
    )
    shown = api_client.get(f"/v3/messages/{message.pk}").json()["data"]
    assert (shown["status"], shown["scheduled_at"]) == ("SCHEDULED", expected)
    activities = api_client.get(f"/v3/messages/{message.pk}/activities").json()["data"]
    first = activities["activities"][-1]
    assert (first["status"], first["scheduled_at"]) == ("SCHEDULED", expected)

    # its job waits for its time: a worker now finds nothing to run
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "SCHEDULED" and provider_calls(message) == 0


def test_a_job_run_early_does_not_send_it(api_client, account, template):
    response = schedule(api_client, number(65), at(timedelta(hours=3)))
    message = Message.objects.get(pk=response.json()["data"]["recipients"][0]["message_id"])

    run_queued_tasks(include_future=True)  # the job, before the message is due

    message.refresh_from_db()
    assert message.status == "SCHEDULED" and provider_calls(message) == 0


def test_it_is_dispatched_when_due(api_client, account, template):
    response = schedule(api_client, number(65), at(timedelta(hours=3)))
    message = Message.objects.get(pk=response.json()["data"]["recipients"][0]["message_id"])
    make_due(message)

    run_queued_tasks()

    message.refresh_from_db()
    assert message.status == "DELIVERED" and provider_calls(message) == 1
    assert history(message) == ["SCHEDULED", "PROCESSED", "SENT", "DELIVERED"]
    assert list(
        Event.objects.filter(subject_id=message.pk)
        .order_by("sequence")
        .values_list("event", flat=True)
    ) == ["message.scheduled", "message.sent", "message.delivered"]


def test_the_reconciler_redrives_a_due_scheduled_message_whose_job_was_lost(
    api_client, account, template, settings
):
    from messaging.reconciler import reconcile
    from messaging.tasks import SCHEDULER

    response = schedule(api_client, number(65), at(timedelta(hours=3)))
    message = Message.objects.get(pk=response.json()["data"]["recipients"][0]["message_id"])
    queued_tasks(DISPATCH).delete()  # the job is lost
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now()
        - timedelta(seconds=settings.MESSAGE_STUCK_QUEUED_SECONDS + 60)
    )

    assert reconcile(scheduler=SCHEDULER)["requeued"] == 1
    run_queued_tasks()

    message.refresh_from_db()
    assert message.status == "DELIVERED" and provider_calls(message) == 1


def test_cancel_refunds_a_scheduled_message_with_a_ledger_entry(api_client, account, template):
    before = account.balance
    when = timezone.now() + timedelta(hours=3)
    response = schedule(api_client, number(65), when.isoformat())
    message_id = response.json()["data"]["recipients"][0]["message_id"]

    response = api_client.post(f"/v3/messages/{message_id}/cancel")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "CANCELLED"
    account.refresh_from_db()
    assert account.balance == before
    refund = LedgerEntry.objects.get(message_id=message_id, kind="refund")
    assert refund.amount == Decimal("0.0083")
    cancelled = Event.objects.get(subject_id=message_id, event="message.cancelled")
    assert cancelled.payload["scheduled_at"] == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = Message.objects.get(pk=message_id)
    make_due(message)
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "CANCELLED" and provider_calls(message) == 0


def test_cancel_after_hand_off_is_a_409(api_client, account, template):
    response = schedule(api_client, number(65), at(timedelta(hours=3)))
    message = Message.objects.get(pk=response.json()["data"]["recipients"][0]["message_id"])
    make_due(message)
    run_queued_tasks()

    response = api_client.post(f"/v3/messages/{message.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "MESSAGE_005"
    assert not LedgerEntry.objects.filter(message_id=message.pk, kind="refund").exists()


def test_cancelling_twice_is_a_422(api_client, account, template):
    response = schedule(api_client, number(65), at(timedelta(hours=3)))
    message_id = response.json()["data"]["recipients"][0]["message_id"]
    assert api_client.post(f"/v3/messages/{message_id}/cancel").status_code == 200
    response = api_client.post(f"/v3/messages/{message_id}/cancel")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "BUSINESS_006"
    assert LedgerEntry.objects.filter(message_id=message_id, kind="refund").count() == 1


def test_another_tenant_cant_cancel_it(api_client, other_api_client, account, template):
    response = schedule(api_client, number(65), at(timedelta(hours=3)))
    message_id = response.json()["data"]["recipients"][0]["message_id"]

    response = other_api_client.post(f"/v3/messages/{message_id}/cancel")

    assert response.status_code == 404
    assert Message.objects.get(pk=message_id).status == "SCHEDULED"


def test_an_immediate_send_has_no_scheduled_at(api_client, account, template):
    response = api_client.post("/v3/messages", send_body(number(65)), format="json")
    data = response.json()["data"]
    assert "scheduled_at" not in data and "scheduled_at" not in data["recipients"][0]
    shown = api_client.get(f"/v3/messages/{data['recipients'][0]['message_id']}").json()["data"]
    assert "scheduled_at" not in shown


def test_offsets_fix_the_instant(api_client, account, template):
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    local = when.astimezone(datetime.now().astimezone().tzinfo).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Kolkata")
    )
    response = schedule(api_client, number(65), local.isoformat())
    assert response.json()["data"]["scheduled_at"] == when.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
