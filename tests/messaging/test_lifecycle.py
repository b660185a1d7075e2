"""Every row of the simulator table end to end through the API: send, run the jobs (the
simulator at zero delay), read the message and its activities back (also
docs/reliability.md#11-transient-errors-retry-permanent-ones-fail-and-refund-once)."""

from decimal import Decimal

import pytest

from billing.models import LedgerEntry
from contacts.models import Contact
from messaging.models import Message
from sent_project.models import Event
from tests.messaging.factories import (
    make_approved_template,
    number,
    provider_calls,
    send_body,
)
from tests.tasks import queued_tasks, run_queued_tasks


@pytest.fixture
def template(account):
    return make_approved_template(account)


def send_and_run(api_client, to, **extra) -> Message:
    response = api_client.post("/v3/messages", send_body(to, **extra), format="json")
    assert response.status_code == 202, response.content
    run_queued_tasks(include_future=True)
    return Message.objects.get(pk=response.json()["data"]["recipients"][0]["message_id"])


def detail(api_client, message) -> dict:
    response = api_client.get(f"/v3/messages/{message.pk}")
    assert response.status_code == 200
    return response.json()["data"]


def statuses(data: dict) -> list[str]:
    return [event["status"] for event in data["events"]]


def charges(message) -> list[Decimal]:
    return list(
        LedgerEntry.objects.filter(message_id=message.pk)
        .order_by("id")
        .values_list("amount", flat=True)
    )


def test_00_49_goes_by_whatsapp_sent_delivered_read(api_client, template):
    message = send_and_run(api_client, number(12))

    data = detail(api_client, message)
    assert (data["status"], data["channel"]) == ("READ", "whatsapp")
    assert statuses(data) == ["QUEUED", "PROCESSED", "SENT", "DELIVERED", "READ"]
    assert data["price"] == 0.0084
    assert data["pricing"] == {"originalPrice": 0.0084, "correctedPrice": 0.0084, "currency": "USD"}
    assert data["message_body"]["content"] == message.body
    assert "reason_code" not in data
    assert provider_calls(message) == 1
    assert charges(message) == [Decimal("-0.0084")]
    assert list(
        Event.objects.filter(subject_id=message.pk)
        .order_by("sequence")
        .values_list("event", flat=True)
    ) == ["message.queued", "message.sent", "message.delivered", "message.read"]


def test_50_79_goes_by_sms_sent_delivered(api_client, template):
    message = send_and_run(api_client, number(65))

    data = detail(api_client, message)
    assert (data["status"], data["channel"]) == ("DELIVERED", "sms")
    assert statuses(data) == ["QUEUED", "PROCESSED", "SENT", "DELIVERED"]
    assert provider_calls(message) == 1
    contact = Contact.objects.get(format_e164=number(65))
    assert contact.channel_stats("sms")["delivered"] == 1


def test_80_89_falls_back_from_whatsapp_to_sms(api_client, account, template):
    message = send_and_run(api_client, number(85))

    data = detail(api_client, message)
    assert (data["status"], data["channel"]) == ("DELIVERED", "sms")
    assert data["pricing"] == {"originalPrice": 0.0084, "correctedPrice": 0.0083, "currency": "USD"}
    assert data["routing_reason"] == "sms: fallback, whatsapp not reachable"
    # One logical message, one adjustment: charged 0.0084 for WhatsApp, 0.0001 back.
    assert charges(message) == [Decimal("-0.0084"), Decimal("0.0001")]
    activities = api_client.get(f"/v3/messages/{message.pk}/activities").json()["data"]
    kinds = [a["kind"] for a in activities["activities"]]
    assert {"fallback", "adjusted", "provider_error"} <= set(kinds)
    # The contact is now known not to be on WhatsApp: the next send goes straight to SMS.
    contact = Contact.objects.get(format_e164=number(85))
    assert not contact.whatsapp_available
    again = send_and_run(api_client, number(85))
    assert again.channel == "sms" and again.fallbacks == [] and again.status == "DELIVERED"
    assert provider_calls(again) == 1


def test_80_89_with_whatsapp_requested_fails_without_fallback(api_client, account, template):
    before = account.balance
    message = send_and_run(api_client, number(85), channel=["whatsapp"])

    data = detail(api_client, message)
    assert (data["status"], data["reason_code"]) == ("FAILED", "DELIVERY_007")
    assert charges(message) == [Decimal("-0.0084"), Decimal("0.0084")]  # refunded
    account.refresh_from_db()
    assert account.balance == before


