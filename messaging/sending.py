"""Preparing a send: the request checked as a whole, then each message planned.

`send_check` reads only (numbers parsed, the template found and rendered for every channel
the send may use, the channels known) and raises one `SentError` naming every offending
recipient (`to.3`) or field, so nothing is written for a bad request. `messages_plan` then
turns each (contact, requested channel) into an unsaved `Message`: the route with its reason
(`messaging.routing`), the rendered content and its price — or FILTERED/BLOCKED with a reason
code. `messaging.services.message_send` writes what these return.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from billing.models import Customer
from billing.pricing import PriceBook
from contacts.errors import InvalidPhoneNumber
from contacts.models import Contact
from contacts.phone import normalise
from messaging import reasons
from messaging.errors import ScheduledAtInPast, ScheduledAtTooFar, UnknownTemplate
from messaging.models import AUTO_CHANNEL, Message
from messaging.providers.whatsapp_components import template_payload
from messaging.routing import (
    CHANNELS,
    MMS_COUNTRIES,
    ChannelHistory,
    RoutingFacts,
    line,
    route,
)
from messaging.senders import CustomerSenders
from messaging.statuses import MessageStatus
from sent_project.errors import (
    InvalidChoice,
    RequiredFieldMissing,
    SentError,
    ValidationFailed,
    ValueOutOfRange,
)
from sent_project.ids import uuid7
from templates_app.errors import TemplateNotFound
from templates_app.rendering import RenderedContent, render_template, render_text
from templates_app.selectors import template_for_send

S = MessageStatus
MAX_RECIPIENTS = 1000
SUPPORTED_CHANNELS = (AUTO_CHANNEL, *CHANNELS)


@dataclass(frozen=True)
class SendRequest:
    to: list[str]
    channels: list[str] = field(default_factory=lambda: [AUTO_CHANNEL])
    template_id: uuid.UUID | None = None
    template_name: str | None = None
    parameters: dict = field(default_factory=dict)
    text: str | None = None
    sandbox: bool = False
    # `channels` of the SDK: per channel, the sender addresses it may go out from.
    senders: dict[str, list[str]] = field(default_factory=dict)
    # The confirmation a keyword (STOP, START, HELP) answers: sent even to a contact that has
    # just opted out, as carriers require (docs/api/inbound.md#keywords).
    keyword_reply: bool = False
    # MMS only (docs/api/messages.md#mms): https media URLs, replacing the template's mms
    # media, and a subject, replacing its subject. Ignored by every other channel.
    media_urls: list[str] = field(default_factory=list)
    subject: str | None = None
    # An earlier send of the customer's this one joins (a campaign of many requests followed
    # as one, docs/api/messages.md#send-progress); None: a send of its own.
    batch_id: uuid.UUID | None = None
    # Send later (docs/api/messages.md#scheduling): an aware datetime, checked by the API.
    scheduled_at: datetime | None = None
    # The send's override of the customer's quiet hours: "respect", "skip" or None (the
    # setting decides) (docs/api/messages.md#quiet-hours).
    quiet_hours: str | None = None


def schedule_check(value: datetime) -> datetime:
    """A send's `scheduled_at` (aware) as accepted: not more than MESSAGE_SCHEDULE_GRACE_SECONDS
    in the past (then: now), not more than MESSAGE_SCHEDULE_HORIZON_DAYS ahead
    (docs/api/messages.md#scheduling). Raises MESSAGE_003 / MESSAGE_004."""
    now = timezone.now()
    shown = value.isoformat(timespec="seconds")
    if value < now - timedelta(seconds=settings.MESSAGE_SCHEDULE_GRACE_SECONDS):
        raise ScheduledAtInPast(
            details={"scheduled_at": [f"{shown} has passed: give a future time, or omit it."]}
        )
    horizon = settings.MESSAGE_SCHEDULE_HORIZON_DAYS
    if value > now + timedelta(days=horizon):
        raise ScheduledAtTooFar(
            details={"scheduled_at": [f"At most {horizon} days ahead: {shown} is later."]}
        )
    return max(value, now)


@dataclass
class CheckedSend:
    """A send that passed every check: what planning needs."""

    request: SendRequest
    numbers: dict[int, tuple[str, str]]  # position in `to` → (the number as given, E.164)
    contacts_by_id: dict[int, Contact]  # position in `to` → the contact it named
    template: object | None
    rendered: dict[str, RenderedContent]  # channel → the content rendered for it
    # What an MMS of this send carries ({"media_urls", "subject"}); {} without media, and
    # then no message goes as MMS.
    mms: dict = field(default_factory=dict)

    @property
    def content_channels(self) -> frozenset[str]:
        return frozenset(self.rendered)


def _check_channels(channels: list[str]) -> tuple[list[str], dict]:
    problems, wanted = {}, []
    for index, channel in enumerate(channels):
        if channel not in SUPPORTED_CHANNELS:
            problems[f"channel.{index}"] = [
                f"'{channel}' is not a channel this install sends on: "
                f"use {', '.join(SUPPORTED_CHANNELS)}."
            ]
        elif channel not in wanted:
            wanted.append(channel)
    return wanted or [AUTO_CHANNEL], problems


def _check_recipients(customer: Customer, to: list[str]) -> tuple[dict, dict, dict]:
    """(position → number, position → contact, problems); numbers parsed, ids looked up."""
    numbers, ids, problems = {}, {}, {}
    for index, raw in enumerate(to):
        try:
            ids[index] = uuid.UUID(raw.strip())
            continue
        except ValueError:
            pass
        try:
            numbers[index] = (raw, normalise(raw, customer.default_region).e164)
        except InvalidPhoneNumber as error:
            problems[f"to.{index}"] = [error.message]
    contacts_by_id = {}
    if ids:
        found = Contact.objects.filter(customer=customer, pk__in=set(ids.values())).in_bulk()
        for index, contact_id in ids.items():
            if contact_id in found:
                contacts_by_id[index] = found[contact_id]
            else:
                problems[f"to.{index}"] = ["No contact of yours has this id."]
    return numbers, contacts_by_id, problems


def mms_payload(template, request: SendRequest) -> dict:
    """The media and subject an MMS of this send carries: the request's, else its template's
    mms body's; {} when there is no media (an MMS without media is a dearer SMS)."""
    content = {}
    if template is not None:
        body = (template.definition or {}).get("body") or {}
        content = body.get("mms") or {}
    media = list(request.media_urls) or [item["url"] for item in content.get("media") or []]
    if not media:
        return {}
    subject = request.subject if request.subject is not None else content.get("subject")
    return {"media_urls": media, "subject": subject or None}


def _render(
    template, request: SendRequest, channels: list[str], mms: dict
) -> dict[str, RenderedContent]:
    """The content for every channel the send may use (all candidates when automatic; MMS
    only with media)."""
    explicit = [c for c in channels if c != AUTO_CHANNEL]
    if template is None:
        # Free-form text goes on SMS (and MMS with media), and on WhatsApp only inside an
        # open customer-service window (the planner checks each contact's).
        rendered = {
            channel: render_text(request.text, channel=channel)
            for channel in ("sms", "whatsapp")
            if AUTO_CHANNEL in channels or channel in explicit
        }
        if mms and (AUTO_CHANNEL in channels or "mms" in explicit):
            rendered["mms"] = render_text(request.text, channel="mms")
        return rendered
    wanted = [c for c in CHANNELS if c != "mms" or mms] if AUTO_CHANNEL in channels else []
    rendered = {}
    for channel in dict.fromkeys([*wanted, *explicit]):
        if channel in template.sendable_channels or channel in explicit:
            # A named channel the template has no content for fails here (TEMPLATE_003).
            rendered[channel] = render_template(
                template, channel=channel, parameters=request.parameters
            )
    return rendered


def send_check(customer: Customer, request: SendRequest) -> CheckedSend:
    """Every check of a send, before anything is written. Raises one SentError: the
    problem's own code, or VALIDATION_001 with every problem's details when there are
    several kinds."""
    errors: list[SentError] = []
    if not 1 <= len(request.to) <= MAX_RECIPIENTS:
        raise ValueOutOfRange(details={"to": [f"Give 1 to {MAX_RECIPIENTS:,} recipients."]})
    channels, channel_problems = _check_channels(request.channels)
    if channel_problems:
        errors.append(InvalidChoice(details=channel_problems))
    numbers, contacts_by_id, recipient_problems = _check_recipients(customer, request.to)
    if recipient_problems:
        errors.append(
            InvalidPhoneNumber(
                f"{len(recipient_problems)} of the recipients are not valid",
                details=recipient_problems,
            )
        )
    template, rendered, mms = None, {}, {}
    try:
        if request.text is None:
            template = _template(customer, request)
        mms = mms_payload(template, request)
        if "mms" in channels and not mms:
            raise RequiredFieldMissing(
                "An MMS needs media",
                details={
                    "media_urls": [
                        "Channel mms needs at least one media URL: give media_urls, or a "
                        "template whose mms body has media."
                    ]
                },
            )
        rendered = _render(template, request, channels, mms)
    except SentError as error:
        errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        details: dict = {}
        for error in errors:
            for key, messages in (error.details or {"request": [error.message]}).items():
                details.setdefault(key, []).extend(messages)
        raise ValidationFailed("The send request has several problems", details=details)
    return CheckedSend(
        request=SendRequest(**{**request.__dict__, "channels": channels}),
        numbers=numbers,
        contacts_by_id=contacts_by_id,
        template=template,
        rendered=rendered,
        mms=mms,
    )


def _template(customer: Customer, request: SendRequest):
    try:
        return template_for_send(
            customer,
            template_id=request.template_id,
            name=request.template_name,
            channels=request.channels,
        )
    except TemplateNotFound:
        field_name, value = (
            ("template.id", request.template_id)
            if request.template_id
            else ("template.name", request.template_name)
        )
        raise UnknownTemplate(
            f"No template of yours has the {field_name.split('.')[1]} '{value}'",
            details={field_name: ["No such template."]},
        ) from None


# --- planning -----------------------------------------------------------------------------


def _content(rendered: RenderedContent) -> dict:
    return {
        "header": rendered.header,
        "footer": rendered.footer,
        "buttons": rendered.buttons or None,
        "headerMedia": rendered.header_media,
        "encoding": rendered.encoding,
        "segments": rendered.segments,
        "characters": rendered.characters,
    }


def _history(contact: Contact) -> dict[str, ChannelHistory]:
    history = {}
    for channel in CHANNELS:
        recent = contact.channel_stats(line(channel))["recent"]
        history[channel] = ChannelHistory(attempts=len(recent), delivered=recent.count("1"))
    return history


@dataclass
class Planner:
    """Plans the messages of one checked send (prices from one PriceBook)."""

    customer: Customer
    checked: CheckedSend
    book: PriceBook
    now: datetime
    senders: CustomerSenders = None
    _whatsapp_payload: dict | None = field(default=None, init=False, repr=False)
    # (channel, country) → its price: the same for every recipient of the send in a country.
    _prices: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        if self.senders is None:
            self.senders = CustomerSenders.load(self.customer)

    def price(self, contact: Contact, channel: str) -> Decimal:
        country = contact.region_code if len(contact.region_code or "") == 2 else "*"
        price = self._prices.get((channel, country))
        if price is None:
            price = self._prices[channel, country] = self._quote(channel, country)
        return price

    def _quote(self, channel: str, country: str) -> Decimal:
        template = self.checked.template
        return self.book.quote(
            channel=channel,
            country=country,
            segments=self.checked.rendered[channel].segments,
            category=template.category if template is not None else None,
        ).amount

    def plan(self, contact: Contact, requested: str) -> Message:
        """One unsaved message for `contact` on `requested` ("sent" = routed), with the
        sender it goes out from."""
        message = self._plan(contact, requested)
        if message.status != S.QUEUED:
            return message
        choice = self._sender(message.channel, message.phone)
        if choice is None:
            return self._stopped(message, S.BLOCKED, reasons.SENDER_NOT_ACTIVE)
        message.sender, message.from_number = choice.sender, choice.address
        if "mms" in (message.channel, *message.fallbacks):  # media and subject, for the MMS
            message.provider_payload = {**message.provider_payload, **self.checked.mms}
        for channel in list(message.fallbacks):
            fallback = self._sender(channel, message.phone)
            if fallback is None:  # pinned senders rule this fallback out
                message.fallbacks.remove(channel)
                del message.alternatives[channel]
                continue
            message.alternatives[channel]["sender_id"] = (
                str(fallback.sender.pk) if fallback.sender else None
            )
            message.alternatives[channel]["from_number"] = fallback.address
        return message

    def payload(self, channel: str) -> dict:
        """What the provider needs beyond the body on `channel` (`Message.provider_payload`):
        on WhatsApp, the template's Meta components, computed from the template as it is
        now (docs/providers/whatsapp.md#templates). The same for every recipient of a send."""
        if channel != "whatsapp" or self.checked.template is None:
            return {}
        if self._whatsapp_payload is None:
            self._whatsapp_payload = template_payload(
                self.checked.template, self.checked.request.parameters
            )
        return self._whatsapp_payload

    def _sender(self, channel: str, to: str):
        return self.senders.choose(channel, to, self.checked.request.senders.get(channel))

    def _plan(self, contact: Contact, requested: str) -> Message:
        message = self._new(contact, requested)
        if contact.opt_out and not self.checked.request.keyword_reply:
            # never sent, never charged: FILTERED whatever the channel
            channel = (
                requested
                if requested != AUTO_CHANNEL
                else (route(self._facts(contact)).channel or "")
            )
            if channel in self.checked.rendered:
                self._on_channel(message, channel, contact)
            message.channel = channel
            return self._stopped(message, S.FILTERED, reasons.OPTED_OUT)
        if requested == AUTO_CHANNEL:
            decision = route(self._facts(contact))
            message.routing_reason = decision.reason[:300]
            if decision.channel is None:
                only_whatsapp = contact.channels == ["whatsapp"]
                code = (
                    reasons.TEXT_NEEDS_CONVERSATION
                    if self.checked.template is None and only_whatsapp
                    else reasons.NO_CHANNEL
                )
                return self._stopped(message, S.BLOCKED, code)
            self._on_channel(message, decision.channel, contact)
            message.fallbacks = list(decision.fallbacks)
            message.alternatives = {
                channel: {
                    "body": self.checked.rendered[channel].body,
                    "content": _content(self.checked.rendered[channel]),
                    "price": str(self.price(contact, channel)),
                    **({"payload": self.payload(channel)} if self.payload(channel) else {}),
                }
                for channel in decision.fallbacks
            }
        else:
            message.routing_reason = f"{requested}: requested"
            if requested == "whatsapp" and not self._can_carry_text(contact, requested):
                message.channel = requested
                return self._stopped(message, S.BLOCKED, reasons.TEXT_NEEDS_CONVERSATION)
            if requested not in self._reachable(contact):
                message.channel = requested
                return self._stopped(message, S.BLOCKED, reasons.CHANNEL_UNAVAILABLE)
            self._on_channel(message, requested, contact)
        return message

    @staticmethod
    def _reachable(contact: Contact) -> frozenset[str]:
        """The channels that reach the contact: theirs, and MMS on an SMS line in a market
        that carries it (routing.MMS_COUNTRIES)."""
        channels = set(contact.channels)
        if "sms" in channels and (contact.region_code or "").upper() in MMS_COUNTRIES:
            channels.add("mms")
        return frozenset(channels)

    def _can_carry_text(self, contact: Contact, channel: str) -> bool:
        """A template goes anywhere it renders; free-form text goes on WhatsApp only while
        the contact's customer-service window is open."""
        if self.checked.template is not None or channel != "whatsapp":
            return True
        expires = contact.whatsapp_window_expires_at
        return expires is not None and expires > self.now

    def _facts(self, contact: Contact) -> RoutingFacts:
        reachable = self._reachable(contact)
        content_channels = frozenset(
            c for c in self.checked.content_channels if self._can_carry_text(contact, c)
        )
        candidates = reachable & content_channels
        return RoutingFacts(
            region_code=contact.region_code or "",
            reachable=reachable,
            content_channels=content_channels,
            contact_default=contact.default_channel if contact.default_channel_is_custom else None,
            history=_history(contact),
            prices={channel: self.price(contact, channel) for channel in candidates},
            strategy=self.customer.routing_strategy,
            regional_preference=settings.ROUTING_REGIONAL_PREFERENCE,
            min_success_rate=settings.ROUTING_MIN_SUCCESS_RATE,
            min_history=settings.ROUTING_MIN_HISTORY,
        )

    def _new(self, contact: Contact, requested: str) -> Message:
        template = self.checked.template
        request = self.checked.request
        return Message(
            id=uuid7(),
            customer_id=self.customer.pk,
            contact_id=contact.pk,
            phone=contact.format_e164,
            region_code=contact.region_code or "",
            requested_channel=requested,
            status=S.QUEUED,
            template_id=template.pk if template is not None else None,
            template_name=template.name if template is not None else "",
            template_category=template.category if template is not None else "",
            # Only the declared variables are kept (unknown keys are ignored, as documented).
            parameters={name: request.parameters[name] for name in template.variables}
            if template is not None
            else {},
            text=request.text or "",
            sandbox=request.sandbox,
            keyword_reply=request.keyword_reply,
            currency=self.customer.currency,
            next_attempt_at=self.now,
            created_at=self.now,
            updated_at=self.now,
        )

    def _on_channel(self, message: Message, channel: str, contact: Contact) -> None:
        rendered = self.checked.rendered[channel]
        message.channel = channel
        message.body = rendered.body
        message.content = _content(rendered)
        message.price = message.original_price = self.price(contact, channel)
        message.provider_payload = self.payload(channel)

    def _stopped(self, message: Message, status: str, code: str) -> Message:
        message.status = status
        message.reason_code = code
        message.reason = reasons.reason_text(code)
        message.price = message.original_price = Decimal("0")
        message.next_attempt_at = None
        message.fallbacks, message.alternatives = [], {}
        return message
