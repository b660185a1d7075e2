"""Contact domain operations: create, update, consent, delete, delivery results, imports.

Every change goes through these functions (API, dashboard, admin, messaging, tasks), inside
`transaction.atomic`, with its webhook event written in the same transaction.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Customer
from billing.roles import acting, require
from contacts.bulk import (
    build_contact,
    existing_by_e164,
    insert_contacts,
    metadata_error,
    name_error,
    refresh_stale_whatsapp,
    search_text_for,
)
from contacts.channels import (
    apply_detection,
    reset_default_channel,
    whatsapp_check_is_stale,
    whatsapp_directory,
)
from contacts.errors import InvalidPhoneNumber
from contacts.models import Channel, ConsentEvent, Contact, ContactImport, Source
from contacts.phone import Normalised, normalise
from contacts.selectors import contact_get
from contacts.tasks import contact_import_run
from sent_project.db import rows_update
from sent_project.errors import InvalidChoice
from sent_project.outbox import event_emit
from sent_project.request_context import current_request_id

# What channel detection writes.
CHANNEL_FIELDS = (
    "sms_available", "sms_checked_at", "whatsapp_available", "whatsapp_checked_at",
    "default_channel", "default_channel_is_custom",
)  # fmt: skip

# `source` of the contact webhook payload (docs/api/webhooks.md#payloads).
EVENT_SOURCES = {
    Source.API: "API",
    Source.DASHBOARD: "DASHBOARD",
    Source.IMPORT: "IMPORT",
    Source.MESSAGE: "MESSAGE",
    Source.ADMIN: "ADMIN",
    Source.KEYWORD: "INBOUND_KEYWORD",
    Source.PROVIDER: "PROVIDER_SIGNAL",
}


def contact_event_payload(contact: Contact, *, source: str, **context) -> dict:
    """The contact webhook payload (docs/api/webhooks.md#payloads) plus the contact's channels.

    `context` may carry `to`, `channel`, `message_id`, `text`, `template_id` (keyword events).
    """
    return {
        "opt_out": contact.opt_out,
        "source": EVENT_SOURCES.get(source, str(source).upper()),
        "contact_id": str(contact.id),
        "from": contact.format_e164,
        "to": context.get("to"),
        "channel": context.get("channel"),
        "account_id": str(contact.customer_id),
        "message_id": str(context["message_id"]) if context.get("message_id") else None,
        "text": context.get("text"),
        "template_id": str(context["template_id"]) if context.get("template_id") else None,
        "phone_number": contact.phone_number,
        "available_channels": contact.available_channels,
        "default_channel": contact.default_channel or None,
    }


def _emit(contact: Contact, event: str, *, source: str, **context) -> None:
    event_emit(
        contact.customer,
        field="contact",
        event=event,
        payload=contact_event_payload(contact, source=source, **context),
        subject_id=contact.id,
    )


def contact_create(
    customer: Customer,
    *,
    phone_number: str,
    source: str = Source.API,
    metadata: dict | None = None,
    name: str | None = None,
) -> tuple[Contact, bool]:
    """(contact, created). A number the customer already has returns that contact unchanged
    (its WhatsApp availability refreshed when stale); a new one gets channels detected and a
    `contact.created` event. Raises InvalidPhoneNumber (VALIDATION_002), ValidationFailed
    (VALIDATION_001) for a name that is not text of at most 200 characters."""
    require(acting(), "contacts")
    number = normalise(phone_number, customer.default_region)
    if metadata is not None and (error := metadata_error(metadata)):
        raise error
    if name is not None and (error := name_error(name)):
        raise error
    now = timezone.now()
    provider = whatsapp_directory()
    with transaction.atomic():
        existing = existing_by_e164(customer.pk, [number.e164]).get(number.e164)
        if existing is not None:
            refresh_stale_whatsapp([existing], now=now, provider=provider)
            return existing, False
        contact = build_contact(
            customer,
            number,
            raw=phone_number,
            source=source,
            now=now,
            provider=provider,
            metadata=metadata,
            name=(name or "").strip(),
        )
        try:
            with transaction.atomic():
                contact.save(force_insert=True)
        except IntegrityError:
            # Created by a concurrent request between our SELECT and INSERT.
            return Contact.objects.get(customer=customer, format_e164=number.e164), False
        contact.customer = customer
        _emit(contact, "contact.created", source=source)
    return contact, True


def contacts_get_or_create_for_numbers(
    customer: Customer, *, numbers: list[str], source: str = Source.MESSAGE
) -> tuple[dict[str, Contact], dict[str, str]]:
    """Bulk: (input string → its contact, input string → why it is invalid).

    Missing contacts are created with channel detection in one INSERT; existing ones get a
    stale WhatsApp check refreshed in one UPDATE. About three queries whatever the count
    (used by sends of up to 1,000 recipients). Emits no per-contact events.
    """
    invalid: dict[str, str] = {}
    e164_of: dict[str, str] = {}
    wanted: dict[str, tuple[Normalised, str]] = {}
    for raw in dict.fromkeys(numbers):
        try:
            number = normalise(raw, customer.default_region)
        except InvalidPhoneNumber as exc:
            invalid[raw] = exc.message
            continue
        e164_of[raw] = number.e164
        wanted.setdefault(number.e164, (number, raw))
    if not wanted:
        return {}, invalid
    now = timezone.now()
    provider = whatsapp_directory()
    with transaction.atomic():
        contacts = existing_by_e164(customer.pk, list(wanted))
        refresh_stale_whatsapp(contacts.values(), now=now, provider=provider)
        new = [
            build_contact(customer, number, raw=raw, source=source, now=now, provider=provider)
            for e164, (number, raw) in wanted.items()
            if e164 not in contacts
        ]
        contacts.update(insert_contacts(customer.pk, new))
    return {raw: contacts[e164] for raw, e164 in e164_of.items()}, invalid


def contact_update(
    customer: Customer,
    *,
    contact_id,
    default_channel: str | None = None,
    opt_out: bool | None = None,
    metadata: dict | None = None,
    name: str | None = None,
    source: str = Source.API,
) -> Contact:
    """Change what was given (None = leave as is). `default_channel` must be one the contact
    has; `metadata` replaces the whole object; `name` "" clears the name. Emits
    `contact.updated` when something changed, and `contact.opt_out`/`contact.opt_in` (with a
    consent ledger entry) when consent did."""
    require(acting(), "contacts")
    if metadata is not None and (error := metadata_error(metadata)):
        raise error
    if name is not None and (error := name_error(name)):
        raise error
    with transaction.atomic():
        contact = contact_get(customer, contact_id=contact_id, for_update=True)
        changed: list[str] = []
        if default_channel is not None:
            _check_default_channel(contact, default_channel)
            if (contact.default_channel, contact.default_channel_is_custom) != (
                default_channel,
                True,
            ):
                contact.default_channel = default_channel
                contact.default_channel_is_custom = True
                changed += ["default_channel", "default_channel_is_custom"]
        if metadata is not None and metadata != contact.metadata:
            contact.metadata = metadata
            changed += ["metadata", "search_text"]
        if name is not None and name.strip() != contact.name:
            contact.name = name.strip()
            changed += ["name", "search_text"]
        if "search_text" in changed:
            contact.search_text = search_text_for(
                contact.format_e164, contact.metadata, contact.name
            )
            changed = list(dict.fromkeys(changed))
        consent_changed = opt_out is not None and opt_out != contact.opt_out
        if consent_changed:
            contact.opt_out = opt_out
            changed.append("opt_out")
        if not changed:
            return contact
        contact.save(update_fields=[*changed, "updated_at"])
        if consent_changed:
            _consent_record(contact, source=source)
        _emit(contact, "contact.updated", source=source)
    return contact


def _check_default_channel(contact: Contact, channel: str) -> None:
    if channel not in Channel.values:
        raise InvalidChoice(
            details={"default_channel": [f"Must be one of: {', '.join(Channel.values)}."]},
        )
    if channel not in contact.channels:
        message = (
            f"This contact has no {channel} channel "
            f"(available: {contact.available_channels or 'none'})."
        )
        raise InvalidChoice(message, details={"default_channel": [message]})


def _consent_record(contact: Contact, *, source: str, note: str = "", **context) -> None:
    ConsentEvent.objects.create(
        customer_id=contact.customer_id,
        contact=contact,
        opt_out=contact.opt_out,
        source=source,
        note=note[:300],
        message_id=context.get("message_id"),
        request_id=current_request_id(),
    )
    _emit(
        contact,
        "contact.opt_out" if contact.opt_out else "contact.opt_in",
        source=source,
        **context,
    )


def contact_set_opt_out(
    contact: Contact,
    *,
    opt_out: bool,
    source: str,
    note: str = "",
    **context,
) -> Contact:
    """Opt a contact out of (or back into) all messaging: the ledger entry and the event.

    For messaging's keyword handling: `source="keyword"`, `note` the keyword, and `context`
    `to`, `channel`, `message_id`, `text`, `template_id` for the webhook payload. A call that
    changes nothing records nothing.
    """
    require(acting(), "contacts")
    with transaction.atomic():
        locked = (
            Contact.all_objects.select_for_update().select_related("customer").get(pk=contact.pk)
        )
        if locked.opt_out != opt_out:
            locked.opt_out = opt_out
            locked.save(update_fields=["opt_out", "updated_at"])
            _consent_record(locked, source=source, note=note, **context)
    contact.opt_out, contact.updated_at = locked.opt_out, locked.updated_at
    return locked


def contact_delete(customer: Customer, *, contact_id, source: str = Source.API) -> Contact:
    """Soft delete: gone from lists and lookups, kept for message history and the consent
    ledger. The number can be created again (a new contact, consent starting afresh).
    Emits `contact.deleted`."""
    require(acting(), "contacts")
    with transaction.atomic():
        contact = contact_get(customer, contact_id=contact_id, for_update=True)
        contact.deleted_at = timezone.now()
        contact.save(update_fields=["deleted_at", "updated_at"])
        _emit(contact, "contact.deleted", source=source)
    return contact


def contact_refresh_channels(contact: Contact, *, force: bool = False) -> Contact:
    """Detect channels again when the WhatsApp check is stale (or always, with `force`)."""
    require(acting(), "contacts")
    now = timezone.now()
    if not force and not whatsapp_check_is_stale(contact, now=now):
        return contact
    with transaction.atomic():
        locked = Contact.all_objects.select_for_update().get(pk=contact.pk)
        apply_detection(locked, now=now, provider=whatsapp_directory())
        locked.save(update_fields=[*CHANNEL_FIELDS, "updated_at"])
    return locked


def _set_availability(contact: Contact, channel: str, available: bool, now) -> list[str]:
    setattr(contact, f"{channel}_available", available)
    setattr(contact, f"{channel}_checked_at", now)
    reset_default_channel(contact)
    return [
        f"{channel}_available",
        f"{channel}_checked_at",
        "default_channel",
        "default_channel_is_custom",
    ]


def contact_mark_channel_unavailable(contact: Contact, channel: str) -> Contact:
    """A provider said this number can't be reached on `channel` (e.g. not on WhatsApp):
    the next send goes straight to another channel. A customer-chosen default on that channel
    falls back to detection."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    with transaction.atomic():
        locked = (
            Contact.all_objects.select_for_update().select_related("customer").get(pk=contact.pk)
        )
        was_available = getattr(locked, f"{channel}_available")
        fields = _set_availability(locked, channel, False, timezone.now())
        locked.save(update_fields=[*fields, "updated_at"])
        if was_available:
            _emit(locked, "contact.updated", source=Source.PROVIDER)
    _copy_channel_fields(locked, contact)
    return locked


def contact_whatsapp_window_open(contact: Contact, *, until) -> Contact:
    """The contact wrote on WhatsApp: it is on WhatsApp, and its customer-service window is
    open until `until` (24 hours after the message; a later message moves it on, an earlier
    one arriving late doesn't move it back)."""
    with transaction.atomic():
        locked = (
            Contact.all_objects.select_for_update().select_related("customer").get(pk=contact.pk)
        )
        fields = []
        if not locked.whatsapp_available:
            fields += _set_availability(locked, Channel.WHATSAPP, True, timezone.now())
        if locked.whatsapp_window_expires_at is None or locked.whatsapp_window_expires_at < until:
            locked.whatsapp_window_expires_at = until
            fields.append("whatsapp_window_expires_at")
        if fields:
            locked.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    _copy_channel_fields(locked, contact)
    contact.whatsapp_window_expires_at = locked.whatsapp_window_expires_at
    return locked


def contact_keyword_event(contact: Contact, event: str, **context) -> None:
    """`contact.help` or `contact.custom_keyword`: the contact sent a keyword that changes
    no consent. `context` as for `contact_set_opt_out`."""
    if event not in ("contact.help", "contact.custom_keyword"):
        raise ValueError(f"not a keyword event: {event!r}")
    if not hasattr(contact, "_state") or "customer" not in contact._state.fields_cache:
        contact = Contact.all_objects.select_related("customer").get(pk=contact.pk)
    _emit(contact, event, source=Source.KEYWORD, **context)


def _copy_channel_fields(source: Contact, target: Contact) -> None:
    for name in (*CHANNEL_FIELDS, "delivery_stats", "updated_at"):
        setattr(target, name, getattr(source, name))


def _count_delivery(
    locked: Contact, *, channel: str, delivered: bool, not_reachable: bool, now
) -> list[str]:
    """Count one outcome on a held contact; the fields it changed (beyond the statistics,
    channel availability when the outcome says it changed)."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    stats = dict(locked.delivery_stats)
    entry = locked.channel_stats(channel)
    entry["attempts"] += 1
    entry["delivered"] += 1 if delivered else 0
    entry["recent"] = (entry["recent"] + ("1" if delivered else "0"))[
        -settings.CONTACTS_DELIVERY_WINDOW :
    ]
    entry["last_at"] = now.isoformat()
    stats[channel] = entry
    locked.delivery_stats = stats
    locked.updated_at = now
    available = getattr(locked, f"{channel}_available")
    flip_to = False if (not_reachable and not delivered) else (True if delivered else None)
    if flip_to is not None and flip_to != available:
        return _set_availability(locked, channel, flip_to, now)
    return []


def contact_record_delivery(
    contact: Contact, *, channel: str, delivered: bool, not_reachable: bool = False
) -> Contact:
    """Count a message's final outcome on `channel` in the contact's delivery statistics.

    `not_reachable=True` (a failure because the number is not on that channel, e.g. WhatsApp
    "not reachable") marks the channel unavailable; a delivery on a channel marked
    unavailable marks it available again. Routing reads `channel_success_rate(channel)`.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Contact.all_objects.select_for_update().select_related("customer").get(pk=contact.pk)
        )
        flipped = _count_delivery(
            locked, channel=channel, delivered=delivered, not_reachable=not_reachable, now=now
        )
        locked.save(update_fields=["delivery_stats", "updated_at", *flipped])
        if flipped:
            _emit(locked, "contact.updated", source=Source.PROVIDER)
    _copy_channel_fields(locked, contact)
    return locked


