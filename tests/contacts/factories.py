"""Builders for contacts tests (plain functions, RapidPro style)."""

from datetime import timedelta

from django.utils import timezone

from billing.models import Customer
from contacts.imports import import_payload_from_json
from contacts.models import Contact, ContactImport
from contacts.services import (
    contact_create,
    contact_import_create,
    contacts_get_or_create_for_numbers,
)


def make_contact(customer: Customer, phone_number: str = "+12345678900", **overrides) -> Contact:
    """A contact made by the real service; `overrides` are then written to the row directly."""
    contact, _ = contact_create(
        customer, phone_number=phone_number, metadata=overrides.pop("metadata", None)
    )
    if overrides:
        Contact.all_objects.filter(pk=contact.pk).update(**overrides)
        contact.refresh_from_db()
    return contact


def make_contacts(customer: Customer, count: int, *, start: int = 2015550000) -> list[Contact]:
    """`count` US contacts (+1 201 555 0000, …) created in one bulk call (same created_at)."""
    numbers = [f"+1{start + i}" for i in range(count)]
    contacts, invalid = contacts_get_or_create_for_numbers(customer, numbers=numbers, source="api")
    assert not invalid, invalid
    return [contacts[n] for n in numbers]


def age_whatsapp_check(contact: Contact, *, days: int) -> None:
    Contact.all_objects.filter(pk=contact.pk).update(
        whatsapp_checked_at=timezone.now() - timedelta(days=days)
    )


def make_import(customer: Customer, rows: list[dict] | None = None) -> ContactImport:
    """A queued JSON import (its task is enqueued on commit)."""
    rows = rows or [{"phone_number": "+12015550001"}]
    payload, total = import_payload_from_json(rows)
    return contact_import_create(
        customer, source_format=ContactImport.Format.JSON, payload=payload, total_rows=total
    )
