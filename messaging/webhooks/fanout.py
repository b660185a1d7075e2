"""From an outbox event to one delivery per subscribed endpoint, and the sweep that finds
work whose task never ran. Never imports `messaging.webhooks.tasks`: callers enqueue what these return.
"""

from collections import defaultdict
from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import caching
from messaging.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from messaging.webhooks.catalogue import endpoint_wants
from sent_project.models import Event


def active_endpoints(customer_ids: Collection) -> dict:
    """customer id → its active endpoints (with what they subscribe to), in one query — or
    none, for an API request's customer whose endpoints are in the send-path cache
    (`billing.caching.ids_cached`, docs/architecture.md#send-path-caches)."""
    return defaultdict(list, caching.ids_cached("webhooks", customer_ids, _active_endpoints))


def _active_endpoints(customer_ids: Collection) -> dict:
    endpoints = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(
        customer_id__in=customer_ids, is_active=True
    ).only("id", "customer_id", "event_types", "event_filters"):
        endpoints[endpoint.customer_id].append(endpoint)
    return endpoints


# What an endpoint's subscription is: a save touching only other fields (its delivery
# counters, its circuit) leaves the cached subscriptions as they are.
SUBSCRIPTION_FIELDS = frozenset(
    {"customer", "customer_id", "is_active", "event_types", "event_filters"}
)


def endpoint_subscription_changed(sender, instance, update_fields=None, **kwargs) -> None:
    """post_save / post_delete of a WebhookEndpoint: its customer's cached subscriptions are
    stale (connected in messaging/apps.py)."""
    if update_fields is not None and not SUBSCRIPTION_FIELDS & set(update_fields):
        return
    caching.customer_changed(sender, instance, **kwargs)


def wanting(endpoints: list[WebhookEndpoint], *, field: str, event: str) -> list[WebhookEndpoint]:
    """The endpoints among these that want this event."""
    return [
        e
        for e in endpoints
        if endpoint_wants(e.event_types, e.event_filters, field=field, event=event)
    ]


def subscribed_endpoints(customer_id, *, field: str, event: str) -> list[WebhookEndpoint]:
    """The customer's active endpoints that want this event (never another customer's)."""
    return wanting(active_endpoints([customer_id])[customer_id], field=field, event=event)


def event_fan_out(event_id) -> list[str]:
    """Create the event's deliveries, once; returns their ids (empty if already done).

    The claim on `fanned_out_at` and the deliveries commit together, so a crash leaves the
    event for the sweep and a second run finds nothing to do.
    """
    now = timezone.now()
    with transaction.atomic():
        if not Event.objects.filter(pk=event_id, fanned_out_at__isnull=True).update(
            fanned_out_at=now
        ):
            return []
        event = Event.objects.only("customer_id", "field", "event").get(pk=event_id)
        deliveries = [
            WebhookDelivery(event_id=event.pk, endpoint_id=endpoint.pk, next_attempt_at=now)
            for endpoint in subscribed_endpoints(
                event.customer_id, field=event.field, event=event.event
            )
        ]
        WebhookDelivery.objects.bulk_create(deliveries)
    return [str(delivery.pk) for delivery in deliveries]


def events_fan_out_pending(*, batch: int = 100) -> int:
    """Fan out events still waiting for it, oldest first (their own job may be queued behind
    busy workers); returns how many deliveries that made."""
    waiting = Event.objects.filter(fanned_out_at__isnull=True).order_by("created_at")
    return sum(len(event_fan_out(pk)) for pk in waiting.values_list("pk", flat=True)[:batch])


def webhooks_sweep(*, batch: int = 500) -> list[str]:
    """Recover work lost between a commit and its enqueue, or with a killed worker.

    - events never fanned out → fanned out here;
    - deliveries left SENDING longer than any attempt can take → back to RETRYING;
    - due deliveries whose task is overdue by WEBHOOK_SWEEP_GRACE_SECONDS → returned, to be
      enqueued again (their `next_attempt_at` moves to now, so one sweep re-enqueues once).
    Running a delivery twice is harmless: its claim lets one attempt through.
    Returns the delivery ids to enqueue.
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    to_enqueue: list[str] = []
    stale_events = Event.objects.filter(
        fanned_out_at__isnull=True, created_at__lt=now - grace
    ).values_list("pk", flat=True)[:batch]
    for event_id in list(stale_events):
        to_enqueue += event_fan_out(event_id)
    longest_attempt = timedelta(seconds=settings.WEBHOOK_TIMEOUT_MAX_SECONDS + 60)
    stuck = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.SENDING, claimed_at__lt=now - longest_attempt - grace
        ).values_list("pk", flat=True)[:batch]
    )
    WebhookDelivery.objects.filter(pk__in=stuck, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.RETRYING,
        next_attempt_at=now,
        claimed_at=None,
        error_message="No outcome recorded: the worker stopped during the attempt",
    )
    overdue = list(
        WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            next_attempt_at__lt=now - grace,
        ).values_list("pk", flat=True)[:batch]
    )
    WebhookDelivery.objects.filter(pk__in=overdue).update(next_attempt_at=now)
    return to_enqueue + [str(pk) for pk in [*stuck, *overdue]]
