"""The one way any app records an event for webhooks: `event_emit`, inside the change's transaction."""

from django.db import transaction
from django.utils import timezone

from billing.models import Customer
from messaging.models import Event
from messaging.tasks import webhook_event_fan_out
from messaging.webhooks.fanout import subscribed_endpoints
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
