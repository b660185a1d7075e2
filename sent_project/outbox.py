"""The transactional outbox: the one way any app records an event for webhooks.

`event_emit` (or `events_emit_bulk`) writes the event inside the transaction of the change it
reports, so a rolled-back change emits nothing and a committed one never loses its event. Every
app emits (billing's balance events, contacts' opt-outs, templates' reviews, messages'
statuses); what happens next is the fan-out's business, plugged in by the setting
`OUTBOX_FAN_OUT` (the messaging app's webhook fan-out in this project). The outbox imports no
app: docs/architecture.md.
"""

from collections import defaultdict
from collections.abc import Callable, Collection
from typing import NamedTuple, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string

from sent_project.db import rows_insert
from sent_project.models import Event
from sent_project.request_context import current_request_id


class FanOut(Protocol):
    """What the outbox needs from whoever delivers its events."""

    def subscriptions(self, customer_ids: Collection) -> Callable[..., bool]:
        """One look at these customers' subscriptions. The answer, called as
        `wants(customer_id, field=..., event=...)`, says whether anyone wants that event."""

    def enqueue(self, event_ids: list[str]) -> None:
        """Start fanning these events out (called after the change commits)."""


def fan_out() -> FanOut | None:
    """The fan-out named by `OUTBOX_FAN_OUT`, or None: then every event is marked done."""
    path = settings.OUTBOX_FAN_OUT
    return import_string(path) if path else None


def _nobody_wants(customer_id, *, field: str, event: str) -> bool:
    return False


def event_emit(customer, *, field: str, event: str, payload: dict, subject_id=None) -> Event:
    """Record an event in the outbox. Must be called inside the transaction of the change.

    With a `subject_id`, the caller holds that subject's row lock (or is its only writer in this
    transaction), so `sequence` numbers 1, 2, 3… without gaps or repeats.

    When a subscriber wants it, the fan-out is enqueued once the transaction commits (a
    rolled-back change emits nothing; if the process dies between commit and enqueue, the
    fan-out's sweep finds the event). Without a subscriber the event is marked fanned out at
    once and no job runs.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_emit must run inside the transaction of the change it reports")
    sequence = 1
    if subject_id is not None:
        sequence = Event.objects.filter(subject_id=subject_id).count() + 1
    delivery = fan_out()
    wants = delivery.subscriptions([customer.pk]) if delivery else _nobody_wants
    subscribed = wants(customer.pk, field=field, event=event)
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
        transaction.on_commit(lambda: delivery.enqueue([str(recorded.pk)]), robust=True)
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
    marked fanned out, and one fan-out for the rest is enqueued after commit.
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
    delivery = fan_out()
    wants = (
        delivery.subscriptions({spec.customer_id for spec in specs}) if delivery else _nobody_wants
    )
    now, request_id = timezone.now(), current_request_id()
    events, subscribed = [], []
    for spec in specs:
        wanted = wants(spec.customer_id, field=spec.field, event=spec.event)
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
    rows_insert(Event, events, batch_size=500)
    if subscribed:
        transaction.on_commit(lambda: delivery.enqueue(subscribed), robust=True)
    return events
