"""Reads of messages, always starting from the customer."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)

from billing.models import Customer
from contacts.errors import InvalidPhoneNumber
from contacts.models import Contact
from contacts.phone import digits_fragment, normalise
from messaging.errors import MessageNotFound
from messaging.models import (
    HISTORY_KINDS,
    ActivityKind,
    Conversation,
    Direction,
    Keyword,
    Message,
    MessageActivity,
    Sender,
)
from messaging.providers import default_route
from messaging.providers.config import Route
from messaging.senders import E164, CustomerSenders
from messaging.statuses import SUCCESS, MessageStatus
from sent_project.errors import NotFound

# A search of hex digits (dashes allowed) from this many on may be the start of a message id.
ID_PREFIX_MIN_DIGITS = 4
HEX_ID = re.compile(r"^[0-9a-f-]+$")
# As in contacts.selectors.search_filter: a leading "00" may be an international prefix from
# this many digits on, a leading "0" a national trunk prefix.
IDD_MIN_DIGITS = 6
TRUNK_MIN_DIGITS = 5


def _id_range(prefix: str) -> Q | None:
    """Ids starting with these hex digits: a range of the primary key (its index; uuid7 ids
    sort like their hex text on both databases), or None if it can't be one."""
    digits = prefix.replace("-", "")
    if len(digits) < ID_PREFIX_MIN_DIGITS or len(digits) > 32 or not HEX_ID.match(prefix):
        return None
    low = uuid.UUID(digits.ljust(32, "0"))
    high = uuid.UUID(digits.ljust(32, "f"))
    return Q(pk__gte=low, pk__lte=high)


def message_search_filter(customer: Customer, search: str) -> Q:
    """`search` on the message history (docs/dashboard.md#message-search): a message id
    (whole: that message; its start, 4 hex digits or more: the ids starting so), a number in
    any format (whole, read in the customer's default region: messages to it; part of one:
    numbers containing those digits, "+44 79" numbers starting so), or text of the rendered
    body (case-insensitive). A term may be several of these ("4155" is digits and an id's
    start): any reading matches.

    On PostgreSQL the substring readings use the trigram index `message_customer_search_trgm`
    (customer, phone, upper(body)); a whole id or number its B-tree index."""
    term = search.strip()
    if not term:
        return Q()
    lowered = term.lower()
    try:
        return Q(pk=uuid.UUID(lowered))
    except ValueError:
        pass
    body = Q(body__icontains=term)
    fragment = digits_fragment(term)
    if fragment is not None:
        try:
            return Q(phone=normalise(term, customer.default_region).e164) | body
        except InvalidPhoneNumber:
            pass
    condition = body
    id_range = _id_range(lowered)
    if id_range is not None:
        condition |= id_range
    if fragment is not None:
        digits, is_prefix = fragment
        if is_prefix:
            condition |= Q(phone__startswith="+" + digits)
        else:
            condition |= Q(phone__contains=digits)
            if digits.startswith("00") and len(digits) >= IDD_MIN_DIGITS:
                condition |= Q(phone__startswith="+" + digits[2:])
            elif (
                digits.startswith("0")
                and not digits.startswith("00")
                and len(digits) >= TRUNK_MIN_DIGITS
            ):
                condition |= Q(phone__contains=digits[1:])
    return condition


def messages_for(
    customer: Customer,
    *,
    search: str = "",
    statuses: list[str] | None = None,
    channels: list[str] | None = None,
    contact_id: uuid.UUID | None = None,
    template_id: uuid.UUID | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Message]:
    """The customer's messages, newest first, filtered (each filter served by an index) and
    searched (`message_search_filter`)."""
    messages = Message.objects.filter(customer=customer)
    if statuses:
        messages = messages.filter(status__in=statuses)
    if channels:
        messages = messages.filter(channel__in=channels)
    if contact_id:
        messages = messages.filter(contact_id=contact_id)
    if template_id:
        messages = messages.filter(template_id=template_id)
    if created_after:
        messages = messages.filter(created_at__gte=created_after)
    if created_before:
        messages = messages.filter(created_at__lt=created_before)
    if search.strip():
        messages = messages.filter(message_search_filter(customer, search))
    return messages.order_by("-created_at", "-id")


