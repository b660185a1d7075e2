"""Delivery to a real HTTP receiver: signatures, retries, status etiquette
(docs/reliability.md#12-every-delivery-is-signed,
docs/reliability.md#13-failed-deliveries-are-retried-to-success and
docs/reliability.md#14-receivers-answers-are-respected)."""

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from django.db import connection, transaction
from django.utils import timezone

from messaging.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from messaging.webhooks.delivery import delivery_attempt
from messaging.webhooks.tasks import webhook_deliver, webhook_drain
from sent_project.models import Event
from sent_project.outbox import event_emit
from tests.messaging.webhook_helpers import Reply, emit, make_webhook
from tests.tasks import queued_tasks, run_queued_tasks

pytestmark = pytest.mark.usefixtures("webhook_settings")


def test_a_delivery_carries_the_envelope_and_verifies_with_standardwebhooks(
    account, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = make_webhook(account, receiver.url)
    subject = uuid.uuid4()
    event = emit(
        account,
        "message.delivered",
        payload={"message_id": str(subject)},
        subject_id=subject,
        capture=django_capture_on_commit_callbacks,
    )

    [hit] = receiver.received
    assert Webhook(secret).verify(hit.body, hit.headers) == {
        "field": "message",
        "event": "message.delivered",
        "timestamp": event.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request_id": event.request_id,
        "sequence": 1,
        "subject_id": str(subject),
        "payload": {"message_id": str(subject)},
    }
    assert hit.headers["webhook-id"] == str(event.pk)
    assert hit.headers["X-Webhook-Event-ID"] == str(event.pk)
    assert hit.headers["x-webhook-id"] == str(endpoint.pk)
    assert hit.headers["x-webhook-event-type"] == "message"
    assert hit.headers["content-type"] == "application/json"
    # Sent's own headers sign "{x-webhook-id}.{x-webhook-timestamp}.{body}" the same way.
    sent_style = {
        "webhook-id": hit.headers["x-webhook-id"],
        "webhook-timestamp": hit.headers["x-webhook-timestamp"],
        "webhook-signature": hit.headers["x-webhook-signature"],
    }
    Webhook(secret).verify(hit.body, sent_style)
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts, delivery.http_status_code) == ("delivered", 1, 200)
    endpoint.refresh_from_db()
    assert endpoint.last_successful_delivery_at is not None
    assert endpoint.consecutive_failures == 0


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_fails_verification(
    account, receiver, django_capture_on_commit_callbacks
):
    _endpoint, secret = make_webhook(account, receiver.url)
    emit(account, capture=django_capture_on_commit_callbacks)
    [hit] = receiver.received
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(hit.body.replace(b'"n":1', b'"n":2'), hit.headers)
    _other, other_secret = make_webhook(account, receiver.url)
    with pytest.raises(Exception, match="signature"):
        Webhook(other_secret).verify(hit.body, hit.headers)
    stale = {**hit.headers, "webhook-timestamp": str(int(time.time()) - 360)}
    with pytest.raises(Exception, match="too old"):
        Webhook(secret).verify(hit.body, stale)


def test_a_receiver_failing_three_times_gets_each_event_once_after_retries(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 1, 1]
    settings.WEBHOOK_RETRY_DELAY_SCALE = 1
    receiver.replies = [Reply(500), Reply(500), Reply(500)]
    _endpoint, secret = make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks)
    deadline = time.monotonic() + 15
    while len(receiver.received) < 4 and time.monotonic() < deadline:
        run_queued_tasks()
        time.sleep(0.1)

    assert len(receiver.received) == 4
    processed = {}
    for hit in receiver.received:
        Webhook(secret).verify(hit.body, hit.headers)
        processed.setdefault(hit.headers["webhook-id"], 0)
    assert list(processed) == [str(event.pk)]  # one webhook-id across every attempt
    stamps = [int(hit.headers["webhook-timestamp"]) for hit in receiver.received]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4  # a new timestamp each attempt
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    assert all(gap >= 0.95 for gap in gaps), gaps  # at the configured delays
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert [a.outcome for a in delivery.attempt_log.all()] == ["failed"] * 3 + ["delivered"]
    assert not queued_tasks().exists()


def test_every_attempt_is_recorded_with_status_latency_and_a_truncated_body(
    account, receiver, django_capture_on_commit_callbacks
):
    receiver.replies = [Reply(503, body=b"x" * 5000)]
    make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks)
    first, second = WebhookDelivery.objects.get(event=event).attempt_log.all()
    assert (first.http_status_code, first.outcome) == (503, "failed")
    assert first.response_body == "x" * 2048
    assert first.error == "The endpoint answered 503"
    assert first.latency_ms >= 0 and first.started_at is not None
    assert (second.http_status_code, second.outcome, second.response_body) == (
        200,
        "delivered",
        "ok",
    )


