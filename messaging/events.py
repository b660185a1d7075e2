"""The one way any app records an event for webhooks: `event_emit`, inside the change's transaction."""

from collections import defaultdict
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from billing.models import Customer
from messaging.models import Event, WebhookEndpoint
from messaging.webhooks.catalogue import endpoint_wants
from messaging.webhooks.fanout import subscribed_endpoints
from messaging.webhooks.tasks import webhook_event_fan_out, webhook_events_fan_out
from sent_project.api.middleware import current_request_id


def event_emit(
    customer: Customer,
    *,
    field: str,
    event: str,
    payload: dict,
    subject_id=None,
) -> Event:
    """Record an event in the outbox. Must be called inside the transaction of the change.

    With a `subject_id`, the caller holds that subject's row lock (or is its only writer in this
    transaction), so `sequence` numbers 1, 2, 3… without gaps or repeats.

    When one of the customer's active webhook endpoints subscribes to it, the fan-out task
    is enqueued once the transaction commits (a rolled-back change emits nothing; if the
    process dies between commit and enqueue, the webhook sweep does the fan-out). Without
    a subscriber the event is marked fanned out at once and no task runs.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction of the change it reports")
    sequence = 1
    if subject_id is not None:
        sequence = Event.objects.filter(subject_id=subject_id).count() + 1
    subscribed = bool(subscribed_endpoints(customer.pk, field=field, event=event))
    recorded = Event.objects.create(
        customer=customer,
        field=field,
        event=event,
        payload=payload,
        subject_id=subject_id,
        sequence=sequence,
        request_id=current_request_id(),
        fanned_out_at=None if subscribed else timezone.now(),
    )
    if subscribed:
        # robust: a failed enqueue must not fail the committed change; the sweep recovers it.
        transaction.on_commit(
            lambda: webhook_event_fan_out.enqueue(event_id=str(recorded.pk)), robust=True
        )
    return recorded


class EventSpec(NamedTuple):
    """One event of a bulk emission (`events_emit_bulk`)."""

    customer_id: object
    field: str
    event: str
    payload: dict
    subject_id: object = None


def events_emit_bulk(specs: list[EventSpec], *, new_subjects: bool = False) -> list[Event]:
    """`event_emit` for many events at once: a few queries whatever their number.

    Same rules: inside the change's transaction, the caller holds each subject's row lock,
    sequences continue each subject's numbering (`new_subjects=True` skips counting when no
    subject has an event yet, e.g. messages just created), events without a subscriber are
    marked fanned out, and one fan-out job for the rest is enqueued after commit.
    """
    if not specs:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events_emit_bulk must run inside the transaction of the change")
    subjects = {spec.subject_id for spec in specs if spec.subject_id is not None}
    counts: dict = defaultdict(int)
    if subjects and not new_subjects:
        rows = (
            Event.objects.filter(subject_id__in=subjects)
            .values("subject_id")
            .annotate(n=Count("id"))
            .values_list("subject_id", "n")
        )
        counts.update(rows)
    endpoints = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(
        customer_id__in={spec.customer_id for spec in specs}, is_active=True
    ).only("customer_id", "event_types", "event_filters"):
        endpoints[endpoint.customer_id].append(endpoint)
    now, request_id = timezone.now(), current_request_id()
    events, subscribed = [], []
    for spec in specs:
        wanted = any(
            endpoint_wants(e.event_types, e.event_filters, field=spec.field, event=spec.event)
            for e in endpoints.get(spec.customer_id, ())
        )
        sequence = 1
        if spec.subject_id is not None:
            counts[spec.subject_id] += 1
            sequence = counts[spec.subject_id]
        event = Event(
            customer_id=spec.customer_id,
            field=spec.field,
            event=spec.event,
            payload=spec.payload,
            subject_id=spec.subject_id,
            sequence=sequence,
            request_id=request_id,
            fanned_out_at=None if wanted else now,
        )
        events.append(event)
        if wanted:
            subscribed.append(str(event.pk))
    Event.objects.bulk_create(events, batch_size=500)
    if subscribed:
        transaction.on_commit(
            lambda: webhook_events_fan_out.enqueue(event_ids=subscribed), robust=True
        )
    return events
