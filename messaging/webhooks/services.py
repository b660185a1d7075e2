"""Webhook endpoint operations. The API, the admin and (later) the dashboard call these."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import audit
from billing.models import Customer
from billing.roles import acting, require
from messaging.errors import (
    DeliveryInProgress,
    WebhookDisabled,
    WebhookLimitReached,
    WebhookUrlRefused,
)
from messaging.models import CircuitState, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from messaging.webhooks import ssrf
from messaging.webhooks.catalogue import resolve_test_event, specimen_payload
from messaging.webhooks.delivery import delivery_attempt
from messaging.webhooks.signing import secret_encrypt, secret_generate, webhook_time
from messaging.webhooks.tasks import webhook_drain_request
from sent_project.errors import InvalidChoice
from sent_project.models import Event
from sent_project.request_context import current_request_id

EDITABLE = (
    "display_name",
    "endpoint_url",
    "event_types",
    "event_filters",
    "retry_count",
    "timeout_seconds",
)


def _check_url(url: str) -> None:
    try:
        ssrf.url_check(url)
    except ssrf.UnsafeTarget as exc:
        raise WebhookUrlRefused(str(exc)) from None


def webhook_endpoint_build(
    customer: Customer,
    *,
    endpoint_url: str,
    event_types: list[str],
    display_name: str = "",
    event_filters: dict | None = None,
    retry_count: int = 3,
    timeout_seconds: int = 30,
) -> tuple[WebhookEndpoint, str]:
    """A checked, unsaved endpoint and its new secret (a sandbox create stops here)."""
    _check_url(endpoint_url)
    _check_endpoint_cap(customer)
    secret = secret_generate()
    now = timezone.now()
    endpoint = WebhookEndpoint(
        customer=customer,
        display_name=display_name,
        endpoint_url=endpoint_url,
        event_types=event_types,
        event_filters=event_filters or None,
        retry_count=retry_count,
        timeout_seconds=timeout_seconds,
        signing_secret_encrypted=secret_encrypt(secret),
        created_at=now,
        updated_at=now,
    )
    return endpoint, secret


def _check_endpoint_cap(customer: Customer) -> None:
    limit = settings.WEBHOOK_MAX_ENDPOINTS_PER_CUSTOMER
    if WebhookEndpoint.objects.filter(customer=customer).count() >= limit:
        raise WebhookLimitReached(limit)


def webhook_endpoint_create(customer: Customer, **fields) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown this once). WEBHOOK_004
    past WEBHOOK_MAX_ENDPOINTS_PER_CUSTOMER: the customer's row is locked while counting, so
    concurrent creates can't pass the cap together."""
    require(acting(), "webhooks")
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        endpoint, secret = webhook_endpoint_build(customer, **fields)
        endpoint.save()
        audit.record(customer, audit.WEBHOOK_CREATED, target=endpoint.endpoint_url)
    return endpoint, secret


def webhook_endpoint_update(
    customer: Customer, endpoint: WebhookEndpoint, *, save: bool = True, **changes
) -> WebhookEndpoint:
    """Change the given fields (partial). A new URL passes the SSRF check again."""
    require(acting(), "webhooks")
    assert endpoint.customer_id == customer.pk
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if "endpoint_url" in changes:
        _check_url(changes["endpoint_url"])
    if "event_filters" in changes:
        changes["event_filters"] = changes["event_filters"] or None
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = timezone.now()
    if save and changes:
        endpoint.save(update_fields=[*changes, "updated_at"])
        audit.record(
            customer,
            audit.WEBHOOK_CHANGED,
            target=endpoint.endpoint_url,
            detail={"changed": sorted(changes)},
        )
    return endpoint


