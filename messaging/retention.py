"""The messaging app's pruners (docs/operations.md#retention): finished webhook deliveries
with their attempts, the simulator's records, processed provider callbacks, and optionally
old message bodies. Messages themselves and their activities are never deleted.

Listed in RETENTION_PRUNERS; `sent_project.retention.prune_all` runs them.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from messaging.models import (
    CallbackOutcome,
    DeliveryStatus,
    Message,
    ProviderCallback,
    SimulatorSend,
    WebhookAttempt,
    WebhookDelivery,
)
from messaging.statuses import IN_FLIGHT
from sent_project.retention import cutoff_days, delete_in_batches

FINISHED_DELIVERIES = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)


def prune_webhook_deliveries(*, now: datetime, batch_size: int) -> int:
    """Finished deliveries (delivered or given up) created more than
    RETENTION_WEBHOOK_DELIVERIES_DAYS ago, and their attempts: the delivery log
    (GET /v3/webhooks/{id}/events) shows that many days. Unfinished ones are kept."""
    cutoff = cutoff_days(settings.RETENTION_WEBHOOK_DELIVERIES_DAYS, now)
    if cutoff is None:
        return 0
    deliveries = WebhookDelivery.objects.filter(
        created_at__lt=cutoff, status__in=FINISHED_DELIVERIES
    )
    deleted = 0
    last = None
    while True:
        page = deliveries.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        pks = list(page.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        with transaction.atomic():
            # Attempts first, explicitly, so the delete of the deliveries cascades to nothing.
            WebhookAttempt.objects.filter(delivery_id__in=pks).delete()
            _, per_model = WebhookDelivery.objects.filter(pk__in=pks).delete()
        deleted += per_model.get(WebhookDelivery._meta.label, 0)
        last = pks[-1]
        if len(pks) < batch_size:
            return deleted


def prune_simulator(*, now: datetime, batch_size: int) -> int:
    """The simulator's send records (its idempotency store) older than RETENTION_SIMULATOR_DAYS:
    a message that old is long past any retry."""
    cutoff = cutoff_days(settings.RETENTION_SIMULATOR_DAYS, now)
    if cutoff is None:
        return 0
    return delete_in_batches(
        SimulatorSend.objects.filter(created_at__lt=cutoff), batch_size=batch_size
    )


def prune_provider_callbacks(*, now: datetime, batch_size: int) -> int:
    """Provider callbacks received more than RETENTION_PROVIDER_CALLBACKS_DAYS ago, whatever
    their outcome (their effect is on the messages; the record is for debugging) — but one
    still waiting to be applied."""
    cutoff = cutoff_days(settings.RETENTION_PROVIDER_CALLBACKS_DAYS, now)
    if cutoff is None:
        return 0
    old = ProviderCallback.objects.filter(received_at__lt=cutoff).exclude(
        outcome=CallbackOutcome.PENDING
    )
    return delete_in_batches(old, batch_size=batch_size)


REDACTED = ""


def redact_message_bodies(*, now: datetime, batch_size: int) -> int:
    """Privacy (off by default): after RETENTION_MESSAGE_BODY_DAYS days the text of finished
    messages is blanked — `text`, `body`, `content`, `parameters` and the provider payload.
    The message itself (status, price, history) stays, as the ledger needs it."""
    cutoff = cutoff_days(settings.RETENTION_MESSAGE_BODY_DAYS, now)
    if cutoff is None:
        return 0
    candidates = (
        Message.objects.filter(created_at__lt=cutoff)
        .exclude(status__in=list(IN_FLIGHT))
        .filter(~Q(body="") | ~Q(text="") | ~Q(parameters={}))
    )
    redacted = 0
    while True:
        pks = list(candidates.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return redacted
        with transaction.atomic():
            redacted += Message.objects.filter(pk__in=pks).update(
                body=REDACTED, text=REDACTED, content={}, parameters={}, provider_payload={}
            )
        if len(pks) < batch_size:
            return redacted


# `prune_all` names a pruner after its function; this one is "message_bodies".
prune_message_bodies = redact_message_bodies
