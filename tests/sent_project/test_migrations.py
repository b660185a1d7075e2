"""Upgrading a database of the previous release keeps its rows (docs/operations.md#upgrading-an-existing-database).

The outbox's `Event` moved from `messaging` to `sent_project` with its table (`messaging_event`)
left in place: `sent_project 0002` and `messaging 0005` only move the model's state. Here the
test database goes back to the leaves the previous release had, gets rows written with the
models of that time, and comes forward again: every row is still there, and the current models
read them.
"""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# Each project app's last migration before the outbox moved (commit 6d31e8a).
PREVIOUS_LEAVES = {
    "sent_project": "0001_initial",
    "billing": "0004_customer_routing_strategy",
    "contacts": "0003_search_trigram_per_customer",
    "templates_app": "0001_templates",
    "messaging": "0004_messages",
}
# The migrations this upgrade applies.
UPGRADE = [("sent_project", "0002_event_outbox"), ("messaging", "0005_event_moved_to_sent_project")]

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _current_leaves(executor) -> list[tuple[str, str]]:
    return executor.loader.graph.leaf_nodes()


def _previous_leaves(executor) -> list[tuple[str, str]]:
    """The previous release's leaves; Django's and third-party apps stay where they are."""
    return [(app, PREVIOUS_LEAVES.get(app, name)) for app, name in _current_leaves(executor)]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def _seed(old):
    """Rows of the previous release, written with its (historical) models."""
    customer = old.get_model("billing", "Customer").objects.create(
        name="Acme", email="ops@acme.test", balance=Decimal("0")
    )
    endpoint = old.get_model("messaging", "WebhookEndpoint").objects.create(
        customer=customer,
        endpoint_url="https://hooks.acme.test/sent",
        event_types=["message.delivered"],
        signing_secret_encrypted="encrypted-secret",
    )
    contact = old.get_model("contacts", "Contact").objects.create(
        customer=customer,
        phone_number="+14155550100",
        format_e164="+14155550100",
        country_code="1",
        line_type="mobile",
    )
    message = old.get_model("messaging", "Message").objects.create(
        customer=customer,
        contact=contact,
        phone="+14155550100",
        status="DELIVERED",
        text="Your code is 123456",
    )
    old.get_model("messaging", "MessageActivity").objects.create(
        message=message, kind="status", status="DELIVERED", description="Delivered"
    )
    event = old.get_model("messaging", "Event").objects.create(
        customer=customer,
        field="message",
        event="message.delivered",
        subject_id=message.pk,
        sequence=3,
        payload={"message_id": str(message.pk), "status": "DELIVERED", "price": "0.0075"},
        request_id="req-before-upgrade",
        fanned_out_at=NOW,
    )
    delivery = old.get_model("messaging", "WebhookDelivery").objects.create(
        event=event, endpoint=endpoint, status="delivered", attempts=1, http_status_code=200
    )
    old.get_model("messaging", "WebhookAttempt").objects.create(
        delivery=delivery,
        number=1,
        started_at=NOW,
        latency_ms=42,
        http_status_code=200,
        outcome="success",
    )
    old.get_model("sent_project", "IdempotencyRecord").objects.create(
        customer=customer,
        key="order-42",
        fingerprint="f" * 64,
        state="completed",
        request_id="req-before-upgrade",
        response_status=201,
        response_headers={"Content-Type": "application/json"},
        response_body=b'{"ok": true}',
        created_at=NOW,
        locked_at=NOW,
    )
    # The admin's content type of the old model, with a permission given on it.
    ContentType = old.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="sent_project", model="event").delete()
    event_type, _ = ContentType.objects.get_or_create(app_label="messaging", model="event")
    old.get_model("auth", "Permission").objects.get_or_create(
        content_type=event_type, codename="view_event", defaults={"name": "Can view event"}
    )
    return {
        "event_type": event_type.pk,
        "customer": customer.pk,
        "endpoint": endpoint.pk,
        "contact": contact.pk,
        "message": message.pk,
        "event": event.pk,
        "delivery": delivery.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_upgrading_a_database_of_the_previous_release_keeps_every_row():
    executor = MigrationExecutor(connection)
    current = _current_leaves(executor)
    try:
        previous = _previous_leaves(executor)
        executor = _migrate(previous)
        assert not {key for key in UPGRADE if key in executor.loader.applied_migrations}

        ids = _seed(executor.loader.project_state(previous).apps)
        assert uuid.UUID(str(ids["event"])).version == 4  # the previous default

        plan = executor.migration_plan(current)
        # The move is part of the upgrade (with later releases' migrations) ...
        move = [(m, backwards) for m, backwards in plan if (m.app_label, m.name) in UPGRADE]
        assert [(m.app_label, m.name) for m, backwards in move] == UPGRADE
        # ... and not a statement of it runs on this database (no table is copied, rewritten
        # or renamed).
        assert [sql for sql in executor.loader.collect_sql(move) if not sql.startswith("--")] == []
        executor = _migrate(current)
        assert executor.migration_plan(current) == []
    finally:
        _migrate(current)  # leave the database as the rest of the suite expects it

    Event = current_apps.get_model("sent_project", "Event")
    WebhookDelivery = current_apps.get_model("messaging", "WebhookDelivery")
    Message = current_apps.get_model("messaging", "Message")
    IdempotencyRecord = current_apps.get_model("sent_project", "IdempotencyRecord")
    assert Event._meta.db_table == "messaging_event"

    event = Event.objects.get(pk=ids["event"])
    assert event.customer_id == ids["customer"]
    assert event.customer.name == "Acme"
    assert (event.field, event.event, event.sequence) == ("message", "message.delivered", 3)
    assert event.subject_id == ids["message"]
    assert event.payload == {
        "message_id": str(ids["message"]),
        "status": "DELIVERED",
        "price": "0.0075",
    }
    assert event.request_id == "req-before-upgrade"
    assert event.fanned_out_at == NOW

    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=ids["delivery"])
    assert delivery.event == event and isinstance(delivery.event, Event)
    assert delivery.endpoint.pk == ids["endpoint"]
    assert (delivery.status, delivery.attempts, delivery.http_status_code) == ("delivered", 1, 200)
    assert list(delivery.attempt_log.values_list("number", "latency_ms", "outcome")) == [
        (1, 42, "success")
    ]
    assert list(event.deliveries.all()) == [delivery]

    message = Message.objects.get(pk=ids["message"])
    assert (message.customer_id, message.contact_id) == (ids["customer"], ids["contact"])
    assert (message.status, message.text) == ("DELIVERED", "Your code is 123456")
    assert message.activities.count() == 1

    record = IdempotencyRecord.objects.get(customer_id=ids["customer"], key="order-42")
    assert (record.state, record.response_status) == ("completed", 201)
    assert bytes(record.response_body) == b'{"ok": true}'
    assert record.response_headers == {"Content-Type": "application/json"}

    # The content type moved with the model, and the permission with it.
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    assert ContentType.objects.get_for_model(Event).pk == ids["event_type"]
    assert not ContentType.objects.filter(app_label="messaging", model="event").exists()
    assert Permission.objects.get(codename="view_event").content_type_id == ids["event_type"]

    # New rows get time-ordered ids, next to the old ones in the same tables.
    new_event = Event.objects.create(
        customer_id=ids["customer"], field="message", event="message.read", payload={"n": 1}
    )
    new_delivery = WebhookDelivery.objects.create(event=new_event, endpoint_id=ids["endpoint"])
    new_message = Message.objects.create(
        customer_id=ids["customer"], contact_id=ids["contact"], phone="+14155550100"
    )
    assert new_event.pk.version == new_delivery.pk.version == new_message.pk.version == 7
    assert Event.objects.filter(customer_id=ids["customer"]).count() == 2
    assert list(new_event.deliveries.all()) == [new_delivery]