def contacts_record_deliveries(outcomes: list[tuple]) -> None:
    """`contact_record_delivery` for many outcomes at once — `(contact_id, channel,
    delivered, not_reachable)` each — in a few queries: the contacts are held in id order
    (so concurrent callers never deadlock) and their statistics written with one set-based
    UPDATE;
    a contact whose availability changes is saved and announced on its own."""
    if not outcomes:
        return
    now = timezone.now()
    with transaction.atomic():
        held = {
            contact.pk: contact
            for contact in Contact.all_objects.select_for_update()
            .select_related("customer")
            .filter(pk__in={outcome[0] for outcome in outcomes})
            .order_by("pk")
        }
        flipped: dict = {}
        for contact_id, channel, delivered, not_reachable in outcomes:
            contact = held[contact_id]
            fields = _count_delivery(
                contact, channel=channel, delivered=delivered, not_reachable=not_reachable, now=now
            )
            if fields:
                flipped[contact_id] = {*flipped.get(contact_id, ()), *fields}
        plain = [contact for pk, contact in held.items() if pk not in flipped]
        # set-based: one UPDATE … FROM (VALUES …) on PostgreSQL (sent_project.db.rows_update)
        rows_update(Contact, plain, ["delivery_stats", "updated_at"])
        for contact_id, fields in flipped.items():
            held[contact_id].save(update_fields=["delivery_stats", "updated_at", *fields])
            _emit(held[contact_id], "contact.updated", source=Source.PROVIDER)


def contact_import_create(
    customer: Customer, *, source_format: str, payload: str, total_rows: int, filename: str = ""
) -> ContactImport:
    """Record an import and queue its task (after commit). The payload was checked by the
    caller (contacts.imports.import_payload_from_*)."""
    require(acting(), "contacts")
    with transaction.atomic():
        contact_import = ContactImport.objects.create(
            customer=customer,
            source_format=source_format,
            payload=payload,
            total_rows=total_rows,
            filename=filename[:200],
        )
        transaction.on_commit(lambda: contact_import_run.enqueue(import_id=str(contact_import.pk)))
    return contact_import
