"""`sent_project.db.rows_insert`: new rows by COPY on PostgreSQL store exactly what
`bulk_create` stores (SQLite and short lists take bulk_create itself), every instance keeps
its primary key, and a send of 1,000 recipients stores the same messages, activities, events
and charges whichever way its rows go in."""

import uuid
import warnings
import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import LedgerEntry
from contacts.bulk import build_contact, insert_contacts
from contacts.channels import whatsapp_directory
from contacts.models import Contact
from contacts.phone import normalise
from contacts.services import contacts_get_or_create_for_numbers
from messaging.models import ActivityKind, Message, MessageActivity
from messaging.statuses import MessageStatus
from sent_project import db
from sent_project.db import (
    COPY_MIN_ROWS,
    COPY_MIN_ROWS_SEQUENCE_IDS,
    _copy_converter,
    rows_insert,
)
from sent_project.models import Event
from tests.messaging.factories import make_approved_template, number, send, send_body

TRICKY_TEXT = 'tab\there, new\nline, cr\r, back\\slash, \\N, "quotes", emoji 📦, ünïcødé'


def _field_values(row, *, skip=("id",)) -> dict:
    return {
        field.attname: getattr(row, field.attname)
        for field in type(row)._meta.concrete_fields
        if field.attname not in skip
    }


def _messages_like(base: Message, count: int) -> list[Message]:
    """`count` new messages with the base's values and awkward ones of every type."""
    values = _field_values(base)
    lisbon = zoneinfo.ZoneInfo("Europe/Lisbon")
    messages = []
    for index in range(count):
        message = Message(**values)
        message.body = f"{TRICKY_TEXT} {index}"
        message.reason = "" if index % 2 else "x" * 300
        message.parameters = {"name": TRICKY_TEXT, "n": index, "nested": {"list": [1, None, "\t"]}}
        message.alternatives = {}
        message.fallbacks = ["sms", "whatsapp"] if index % 2 else []
        message.status_history = None if index % 3 else [{"status": "QUEUED", "n": index}]
        message.price = Decimal("0.0125") * index
        message.original_price = Decimal("12345678.1234")
        message.scheduled_at = (
            None if index % 2 else datetime(2026, 7, 1, 9, 30, index % 60, 123456, lisbon)
        )
        message.sandbox = bool(index % 2)
        message.attempts = index
        messages.append(message)
    return messages


@pytest.mark.django_db(transaction=True)
def test_copied_messages_are_stored_as_bulk_create_stores_them(account):
    make_approved_template(account)
    base = send(account, [number(10)])[0]
    copied = _messages_like(base, COPY_MIN_ROWS + 5)
    inserted = _messages_like(base, COPY_MIN_ROWS + 5)
    with transaction.atomic():
        assert rows_insert(Message, copied) is copied
    Message.objects.bulk_create(inserted)
    assert all(not message._state.adding for message in copied)
    stored = Message.objects.in_bulk([m.pk for m in copied + inserted])
    assert len(stored) == 2 * len(copied)
    for ours, theirs in zip(copied, inserted, strict=True):
        assert _field_values(stored[ours.pk]) == _field_values(stored[theirs.pk])
        assert _field_values(stored[ours.pk]) == _field_values(ours)


def test_activities_get_their_ids_in_order(account):
    make_approved_template(account)
    message = send(account, [number(10)])[0]
    now = timezone.now()
    activities = [
        MessageActivity(
            message=message,
            kind=ActivityKind.STATUS,
            status="QUEUED",
            description=f"{TRICKY_TEXT} {index}",
            price=Decimal("0.0100"),
            data={"index": index},
            created_at=now + timedelta(microseconds=index),
        )
        for index in range(COPY_MIN_ROWS_SEQUENCE_IDS * 2)
    ]
    rows_insert(MessageActivity, activities)
    ids = [activity.pk for activity in activities]
    assert None not in ids and ids == sorted(ids) and len(set(ids)) == len(ids)
    stored = MessageActivity.objects.in_bulk(ids)
    for activity in activities:
        assert _field_values(stored[activity.pk], skip=()) == _field_values(activity, skip=())


