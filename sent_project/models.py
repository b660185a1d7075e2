"""The plumbing's tables: idempotency records and the event outbox.

They belong to a customer account, which the `billing` app defines above this layer: the
foreign keys name it through `settings.SENT_CUSTOMER_MODEL` (as Django's own apps name the user
model through `AUTH_USER_MODEL`), so nothing here imports an app.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from sent_project.ids import uuid7


class IdempotencyRecord(models.Model):
    """(customer, Idempotency-Key) → the first response, replayed for 24 h.

    A table, not a cache: the unique constraint is the lock that makes a concurrent
    duplicate wait (409) instead of running twice.
    """

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        COMPLETED = "completed"

    customer = models.ForeignKey(settings.SENT_CUSTOMER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_FLIGHT)
    request_id = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.BinaryField(null=True)
    created_at = models.DateTimeField()
    locked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="idempotency_customer_key"),
        ]
        indexes = [
            # idempotency_purge_expired: delete rows past retention.
            models.Index(fields=["created_at"], name="idempotency_created"),
        ]


class Event(models.Model):
    """Something a customer may want to hear about (the outbox).

    Written by `sent_project.outbox.event_emit` in the same transaction as the change that
    causes it, so a rolled-back change never emits one and a crash never loses one. Every app
    emits; the messaging app's webhooks deliver (the fan-out named by `OUTBOX_FAN_OUT`).
    The table keeps the name it had when the model lived in the messaging app.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer = models.ForeignKey(
        settings.SENT_CUSTOMER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Family (`message`, `templates`, `contact`, `balance`) and specific event
    # (`message.delivered`, `templates.approved`, `contact.opt_out`, `balance.low`).
    field = models.CharField(max_length=32)
    event = models.CharField(max_length=64)
    # The object it is about (message id, template id, contact id); events of one subject are
    # numbered 1, 2, 3… in `sequence` so receivers can drop stale updates.
    subject_id = models.UUIDField(null=True, blank=True)
    sequence = models.PositiveIntegerField(default=1)
    payload = models.JSONField()
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the webhook fan-out created this event's deliveries (or found no subscriber).
    # NULL = still to do: the fan-out task, or the sweep if that task was never enqueued.
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "messaging_event"
        ordering = ["created_at"]
        indexes = [
            # Sequence numbering and "events of this message" lookups.
            models.Index(fields=["subject_id", "sequence"], name="event_subject_seq"),
            # A customer's recent events (dashboard, sweeps).
            models.Index(fields=["customer", "-created_at"], name="event_customer_created"),
            # The webhook sweep: events whose fan-out never happened.
            models.Index(
                fields=["created_at"],
                name="event_fan_out_pending",
                condition=Q(fanned_out_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.id})"


class RateCounter(models.Model):
    """One rate-limit counter (sent_project.ratelimit) when there is no Redis: a window that
    opens at its first request, and the requests counted in it. Every request updates its row
    in one atomic statement, so every process shares one exact count."""

    key = models.CharField(max_length=100, primary_key=True)
    window_start = models.FloatField()  # Unix time of the window's first request
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The occasional prune of windows long closed.
            models.Index(fields=["window_start"], name="ratecounter_window_start"),
        ]