def test_90_94_fails_permanently_and_is_refunded_once(api_client, account, template):
    before = account.balance
    message = send_and_run(api_client, number(92))

    data = detail(api_client, message)
    assert (data["status"], data["reason_code"]) == ("FAILED", "DELIVERY_004")
    assert data["reason"] == "Message undeliverable"
    assert data["events"][-1]["reason_code"] == "DELIVERY_004"
    assert provider_calls(message) == 1
    assert charges(message) == [Decimal("-0.0084"), Decimal("0.0084")]
    assert LedgerEntry.objects.filter(message_id=message.pk, kind="refund").count() == 1
    account.refresh_from_db()
    assert account.balance == before
    assert (
        Event.objects.filter(subject_id=message.pk).last().payload["reason_code"] == "DELIVERY_004"
    )


def test_90_94_on_sms_fails_too(api_client, template):
    message = send_and_run(api_client, number(93), channel=["sms"])
    assert (message.status, message.reason_code) == ("FAILED", "DELIVERY_004")


def test_95_99_gets_a_transient_error_then_is_delivered_on_the_retry(api_client, template):
    message = send_and_run(api_client, number(97))

    data = detail(api_client, message)
    assert (data["status"], data["channel"]) == ("DELIVERED", "sms")
    assert statuses(data) == ["QUEUED", "PROCESSED", "QUEUED", "PROCESSED", "SENT", "DELIVERED"]
    assert data["attempts"] == 2
    assert provider_calls(message) == 2  # the refused attempt and the accepted one
    assert charges(message) == [Decimal("-0.0083")]  # one charge, no refund
    retry = [a for a in detail(api_client, message)["events"] if a["status"] == "QUEUED"][1]
    assert retry["description"].startswith("Retry 2 of 5")


def test_transient_errors_past_the_limit_fail_with_a_refund(
    api_client, account, template, settings
):
    settings.MESSAGE_MAX_ATTEMPTS = 1
    before = account.balance
    message = send_and_run(api_client, number(97))

    assert (message.status, message.reason_code) == ("FAILED", "DELIVERY_005")
    assert message.attempts == 1
    account.refresh_from_db()
    assert account.balance == before
    assert LedgerEntry.objects.filter(message_id=message.pk, kind="refund").count() == 1


def test_the_retry_is_a_job_for_later_with_backoff(api_client, template, settings):
    settings.MESSAGE_RETRY_DELAY_SCALE = 1
    response = api_client.post("/v3/messages", send_body(number(97)), format="json")
    run_queued_tasks()  # only what is due now: the first attempt
    message = Message.objects.get(pk=response.json()["data"]["recipients"][0]["message_id"])
    assert message.status == "QUEUED" and message.attempts == 1
    # Base 5 s × 2^0, jittered to 50–100 %.
    delay = (message.next_attempt_at - message.updated_at).total_seconds()
    assert 2.5 <= delay <= 5.0
    [job] = queued_tasks("messaging.tasks.message_dispatch")
    assert job.run_after == message.next_attempt_at


def test_sandbox_goes_through_the_simulator_without_charges(api_client, account, template):
    before = account.balance
    message = send_and_run(api_client, number(85), sandbox=True)
    assert (message.status, message.channel, message.sandbox) == ("DELIVERED", "sms", True)
    assert not LedgerEntry.objects.filter(message_id=message.pk).exists()
    account.refresh_from_db()
    assert account.balance == before
    # Simulated outcomes say nothing about the real contact.
    assert Contact.objects.get(format_e164=number(85)).whatsapp_available


def test_the_activities_tell_the_whole_story_most_recent_first(api_client, template):
    message = send_and_run(api_client, number(12))
    data = api_client.get(f"/v3/messages/{message.pk}/activities").json()["data"]

    assert data["message_id"] == str(message.pk)
    activities = data["activities"]
    assert [a["status"] for a in activities][:3] == ["READ", "DELIVERED", "SENT"]
    assert activities[-1]["description"] == "Accepted"
    routed = next(a for a in activities if a["kind"] == "routed")
    assert routed["description"].startswith("Routed: whatsapp: available")
    assert routed["price"] == "0.0084" and routed["active_contact_price"] == "0.0000"
    sent = next(a for a in activities if a["status"] == "SENT" and a["kind"] == "status")
    assert sent["from"] == "+15005550007"
    assert data["pagination"]["total_count"] == len(activities)


def test_a_contact_message_summary_counts_the_messages(api_client, account, template):
    message = send_and_run(api_client, number(12))
    send_and_run(api_client, number(12), channel=["sms"])
    summary = api_client.get(f"/v3/contacts/{message.contact_id}/message-summary").json()["data"]
    assert summary["message_count"] == 2
    assert sorted(summary["channels_used"]) == ["sms", "whatsapp"]
    assert {s["channel"]: s["success_score"] for s in summary["channel_scores"]} == {
        "sms": 100,
        "whatsapp": 100,
    }


def test_a_retry_emits_no_second_queued_event(api_client, template):
    message = send_and_run(api_client, number(97))
    assert list(
        Event.objects.filter(subject_id=message.pk)
        .order_by("sequence")
        .values_list("event", flat=True)
    ) == ["message.queued", "message.sent", "message.delivered"]
