"""A verified provider callback is recorded and answered at once, then applied by the callbacks
job, many at a time (docs/providers/README.md#callbacks): one job for a burst, each record's
outcome its own, a record that raises failed alone and applied again from the admin, a lost
wake-up found by the reconciler, a pending record kept by retention."""

import json
from datetime import timedelta

import pytest

from django.db import OperationalError
from django.utils import timezone

from messaging.callbacks import records
from messaging.callbacks.readers import CALLBACK_READERS
from messaging.callbacks.records import CALLBACKS_TASK, callbacks_apply_pending
from messaging.models import CallbackOutcome, Message, ProviderCallback
from messaging.reconciler import reconcile
from messaging.retention import prune_provider_callbacks
from messaging.tasks import SCHEDULER
from tests.fakes.whatsapp import FakeGraph
from tests.messaging.factories import make_approved_template, number, send
from tests.messaging.providers.conftest import apply_callbacks
from tests.tasks import queued_tasks, run_queued_tasks

URL = "/providers/whatsapp/webhook"


# The request commits its record and then wakes the callbacks job, as it does when served.
pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = "/admin/messaging/providercallback/"


@pytest.fixture
def meta(settings):
    fake = FakeGraph()  # signs webhooks only: these messages went out through the simulator
    settings.WHATSAPP_APP_SECRET = fake.app_secret
    settings.WHATSAPP_BUSINESS_ACCOUNT_ID = fake.waba_id
    settings.SITE_URL = "https://sent.example.com"
    return fake


def post(client, fake: FakeGraph, payload: dict):
    raw = json.dumps(payload).encode()
    return client.post(
        URL, data=raw, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=fake.sign(raw)
    )


def sent_messages(account, meta, count: int) -> list[tuple[Message, str]]:
    """`count` WhatsApp messages SENT by the simulator, each with the wamid Meta knows it by."""
    make_approved_template(account)
    found = []
    for n in range(count):
        [message] = send(account, number(10 + n))
        wamid = f"wamid.callback-records-{n}"
        Message.objects.filter(pk=message.pk).update(status="SENT", provider_message_id=wamid)
        found.append((message, wamid))
    return found


def inbound_from_nobody(meta) -> dict:
    """A message to the fake's number, which no customer has here."""
    return meta.inbound_payload(meta.inbound_item("+14155550112", "text", {"body": "Hi!"}))


def outcomes() -> list[tuple[str, str]]:
    return list(ProviderCallback.objects.order_by("id").values_list("outcome", "detail"))


def test_a_burst_is_answered_at_once_and_applied_by_one_job(client, account, meta):
    messages = sent_messages(account, meta, 5)

    for _, wamid in messages:
        assert post(client, meta, meta.status_payload(wamid, "delivered")).status_code == 200

    # Answered and recorded; nothing applied yet, and one job waits for all five.
    assert [outcome for outcome, _ in outcomes()] == [CallbackOutcome.PENDING] * 5
    assert set(Message.objects.values_list("status", flat=True)) == {"SENT"}
    assert queued_tasks(CALLBACKS_TASK).count() == 1

    assert apply_callbacks() == 1  # one job applies the five
    assert set(Message.objects.values_list("status", flat=True)) == {"DELIVERED"}
    assert (
        outcomes()
        == [(CallbackOutcome.APPLIED, "statuses: 1 applied, 0 recorded, 0 of unknown messages")] * 5
    )
    for message, _ in messages:  # each in its message's history once
        assert message.activities.filter(status="DELIVERED").count() == 1


def test_each_record_of_a_batch_gets_its_own_outcome(client, account, meta):
    [(message, wamid)] = sent_messages(account, meta, 1)
    post(client, meta, meta.status_payload(wamid, "read"))
    post(client, meta, meta.status_payload(wamid, "delivered"))  # after READ: history only
    post(client, meta, meta.status_payload("wamid.nobody-s", "delivered"))
    post(client, meta, inbound_from_nobody(meta))

    apply_callbacks()

    assert Message.objects.get(pk=message.pk).status == "READ"
    [read, late, unknown, inbound] = outcomes()
    assert read == (
        CallbackOutcome.APPLIED,
        "statuses: 1 applied, 0 recorded, 0 of unknown messages",
    )
    assert late == (
        CallbackOutcome.APPLIED,
        "statuses: 0 applied, 1 recorded, 0 of unknown messages",
    )
    assert unknown == (
        CallbackOutcome.IGNORED,
        "statuses: 0 applied, 0 recorded, 1 of unknown messages",
    )
    assert inbound[0] == CallbackOutcome.IGNORED and "No customer receives on" in inbound[1]


