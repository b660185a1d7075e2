"""The one way any app records an event for webhooks: `event_emit`, inside the change's transaction."""

from django.db import transaction

from billing.models import Customer
from messaging.models import Event
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
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction of the change it reports")
    sequence = 1
    if subject_id is not None:
        sequence = Event.objects.filter(subject_id=subject_id).count() + 1
    return Event.objects.create(
        customer=customer,
        field=field,
        event=event,
        payload=payload,
        subject_id=subject_id,
        sequence=sequence,
        request_id=current_request_id(),
    )