# The columns of the message history's CSV export, and how many rows each of its queries reads.
EXPORT_COLUMNS = (
    "id", "created_at", "to", "channel", "template", "status", "price", "currency",
    "failure_reason",
)  # fmt: skip
EXPORT_CHUNK_SIZE = 2000
# The statuses whose `reason` says why the message did not go (messaging.reasons).
FAILURE_STATUSES = frozenset({MessageStatus.FAILED, MessageStatus.FILTERED, MessageStatus.BLOCKED})


def message_export_rows(messages: QuerySet[Message], *, chunk_size: int = 0):
    """The rows (EXPORT_COLUMNS) of `messages` (a `messages_for` queryset, newest first), read
    `chunk_size` at a time with keyset pagination on (created_at, id) — each chunk one query
    on the index of the order, however deep into the history, and never more than one chunk
    in memory."""
    size = chunk_size or EXPORT_CHUNK_SIZE
    fields = (
        "id", "created_at", "phone", "channel", "template_name", "status", "price", "currency",
        "reason",
    )  # fmt: skip
    chunk = messages.order_by("-created_at", "-id").values_list(*fields)
    after = None
    while True:
        page = chunk
        if after is not None:
            created_at, pk = after
            # `created_at <=` is the index condition the scan starts from; the OR only
            # sorts out the rows of that same instant (an OR alone would be a filter over
            # every row from the newest on, in every chunk).
            page = page.filter(
                Q(created_at__lte=created_at), Q(created_at__lt=created_at) | Q(pk__lt=pk)
            )
        rows = list(page[:size])
        for pk, created_at, phone, channel, template, status, price, currency, reason in rows:
            failure = reason if status in FAILURE_STATUSES else ""
            yield [
                str(pk), created_at.isoformat(), phone, channel, template, status, str(price),
                currency, failure,
            ]  # fmt: skip
        if len(rows) < size:
            return
        after = (rows[-1][1], rows[-1][0])


