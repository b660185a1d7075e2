"""Contact reads, always starting from the customer. Another customer's object is a 404."""

import uuid

from django.db.models import Q, QuerySet

from billing.models import Customer
from contacts.channels import detect_channels
from contacts.errors import ContactNotFound, ImportNotFound, InvalidPhoneNumber
from contacts.models import Channel, ConsentEvent, Contact, ContactImport, ContactImportRow
from contacts.phone import digits_fragment, normalise, parse_phone
from sent_project.errors import InvalidChoice

# A leading "00" is read as an international prefix from this many digits on ("0044 74"),
# a leading "0" as a national trunk prefix from this many ("07911").
IDD_MIN_DIGITS = 6
TRUNK_MIN_DIGITS = 5
CHANNEL_FILTERS = {Channel.SMS: "sms_available", Channel.WHATSAPP: "whatsapp_available"}


def phone_filter(customer: Customer, phone: str) -> Q:
    """`phone`: exactly this number, in any format; InvalidPhoneNumber (VALIDATION_002) if it
    is not one."""
    try:
        e164 = normalise(phone, customer.default_region).e164
    except InvalidPhoneNumber as exc:
        raise InvalidPhoneNumber(exc.message, field="phone") from None
    return Q(format_e164=e164)


def channel_filter(channel: str) -> Q:
    """`channel`: contacts that have it; InvalidChoice (VALIDATION_006) for another."""
    if channel not in CHANNEL_FILTERS:
        raise InvalidChoice(
            details={"channel": [f"Must be one of: {', '.join(CHANNEL_FILTERS)}."]},
        )
    return Q(**{CHANNEL_FILTERS[channel]: True})


def search_filter(search: str) -> Q:
    """`search`: part of a number in any format, or text in metadata values.

    "+1234" → E.164 numbers starting with +1234 (B-tree index); "234-56" → E.164 digits
    containing 23456; a leading "00" may also be an international prefix ("0044 79" finds
    +4479… as well) and a leading "0" a national trunk prefix ("07911" finds +447911…);
    anything else → metadata values containing it, case-insensitively. Substring searches
    use the trigram index on PostgreSQL.
    """
    fragment = digits_fragment(search)
    if fragment is None:
        return Q(search_text__contains=search.strip().lower())
    digits, is_prefix = fragment
    if is_prefix:
        return Q(format_e164__startswith="+" + digits)
    condition = Q(search_text__contains=digits)
    # Only long enough fragments get the second reading: "0123" is four digits, not "+123…".
    if digits.startswith("00") and len(digits) >= IDD_MIN_DIGITS:
        condition |= Q(format_e164__startswith="+" + digits[2:])
    elif digits.startswith("0") and not digits.startswith("00") and len(digits) >= TRUNK_MIN_DIGITS:
        condition |= Q(search_text__contains=digits[1:])
    return condition


def contacts_for(
    customer: Customer,
    *,
    search: str = "",
    channel: str = "",
    phone: str = "",
    opted_out: bool = False,
) -> QuerySet[Contact]:
    """The customer's live contacts, newest first, filtered as GET /v3/contacts allows.

    Raises ValidationFailed (VALIDATION_006) for an unknown channel and InvalidPhoneNumber
    (VALIDATION_002) for a `phone` that is not a number.
    """
    contacts = Contact.objects.filter(customer=customer)
    if phone:
        contacts = contacts.filter(phone_filter(customer, phone))
    if channel:
        contacts = contacts.filter(channel_filter(channel))
    if opted_out:
        contacts = contacts.filter(opt_out=True)
    if search.strip():
        contacts = contacts.filter(search_filter(search))
    return contacts.order_by("-created_at", "-id")


def contact_get(customer: Customer, *, contact_id, for_update: bool = False) -> Contact:
    """The customer's live contact, or ContactNotFound (404 RESOURCE_001)."""
    try:
        contact_id = uuid.UUID(str(contact_id))
    except ValueError:
        raise ContactNotFound() from None
    contacts = Contact.objects.select_related("customer")
    if for_update:
        contacts = contacts.select_for_update(of=("self",))
    contact = contacts.filter(customer=customer, pk=contact_id).first()
    if contact is None:
        raise ContactNotFound()
    return contact


def consent_events_for(contact: Contact) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(contact=contact).order_by("id")


def consent_ledger_for(customer: Customer) -> QuerySet[ConsentEvent]:
    """Every consent change of the customer's contacts (deleted ones too), oldest first."""
    return (
        ConsentEvent.objects.filter(customer=customer)
        .select_related("contact")
        .only(
            "id",
            "opt_out",
            "source",
            "note",
            "message_id",
            "created_at",
            "contact__id",
            "contact__format_e164",
            "contact__deleted_at",
        )
        .order_by("id")
    )


def number_lookup(raw: str, *, default_region: str) -> dict:
    """GET /v3/numbers/lookup: what we know of a number, without creating a contact.

    Never an error for a bad number: `is_valid` is false and `validation_error` says why
    (as Twilio's Lookup does). Carrier-network facts we don't have (ported, MCC/MNC) are None.
    """
    facts = {
        "phone_number": raw, "country_code": "", "is_valid": False, "line_type": "unknown",
        "carrier_name": "", "is_ported": None, "is_voip": False, "mobile_country_code": None,
        "mobile_network_code": None, "region_code": "", "format_e164": "",
        "format_international": "", "format_national": "", "format_rfc": "", "time_zones": [],
        "available_channels": "", "validation_error": None,
    }  # fmt: skip
    try:
        parsed = parse_phone(raw, default_region=default_region)
    except InvalidPhoneNumber as exc:
        facts["validation_error"] = exc.message
        try:
            parsed = parse_phone(raw, default_region=default_region, strict=False)
        except InvalidPhoneNumber:
            return facts
    sms, whatsapp = (False, False)
    if parsed.is_valid:
        sms, whatsapp = detect_channels(parsed.e164, parsed.line_type)
    channels = [name for name, ok in (("sms", sms), ("whatsapp", whatsapp)) if ok]
    return facts | {
        "phone_number": parsed.e164, "country_code": parsed.country_code,
        "is_valid": parsed.is_valid, "line_type": parsed.line_type,
        "carrier_name": parsed.carrier, "is_voip": parsed.line_type == "voip",
        "region_code": parsed.region_code, "format_e164": parsed.e164,
        "format_international": parsed.international, "format_national": parsed.national,
        "format_rfc": parsed.rfc3966, "time_zones": parsed.time_zones,
        "available_channels": ",".join(channels),
    }  # fmt: skip


def contact_imports_for(customer: Customer) -> QuerySet[ContactImport]:
    return ContactImport.objects.filter(customer=customer).defer("payload").order_by("-created_at")


def contact_import_get(customer: Customer, *, import_id) -> ContactImport:
    try:
        import_id = uuid.UUID(str(import_id))
    except ValueError:
        raise ImportNotFound() from None
    contact_import = contact_imports_for(customer).filter(pk=import_id).first()
    if contact_import is None:
        raise ImportNotFound()
    return contact_import


def contact_import_rows(contact_import: ContactImport, *, status: str = "") -> QuerySet:
    rows = ContactImportRow.objects.filter(contact_import=contact_import)
    if status:
        if status not in ContactImportRow.Status.values:
            raise InvalidChoice(
                details={
                    "status": [f"Must be one of: {', '.join(ContactImportRow.Status.values)}."]
                },
            )
        rows = rows.filter(status=status)
    return rows.order_by("row_number")
