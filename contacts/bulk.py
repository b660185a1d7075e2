"""Building and inserting contacts in bulk: shared by the services (sends, single creates)
and the import. Never a query per number: one SELECT for what exists, one INSERT (or COPY)
for what doesn't.
"""

import json
import math
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db import connection

from billing.models import Customer
from contacts.channels import (
    WhatsAppDirectory,
    can_take_messages,
    detect_channels,
    detected_default_channel,
    reset_default_channel,
    whatsapp_check_is_stale,
)
from contacts.models import ConsentEvent, Contact
from contacts.phone import Normalised
from sent_project.db import copy_in, rows_insert, text_array
from sent_project.errors import ValidationFailed, ValueOutOfRange
from sent_project.ids import uuid7
from sent_project.request_context import current_request_id


def _json_encoder():
    """Compact JSON (no spaces, non-ASCII kept) for every row with one encoder: json.dumps and
    JSONEncoder.encode build a new C encoder per call, which costs more than the encoding of
    a small metadata object. Metadata comes from JSON, so it has no cycles to look for."""
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    if json.encoder.c_make_encoder is None:  # a Python without the C accelerator
        return encoder.encode
    encode = json.encoder.c_make_encoder(
        None, encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    return lambda value: "".join(encode(value, 0))


_compact_json = _json_encoder()
# How much of the metadata goes into `search_text` (characters).
SEARCH_TEXT_METADATA_CHARS = 2000


def storable(text: str) -> bool:
    """False for text PostgreSQL can't hold: NUL, or unpaired surrogates (which a JSON
    "\\ud800" escape gives and UTF-8 can't encode)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def json_problem(value, max_depth: int) -> str | None:
    """ "unstorable" if a key or string can't be stored or a number isn't finite (JSON has no
    infinity, but 1e400 parses as one), "too_deep" if objects and arrays nest deeper than
    `max_depth` (the value itself is level 1), else None. Iterative: any depth is safe."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not storable(item):
                return "unstorable"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "unstorable"
        elif isinstance(item, dict | list):
            if depth > max_depth:
                return "too_deep"
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


METADATA_UNSTORABLE = (
    "Metadata can't contain NUL characters, unpaired surrogates or numbers too large for "
    "JSON (such as 1e400)."
)


def metadata_error(metadata) -> ValidationFailed | None:
    """Why this metadata can't be stored, as the API answers it, or None.
    (A JSON object of storable text and finite numbers, CONTACTS_METADATA_MAX_BYTES at most,
    nested CONTACTS_METADATA_MAX_DEPTH levels at most: docs/api/contacts.md#metadata.)"""
    if not isinstance(metadata, dict):
        return _metadata_failure("Metadata must be a JSON object.")
    limit = settings.CONTACTS_METADATA_MAX_BYTES
    # Flat text (CSV imports): at most 6 bytes per character once JSON-encoded, plus 6 per
    # pair for quotes, colon and comma — decided without encoding when far under the limit.
    budget = (limit - 2) // 6
    for key, value in metadata.items():
        if type(key) is not str or type(value) is not str:
            break
        if not (storable(key) and storable(value)):
            return _metadata_failure(METADATA_UNSTORABLE)
        budget -= len(key) + len(value) + 1
    else:
        if budget >= 0:
            return None
    max_depth = settings.CONTACTS_METADATA_MAX_DEPTH
    problem = json_problem(metadata, max_depth)
    if problem == "unstorable":
        return _metadata_failure(METADATA_UNSTORABLE)
    if problem == "too_deep":
        message = f"Metadata may nest objects and arrays at most {max_depth} levels deep."
        return _metadata_failure(message, ValueOutOfRange)
    size = len(_compact_json(metadata).encode())
    if size > limit:
        message = f"Metadata is {size:,} bytes of JSON; at most {limit:,} are allowed."
        return _metadata_failure(message, ValueOutOfRange)
    return None


def _metadata_failure(
    message: str, error: type[ValidationFailed] = ValidationFailed
) -> ValidationFailed:
    return error(message, details={"metadata": [message]})


def _scalar_values(value) -> Iterable[str]:
    """The scalars of a JSON value, in document order, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(item.values()))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif item is not None and not isinstance(item, bool):
            yield str(item)


# The longest contact name (Contact.name).
NAME_MAX_CHARS = 200


def name_error(name) -> ValidationFailed | None:
    """Why this can't be a contact's name, as the API answers it, or None: text of at most
    NAME_MAX_CHARS characters (after trimming) that can be stored."""
    if not isinstance(name, str):
        message = "name must be a string."
    elif len(name.strip()) > NAME_MAX_CHARS:
        message = f"name may be at most {NAME_MAX_CHARS} characters long."
    elif not storable(name):
        message = "name can't contain NUL characters or unpaired surrogates."
    else:
        return None
    return ValidationFailed(message, details={"name": [message]})


def search_text_for(e164: str, metadata: dict | None, name: str = "") -> str:
    """What `search` matches: the E.164 digits, the name, then metadata values, lower-cased."""
    text = e164[1:]
    if name:
        text = f"{text} {name.lower()}"
    if metadata:
        flat = metadata.values()
        if all(type(value) is str for value in flat):  # CSV columns: no nesting to walk
            values = " ".join(flat).lower()
        else:
            values = " ".join(_scalar_values(metadata)).lower()
        text = f"{text} {values[:SEARCH_TEXT_METADATA_CHARS]}".rstrip()
    return text


# Column order of `contact_values` (and of the COPY into contacts_contact).
CONTACT_COPY_COLUMNS = (
    "id", "customer_id", "phone_number", "format_e164", "country_code", "region_code",
    "line_type", "sms_available", "sms_checked_at", "whatsapp_available", "whatsapp_checked_at",
    "default_channel", "default_channel_is_custom", "opt_out", "metadata", "search_text",
    "delivery_stats", "source", "created_at", "updated_at", "name",
)  # fmt: skip


def contact_values(
    customer_id,
    number: Normalised,
    *,
    raw: str,
    source: str,
    now: datetime,
    provider: WhatsAppDirectory | None = None,
    metadata: dict | None = None,
    opt_out: bool = False,
    whatsapp: bool | None = None,
    name: str = "",
) -> tuple:
    """A new contact's column values (CONTACT_COPY_COLUMNS order), channels detected.

    `whatsapp`: the provider's answer when the caller already has it (imports look numbers
    up in their worker processes); otherwise `provider` is asked."""
    if whatsapp is None:
        sms, whatsapp = detect_channels(number.e164, number.line_type, provider=provider)
    else:
        sms = can_take_messages(number.line_type)
    return (
        uuid7(), customer_id, raw.strip()[:64].replace("\x00", ""), number.e164,
        number.country_code, number.region_code, number.line_type, sms, now, whatsapp, now,
        detected_default_channel(sms=sms, whatsapp=whatsapp), False, opt_out, metadata or {},
        search_text_for(number.e164, metadata, name), {}, source, now, now, name,
    )  # fmt: skip


def build_contact(customer: Customer | uuid.UUID, number: Normalised, **options) -> Contact:
    """An unsaved contact with channels detected (options as for `contact_values`)."""
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    values = contact_values(customer_id, number, **options)
    return Contact(**dict(zip(CONTACT_COPY_COLUMNS, values, strict=True)))


def _by_numbers_sql(columns: str) -> str:
    """PostgreSQL: the customer's live contacts among the numbers of an array parameter, one
    index probe per number whatever the planner believes of the account. Its statistics
    lag behind a growing tenant (a customer created or grown since the last ANALYZE looks
    like a handful of rows), and for `format_e164 = ANY(…)` it would then read all of the
    customer's contacts and filter them: 450 ms instead of 45 ms for 10,000 numbers against
    300,000 contacts, and 280 ms for a two-recipient send. OFFSET 0 keeps the subquery per
    number (it can't be flattened into that plan)."""
    return (
        f"SELECT {columns} FROM unnest(%s::text[]) AS wanted(e164) CROSS JOIN LATERAL ("
        f"SELECT * FROM {Contact._meta.db_table} WHERE customer_id = %s "
        "AND deleted_at IS NULL AND format_e164 = wanted.e164 OFFSET 0) contact"
    )


def existing_by_e164(customer_id, e164s: list[str]) -> dict[str, Contact]:
    """Live contacts of the customer among these numbers (one query)."""
    if not e164s:
        return {}
    if connection.vendor == "postgresql" and len(e164s) > 1:
        rows = Contact.objects.raw(_by_numbers_sql("contact.*"), [text_array(e164s), customer_id])
    else:  # one number is a plain index lookup for every planner
        rows = Contact.objects.filter(customer_id=customer_id, format_e164__in=e164s)
    return {contact.format_e164: contact for contact in rows}


def contact_ids_by_e164(customer_id, e164s: list[str]) -> dict:
    """e164 → id of the customer's live contacts among these numbers (one query): what a
    bulk insert needs to know, without loading the contacts."""
    if not e164s:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _by_numbers_sql("contact.format_e164, contact.id"),
                [text_array(e164s), str(customer_id)],
            )
            return dict(cursor.fetchall())
    contacts = Contact.objects.filter(customer_id=customer_id, format_e164__in=e164s)
    return dict(contacts.values_list("format_e164", "id"))


