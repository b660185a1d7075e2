"""Inbound messages: what contacts send to our numbers (docs/api/inbound.md).

Every inbound message — from Twilio's inbound webhook, from WhatsApp's `messages` webhook,
or from the simulator (`POST /v3/simulator/inbound`, `manage.py simulate_inbound`) — becomes
an `Inbound` and goes through `inbound_receive`, in one transaction:

1. **Whose is it?** The customer owning the receiving sender. A message to the install's
   shared default number belongs to the customer that last wrote to that contact from it.
   No owner → `unknown_number`: nothing is attached to any customer (the callback record
   keeps it for the operator).
2. **Stored once**: a RECEIVED message on the contact (created if new, as an outbound send
   does), with the provider's payload; the same provider message id again is a duplicate.
3. Its `message.received` event, the contact's conversation (inbox) and, on WhatsApp, the
   24-hour customer-service window.
4. **Keywords** (`messaging.keywords`): STOP opts the contact out at once (queued messages
   not yet handed to a provider are filtered at hand-off), START opts back in, HELP and
   custom keywords emit their events; each answers with the customer's auto-reply.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.errors import InsufficientBalance
from billing.models import Customer
from contacts.errors import InvalidPhoneNumber
from contacts.models import Contact, Source
from contacts.phone import normalise
from contacts.services import (
    contact_keyword_event,
    contact_set_opt_out,
    contact_whatsapp_window_open,
    contacts_get_or_create_for_numbers,
)
from messaging.dispatch import retrying
from messaging.keywords import DEFAULT_REPLIES, EVENTS, KeywordMatch, keyword_match
from messaging.lifecycle import Journal
from messaging.models import (
    ActivityKind,
    Conversation,
    Direction,
    KeywordAction,
    Message,
    Sender,
)
from messaging.providers import default_route
from messaging.statuses import MessageStatus
from messaging.webhooks.signing import webhook_time
from sent_project.errors import SentError
from sent_project.outbox import event_emit

logger = logging.getLogger(__name__)
S = MessageStatus
WHATSAPP_WINDOW = timedelta(hours=24)
TEXT_LIMIT = 4096 * 4  # characters of an inbound text kept (WhatsApp allows 4,096)
# The channels of senders that receive on each inbound channel.
SENDER_CHANNEL = {"sms": "sms", "mms": "sms", "whatsapp": "whatsapp"}


@dataclass(frozen=True)
class Inbound:
    """One inbound message as a provider (or the simulator) reported it."""

    provider: str  # twilio, cloud_api, simulator
    channel: str  # sms, mms, whatsapp
    from_number: str  # the contact's number, as given
    to: str = ""  # our address that received it (E.164)
    provider_ref: str = ""  # the receiving WhatsApp phone number id / Messaging Service
    provider_message_id: str = ""
    text: str | None = None
    # [{url, mime_type, size_bytes, hash_sha256}] (as the provider declared them; WhatsApp's
    # are references: url None, the media `id`, its `kind`)
    media: tuple = ()
    # The button or list row the contact picked (WhatsApp): {type, text, value, postbackData}
    button: dict | None = None
    profile_name: str = ""  # WhatsApp's profile name of the contact
    received_at: datetime | None = None
    raw: dict = field(default_factory=dict)
    customer: Customer | None = None  # known already (the simulator)
    sandbox: bool = False
    # Whose numbers it may have reached, for a provider's callback: the provider accounts of
    # the receiving senders (None in it: the install's default route), as the callback's
    # signature says (messaging.callbacks.records.signed_scope). None: any.
    accounts: frozenset | None = None


@dataclass
class InboundResult:
    outcome: str  # stored, duplicate, unknown_number, invalid_number
    message: Message | None = None
    detail: str = ""
    keyword: KeywordMatch | None = None
    reply: Message | None = None


def _owner(inbound: Inbound, e164: str) -> tuple[Customer | None, Sender | None, str]:
    """(customer, sender, our address) of the receiving number."""
    if inbound.customer is not None:
        sender = (
            Sender.objects.filter(
                customer=inbound.customer,
                channel=SENDER_CHANNEL[inbound.channel],
                address=inbound.to,
                is_active=True,
            ).first()
            if inbound.to
            else None
        )
        to = inbound.to or default_route(SENDER_CHANNEL[inbound.channel]).address
        return inbound.customer, sender, to
    channel = SENDER_CHANNEL[inbound.channel]
    match = Q(address=inbound.to) if inbound.to else Q(pk__in=[])
    if inbound.provider_ref:
        match |= Q(provider_ref=inbound.provider_ref)
    senders = Sender.objects.filter(
        match, channel=channel, is_active=True, account__kind=inbound.provider
    )
    if inbound.accounts is not None:
        senders = senders.filter(account_id__in=[a for a in inbound.accounts if a is not None])
    sender = senders.select_related("customer").order_by("created_at").first()
    if sender is not None:
        return sender.customer, sender, sender.address or inbound.to
    if inbound.accounts is not None and None not in inbound.accounts:
        return None, None, inbound.to  # signed by an account none of whose numbers it is
    default = default_route(channel)
    shared = (inbound.to and inbound.to == default.address) or (
        inbound.provider_ref and inbound.provider_ref == default.provider_ref
    )
    if default.provider != inbound.provider or not shared:
        return None, None, inbound.to
    last = (
        Message.objects.filter(
            phone=e164, direction=Direction.OUTBOUND, sender__isnull=True, sandbox=False
        )
        .order_by("-created_at")
        .select_related("customer")
        .first()
    )
    return (last.customer if last else None), None, default.address or inbound.to


def _e164(raw: str) -> str:
    """The contact's number: providers give it in international form, with or without "+"
    (WhatsApp's `wa_id` has none)."""
    return normalise("+" + raw.strip().lstrip("+"), "US").e164


@retrying
def inbound_receive(inbound: Inbound) -> InboundResult:
    """Store an inbound message once and act on it (see the module doc). A transaction the
    database aborts (a deadlock with a worker, a lock wait past SQLite's timeout) runs again
    when this is the outermost one; inside the callbacks job's batch, the batch runs again."""
    try:
        e164 = _e164(
            inbound.from_number
            if inbound.from_number.startswith("+")
            else "+" + inbound.from_number.lstrip("+")
        )
    except InvalidPhoneNumber as error:
        return InboundResult("invalid_number", detail=f"From {inbound.from_number!r}: {error}")
    customer, sender, to = _owner(inbound, e164)
    if customer is None:
        return InboundResult(
            "unknown_number",
            detail=f"No customer receives on {inbound.to or inbound.provider_ref} "
            f"({inbound.provider} {inbound.channel}): not attached to anyone",
        )
    now = timezone.now()
    received_at = inbound.received_at or now
    with transaction.atomic():
        by_raw, invalid = contacts_get_or_create_for_numbers(
            customer, numbers=[e164], source=Source.MESSAGE
        )
        if e164 in invalid:
            return InboundResult("invalid_number", detail=invalid[e164])
        contact = by_raw[e164]
        message = _store(inbound, customer, contact, sender, to, now=now)
        if message is None:
            return InboundResult(
                "duplicate",
                detail=f"{inbound.provider} message {inbound.provider_message_id} "
                "was stored before",
            )
        _conversation_note(customer, contact, message, now)
        if inbound.channel == "whatsapp":
            contact_whatsapp_window_open(contact, until=received_at + WHATSAPP_WINDOW)
        result = InboundResult("stored", message=message)
        match = keyword_match(customer.pk, message.text)
        if match is not None:
            result.keyword = match
            result.reply = _keyword_act(customer, contact, message, match)
    return result


def _without_nul(value):
    """`value` with every NUL character replaced by U+FFFD: PostgreSQL stores none in a
    text or JSON column, and a provider may send one."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return value


def _store(inbound: Inbound, customer, contact: Contact, sender, to: str, *, now) -> Message | None:
    text = _without_nul(inbound.text or "")[:TEXT_LIMIT]
    message = Message(
        customer_id=customer.pk,
        contact_id=contact.pk,
        direction=Direction.INBOUND,
        status=S.RECEIVED,
        phone=contact.format_e164,
        region_code=contact.region_code or "",
        channel=inbound.channel,
        requested_channel=inbound.channel,
        text=text,
        body=text,
        content={
            "media": _without_nul([dict(item) for item in inbound.media]) or None,
            "profile_name": _without_nul(inbound.profile_name) or None,
            **({"buttons": [_without_nul(dict(inbound.button))]} if inbound.button else {}),
        },
        sender=sender,
        from_number=to,
        provider=inbound.provider,
        provider_message_id=inbound.provider_message_id or f"sim_in_{uuid.uuid4().hex}",
        channel_response=_without_nul(inbound.raw),
        sandbox=inbound.sandbox,
        currency=customer.currency,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:  # the provider delivered it again
        return None
    journal = Journal(new_messages=True)
    journal.note(
        message,
        ActivityKind.STATUS,
        f"Received on {inbound.channel} from {contact.format_e164}"
        + (f" ({message.content['profile_name']})" if message.content["profile_name"] else ""),
        status=S.RECEIVED,
        at=now,
        from_number=contact.format_e164,
    )
    journal.flush()
    event_emit(
        customer,
        field="message",
        event="message.received",
        payload=received_payload(message, received_at=inbound.received_at or now),
        subject_id=message.pk,
    )
    return message


def received_payload(message: Message, *, received_at: datetime) -> dict:
    """The `message.received` webhook payload (docs/api/webhooks.md#payloads)."""
    payload = {
        "account_id": str(message.customer_id),
        "message_id": str(message.pk),
        "message_status": S.RECEIVED,
        "channel": message.channel,
        "inbound_number": message.phone,
        "outbound_number": message.from_number or None,
        "contact_id": str(message.contact_id),
        "text": message.text or None,
        "received_at": webhook_time(received_at),
        "updated_at": webhook_time(received_at),
    }
    media = (message.content or {}).get("media")
    if media:
        payload["media"] = media
    return payload


def _conversation_note(customer, contact: Contact, message: Message, now) -> None:
    """The inbox row: the latest message, one more unread."""
    values = {
        "last_message_at": now,
        "last_inbound_at": now,
        "last_direction": Direction.INBOUND,
        "last_channel": message.channel,
        "last_text": (message.text or "[media]")[:200],
    }
    updated = Conversation.objects.filter(contact=contact).update(
        **values, unread_count=F("unread_count") + 1
    )
    if not updated:
        try:
            with transaction.atomic():
                Conversation.objects.create(
                    customer_id=customer.pk, contact=contact, unread_count=1, **values
                )
        except IntegrityError:  # created by a concurrent inbound message
            Conversation.objects.filter(contact=contact).update(
                **values, unread_count=F("unread_count") + 1
            )


def conversations_note_outbound(messages: list[Message]) -> None:
    """Replies and sends to contacts that have a conversation move it to the top (one
    query, and one more per contact that has a conversation)."""
    latest: dict = {}
    for message in messages:
        latest[message.contact_id] = message
    if not latest:
        return
    talking = set(
        Conversation.objects.filter(contact_id__in=list(latest)).values_list(
            "contact_id", flat=True
        )
    )
    for contact_id in talking:
        message = latest[contact_id]
        Conversation.objects.filter(contact_id=contact_id).update(
            last_message_at=message.created_at,
            last_direction=Direction.OUTBOUND,
            last_channel=message.channel or "",
            last_text=(message.body or message.text or "")[:200],
        )


def conversation_mark_read(customer, contact: Contact) -> None:
    """Someone opened the thread in the dashboard: nothing in it is unread any more."""
    Conversation.objects.filter(customer=customer, contact=contact, unread_count__gt=0).update(
        unread_count=0, read_at=timezone.now()
    )


# --- keywords ---------------------------------------------------------------------------


def _keyword_act(customer, contact: Contact, message: Message, match: KeywordMatch):
    """Apply the keyword, note it on the inbound message, and answer it."""
    context = {
        "to": message.from_number or None,
        "channel": message.channel,
        "message_id": message.pk,
        "text": message.text,
    }
    reply_text, template_id = _reply_for(customer, match)
    context["template_id"] = template_id
    if match.action in (KeywordAction.OPT_OUT, KeywordAction.OPT_IN):
        contact_set_opt_out(
            contact,
            opt_out=match.action == KeywordAction.OPT_OUT,
            source=Source.KEYWORD,
            note=match.word,
            **context,
        )
    else:
        contact_keyword_event(contact, EVENTS[match.action], **context)
    journal = Journal()
    journal.note(
        message,
        ActivityKind.KEYWORD,
        f"Keyword {match.word}: {match.action.replace('_', ' ').lower()}",
        status=S.RECEIVED,
        at=timezone.now(),
        keyword=match.word,
        action=match.action,
    )
    journal.flush()
    if not reply_text or not settings.INBOUND_KEYWORD_REPLIES:
        return None
    return _reply(customer, contact, message, reply_text)


def _reply_for(customer, match: KeywordMatch) -> tuple[str, str | None]:
    """The reply's text and the auto-reply template it comes from (None if none)."""
    if match.reply:
        return match.reply, None
    template = _auto_reply_template(customer, match.action)
    if template is not None:
        return template[1], template[0]
    default = DEFAULT_REPLIES.get(match.action, "")
    return default.format(name=customer.name), None


def _auto_reply_template(customer, action: str):
    """(id, text) of the customer's template answering `action`, if it has one."""
    from templates_app.selectors import auto_reply_template

    return auto_reply_template(customer, action)


def _reply(customer, contact: Contact, inbound: Message, text: str) -> Message | None:
    """Send `text` back on the channel it came in on, from the sender that received it (the
    customer's own, by its address: "" for a Messaging Service without one), else from the
    install's number that did."""
    from messaging.sending import SendRequest
    from messaging.services import message_send

    channel = "sms" if inbound.channel == "mms" else inbound.channel
    pinned = inbound.sender.address if inbound.sender_id else inbound.from_number
    request = SendRequest(
        to=[str(contact.pk)],
        channels=[channel],
        text=text,
        sandbox=inbound.sandbox,
        senders={channel: [pinned]} if inbound.sender_id or pinned else {},
        keyword_reply=True,
    )
    try:
        with transaction.atomic():
            [reply] = message_send(customer, request=request).messages
    except (InsufficientBalance, SentError) as error:
        logger.warning("keyword reply to %s not sent: %s", inbound.pk, error)
        journal = Journal()
        journal.note(
            inbound,
            ActivityKind.KEYWORD,
            f"Auto-reply not sent: {error}",
            status=S.RECEIVED,
            at=timezone.now(),
        )
        journal.flush()
        return None
    return reply
