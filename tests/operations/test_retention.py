"""Retention (docs/operations.md#retention): the prune deletes what the settings no longer
keep, in bounded batches, and never a message or a ledger entry."""

import re
from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import LedgerEntry
from contacts.models import ContactImport, ContactImportRow
from messaging.models import (
    DeliveryStatus,
    Message,
    PeriodicJob,
    ProviderCallback,
    SimulatorSend,
    WebhookAttempt,
    WebhookDelivery,
)
from messaging.periodic import PRUNE_JOB
from messaging.tasks import periodic_jobs_ensure
from sent_project.models import Event, IdempotencyRecord
from tests.contacts.factories import make_import
from tests.dashboard.factories import make_delivery, make_webhook
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import queued_tasks, run_queued_tasks

pytestmark = pytest.mark.django_db(transaction=True)

OLD = timedelta(days=400)


def age(queryset, field: str = "created_at", by: timedelta = OLD) -> None:
    queryset.update(**{field: timezone.now() - by})


@pytest.fixture
def history(account, api_client, settings, instant_lifecycle):
    """An account with a year of history: delivered messages with their simulator records,
    webhook deliveries, a finished import, idempotency records, provider callbacks, task
    results — everything aged 400 days — and one fresh row of each kind."""
    make_approved_template(account)
    old_messages = send(account, [number(10, series=1), number(10, series=2)])
    run_queued_tasks(include_future=True)
    endpoint, _ = make_webhook(account, event_types=["templates"])
    old_delivery = make_delivery(endpoint, status=DeliveryStatus.DELIVERED, code=200)
    retrying = make_delivery(endpoint, status=DeliveryStatus.RETRYING, code=500)
    imported = make_import(account, [{"phone_number": number(11, series=3)}])
    run_queued_tasks()
    for key in ("old-key", "new-key"):
        response = api_client.post(
            "/v3/contacts",
            {"phone_number": number(12, series=4 if key == "old-key" else 5)},
            HTTP_IDEMPOTENCY_KEY=key,
        )
        assert response.status_code in (200, 201), response.content
    ProviderCallback.objects.create(provider="twilio", kind="status", outcome="applied", url="/x")
    # Age it all.
    age(Message.objects.all())
    age(SimulatorSend.objects.all())
    age(WebhookDelivery.objects.all())
    age(Event.objects.all())
    age(Event.objects.all(), "fanned_out_at")
    age(ContactImport.objects.all(), "finished_at")
    age(IdempotencyRecord.objects.filter(key="old-key"))
    age(ProviderCallback.objects.all(), "received_at")
    age(DBTaskResult.objects.finished(), "finished_at")
    # And something recent of each kind.
    fresh_messages = send(account, number(10, series=6))
    run_queued_tasks(include_future=True)
    fresh_delivery = make_delivery(endpoint, status=DeliveryStatus.DELIVERED, code=200)
    return {
        "old_messages": old_messages,
        "fresh_messages": fresh_messages,
        "old_delivery": old_delivery,
        "retrying": retrying,
        "fresh_delivery": fresh_delivery,
        "import": imported,
    }


def test_prune_deletes_what_retention_no_longer_keeps_and_keeps_the_rest(history):
    ledger_before = LedgerEntry.objects.count()
    messages_before = Message.objects.count()
    assert ContactImportRow.objects.filter(contact_import=history["import"]).exists()

    call_command("prune", verbosity=0)

    # Gone: the year-old bookkeeping.
    assert not WebhookDelivery.objects.filter(pk=history["old_delivery"].pk).exists()
    assert not WebhookAttempt.objects.filter(delivery_id=history["old_delivery"].pk).exists()
    assert not Event.objects.filter(pk=history["old_delivery"].event_id).exists()
    assert not IdempotencyRecord.objects.filter(key="old-key").exists()
    assert not ProviderCallback.objects.exists()
    assert not ContactImportRow.objects.filter(contact_import=history["import"]).exists()
    old_ids = [message.pk for message in history["old_messages"]]
    assert not SimulatorSend.objects.filter(message_id__in=old_ids).exists()
    assert (
        not DBTaskResult.objects.finished()
        .filter(finished_at__lt=timezone.now() - timedelta(days=300))
        .exists()
    )
    # Kept: recent rows, unfinished deliveries (and their events), the import's summary,
    # every message (with its text: redaction is off by default) and the whole ledger.
    assert WebhookDelivery.objects.filter(pk=history["retrying"].pk).exists()
    assert Event.objects.filter(pk=history["retrying"].event_id).exists()
    assert WebhookDelivery.objects.filter(pk=history["fresh_delivery"].pk).exists()
    assert IdempotencyRecord.objects.filter(key="new-key").exists()
    assert ContactImport.objects.filter(pk=history["import"].pk).exists()
    fresh = history["fresh_messages"][0].pk
    assert SimulatorSend.objects.filter(message_id=fresh).exists()
    assert Message.objects.count() == messages_before
    assert LedgerEntry.objects.count() == ledger_before
    assert Message.objects.get(pk=old_ids[0]).body != ""


def test_each_delete_takes_at_most_one_batch(history, settings):
    settings.RETENTION_BATCH_SIZE = 1
    with CaptureQueriesContext(connection) as queries:
        call_command("prune", "--only", "task_results", verbosity=0)
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) >= 3  # several old task results, one per statement
    for sql in deletes:
        in_list = re.search(r"IN \(([^)]*)\)", sql)
        assert in_list and in_list.group(1).count(",") == 0, sql


def test_message_bodies_are_redacted_only_when_asked(history, settings):
    old_ids = [message.pk for message in history["old_messages"]]
    settings.RETENTION_MESSAGE_BODY_DAYS = 90
    call_command("prune", "--only", "message_bodies", verbosity=0)
    old = Message.objects.get(pk=old_ids[0])
    assert (old.body, old.text, old.parameters) == ("", "", {})
    assert old.status in ("DELIVERED", "READ") and old.price > 0
    assert Message.objects.get(pk=history["fresh_messages"][0].pk).body != ""


def test_the_periodic_prune_books_its_next_run_on_the_bulk_lane(history):
    periodic_jobs_ensure()
    [job] = queued_tasks("messaging.tasks.retention_prune")
    assert job.queue_name == "bulk"
    run_queued_tasks()
    assert not ProviderCallback.objects.exists()
    pruned = PeriodicJob.objects.get(name=PRUNE_JOB)
    assert pruned.last_run_at is not None and pruned.last_outcome["provider_callbacks"] == 1
    # The next run is booked, an hour ahead.
    [later] = queued_tasks("messaging.tasks.retention_prune")
    assert later.run_after > timezone.now() + timedelta(minutes=50)


def test_an_unknown_pruner_is_refused():
    with pytest.raises(Exception, match="Unknown pruner"):
        call_command("prune", "--only", "ledger", verbosity=0)