def with_history(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Messages with their status history prefetched (`message.history`, oldest first)."""
    return messages.prefetch_related(
        Prefetch(
            "activities",
            queryset=MessageActivity.objects.filter(kind__in=HISTORY_KINDS).order_by("id"),
            to_attr="history",
        )
    )


def message_get(customer: Customer, *, message_id) -> Message:
    """The customer's message with its history, or 404 RESOURCE_003 (missing and other
    tenants' alike)."""
    try:
        message_id = uuid.UUID(str(message_id))
    except ValueError:
        raise MessageNotFound() from None
    message = with_history(Message.objects.filter(customer=customer, pk=message_id)).first()
    if message is None:
        raise MessageNotFound()
    return message


def message_activities(message: Message) -> QuerySet[MessageActivity]:
    """Everything that happened to the message, most recent first."""
    return MessageActivity.objects.filter(message=message).order_by("-id")


def message_activities_and_refunded(
    message: Message, *, limit: int
) -> tuple[list[MessageActivity], Decimal]:
    """The message's newest `limit` activities, and what all of its refunds gave back (0
    without any), in one query: the refund total is a window over every activity, taken
    before the limit."""
    refunded = Window(
        Sum(
            Case(
                When(kind=ActivityKind.REFUNDED, then=F("price")),
                default=Value(Decimal("0")),
                output_field=DecimalField(max_digits=12, decimal_places=4),
            )
        )
    )
    activities = list(message_activities(message).annotate(refunded_total=refunded)[:limit])
    total = activities[0].refunded_total if activities else None
    # To the price's 4 places, as Django reads a DecimalField (SQLite sums decimals as floats).
    return activities, Decimal(total or 0).quantize(Decimal("0.0001"))


def message_outcome_description(message: Message, activities: list[MessageActivity]) -> str:
    """What brought the message to its current status, as its history says it (a provider's
    refusal names the provider): the description of the newest status change to it, from
    `activities` (newest first, as `message_activities_and_refunded` gives them)."""
    for activity in activities:
        if activity.kind == ActivityKind.STATUS and activity.status == message.status:
            return activity.description
    return ""


def message_fallbacks_taken(activities: list[MessageActivity]) -> list[dict]:
    """The fallbacks the message went through, oldest first ({"from", "to"} channels): none
    when its first channel took it, whatever fallbacks it had planned. `activities` newest
    first."""
    return [
        {"from": activity.data.get("from_channel", ""), "to": activity.channel}
        for activity in reversed(activities)
        if activity.kind == ActivityKind.FALLBACK
    ]


def message_status_counts(customer: Customer, *, since: datetime) -> dict[str, int]:
    """How many of the customer's messages created since `since` are in each status (only
    statuses that have some), in the lifecycle's order. One query."""
    rows = (
        Message.objects.filter(customer=customer, created_at__gte=since)
        .values_list("status")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = dict(rows)
    return {status: counts[status] for status in MessageStatus.values if status in counts}


DELIVERED_STATUSES = (MessageStatus.DELIVERED, MessageStatus.READ)


def channel_delivery_rates(customer: Customer, *, since: datetime) -> list[dict]:
    """Per channel, the customer's messages since `since`: `total`, `delivered` (DELIVERED or
    READ), `failed`, and `rate` — delivered in percent of those with an outcome (delivered or
    failed), None while none has one. One query."""
    rows = (
        Message.objects.filter(customer=customer, created_at__gte=since)
        .exclude(channel="")
        .values("channel")
        .annotate(
            total=Count("pk"),
            delivered=Count("pk", filter=Q(status__in=DELIVERED_STATUSES)),
            failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
        )
        .order_by("channel")
    )
    rates = []
    for row in rows:
        finished = row["delivered"] + row["failed"]
        rate = round(100 * row["delivered"] / finished) if finished else None
        rates.append({**row, "rate": rate})
    return rates


# The inbound success status of docs/api/contacts.md#endpoints (inbound messages are not
# stored yet).
INBOUND_RECEIVED = "RECEIVED"


def contact_message_summary(contact: Contact) -> dict:
    """Counts, time bounds, channels used and per-channel success/fail percentages.

    Success = SENT/DELIVERED/READ outbound or RECEIVED inbound; fail = FAILED
    (docs/api/contacts.md#endpoints). One query.
    """
    summary = {
        "contact_id": str(contact.id),
        "message_count": 0,
        "first_message_at": None,
        "last_message_at": None,
        "channels_used": [],
        "channel_scores": [],
    }
    success = Q(direction=Direction.OUTBOUND, status__in=SUCCESS) | Q(
        direction=Direction.INBOUND, status=INBOUND_RECEIVED
    )
    per_channel = (
        Message.objects.filter(customer_id=contact.customer_id, contact_id=contact.id)
        .values("channel")
        .annotate(
            total=Count("pk"),
            succeeded=Count("pk", filter=success),
            failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
            first=Min("created_at"),
            last=Max("created_at"),
        )
        .order_by("channel")
    )
    for row in per_channel:
        summary["message_count"] += row["total"]
        summary["channels_used"].append(row["channel"])
        summary["channel_scores"].append(
            {
                "channel": row["channel"],
                "success_score": round(100 * row["succeeded"] / row["total"]),
                "fail_score": round(100 * row["failed"] / row["total"]),
            }
        )
        if summary["first_message_at"] is None or row["first"] < summary["first_message_at"]:
            summary["first_message_at"] = row["first"]
        if summary["last_message_at"] is None or row["last"] > summary["last_message_at"]:
            summary["last_message_at"] = row["last"]
    return summary


def customer_senders(customer) -> list:
    """The customer's own senders (active or not), with their accounts: the dashboard and
    the admin list them."""
    return list(
        Sender.objects.filter(customer=customer)
        .select_related("account")
        .order_by("channel", "created_at", "pk")
    )


def sender_get(customer, sender_id) -> Sender:
    """One of the customer's senders; another customer's, or a missing one, is not found."""
    sender = Sender.objects.filter(customer=customer, pk=sender_id).select_related("account")
    found = sender.first()
    if found is None:
        raise NotFound("Sender not found")
    return found


SENDER_CHANNELS = (("sms", "SMS_PROVIDER"), ("whatsapp", "WHATSAPP_PROVIDER"))


@dataclass(frozen=True)
class ChannelSenders:
    """One channel of the dashboard's senders page."""

    channel: str
    senders: list  # the customer's own, active or not
    # The install's default the customer sends from when none of its own is active (its
    # `provider` is "" when the install has the channel turned off); None otherwise.
    default: Route | None


def customer_senders_by_channel(customer) -> list[ChannelSenders]:
    own = customer_senders(customer)
    pages = []
    for channel, setting in SENDER_CHANNELS:
        rows = [sender for sender in own if sender.channel == channel]
        default = None
        if not any(sender.is_active and sender.account.is_active for sender in rows):
            configured = bool(getattr(settings, setting))
            default = default_route(channel) if configured else Route(provider="")
        pages.append(ChannelSenders(channel, rows, default))
    return pages


# `sending_phone_number` is the sender a message to the United States goes out from.
_US = "+1"


def customer_sender_addresses(customer) -> dict[str, dict]:
    """Per channel (`/v3/me.channels`): whether it is configured, the number messages go out
    from by default (SMS: to the United States; only a number, never an alphanumeric id)
    and every address a send may pin in `channels` (the customer's active senders, else the
    install's default)."""
    senders = CustomerSenders.load(customer)
    channels = {}
    for channel, setting in SENDER_CHANNELS:
        if not senders.by_channel.get(channel) and not getattr(settings, setting):
            channels[channel] = {"configured": False, "phone_number": None, "senders": []}
            continue
        addresses = list(dict.fromkeys(c.address for c in senders.candidates(channel) if c.address))
        chosen = senders.choose(channel, _US, None) if channel == "sms" else None
        phone = chosen.address if chosen else (addresses[0] if addresses else "")
        channels[channel] = {
            "configured": True,
            "phone_number": phone if E164.fullmatch(phone) else None,
            "senders": addresses,
        }
    return channels


# ---- the inbox (docs/api/inbound.md#conversations)


def conversations_for(customer: Customer) -> QuerySet[Conversation]:
    """The customer's conversations (one per contact), most recent activity first, with
    their contacts (the index `conversation_recent`); deleted contacts' are left out."""
    return (
        Conversation.objects.filter(customer=customer, contact__deleted_at__isnull=True)
        .select_related("contact")
        .order_by("-last_message_at", "-id")
    )


def conversation_unread_total(customer: Customer) -> int:
    """Inbound messages not yet seen in the dashboard, over every conversation. One query."""
    total = (
        conversations_for(customer)
        .filter(unread_count__gt=0)
        .aggregate(total=Sum("unread_count"))["total"]
    )
    return total or 0


def conversation_get(customer: Customer, contact: Contact) -> Conversation | None:
    """The contact's conversation (None until the contact has written)."""
    return Conversation.objects.filter(customer=customer, contact=contact).first()


def conversation_thread(
    customer: Customer, contact: Contact, *, limit: int = 100
) -> tuple[list[Message], bool]:
    """The newest `limit` messages to and from the contact, both directions and every
    channel, oldest first (as a chat reads), and whether there are older ones. One query."""
    newest = list(messages_for(customer, contact_id=contact.pk)[: limit + 1])
    return newest[:limit][::-1], len(newest) > limit


def keywords_for(customer: Customer) -> QuerySet[Keyword]:
    """The customer's own keywords (overrides of the defaults and custom ones), by word."""
    return Keyword.objects.filter(customer=customer).order_by("word")


def keyword_for(customer: Customer, word: str) -> Keyword | None:
    """The customer's keyword `word` (as stored: upper case), or None."""
    return Keyword.objects.filter(customer=customer, word=word).first()
