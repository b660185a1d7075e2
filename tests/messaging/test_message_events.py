"""Message webhooks: one `message.<status>` event per followed change, the payload of docs/api/webhooks.md#payloads
plus the full message object, delivered to subscribers; and the reason-code table."""

import json
import re
from pathlib import Path

from django.conf import settings as django_settings

from messaging.models import WebhookDelivery
from messaging.reasons import REASONS
from sent_project.models import Event
from tests.messaging.factories import make_approved_template, number, send
from tests.messaging.webhook_helpers import make_webhook
from tests.tasks import queued_tasks, run_queued_tasks


def events_of(message) -> list[Event]:
    return list(Event.objects.filter(subject_id=message.pk).order_by("sequence"))


def test_the_payload_is_the_contracts_plus_the_message_object(account):
    template = make_approved_template(account)
    [message] = send(account, number(12))
    run_queued_tasks(include_future=True)

    queued, sent, delivered, read = events_of(message)
    assert [e.sequence for e in (queued, sent, delivered, read)] == [1, 2, 3, 4]
    payload = delivered.payload
    assert {
        k: payload[k]
        for k in (
            "account_id",
            "message_id",
            "message_status",
            "channel",
            "outbound_number",
            "template_id",
            "template_name",
        )
    } == {
        "account_id": str(account.pk),
        "message_id": str(message.pk),
        "message_status": "DELIVERED",
        "channel": "whatsapp",
        "outbound_number": number(12),
        "template_id": str(template.pk),
        "template_name": "order_shipped",
    }
    assert payload["body"].startswith("Hi Ana")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", payload["updated_at"])
    assert "reason_code" not in payload
    full = payload["message"]
    assert full["id"] == str(message.pk) and full["status"] == "DELIVERED"
    # The history up to this change, not beyond.
    assert [s["status"] for s in full["statusHistory"]] == [
        "QUEUED",
        "PROCESSED",
        "SENT",
        "DELIVERED",
    ]
    assert full["pricing"] == {"originalPrice": 0.0084, "correctedPrice": 0.0084, "currency": "USD"}
    assert full["template"] == {
        "id": str(template.pk),
        "name": "order_shipped",
        "category": "UTILITY",
    }
    assert full["channelResponse"]["provider"] == "simulator"
    assert read.payload["message"]["statusHistory"][-1]["status"] == "READ"


def test_a_failure_carries_its_reason(account):
    make_approved_template(account)
    [message] = send(account, number(92))
    run_queued_tasks(include_future=True)
    failed = events_of(message)[-1]
    assert failed.event == "message.failed"
    assert (failed.payload["reason_code"], failed.payload["reason"]) == (
        "DELIVERY_004",
        "Message undeliverable",
    )


def test_a_subscriber_receives_a_sends_events_through_one_fan_out_job(
    account, receiver, webhook_settings, django_capture_on_commit_callbacks
):
    make_approved_template(account)
    make_webhook(account, receiver.url, event_types=["message"])
    with django_capture_on_commit_callbacks(execute=True):
        messages = send(account, [number(60), number(61), number(62)])
    assert queued_tasks("messaging.webhooks.tasks.webhook_events_fan_out").count() == 1
    run_queued_tasks()

    # (The dispatch that ran meanwhile sent their later events too.)
    bodies = [json.loads(r.body) for r in receiver.received]
    queued = [b for b in bodies if b["event"] == "message.queued"]
    assert sorted(b["payload"]["message_id"] for b in queued) == sorted(str(m.pk) for m in messages)
    assert WebhookDelivery.objects.filter(status="delivered").count() == len(bodies)


def test_the_docs_list_every_reason_code():
    page = (Path(django_settings.BASE_DIR) / "docs" / "api" / "messages.md").read_text()
    section = page.split("## Reason codes", 1)[1].split("\n## ", 1)[0]
    table = dict(re.findall(r"^\| `(\w+_\d+)` \| (\w+) \|", section, re.M))
    assert table == {code: reason.status for code, reason in REASONS.items()}


def _history_from_activities(message) -> list[dict]:
    from messaging.lifecycle import history_item
    from messaging.models import HISTORY_KINDS, MessageActivity

    rows = MessageActivity.objects.filter(message=message, kind__in=HISTORY_KINDS).order_by("id")
    return [history_item(step) for step in rows]


def test_every_event_embeds_the_whole_history_up_to_it(account):
    """The history is carried on the message row: through a retry (97) and a fallback (85)
    each event's `statusHistory` is the message's recorded history up to that event."""
    from messaging.models import Message

    make_approved_template(account)
    messages = send(account, [number(97), number(85), number(12)])
    run_queued_tasks(include_future=True)
    for message in messages:
        message = Message.objects.get(pk=message.pk)
        recorded = _history_from_activities(message)
        assert message.status_history == recorded
        for event in events_of(message):
            embedded = event.payload["message"]["statusHistory"]
            assert embedded == recorded[: len(embedded)]
            assert embedded[-1]["status"] == event.payload["message_status"]
        assert len(events_of(message)[-1].payload["message"]["statusHistory"]) == len(recorded)


def test_a_message_accepted_before_the_history_column_keeps_its_whole_history(account):
    """Rows from before the column (NULL) read their history once, then carry it."""
    from messaging.models import Message

    make_approved_template(account)
    [message] = send(account, number(12))
    Message.objects.filter(pk=message.pk).update(status_history=None)
    run_queued_tasks(include_future=True)
    sent = next(e for e in events_of(message) if e.event == "message.sent")
    assert [s["status"] for s in sent.payload["message"]["statusHistory"]] == [
        "QUEUED",
        "PROCESSED",
        "SENT",
    ]
    message = Message.objects.get(pk=message.pk)
    assert message.status_history == _history_from_activities(message)
    assert [s["status"] for s in message.status_history][-1] == "READ"
