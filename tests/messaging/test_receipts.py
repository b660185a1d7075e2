"""Provider status updates: forward only, every one recorded, never billed
(docs/reliability.md#10-receipts-only-move-forward)."""

import pytest

from billing.models import LedgerEntry
from contacts.models import Contact
from messaging.receipts import Receipt, receipts_apply
from sent_project.models import Event
from tests.messaging.factories import history, make_approved_template, number, send
from tests.tasks import run_queued_tasks


@pytest.fixture
def sent_message(account, settings):
    """A WhatsApp message the provider accepted; its own receipts not applied yet."""
    make_approved_template(account)
    [message] = send(account, number(12))
    settings.SIMULATOR_DELAY_SCALE = 1000  # the simulator's callbacks are due much later
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "SENT"
    return message


def receipt(message, status, **extra) -> Receipt:
    return Receipt(status=status, provider_message_id=message.provider_message_id, **extra)


def message_events(message) -> list[str]:
    return list(
        Event.objects.filter(subject_id=message.pk)
        .order_by("sequence")
        .values_list("event", flat=True)
    )


def test_monotone_receipts_keep_the_highest_status_and_record_all_four(sent_message):
    ledger_before = list(LedgerEntry.objects.values_list("id", flat=True))

    for status in ["DELIVERED", "READ", "DELIVERED", "SENT"]:
        receipts_apply([receipt(sent_message, status)])

    sent_message.refresh_from_db()
    assert sent_message.status == "READ"
    assert history(sent_message)[-4:] == ["DELIVERED", "READ", "DELIVERED", "SENT"]
    # No webhook older than one already sent: the late two emit nothing.
    assert message_events(sent_message) == [
        "message.queued",
        "message.sent",
        "message.delivered",
        "message.read",
    ]
    assert list(LedgerEntry.objects.values_list("id", flat=True)) == ledger_before


def test_late_receipts_are_in_the_api_history(api_client, sent_message):
    receipts_apply([receipt(sent_message, "READ"), receipt(sent_message, "DELIVERED")])
    events = api_client.get(f"/v3/messages/{sent_message.pk}").json()["data"]["events"]
    assert [e["status"] for e in events][-2:] == ["READ", "DELIVERED"]
    assert events[-1]["description"].startswith("DELIVERED reported; the status stays READ")


def test_a_duplicate_receipt_changes_nothing_and_counts_the_contact_once(sent_message):
    counts = receipts_apply(
        [receipt(sent_message, "DELIVERED"), receipt(sent_message, "DELIVERED")]
    )
    assert counts == {"applied": 1, "recorded": 1, "unknown": 0}
    contact = Contact.objects.get(pk=sent_message.contact_id)
    assert contact.channel_stats("whatsapp")["attempts"] == 1


def test_a_failed_receipt_after_sent_is_final_and_not_refunded(sent_message):
    receipts_apply(
        [receipt(sent_message, "FAILED", reason_code="DELIVERY_003", reason="Handset unreachable")]
    )
    receipts_apply([receipt(sent_message, "DELIVERED")])

    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.reason_code) == ("FAILED", "DELIVERY_003")
    assert not LedgerEntry.objects.filter(message_id=sent_message.pk, kind="refund").exists()
    assert message_events(sent_message)[-1] == "message.failed"


def test_a_late_receipt_from_the_channel_before_the_fallback_is_recorded_only(account):
    make_approved_template(account)
    [message] = send(account, number(85))
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert (message.channel, message.status) == ("sms", "DELIVERED")
    ledger = list(
        LedgerEntry.objects.filter(message_id=message.pk).values_list("amount", flat=True)
    )

    counts = receipts_apply(
        [Receipt(status="READ", message_id=str(message.pk), channel="whatsapp")]
    )

    assert counts["recorded"] == 1
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    assert (
        message.activities.filter(kind="receipt")
        .get()
        .description.startswith("Late whatsapp receipt READ after the fallback to sms")
    )
    assert (
        list(LedgerEntry.objects.filter(message_id=message.pk).values_list("amount", flat=True))
        == ledger
    )


def test_a_receipt_for_an_unknown_message_is_counted_and_ignored(db):
    assert receipts_apply([Receipt(status="DELIVERED", provider_message_id="sim_nope")]) == {
        "applied": 0,
        "recorded": 0,
        "unknown": 1,
    }


def test_a_receipt_before_our_sent_write_still_lands(account):
    """A provider's callback can beat our own SENT write: it finds the message by our id."""
    make_approved_template(account)
    [message] = send(account, number(60))
    from messaging.dispatch import claim

    claim([str(message.pk)])
    receipts_apply([Receipt(status="DELIVERED", message_id=str(message.pk))])
    message.refresh_from_db()
    assert message.status == "DELIVERED"