def test_the_schedule_running_out_fails_the_delivery(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 5]
    receiver.default = Reply(500)
    make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts, len(receiver.received)) == ("failed", 3, 3)
    assert delivery.next_attempt_at is None


def test_the_default_schedule_spans_at_least_72_hours():
    from django.conf import settings

    assert sum(settings.WEBHOOK_RETRY_SCHEDULE) >= 72 * 3600
    assert len(settings.WEBHOOK_RETRY_SCHEDULE) == 9


def test_410_disables_the_endpoint_and_stops_attempts(
    account, receiver, django_capture_on_commit_callbacks
):
    receiver.replies = [Reply(410)]
    endpoint, _ = make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.disabled_reason == "The endpoint answered 410 Gone"
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert not queued_tasks().exists()
    emit(account, capture=django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1  # later events don't go to a disabled endpoint


def test_a_redirect_is_not_followed(
    account, receiver, other_receiver, django_capture_on_commit_callbacks
):
    receiver.replies = [Reply(302, headers={"Location": other_receiver.url})]
    make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks, run=False)
    run_queued_tasks(max_jobs=2)  # fan-out + first attempt
    assert other_receiver.received == [] and other_receiver.connections == 0
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.http_status_code) == ("retrying", 302)
    assert "redirects are not followed" in delivery.error_message


def test_429_retry_after_is_honoured(account, receiver, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(429, headers={"Retry-After": "120"})]
    make_webhook(account, receiver.url)
    before = timezone.now()
    event = emit(account, capture=django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == "retrying" and len(receiver.received) == 1
    assert delivery.next_attempt_at >= before + timedelta(seconds=120)
    [retry] = queued_tasks("messaging.webhooks.tasks.webhook_drain")  # the lane's next drain
    assert retry.run_after >= before + timedelta(seconds=120)
    run_queued_tasks(include_future=True)  # a worker running it early sends nothing
    assert len(receiver.received) == 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    webhook_deliver.enqueue(delivery_id=str(delivery.pk))  # two minutes later
    run_queued_tasks()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.received) == 2


def test_a_too_slow_receiver_is_a_failure(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_MAX_SECONDS = 0.3
    receiver.replies = [Reply(200, delay=1.0)]
    make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks, run=False)
    run_queued_tasks(max_jobs=2)
    delivery = WebhookDelivery.objects.get(event=event)
    attempt = delivery.attempt_log.get()
    assert (delivery.status, attempt.outcome) == ("retrying", "timeout")
    assert attempt.error == "No answer within 0.3 s"


