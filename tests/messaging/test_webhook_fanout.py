"""From the outbox to deliveries: the fan-out task, the no-subscriber shortcut and the sweep."""

from datetime import timedelta

import pytest

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from messaging.models import DeliveryStatus, WebhookDelivery
from messaging.webhooks.fanout import event_fan_out
from sent_project.models import Event
from sent_project.outbox import event_emit
from tests.messaging.webhook_helpers import emit, make_webhook
from tests.tasks import queued_tasks, run_queued_tasks

pytestmark = pytest.mark.usefixtures("webhook_settings")


def test_an_event_with_no_subscriber_is_done_at_once_without_a_task(
    account, other_account, django_capture_on_commit_callbacks
):
    make_webhook(other_account, "https://93.184.216.34/h")  # another customer's
    make_webhook(account, "https://93.184.216.34/h", event_types=["contact"])  # other family
    event = emit(account, "message.sent", capture=django_capture_on_commit_callbacks, run=False)
    event.refresh_from_db()
    assert event.fanned_out_at is not None
    assert not queued_tasks().exists()


def test_a_subscribed_event_enqueues_its_fan_out_after_commit(
    account, django_capture_on_commit_callbacks
):
    make_webhook(account, "https://93.184.216.34/h")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        event_emit(account, field="message", event="message.sent", payload={})
        assert not queued_tasks().exists()
    assert len(callbacks) == 1
    callbacks[0]()
    [job] = queued_tasks("messaging.webhooks.tasks.webhook_event_fan_out")
    assert job.args_kwargs["kwargs"] == {"event_id": str(Event.objects.get().pk)}


def test_event_emit_outside_a_transaction_is_refused(transactional_db, account):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        event_emit(account, field="message", event="message.sent", payload={})


def test_fan_out_creates_one_delivery_per_subscribed_endpoint_once(
    account, django_capture_on_commit_callbacks
):
    a, _ = make_webhook(account, "https://93.184.216.34/a")
    b, _ = make_webhook(account, "https://93.184.216.34/b", event_types=["message"])
    make_webhook(account, "https://93.184.216.34/c", event_types=["balance"])
    event = emit(account, "message.read", capture=django_capture_on_commit_callbacks, run=False)
    created = event_fan_out(event.pk)
    assert len(created) == 2
    assert event_fan_out(event.pk) == []  # a second run does nothing
    assert set(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == {a.pk, b.pk}


def test_the_sweep_fans_out_an_event_whose_task_was_lost(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 60
    make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks, run=False)
    queued_tasks().delete()  # the process died between commit and enqueue
    call_command("webhooks_sweep", verbosity=0)
    assert not WebhookDelivery.objects.exists()  # too recent: its task may still come
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    call_command("webhooks_sweep", verbosity=0)
    run_queued_tasks()
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_sweep_re_drives_a_delivery_whose_worker_died(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 60
    make_webhook(account, receiver.url)
    emit(account, capture=django_capture_on_commit_callbacks, run=False)
    run_queued_tasks(max_jobs=1)  # fan-out
    queued_tasks().delete()  # the delivery task is gone…
    long_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.update(
        status=DeliveryStatus.SENDING, claimed_at=long_ago, attempts=1
    )  # …with its worker, mid-attempt
    call_command("webhooks_sweep", verbosity=0)
    run_queued_tasks()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, len(receiver.received)) == ("delivered", 2, 1)


def test_the_sweep_re_enqueues_an_overdue_delivery_once(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 60
    make_webhook(account, receiver.url)
    emit(account, capture=django_capture_on_commit_callbacks, run=False)
    run_queued_tasks(max_jobs=1)
    queued_tasks().delete()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    call_command("webhooks_sweep", verbosity=0)
    call_command("webhooks_sweep", verbosity=0)  # not overdue any more: nothing new
    assert queued_tasks("messaging.webhooks.tasks.webhook_drain").count() == 1
    run_queued_tasks()
    assert len(receiver.received) == 1