def refresh_stale_whatsapp(
    contacts: Iterable[Contact], *, now: datetime, provider: WhatsAppDirectory
) -> list[Contact]:
    """Look WhatsApp up again where the last check is too old; one UPDATE for all of them."""
    stale = [c for c in contacts if whatsapp_check_is_stale(c, now=now)]
    for contact in stale:
        contact.whatsapp_available = provider.lookup(contact.format_e164)
        contact.whatsapp_checked_at = now
        contact.updated_at = now
        reset_default_channel(contact)
    if stale:
        Contact.objects.bulk_update(
            stale,
            [
                "whatsapp_available",
                "whatsapp_checked_at",
                "default_channel",
                "default_channel_is_custom",
                "updated_at",
            ],
        )
    return stale


def insert_contacts(
    customer_id, contacts: list[Contact], *, conflicts_expected: bool = False
) -> dict[str, Contact]:
    """Insert new contacts, skipping numbers that someone else created meanwhile.

    Returns e164 → the live contact for every number given: ours where the insert won, the
    other one where it lost (compare ids to tell). Must run inside transaction.atomic.
    `conflicts_expected` (a COPY of these rows already met one): straight to the INSERT that
    skips them, not another COPY that would fail the same way first.
    """
    if not contacts:
        return {}
    if conflicts_expected:
        Contact.objects.bulk_create(contacts, ignore_conflicts=True, batch_size=1000)
    else:
        rows_insert(Contact, contacts, ignore_conflicts=True, batch_size=1000)
    return existing_by_e164(customer_id, [c.format_e164 for c in contacts])


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def copy_str(value: str) -> str:
    """A string as COPY's text format has it (backslash, tab and newlines escaped)."""
    return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