def test_a_record_that_raises_fails_alone_and_is_applied_again_from_the_admin(
    client, admin_client, account, meta, monkeypatch
):
    [(message, wamid)] = sent_messages(account, meta, 1)
    post(client, meta, inbound_from_nobody(meta))
    post(client, meta, meta.status_payload(wamid, "delivered"))

    def broken(inbound):
        raise RuntimeError("the disk is full")

    # A fault in what the record holds (here: storing its inbound message).
    monkeypatch.setattr("messaging.callbacks.whatsapp.inbound_receive", broken)
    apply_callbacks()

    [failed, applied] = ProviderCallback.objects.order_by("id")
    assert failed.outcome == CallbackOutcome.FAILED
    assert failed.detail == "Applying it raised RuntimeError: the disk is full"
    assert applied.outcome == CallbackOutcome.APPLIED  # the rest of the batch was applied
    assert Message.objects.get(pk=message.pk).status == "DELIVERED"

    monkeypatch.undo()
    response = admin_client.post(
        ADMIN, {"action": "apply_again", "_selected_action": [failed.pk, applied.pk]}
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.outcome == CallbackOutcome.PENDING  # only the failed one
    apply_callbacks()
    failed.refresh_from_db()
    assert failed.outcome == CallbackOutcome.IGNORED and "No customer receives on" in failed.detail
    assert ProviderCallback.objects.get(pk=applied.pk).outcome == CallbackOutcome.APPLIED


def test_a_lost_wake_up_is_found_by_the_reconciler(client, account, meta, settings):
    [(message, wamid)] = sent_messages(account, meta, 1)
    post(client, meta, meta.status_payload(wamid, "delivered"))
    queued_tasks(CALLBACKS_TASK).delete()  # the job is lost (a purged queue, say)

    assert reconcile(scheduler=SCHEDULER)["callbacks_woken"] == 0  # not overdue yet
    later = timezone.now() + timedelta(seconds=settings.PROVIDER_CALLBACK_STUCK_SECONDS + 1)
    assert reconcile(scheduler=SCHEDULER, now=later)["callbacks_woken"] == 1
    assert reconcile(scheduler=SCHEDULER, now=later)["callbacks_woken"] == 0  # a job waits

    apply_callbacks()
    assert Message.objects.get(pk=message.pk).status == "DELIVERED"
    assert ProviderCallback.objects.get().outcome == CallbackOutcome.APPLIED


def test_retention_keeps_a_record_still_pending(client, account, meta, settings):
    [(_, wamid)] = sent_messages(account, meta, 1)
    post(client, meta, meta.status_payload(wamid, "delivered"))
    post(client, meta, meta.status_payload(wamid, "read"))
    ProviderCallback.objects.filter(pk=ProviderCallback.objects.order_by("id")[1].pk).update(
        outcome=CallbackOutcome.APPLIED
    )
    far = timezone.now() + timedelta(days=settings.RETENTION_PROVIDER_CALLBACKS_DAYS + 1)

    assert prune_provider_callbacks(now=far, batch_size=100) == 1
    assert list(ProviderCallback.objects.values_list("outcome", flat=True)) == [
        CallbackOutcome.PENDING
    ]


def test_a_webhook_whose_inbound_part_raises_changes_nothing_until_applied_again(
    client, admin_client, account, meta, monkeypatch
):
    [(message, wamid)] = sent_messages(account, meta, 1)
    [status] = meta.status_payload(wamid, "delivered")["entry"][0]["changes"][0]["value"][
        "statuses"
    ]
    both = meta.inbound_payload(
        meta.inbound_item("+14155550112", "text", {"body": "Hi!"}), statuses=[status]
    )
    post(client, meta, both)

    def broken(inbound):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("messaging.callbacks.whatsapp.inbound_receive", broken)
    apply_callbacks()
    record = ProviderCallback.objects.get()
    assert record.outcome == CallbackOutcome.FAILED
    assert Message.objects.get(pk=message.pk).status == "SENT"  # all of it or nothing

    monkeypatch.undo()
    admin_client.post(ADMIN, {"action": "apply_again", "_selected_action": [record.pk]})
    apply_callbacks()
    assert Message.objects.get(pk=message.pk).status == "DELIVERED"
    assert message.activities.filter(status="DELIVERED").count() == 1  # once, not twice


def test_a_record_the_database_aborts_every_time_fails_alone(client, account, meta):
    messages = sent_messages(account, meta, 3)
    for _, wamid in messages:
        post(client, meta, meta.status_payload(wamid, "delivered"))
    poisoned = ProviderCallback.objects.order_by("id")[1]

    def read(record):
        if record.pk == poisoned.pk:  # a statement of its own that always times out, say
            raise OperationalError("canceling statement due to statement timeout")
        return CALLBACK_READERS["cloud_api"](record)

    outcome = callbacks_apply_pending({"cloud_api": read}, batch_size=10, seconds=10)

    assert outcome == {"applied": 3, "more": False}
    assert [m.status for m in Message.objects.order_by("phone")] == [
        "DELIVERED",
        "SENT",
        "DELIVERED",
    ]
    poisoned.refresh_from_db()
    assert poisoned.outcome == CallbackOutcome.FAILED
    assert poisoned.detail == (
        "Applying it raised OperationalError: canceling statement due to statement timeout"
    )


def test_a_job_whose_time_is_up_hands_on_to_the_next(client, account, meta, monkeypatch):
    for _, wamid in sent_messages(account, meta, 5):
        post(client, meta, meta.status_payload(wamid, "delivered"))
    monkeypatch.setattr(records, "CALLBACK_BATCH_SIZE", 2)
    monkeypatch.setattr(records, "CALLBACK_JOB_SECONDS", 0)

    assert run_queued_tasks(task_name=CALLBACKS_TASK, include_future=True, max_jobs=1) == 1
    assert ProviderCallback.objects.filter(outcome=CallbackOutcome.APPLIED).count() == 2
    assert queued_tasks(CALLBACKS_TASK).count() == 1  # the next one, to go on

    assert apply_callbacks() == 2  # two more jobs: 2, then the last 1
    assert set(Message.objects.values_list("status", flat=True)) == {"DELIVERED"}


def test_a_body_over_the_limit_is_refused_and_never_applied(client, account, meta, settings):
    [(message, wamid)] = sent_messages(account, meta, 1)
    settings.PROVIDER_CALLBACK_MAX_BYTES = 100

    response = post(client, meta, meta.status_payload(wamid, "delivered"))

    assert response.status_code == 413
    [record] = ProviderCallback.objects.all()
    assert record.outcome == CallbackOutcome.REJECTED
    assert "over PROVIDER_CALLBACK_MAX_BYTES (100)" in record.detail
    assert not queued_tasks(CALLBACKS_TASK).exists()
    assert Message.objects.get(pk=message.pk).status == "SENT"


def test_when_the_batch_s_statuses_raise_together_each_record_is_applied_alone(
    client, account, meta, monkeypatch
):
    messages = sent_messages(account, meta, 3)
    for _, wamid in messages:
        post(client, meta, meta.status_payload(wamid, "delivered"))
    apply_each = records.receipts_apply_each

    def fails_together(receipts):  # a fault that only the whole batch meets
        if len(receipts) > 1:
            raise RuntimeError("the batch is too much")
        return apply_each(receipts)

    monkeypatch.setattr(records, "receipts_apply_each", fails_together)
    apply_callbacks()

    assert set(Message.objects.values_list("status", flat=True)) == {"DELIVERED"}
    assert [outcome for outcome, _ in outcomes()] == [CallbackOutcome.APPLIED] * 3
