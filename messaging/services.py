"""Message operations: send (and the write side of acceptance), resend, cancel.

`message_send` is what `POST /v3/messages`, the dashboard and any script call. It checks
the whole request first (`messaging.sending.send_check`: nothing is written for a bad one),
then in ONE transaction: finds or creates the contacts, plans every message (route, content,
price), bulk-inserts the messages, their activities and events, enqueues their dispatch jobs
— with the database task backend the jobs are rows of that same transaction, so a
rolled-back send leaves no job behind — and last charges the whole request with one
`balance_charge_batch` (all or nothing: 402 and the transaction, jobs included, rolls back).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import Customer
from billing.pricing import PriceBook
from billing.roles import acting, require
from billing.services import ChargeItem, balance_charge_batch
from contacts.bulk import existing_by_e164
from contacts.channels import whatsapp_check_is_stale
from contacts.models import Contact, Source
from contacts.services import contacts_get_or_create_for_numbers
from messaging import quiet_hours
from messaging.dispatch import refund_unsent
from messaging.errors import (
    AllRecipientsOptedOut,
    BatchNotFound,
    MessageAlreadyHandedOff,
    MessageStateConflict,
)
from messaging.inbound import conversations_note_outbound
from messaging.lifecycle import Journal, status_set
from messaging.models import ActivityKind, Message, MessageBatch
from messaging.selectors import message_get
from messaging.sending import CheckedSend, Planner, SendRequest, send_check
from messaging.statuses import MessageStatus
from messaging.tasks import SCHEDULER
from sent_project.db import rows_insert

S = MessageStatus
# What acceptance charges and dispatches: sent now, or held for later.
ACCEPTED = frozenset({S.QUEUED, S.SCHEDULED})


@dataclass(frozen=True)
class SendResult:
    template: object | None
    messages: list[Message]  # one per (recipient, channel), in the order of `to`
    # The send they share: its progress at GET /v3/messages/queue?batch= (None for an
    # old result).
    batch: MessageBatch | None = None


def _recipients(customer: Customer, checked: CheckedSend) -> list[Contact]:
    """The contacts of `to`, in order, each once (a number given twice, or as a number and
    as its contact's id, is one recipient). Unknown numbers become contacts; known ones
    whose channel check is stale are checked again (`contacts_get_or_create_for_numbers`,
    skipped when every number is a known, fresh contact)."""
    e164s = {e164 for _, e164 in checked.numbers.values()}
    by_e164 = existing_by_e164(customer.pk, list(e164s))
    now = timezone.now()
    if len(by_e164) < len(e164s) or any(
        whatsapp_check_is_stale(contact, now=now) for contact in by_e164.values()
    ):
        by_raw, _ = contacts_get_or_create_for_numbers(
            customer, numbers=[raw for raw, _ in checked.numbers.values()], source=Source.MESSAGE
        )
        by_e164 = {by_raw[raw].format_e164: by_raw[raw] for raw, _ in checked.numbers.values()}
    contacts: dict = {}
    for index in range(len(checked.request.to)):
        contact = checked.contacts_by_id.get(index)
        if contact is None and index in checked.numbers:
            contact = by_e164[checked.numbers[index][1]]
        if contact is not None:
            contacts.setdefault(contact.pk, contact)
    return list(contacts.values())


def _hold(customer: Customer, checked: CheckedSend, messages: list[Message], now) -> None:
    """SCHEDULED, with its due time, for each QUEUED message of the send that waits: for the
    request's `scheduled_at`, or (marketing) until the recipient's quiet hours end."""
    request = checked.request
    category = checked.template.category if checked.template is not None else ""
    quiet = quiet_hours.applies(
        category, enabled=customer.quiet_hours_enabled, override=request.quiet_hours
    )
    for message in messages:
        if message.status != S.QUEUED:
            continue
        due, reason = request.scheduled_at, "scheduled"
        if quiet:
            later = quiet_hours.next_allowed(
                max(due or now, now),
                quiet_hours.zones_for_number(message.phone),
                customer.quiet_hours_start,
                customer.quiet_hours_end,
            )
            if later is not None:
                due, reason = later, "quiet_hours"
        if due is None:
            continue
        message.status = S.SCHEDULED
        message.scheduled_at = message.next_attempt_at = due
        message.schedule_reason = reason


def _describe_acceptance(journal: Journal, message: Message, now) -> None:
    if message.status == S.QUEUED:
        journal.created(message, "Accepted" + (" (sandbox)" if message.sandbox else ""), at=now)
    elif message.status == S.SCHEDULED:
        when = message.scheduled_at.isoformat(timespec="seconds")
        description = (
            f"Accepted: scheduled for {when}"
            if message.schedule_reason == "scheduled"
            else f"Accepted: held for the recipient's quiet hours until {when}"
        )
        journal.created(message, description, at=now)
    else:
        journal.created(message, f"Not sent: {message.reason}", at=now)
    if message.routing_reason:
        journal.note(
            message,
            ActivityKind.ROUTED,
            f"Routed: {message.routing_reason}",
            price=message.original_price,
            at=now,
        )
    if message.schedule_reason == "quiet_hours":
        journal.note(
            message,
            ActivityKind.QUIET_HOURS,
            "Held: it would reach the recipient in their quiet hours (marketing); released "
            f"at {message.scheduled_at.isoformat(timespec='seconds')}",
            at=now,
            scheduled_at=message.scheduled_at.isoformat(),
        )
    if message.status in ACCEPTED and message.original_price > 0:
        if message.sandbox:
            journal.note(
                message,
                ActivityKind.CHARGED,
                f"Sandbox: not charged (would cost {message.original_price} {message.currency})",
                at=now,
            )
        else:
            journal.note(
                message,
                ActivityKind.CHARGED,
                f"Charged {message.original_price} {message.currency}",
                price=message.original_price,
                at=now,
            )


def message_send(customer: Customer, *, request: SendRequest) -> SendResult:
    """Accept a send: one message per recipient and requested channel (see the module doc).

    Raises the first check's SentError (400), AllRecipientsOptedOut (422 BUSINESS_004) or
    InsufficientBalance (402 BUSINESS_003) — with nothing written.
    """
    require(acting(), "messages")
    checked = send_check(customer, request)
    book = PriceBook.load(customer)
    now = timezone.now()
    with transaction.atomic():
        contacts = _recipients(customer, checked)
        if not request.keyword_reply and all(contact.opt_out for contact in contacts):
            raise AllRecipientsOptedOut(
                details={"to": ["Every recipient has opted out of messages."]}
            )
        planner = Planner(customer=customer, checked=checked, book=book, now=now)
        messages = [
            planner.plan(contact, channel)
            for contact in contacts
            for channel in checked.request.channels
        ]
        _hold(customer, checked, messages, now)
        queued = [m for m in messages if m.status in ACCEPTED]
        batch = _batch(customer, checked, size=len(messages), now=now)
        for message in messages:
            message.batch = batch
            message.lane = message.dispatch_lane()
        journal = Journal(new_messages=True)
        for message in messages:  # first: each row is inserted with its status history
            _describe_acceptance(journal, message, now)
        rows_insert(Message, messages, batch_size=500)
        conversations_note_outbound(messages)
        journal.flush(history_saved=True)
        # One wake-up now and one per due time: the dispatcher claims the messages from
        # their lanes when they are due (docs/architecture.md#fairness-between-tenants).
        due_times = {m.next_attempt_at if m.status == S.SCHEDULED else None for m in queued}
        for due in due_times:
            if due is None:
                SCHEDULER.soon()  # one waiting job serves every send (a wake-up, not a batch)
            else:
                SCHEDULER.dispatch([], run_after=due)
        # Last: the charge locks the customer's balance row until commit, so concurrent sends
        # of one customer wait for each other only that long. A refusal rolls back the lot.
        if not request.sandbox:
            balance_charge_batch(
                customer,
                items=[
                    ChargeItem(m.pk, m.original_price, f"{m.channel} message to {m.phone}")
                    for m in queued
                    if m.original_price > 0
                ],
            )
    return SendResult(template=checked.template, messages=messages, batch=batch)


def _batch(customer: Customer, checked: CheckedSend, *, size: int, now) -> MessageBatch:
    """The send's batch: a new one, or the earlier send it joins (its total grown), locked
    until commit. Another customer's or a missing one → 404 RESOURCE_012 (the caller's
    transaction rolls back: nothing written)."""
    request = checked.request
    if request.batch_id is None:
        return MessageBatch.objects.create(
            customer=customer,
            total=size,
            template_name=checked.template.name if checked.template is not None else "",
            sandbox=request.sandbox,
            created_at=now,
        )
    joined = MessageBatch.objects.filter(customer=customer, pk=request.batch_id)
    if not joined.update(total=F("total") + size):
        raise BatchNotFound()
    return joined.get()


RESENDABLE = frozenset({S.FAILED, S.BLOCKED})
# What `message_cancel` takes: a message no worker has claimed yet (held or waiting);
# past it (HANDED_OFF), too late: 409 MESSAGE_005.
CANCELLABLE = frozenset({S.SCHEDULED, S.QUEUED})
HANDED_OFF = frozenset({S.PROCESSED, S.SENT, S.DELIVERED, S.READ})


def message_resend(customer: Customer, *, message_id) -> Message:
    """Send a FAILED or BLOCKED message again, as a new message (its own id, billed again,
    through every check and the routing again) to the same contact with the same content.

    Anything else → 422 BUSINESS_006 (FILTERED and CANCELLED are final by definition; a
    message still on its way or delivered needs no resend). A template deleted since → 400
    MESSAGE_001.
    """
    require(acting(), "messages")
    original = message_get(customer, message_id=message_id)
    if original.status not in RESENDABLE:
        raise MessageStateConflict(
            f"A {original.status} message can't be resent: only FAILED or BLOCKED ones can.",
            details={"status": [original.status]},
        )
    request = SendRequest(
        to=[str(original.contact_id)],
        channels=[original.requested_channel],
        template_id=original.template_id,
        parameters=original.parameters,
        text=None if original.template_id else original.text,
        sandbox=original.sandbox,
        media_urls=original.provider_payload.get("media_urls") or [],
        subject=original.provider_payload.get("subject"),
    )
    [resent] = message_send(customer, request=request).messages
    return resent


def message_cancel(customer: Customer, *, message_id) -> Message:
    """Call off a message no worker has claimed yet (SCHEDULED or QUEUED): CANCELLED,
    refunded in full with a ledger entry (it never left). Claimed or handed off already →
    409 MESSAGE_005; already final (FAILED, CANCELLED…) → 422 BUSINESS_006."""
    require(acting(), "messages")
    message = message_get(customer, message_id=message_id)  # 404 for others' and missing ones
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().get(customer=customer, pk=message.pk)
        if message.status in HANDED_OFF:
            raise MessageAlreadyHandedOff(
                f"A {message.status} message can't be cancelled: it is with its provider.",
                details={"status": [message.status]},
            )
        if message.status not in CANCELLABLE:
            raise MessageStateConflict(
                f"A {message.status} message can't be cancelled: only SCHEDULED or QUEUED "
                "ones can.",
                details={"status": [message.status]},
            )
        journal = Journal()
        held = {"scheduled_at": message.scheduled_at.isoformat()} if message.scheduled_at else {}
        status_set(
            message, S.CANCELLED, journal, at=now, description="Cancelled by the sender", **held
        )
        message.next_attempt_at = None
        message.save(update_fields=["status", "next_attempt_at", "updated_at"])
        refund_unsent(message, journal, now=now, reason="cancelled")
        journal.flush()
    return message