@lru_cache(maxsize=16)
def _copy_datetime(value: datetime) -> str:
    return value.isoformat()


def _copy_json(value) -> str:
    if not value:
        return "{}" if isinstance(value, dict) else copy_str(json.dumps(value))
    return copy_str(_compact_json(value))


# COPY's text format per Python type (rows of one import share `now`: rendered once).
_COPY_RENDER = {
    str: copy_str,
    bool: lambda value: "t" if value else "f",
    type(None): lambda value: "\\N",
    int: str,
    uuid.UUID: str,
    datetime: _copy_datetime,
    dict: _copy_json,
    list: _copy_json,
}


def _copy_other(value) -> str:
    """Subclasses (TextChoices members, aware datetimes of other classes…)."""
    for kind, render in _COPY_RENDER.items():
        if isinstance(value, kind):
            return render(kind(value) if kind in (str, int) else value)
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def copy_line(values: Iterable) -> str:
    """One row in COPY's text format."""
    return "\t".join([_COPY_RENDER.get(type(value), _copy_other)(value) for value in values])


_COPY_BOOL = {True: "t", False: "f"}


def contact_copy_line(values: tuple) -> str:
    """A `contact_values` tuple as a COPY line: one f-string, no per-column calls (an import
    renders 100,000 of these). Ids, codes, line types, channels and sources are safe as they
    are; what a user wrote is escaped."""
    (
        id_, customer_id, raw, e164, country_code, region_code, line_type, sms, sms_checked_at,
        whatsapp, whatsapp_checked_at, default_channel, default_is_custom, opt_out, metadata,
        search_text, delivery_stats, source, created_at, updated_at, name,
    ) = values  # fmt: skip
    b = _COPY_BOOL
    return (
        f"{id_}\t{customer_id}\t{copy_str(raw)}\t{e164}\t{country_code}\t{region_code}\t"
        f"{line_type}\t{b[sms]}\t{_copy_datetime(sms_checked_at)}\t{b[whatsapp]}\t"
        f"{_copy_datetime(whatsapp_checked_at)}\t{default_channel}\t{b[default_is_custom]}\t"
        f"{b[opt_out]}\t{_copy_json(metadata)}\t{copy_str(search_text)}\t"
        f"{_copy_json(delivery_stats)}\t{source}\t{_copy_datetime(created_at)}\t"
        f"{_copy_datetime(updated_at)}\t{copy_str(name)}"
    )


def copy_rows(
    table: str, columns: tuple[str, ...], rows: Iterable[tuple], render_line=copy_line
) -> None:
    """PostgreSQL COPY … FROM STDIN in text format: the fastest way in for many rows.

    `render_line` turns a row into its line: `copy_line` looks at each value's type, a
    table's own renderer (`contact_copy_line`) knows its columns."""

    def write_lines(copy):
        buffer: list[str] = []
        for row in rows:
            buffer.append(render_line(row))
            if len(buffer) >= 5000:
                copy.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            copy.write("\n".join(buffer) + "\n")

    copy_in(connection, table, columns, write_lines)


def copy_contacts(rows: Iterable[tuple]) -> None:
    """COPY new contacts (`contact_values` tuples) in (PostgreSQL). A number created
    meanwhile raises IntegrityError."""
    copy_rows(Contact._meta.db_table, CONTACT_COPY_COLUMNS, rows, contact_copy_line)


def consent_events_create(
    customer_id, contact_ids: Iterable, *, opt_out: bool, source: str, note: str = ""
) -> int:
    """Append one consent event per contact (one INSERT)."""
    request_id = current_request_id()
    events = [
        ConsentEvent(
            customer_id=customer_id,
            contact_id=contact_id,
            opt_out=opt_out,
            source=source,
            note=note[:300],
            request_id=request_id,
        )
        for contact_id in contact_ids
    ]
    ConsentEvent.objects.bulk_create(events, batch_size=1000)
    return len(events)