def test_consecutive_failures_disable_the_endpoint_with_a_reason(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 0
    receiver.default = Reply(500)
    endpoint, _ = make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.consecutive_failures == 3
    assert endpoint.disabled_reason.startswith("Disabled after 3 or more failed deliveries")
    assert "500" in endpoint.disabled_reason
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "disabled" in delivery.error_message
    assert len(receiver.received) == 3


def test_a_short_outage_does_not_disable_a_busy_endpoint(
    account, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2  # but the streak must also last 3 days
    receiver.replies = [Reply(500)] * 4
    endpoint, _ = make_webhook(account, receiver.url)
    emit(account, capture=django_capture_on_commit_callbacks)
    emit(account, capture=django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0
    assert WebhookDelivery.objects.filter(status="delivered").count() == 2


def test_a_success_resets_the_failure_streak(account, receiver, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(500), Reply(500)]
    endpoint, _ = make_webhook(account, receiver.url)
    emit(account, capture=django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)
    assert endpoint.last_delivery_attempt_at == endpoint.last_successful_delivery_at


def test_during_rotation_both_secrets_verify_and_afterwards_only_the_new_one(
    account, api_client, receiver, django_capture_on_commit_callbacks
):
    endpoint, old = make_webhook(account, receiver.url)
    new = api_client.post(f"/v3/webhooks/{endpoint.pk}/rotate-secret", {}).json()["data"][
        "signing_secret"
    ]
    emit(account, capture=django_capture_on_commit_callbacks)
    hit = receiver.received[-1]
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    assert len(hit.headers["x-webhook-signature"].split(" ")) == 2
    Webhook(old).verify(hit.body, hit.headers)
    Webhook(new).verify(hit.body, hit.headers)

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    emit(account, capture=django_capture_on_commit_callbacks)
    hit = receiver.received[-1]
    assert len(hit.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(hit.body, hit.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(old).verify(hit.body, hit.headers)


def test_the_grace_period_is_a_setting(account, api_client, settings, receiver):
    settings.WEBHOOK_SECRET_GRACE_SECONDS = 3600
    endpoint, _ = make_webhook(account, receiver.url)
    before = timezone.now()
    api_client.post(f"/v3/webhooks/{endpoint.pk}/rotate-secret", {})
    endpoint.refresh_from_db()
    assert before + timedelta(seconds=3590) < endpoint.previous_secret_expires_at
    assert endpoint.previous_secret_expires_at <= timezone.now() + timedelta(seconds=3600)


def test_a_delivery_task_running_twice_sends_once(
    account, receiver, django_capture_on_commit_callbacks
):
    make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks, run=False)
    run_queued_tasks(max_jobs=1)  # the fan-out only
    assert queued_tasks("messaging.webhooks.tasks.webhook_drain").count() == 1
    delivery_id = str(WebhookDelivery.objects.get(event=event).pk)
    webhook_drain.enqueue()  # a duplicate drain
    webhook_deliver.enqueue(delivery_id=delivery_id)  # and a job of the delivery itself
    run_queued_tasks()
    assert delivery_attempt(delivery_id).outcome == "skipped"
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get(event=event).attempts == 1


def test_filters_narrow_a_family_to_some_events(
    account, receiver, django_capture_on_commit_callbacks
):
    make_webhook(
        account, receiver.url, event_types=["message"], event_filters={"message": ["failed"]}
    )
    for name in ["message.delivered", "message.failed", "contact.created"]:
        emit(account, name, capture=django_capture_on_commit_callbacks)
    assert [json.loads(hit.body)["event"] for hit in receiver.received] == ["message.failed"]


def test_a_customers_events_never_reach_another_customers_endpoints(
    account, other_account, receiver, other_receiver, django_capture_on_commit_callbacks
):
    make_webhook(account, receiver.url)
    make_webhook(other_account, other_receiver.url)
    emit(account, "contact.created", capture=django_capture_on_commit_callbacks)
    emit(other_account, "contact.updated", capture=django_capture_on_commit_callbacks)
    assert [json.loads(h.body)["event"] for h in receiver.received] == ["contact.created"]
    assert [json.loads(h.body)["event"] for h in other_receiver.received] == ["contact.updated"]


def test_a_rolled_back_change_emits_nothing(account, receiver, django_capture_on_commit_callbacks):
    make_webhook(account, receiver.url)
    with (
        pytest.raises(RuntimeError),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        event_emit(account, field="message", event="message.queued", payload={})
        raise RuntimeError("the send failed after the event")
    run_queued_tasks()
    assert callbacks == []
    assert Event.objects.count() == 0 and WebhookDelivery.objects.count() == 0
    assert not queued_tasks().exists() and receiver.received == []


def test_sequence_numbers_let_receivers_drop_stale_updates(
    account, receiver, django_capture_on_commit_callbacks
):
    make_webhook(account, receiver.url)
    message_id = uuid.uuid4()
    for status in ["queued", "sent", "delivered", "read"]:
        emit(
            account,
            f"message.{status}",
            subject_id=message_id,
            capture=django_capture_on_commit_callbacks,
        )
    bodies = [json.loads(hit.body) for hit in receiver.received]
    assert [(b["event"], b["sequence"]) for b in bodies] == [
        ("message.queued", 1),
        ("message.sent", 2),
        ("message.delivered", 3),
        ("message.read", 4),
    ]
    assert {b["subject_id"] for b in bodies} == {str(message_id)}


def test_a_delivery_to_a_deleted_endpoint_is_skipped(
    account, receiver, django_capture_on_commit_callbacks
):
    endpoint, _ = make_webhook(account, receiver.url)
    emit(account, capture=django_capture_on_commit_callbacks, run=False)
    run_queued_tasks(max_jobs=1)
    endpoint.delete()
    run_queued_tasks()
    assert receiver.received == []


def test_an_unreachable_receiver_is_an_error_and_retried(
    account, receiver, django_capture_on_commit_callbacks
):
    url = receiver.url
    receiver.stop()
    make_webhook(account, url)
    event = emit(account, capture=django_capture_on_commit_callbacks, run=False)
    run_queued_tasks(max_jobs=2)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempt_log.get().outcome == "error"


def test_two_workers_claiming_one_delivery_at_once_send_it_once(live_account, receiver):
    receiver.default = Reply(200, delay=0.3)
    endpoint, _ = make_webhook(live_account, receiver.url)
    event = Event.objects.create(
        customer=live_account,
        field="message",
        event="message.sent",
        payload={},
        fanned_out_at=timezone.now(),
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, next_attempt_at=timezone.now()
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        barrier.wait()
        try:
            outcomes.append(delivery_attempt(delivery.pk).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["delivered", "skipped"]
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
