"""Builders for dashboard tests: rows the pages show, made through the services."""

from django.utils import timezone

from messaging.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from messaging.webhooks.services import webhook_endpoint_create
from sent_project.models import Event


def make_webhook(customer, url: str = "https://93.184.216.34/hook", **overrides):
    """An endpoint (public address, so no settings needed); returns (endpoint, secret)."""
    fields = {"endpoint_url": url, "event_types": ["message", "contact"], **overrides}
    return webhook_endpoint_create(customer, **fields)


def make_delivery(endpoint, *, status=DeliveryStatus.FAILED, code=500, event="message.delivered"):
    """A delivery of a new event to `endpoint`, with one attempt that ended as `status`."""
    now = timezone.now()
    recorded = Event.objects.create(
        customer=endpoint.customer, field=event.split(".")[0], event=event, payload={"n": 1}
    )
    delivery = WebhookDelivery.objects.create(
        event=recorded,
        endpoint=endpoint,
        status=status,
        attempts=1,
        http_status_code=code,
        error_message="" if status == DeliveryStatus.DELIVERED else f"HTTP {code}",
        processing_completed_at=now,
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=now,
        latency_ms=42,
        http_status_code=code,
        outcome="delivered" if status == DeliveryStatus.DELIVERED else "failed",
        response_body="upstream said no" if code >= 300 else "ok",
        error="" if code < 300 else f"HTTP {code}",
    )
    return delivery
