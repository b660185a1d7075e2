"""Building and inserting contacts in bulk: shared by the services (sends, single creates)
and the import. Never a query per number: one SELECT for what exists, one INSERT (or COPY)
for what doesn't.
"""

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection

from billing.models import Customer
from contacts.channels import apply_detection, reset_default_channel, whatsapp_check_is_stale
from contacts.models import ConsentEvent, Contact
from contacts.phone import Normalised
from messaging.providers import WhatsAppProvider
from sent_project.api.middleware import current_request_id

# How much of the metadata goes into `search_text` (characters).
SEARCH_TEXT_METADATA_CHARS = 2000


def metadata_problem(metadata) -> str | None:
    """Why this metadata can't be stored, or None. (JSON object, CONTACTS_METADATA_MAX_BYTES.)"""
    if not isinstance(metadata, dict):
        return "Metadata must be a JSON object."
    size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode())
    limit = settings.CONTACTS_METADATA_MAX_BYTES
    if size > limit:
        return f"Metadata is {size:,} bytes of JSON; at most {limit:,} are allowed."
    return None


def _scalar_values(value) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalar_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalar_values(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def search_text_for(e164: str, metadata: dict | None) -> str:
    """What `search` matches: the E.164 digits, then metadata values, lower-cased."""
    text = e164[1:]
    if metadata:
        values = " ".join(_scalar_values(metadata)).lower()
        text = f"{text} {values[:SEARCH_TEXT_METADATA_CHARS]}".rstrip()
    return text


def build_contact(
    customer: Customer | uuid.UUID,
    number: Normalised,
    *,
    raw: str,
    source: str,
    now: datetime,
    provider: WhatsAppProvider,
    metadata: dict | None = None,
    opt_out: bool = False,
) -> Contact:
    """An unsaved contact with channels detected."""
    contact = Contact(
        id=uuid.uuid4(),
        customer_id=customer.pk if isinstance(customer, Customer) else customer,
        phone_number=raw.strip()[:64],
        format_e164=number.e164,
        country_code=number.country_code,
        region_code=number.region_code,
        line_type=number.line_type,
        opt_out=opt_out,
        metadata=metadata or {},
        search_text=search_text_for(number.e164, metadata),
        source=source,
        created_at=now,
        updated_at=now,
    )
    apply_detection(contact, now=now, provider=provider)
    return contact


def existing_by_e164(customer_id, e164s: list[str]) -> dict[str, Contact]:
    """Live contacts of the customer among these numbers (one query)."""
    if not e164s:
        return {}
    rows = Contact.objects.filter(customer_id=customer_id, format_e164__in=e164s)
    return {contact.format_e164: contact for contact in rows}


def refresh_stale_whatsapp(
    contacts: Iterable[Contact], *, now: datetime, provider: WhatsAppProvider
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


def insert_contacts(customer_id, contacts: list[Contact]) -> dict[str, Contact]:
    """Insert new contacts, skipping numbers that someone else created meanwhile.

    Returns e164 → the live contact for every number given: ours where the insert won, the
    other one where it lost (compare ids to tell). Must run inside transaction.atomic.
    """
    if not contacts:
        return {}
    Contact.objects.bulk_create(contacts, ignore_conflicts=True, batch_size=1000)
    return existing_by_e164(customer_id, [c.format_e164 for c in contacts])


CONTACT_COPY_COLUMNS = (
    "id",
    "customer_id",
    "phone_number",
    "format_e164",
    "country_code",
    "region_code",
    "line_type",
    "sms_available",
    "sms_checked_at",
    "whatsapp_available",
    "whatsapp_checked_at",
    "default_channel",
    "default_channel_is_custom",
    "opt_out",
    "metadata",
    "search_text",
    "delivery_stats",
    "source",
    "created_at",
    "updated_at",
)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value).translate(_COPY_ESCAPES)


def copy_rows(table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """PostgreSQL COPY … FROM STDIN in text format: the fastest way in for many rows."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    # wrap_database_errors: psycopg's errors become Django's (IntegrityError, …).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(sql) as copy:
            buffer: list[str] = []
            for row in rows:
                buffer.append("\t".join(_copy_text(value) for value in row))
                if len(buffer) >= 5000:
                    copy.write("\n".join(buffer) + "\n")
                    buffer.clear()
            if buffer:
                copy.write("\n".join(buffer) + "\n")


def copy_contacts(contacts: list[Contact]) -> None:
    """COPY new contacts in (PostgreSQL). A number created meanwhile raises IntegrityError."""
    rows = (tuple(getattr(c, name) for name in CONTACT_COPY_COLUMNS) for c in contacts)
    copy_rows(Contact._meta.db_table, CONTACT_COPY_COLUMNS, rows)


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