def test_events_get_their_creation_time(account):
    before = timezone.now()
    events = [
        Event(customer=account, field="message", event="message.queued", payload={"n": index})
        for index in range(COPY_MIN_ROWS)
    ]
    rows_insert(Event, events)
    stored = Event.objects.in_bulk([event.pk for event in events])
    for event in events:
        assert event.created_at >= before
        assert stored[event.pk].created_at == event.created_at
        assert stored[event.pk].payload == event.payload


def test_a_duplicate_row_is_refused_and_nothing_is_written(account):
    make_approved_template(account)
    base = send(account, [number(10)])[0]
    messages = _messages_like(base, COPY_MIN_ROWS)
    messages[-1].pk = messages[0].pk
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(Message, messages)
    assert Message.objects.count() == 1


def _comparable_history(history) -> list:
    return [{k: v for k, v in step.items() if k != "timestamp"} for step in history or []]


def _send_1000(api_client) -> list[Message]:
    to = [number(i % 100, series=i // 100) for i in range(1000)]
    response = api_client.post("/v3/messages", send_body(to), format="json")
    assert response.status_code == 202
    batch = response.json()["data"]["batch_id"]
    return list(Message.objects.filter(batch_id=batch).order_by("phone"))


@pytest.mark.django_db(transaction=True)
def test_a_1000_recipient_send_stores_the_same_whichever_way_rows_go_in(
    api_client, account, monkeypatch
):
    make_approved_template(account)
    balance = account.balance
    copied = _send_1000(api_client)
    monkeypatch.setattr(db, "COPY_MIN_ROWS", 10**9)  # every insert as bulk_create
    monkeypatch.setattr(db, "COPY_MIN_ROWS_SEQUENCE_IDS", 10**9)
    inserted = _send_1000(api_client)
    assert len(copied) == len(inserted) == 1000
    moments = {"id", "batch_id", "created_at", "updated_at", "next_attempt_at", "status_history"}
    for ours, theirs in zip(copied, inserted, strict=True):
        assert _field_values(ours, skip=moments) == _field_values(theirs, skip=moments)
        assert ours.status_history
        assert _comparable_history(ours.status_history) == _comparable_history(
            theirs.status_history
        )
    for messages in (copied, inserted):
        ids = [m.pk for m in messages]
        steps = MessageActivity.objects.filter(message_id__in=ids, kind=ActivityKind.STATUS)
        assert steps.count() == sum(len(m.status_history) for m in messages)
        events = Event.objects.filter(subject_id__in=ids)
        assert sorted(events.values_list("event", "sequence")) == sorted(
            (f"message.{m.status.lower()}", 1) for m in messages
        )
        assert all(event.payload["message"]["statusHistory"] for event in events)
    for messages in (copied, inserted):
        charges = LedgerEntry.objects.filter(customer=account, kind="charge")
        charged = charges.filter(message_id__in=[m.pk for m in messages]).order_by("id")
        assert sorted(-entry.amount for entry in charged) == sorted(
            m.original_price for m in messages if m.original_price > 0
        )
    price = sum(m.original_price for m in copied)
    last = LedgerEntry.objects.filter(customer=account).latest("id")
    account.refresh_from_db()
    assert price > 0 and account.balance == balance - 2 * price == last.ending_balance


def test_new_contacts_created_meanwhile_are_skipped_and_the_others_inserted(account):
    numbers = [f"+1201555{i:04d}" for i in range(COPY_MIN_ROWS + 10)]
    earlier, _ = contacts_get_or_create_for_numbers(account, numbers=numbers[:10])
    now, provider = timezone.now(), whatsapp_directory()
    new = [  # built before the others were created: the race the lookup can't see
        build_contact(account, normalise(raw, "US"), raw=raw, source="message", now=now,
                      provider=provider)
        for raw in numbers
    ]  # fmt: skip
    with transaction.atomic():
        stored = insert_contacts(account.pk, new)
    assert set(stored) == set(numbers)
    for raw in numbers[:10]:
        assert stored[raw].pk == earlier[raw].pk
    for contact in new[10:]:
        assert stored[contact.format_e164].pk == contact.pk
    assert Contact.objects.filter(customer=account).count() == len(numbers)


def _same_database_value(ours, theirs) -> bool:
    if isinstance(theirs, Jsonb):
        return type(ours) is Jsonb and ours.obj is theirs.obj and ours.dumps is theirs.dumps
    return type(ours) is type(theirs) or (type(ours) is int and isinstance(theirs, int))


AWKWARD_VALUES = [
    None, "", "text", MessageStatus.QUEUED, 0, 7, True, False, uuid.UUID(int=5),
    Decimal("1.2300"), Decimal("NaN"), {}, {"a": [1]}, [], ["sms"], 1.5,
    datetime(2026, 7, 1, 9, 30), datetime(2026, 7, 1, 9, 30, tzinfo=zoneinfo.ZoneInfo("UTC")),
    timezone.now(), "2026-07-01T09:30:00Z",
]  # fmt: skip


@pytest.mark.parametrize("model", [Message, MessageActivity, Event, Contact, LedgerEntry])
def test_the_short_ways_give_what_get_db_prep_save_gives(model):
    """For every field of the models the send path copies and values of every type they
    may meet: the value COPY is given is the one get_db_prep_save gives (or both refuse)."""
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's: elsewhere rows_insert is bulk_create")
    for field in model._meta.concrete_fields:
        convert = _copy_converter(field, connection)
        for value in AWKWARD_VALUES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # naive datetimes
                try:
                    theirs = field.get_db_prep_save(value, connection)
                except Exception as refused:
                    with pytest.raises(type(refused)):
                        convert(value)
                    continue
                ours = convert(value)
            assert _same_database_value(ours, theirs), (field, value)
            if not isinstance(theirs, Jsonb):
                assert ours == theirs, (field, value)


def test_statement_counters_see_the_copy_as_one_statement(account):
    """The connection's execute wrappers (the benches' statement counters) and
    CaptureQueriesContext see a COPY as they see the INSERT it replaces."""
    seen = []

    def count(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    events = [
        Event(customer=account, field="message", event="message.sent", payload={"n": index})
        for index in range(COPY_MIN_ROWS)
    ]
    with connection.execute_wrapper(count), CaptureQueriesContext(connection) as logged:
        rows_insert(Event, events)
    statement = "COPY" if connection.vendor == "postgresql" else "INSERT"
    assert len(seen) == 1 and seen[0].startswith(statement)
    assert [query["sql"][: len(statement)] for query in logged] == [statement]
    assert Event.objects.filter(pk__in=[event.pk for event in events]).count() == len(events)


def test_new_contacts_by_copy_are_stored_as_built(account):
    # On PostgreSQL these go in by COPY (no conflict): every field as built, awkward text and
    # JSON included; `bulk_create`'s rows, built the same way, come back the same way.
    now, provider = timezone.now(), whatsapp_directory()

    def built(prefix: str) -> list[Contact]:
        contacts = [
            build_contact(account, normalise(raw, "US"), raw=raw, source="import", now=now,
                          provider=provider)
            for raw in (f"{prefix}{i:04d}" for i in range(COPY_MIN_ROWS + 5))
        ]  # fmt: skip
        for contact in contacts:
            contact.name = TRICKY_TEXT
            contact.metadata = {"note": TRICKY_TEXT, "tiers": [1, 2.5, None, True]}
        return contacts

    copied, inserted = built("+1201555"), built("+1201556")
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        insert_contacts(account.pk, copied)
    Contact.objects.bulk_create(inserted)
    if connection.vendor == "postgresql":
        assert any(q["sql"].startswith("COPY") for q in queries.captured_queries)
    stored = Contact.objects.in_bulk([c.pk for c in copied + inserted])
    for contact in copied + inserted:
        assert _field_values(stored[contact.pk]) == _field_values(contact)
