"""Status changes of messages, their history and their webhook events.

Every writer of messages (acceptance, dispatch, receipts, the reconciler) moves a message the
same way: it holds the message's row (a `select_for_update` in its transaction, or the
compare-and-set claim), calls `status_set` on the in-memory message — the state machine of
`messaging.statuses` decides — notes the other steps with `Journal.note`, writes the changed
rows, and `Journal.flush()`es: one bulk INSERT of activities, one of events. So a batch of
messages costs a few queries, not a few per message.

Status history: every event embeds the message's whole `statusHistory`. It is carried on
the row (`Message.status_history`): `Journal.note` appends each history entry to the
in-memory message, the writer's `save_held` (or `flush`, for writers that save otherwise)
writes it with the change, and `flush` embeds it — no re-read of the activities. A row from
before the column (NULL) reads its activities once and carries them from then on.

Webhook events: one per change to a status customers follow (EVENT_STATUSES). PROCESSED
(claimed by a worker) and the return to QUEUED for a retry are internal hand-offs: in the
history and activities, never sent as webhooks. A receipt that doesn't change the status is
recorded in the history and emits nothing, so no webhook ever reports a status older than
one already sent.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from messaging.models import HISTORY_KINDS, ActivityKind, Message, MessageActivity
from messaging.reasons import reason_text
from messaging.statuses import MessageStatus, can_transition
from messaging.webhooks.signing import webhook_time
from sent_project.db import rows_insert, rows_update
from sent_project.outbox import EventSpec, events_emit_bulk

S = MessageStatus
# Acceptance emits `message.queued` (Journal.created); a return to QUEUED for a retry doesn't.
EVENT_STATUSES = frozenset(
    {S.SENT, S.DELIVERED, S.READ, S.FAILED, S.FILTERED, S.BLOCKED, S.CANCELLED}
)
REASON_STATUSES = frozenset({S.FAILED, S.FILTERED, S.BLOCKED})
BODY_LIMIT = 3072
# The fields of a message that dispatch, receipts and the reconciler change.
MESSAGE_FIELDS = (
    "status",
    "reason_code",
    "reason",
    "channel",
    "fallbacks",
    "body",
    "content",
    "price",
    "next_attempt_at",
    "scheduled_at",
    "provider",
    "provider_message_id",
    "channel_response",
    "sent_at",
    "delivered_at",
    "read_at",
    "stats_recorded",
    "routing_reason",
    # a fallback changes the sender and what the provider needs; WhatsApp's status webhooks
    # bring its pricing category and conversation
    "sender_id",
    "from_number",
    "provider_payload",
    "pricing_category",
    "conversation_id",
    # carried on the row (Journal.note appends to it), written with the rest of the change
    "status_history",
    "updated_at",
)
# When each status was reached, where the model keeps it.
TIMESTAMP_FIELDS = {S.SENT: "sent_at", S.DELIVERED: "delivered_at", S.READ: "read_at"}


def money_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _values(message: Message) -> dict:
    return {
        name: json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
        for name in MESSAGE_FIELDS
        for value in (getattr(message, name),)
    }


def hold(messages: QuerySet[Message]) -> list[Message]:
    """Lock the messages until commit — in id order, so two writers never deadlock — and
    remember their values, so `save_held` writes only what changed. Inside a transaction."""
    held = list(messages.select_for_update().order_by("pk"))
    for message in held:
        message._held = _values(message)
    return held


def save_held(messages: list[Message]) -> None:
    """Write what changed on held messages, one UPDATE per set of changed fields
    (`sent_project.db.rows_update`): a value the group shares is set as is, one that
    differs per message (the provider's id of each SENT, its status history) per row. A
    batch of 50 is one or two statements, not 50."""
    groups: dict[tuple, list[Message]] = {}
    for message in messages:
        now = _values(message)
        changed = tuple(name for name, value in now.items() if value != message._held[name])
        if changed:
            groups.setdefault(changed, []).append(message)
            message._held = now
    for changed, group in groups.items():
        rows_update(Message, group, changed)


@dataclass
class _Change:
    message: Message
    activity: MessageActivity  # the history entry of the change
    payload: dict  # the event payload as of the change, its status history still to fill


@dataclass
class Journal:
    """The activities and events of one transaction, written in bulk by `flush()`."""

    activities: list[MessageActivity] = field(default_factory=list)
    changes: list[_Change] = field(default_factory=list)
    new_messages: bool = False  # acceptance: no message has history or events yet
    # The messages with history entries in this journal: the message, its status history
    # before the journal (None: not carried on its row yet, read at flush) and the entries.
    _touched: dict = field(default_factory=dict)

    def note(
        self,
        message: Message,
        kind: str,
        description: str,
        *,
        status: str | None = None,
        reason_code: str = "",
        reason: str = "",
        price: Decimal | None = None,
        at: datetime | None = None,
        **data,
    ) -> MessageActivity:
        activity = MessageActivity(
            message_id=message.pk,
            kind=kind,
            status=status or message.status,
            description=description[:500],
            reason_code=reason_code,
            reason=reason[:300],
            channel=message.channel,
            price=price or Decimal("0"),
            from_number=data.pop("from_number", ""),
            data=data,
            created_at=at or timezone.now(),
        )
        self.activities.append(activity)
        if kind in HISTORY_KINDS:
            self._carry(message, activity)
        return activity

    def _carry(self, message: Message, activity: MessageActivity) -> None:
        """Append the entry to the history the message carries (in memory: the caller's
        save, or `flush`, writes it)."""
        touched = self._touched.get(message.pk)
        if touched is None:
            before = [] if self.new_messages else message.status_history
            touched = self._touched[message.pk] = _Touched(
                message, None if before is None else list(before), []
            )
        touched.steps.append(activity)
        if touched.before is not None:
            message.status_history = touched.history()

    def created(self, message: Message, description: str, *, at: datetime) -> None:
        """A new message's first history entry (its status as created) and its event."""
        held = {"scheduled_at": message.scheduled_at.isoformat()} if message.scheduled_at else {}
        activity = self.note(
            message,
            ActivityKind.STATUS,
            description,
            at=at,
            reason_code=message.reason_code,
            reason=message.reason,
            **held,
        )
        self.changes.append(_Change(message, activity, message_event_payload(message)))

    def flush(self, *, history_saved: bool = False) -> None:
        """Write the activities, the messages' status histories (unless the caller's save
        wrote them already: `save_held`, or `history_saved` for rows inserted with them),
        then one event per followed status change, each with the status history up to it.
        Inside the transaction of the change."""
        legacy = {pk for pk, touched in self._touched.items() if touched.before is None}
        stored = _stored_history(legacy)  # rows from before the column, read once
        for pk in legacy:
            self._touched[pk].before = [history_item(step) for step in stored.get(pk, [])]
        rows_insert(MessageActivity, self.activities, batch_size=1000)
        unsaved = []
        for touched in self._touched.values():
            touched.message.status_history = history = touched.history()
            held = getattr(touched.message, "_held", None)
            if held is not None:
                if held["status_history"] == _history_value(history):
                    continue
                held["status_history"] = _history_value(history)
            if not history_saved:
                unsaved.append(touched.message)
        rows_update(Message, unsaved, ["status_history"])
        specs = []
        for change in self.changes:
            touched = self._touched[change.message.pk]
            until = next(i for i, step in enumerate(touched.steps) if step is change.activity)
            change.payload["message"]["statusHistory"] = touched.history(until + 1)
            specs.append(
                EventSpec(
                    change.message.customer_id,
                    "message",
                    f"message.{change.activity.status.lower()}",
                    change.payload,
                    change.message.pk,
                )
            )
        events_emit_bulk(specs, new_subjects=self.new_messages)
        self.activities, self.changes, self._touched = [], [], {}


@dataclass
class _Touched:
    message: Message
    before: list[dict] | None  # its status history before the journal (None: to be read)
    steps: list[MessageActivity]  # its history entries of this journal, in order

    def history(self, steps: int | None = None) -> list[dict]:
        """The history before the journal and the first `steps` of its entries (all)."""
        return [*self.before, *(history_item(step) for step in self.steps[:steps])]


def _history_value(history: list[dict]) -> str:
    return json.dumps(history, sort_keys=True)


def _stored_history(message_ids: set) -> dict:
    history: dict = {}
    if not message_ids:
        return history
    rows = MessageActivity.objects.filter(message_id__in=message_ids, kind__in=HISTORY_KINDS)
    for activity in rows.order_by("id"):
        history.setdefault(activity.message_id, []).append(activity)
    return history


def status_set(
    message: Message,
    new: str,
    journal: Journal,
    *,
    description: str,
    reason_code: str = "",
    reason: str = "",
    at: datetime | None = None,
    **data,
) -> bool:
    """Move `message` (in memory) to `new` if the state machine allows, recording the step.

    Returns False — and records the update in the history as not applied — when it would go
    backwards or leave a final status (a late or duplicate receipt). The caller holds the
    row and saves the message's fields. Reason codes are kept only with FAILED/FILTERED/
    BLOCKED.
    """
    at = at or timezone.now()
    if not can_transition(message.status, new):
        journal.note(
            message,
            ActivityKind.RECEIPT,
            f"{new} reported; the status stays {message.status}: {description}",
            status=new,
            reason_code=reason_code,
            reason=reason,
            at=at,
            **data,
        )
        return False
    message.status = new
    message.updated_at = at
    if new in TIMESTAMP_FIELDS and getattr(message, TIMESTAMP_FIELDS[new]) is None:
        setattr(message, TIMESTAMP_FIELDS[new], at)
    if new in REASON_STATUSES:
        message.reason_code = reason_code
        message.reason = (reason or reason_text(reason_code))[:300]
    with_reason = new in REASON_STATUSES
    activity = journal.note(
        message,
        ActivityKind.STATUS,
        description,
        at=at,
        reason_code=message.reason_code if with_reason else "",
        reason=message.reason if with_reason else "",
        **data,
    )
    if new in EVENT_STATUSES:
        journal.changes.append(_Change(message, activity, message_event_payload(message)))
    return True


# --- payloads ---------------------------------------------------------------------------


def history_item(step: MessageActivity) -> dict:
    """One entry of the seeds' `statusHistory`."""
    return {
        "status": step.status,
        "timestamp": webhook_time(step.created_at),
        "description": step.description,
        "reasonCode": step.reason_code or None,
    }


def message_object(message: Message) -> dict:
    """The seeds' full Message object (camelCase, as the seed documents write it)."""
    return {
        "id": str(message.pk),
        "customerId": str(message.customer_id),
        "direction": message.direction,
        "contact": {
            "id": str(message.contact_id),
            "phoneNumber": message.phone,
            "regionCode": message.region_code,
        },
        "template": {
            "id": str(message.template_id),
            "name": message.template_name,
            "category": message.template_category,
        }
        if message.template_id
        else None,
        "channel": message.channel or None,
        "messageBody": message.body,
        "status": message.status,
        "reasonCode": message.reason_code or None,
        "reason": message.reason or None,
        "statusHistory": [],  # filled in by Journal.flush()
        "channelResponse": message.channel_response or None,
        "pricing": {
            "originalPrice": money_float(message.original_price),
            "correctedPrice": money_float(message.price),
            "currency": message.currency,
        },
        "routingReason": message.routing_reason,
        "sandbox": message.sandbox,
        "createdAt": webhook_time(message.created_at),
        "updatedAt": webhook_time(message.updated_at),
    }


def message_event_payload(message: Message) -> dict:
    """The `message.<status>` webhook payload (docs/api/webhooks.md#payloads) as the message is now,
    plus `message`: the full object (its status history is added when the event is written)."""
    status = message.status
    payload = {
        "account_id": str(message.customer_id),
        "message_id": str(message.pk),
        "message_status": status,
        "channel": message.channel or None,
        "outbound_number": message.phone,
        "body": message.body[:BODY_LIMIT] if message.body else None,
        "template_id": str(message.template_id) if message.template_id else None,
    }
    if message.template_name:
        payload["template_name"] = message.template_name
    if status in REASON_STATUSES:
        payload["reason_code"] = message.reason_code
        payload["reason"] = message.reason
    if status in (S.SCHEDULED, S.CANCELLED) and message.scheduled_at is not None:
        # the release time; on message.cancelled, the one called off
        payload["scheduled_at"] = webhook_time(message.scheduled_at)
        if status == S.SCHEDULED:
            payload["schedule_reason"] = message.schedule_reason
    payload["updated_at"] = webhook_time(message.updated_at)
    payload["message"] = message_object(message)
    return payload
