"""Reads of webhook endpoints and deliveries, always starting from the customer."""

from django.db.models import Prefetch, Q, QuerySet

from billing.models import Customer
from messaging.errors import WebhookNotFound
from messaging.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhooks_for(
    customer: Customer, *, search: str = "", is_active: bool | None = None
) -> QuerySet[WebhookEndpoint]:
    endpoints = WebhookEndpoint.objects.filter(customer=customer)
    if search:
        endpoints = endpoints.filter(search_filter(search))
    if is_active is not None:
        endpoints = endpoints.filter(is_active=is_active)
    return endpoints.order_by("-created_at", "-id")


def search_filter(search: str) -> Q:
    """`search`: part of the endpoint's display name or URL."""
    return Q(display_name__icontains=search) | Q(endpoint_url__icontains=search)


def webhook_get(customer: Customer, webhook_id) -> WebhookEndpoint:
    """The customer's endpoint; another customer's, or a missing one, is RESOURCE_008 (404)."""
    endpoint = WebhookEndpoint.objects.filter(customer=customer, pk=webhook_id).first()
    if endpoint is None:
        raise WebhookNotFound()
    return endpoint


def deliveries_for(endpoint: WebhookEndpoint, *, search: str = "") -> QuerySet[WebhookDelivery]:
    """An endpoint's delivery log, newest first, with its event and every attempt."""
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
    if search:
        deliveries = deliveries.filter(
            Q(event__event__icontains=search)
            | Q(status__iexact=search)
            | Q(error_message__icontains=search)
        )
    return deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    ).order_by("-created_at", "-id")


def delivery_get(endpoint: WebhookEndpoint, delivery_or_event_id) -> WebhookDelivery:
    """One of the endpoint's deliveries, by its own id or by its event id (the `webhook-id`
    header the receiver saw)."""
    delivery = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .filter(Q(pk=delivery_or_event_id) | Q(event_id=delivery_or_event_id))
        .select_related("event")
        .first()
    )
    if delivery is None:
        raise WebhookNotFound("Webhook delivery not found")
    return delivery