def webhook_endpoint_delete(customer: Customer, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log; queued attempts find nothing and stop."""
    require(acting(), "webhooks")
    assert endpoint.customer_id == customer.pk
    url = endpoint.endpoint_url
    endpoint.delete()
    audit.record(customer, audit.WEBHOOK_DELETED, target=url)


def webhook_endpoint_set_active(
    customer: Customer, endpoint: WebhookEndpoint, *, is_active: bool, save: bool = True
) -> WebhookEndpoint:
    """Turn an endpoint on (clearing the failure streak and any reason Sent disabled it for)
    or off (by the customer, so with no reason)."""
    require(acting(), "webhooks")
    assert endpoint.customer_id == customer.pk
    now = timezone.now()
    endpoint.is_active = is_active
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None if is_active else now
    if is_active:
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        endpoint.circuit_state = CircuitState.CLOSED
        endpoint.circuit_opened_at = endpoint.circuit_probe_at = None
        endpoint.circuit_trips = 0
    endpoint.updated_at = now
    if save:
        endpoint.save(
            update_fields=[
                "is_active",
                "disabled_reason",
                "disabled_at",
                "consecutive_failures",
                "failing_since",
                "circuit_state",
                "circuit_opened_at",
                "circuit_probe_at",
                "circuit_trips",
                "updated_at",
            ]
        )
        audit.record(
            customer,
            audit.WEBHOOK_CHANGED,
            target=endpoint.endpoint_url,
            detail={"is_active": is_active},
        )
    return endpoint


def webhook_secret_rotate(customer: Customer, endpoint: WebhookEndpoint) -> str:
    """A new signing secret; the old one keeps signing next to it for
    WEBHOOK_SECRET_GRACE_SECONDS, so receivers can switch without missing a delivery."""
    require(acting(), "webhooks")
    assert endpoint.customer_id == customer.pk
    secret = secret_generate()
    now = timezone.now()
    endpoint.previous_secret_encrypted = endpoint.signing_secret_encrypted
    endpoint.previous_secret_expires_at = now + timedelta(
        seconds=settings.WEBHOOK_SECRET_GRACE_SECONDS
    )
    endpoint.signing_secret_encrypted = secret_encrypt(secret)
    endpoint.updated_at = now
    endpoint.save(
        update_fields=[
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "signing_secret_encrypted",
            "updated_at",
        ]
    )
    audit.record(
        customer, audit.WEBHOOK_CHANGED, target=endpoint.endpoint_url, detail={"secret": "rotated"}
    )
    return secret


def webhook_test_event(
    customer: Customer, endpoint: WebhookEndpoint, event_type: str | None
) -> tuple[str, str]:
    """(field, event) for a test delivery, or VALIDATION_006 for an unknown event type."""
    resolved = resolve_test_event(event_type, endpoint.event_types)
    if resolved is None:
        raise InvalidChoice(
            details={
                "event_type": [
                    f"Unknown event type {event_type!r}: see GET /v3/webhooks/event-types."
                ]
            },
        )
    return resolved


def webhook_test_send(
    customer: Customer, endpoint: WebhookEndpoint, *, event_type: str | None = None
) -> tuple[bool, str]:
    """Send a specimen event to this endpoint now (even if disabled), once, without retries
    and without touching its failure counters. Logged like any delivery.

    Returns (delivered, a sentence saying what happened).
    """
    require(acting(), "webhooks")
    assert endpoint.customer_id == customer.pk
    field, event_name = webhook_test_event(customer, endpoint, event_type)
    now = timezone.now()
    event = Event.objects.create(
        customer=customer,
        field=field,
        event=event_name,
        payload=specimen_payload(
            field, event_name, account_id=str(customer.pk), now=webhook_time(now)
        ),
        request_id=current_request_id(),
        fanned_out_at=now,  # goes to this endpoint only
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, is_test=True, next_attempt_at=now
    )
    result = delivery_attempt(delivery.pk)
    attempt = delivery.attempt_log.last()
    if attempt is None:
        return False, f"Test event {event_name} not sent ({result.outcome})"
    took = f" in {attempt.latency_ms} ms"
    if result.outcome == "delivered":
        return True, f"Test event {event_name} delivered: HTTP {attempt.http_status_code}{took}"
    return False, f"Test event {event_name} not delivered: {attempt.error}{took}"


def webhook_delivery_redeliver(
    customer: Customer, endpoint: WebhookEndpoint, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Send a finished delivery (delivered or failed) again, with the same `webhook-id` and
    body and a fresh retry schedule. WEBHOOK_003 if the endpoint is disabled, WEBHOOK_002
    if the delivery is still under way."""
    require(acting(), "webhooks")
    assert endpoint.customer_id == customer.pk and delivery.endpoint_id == endpoint.pk
    if not endpoint.is_active:
        raise WebhookDisabled()
    now = timezone.now()
    with transaction.atomic():
        reset = WebhookDelivery.objects.filter(
            pk=delivery.pk, status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]
        ).update(
            status=DeliveryStatus.PENDING,
            round_failures=0,
            next_attempt_at=now,
            processing_completed_at=None,
        )
        if not reset:
            raise DeliveryInProgress()
        webhook_drain_request()
    delivery.refresh_from_db()
    return delivery
