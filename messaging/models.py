"""Models of the messaging app: the event outbox (webhooks and messages build on it)."""

import uuid

from django.db import models


class Event(models.Model):
    """Something a customer may want to hear about (the outbox).

    Written by `messaging.events.event_emit` in the same transaction as the change that
    causes it, so a rolled-back change never emits one and a crash never loses one.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE, related_name="+")
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

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # Sequence numbering and "events of this message" lookups.
            models.Index(fields=["subject_id", "sequence"], name="event_subject_seq"),
            # A customer's recent events (dashboard, sweeps).
            models.Index(fields=["customer", "-created_at"], name="event_customer_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} ({self.id})"


class SimulatorSend(models.Model):
    """The simulator provider's own record of what it was asked to send (its idempotency
    store): one row per (message id, channel), counting attempts."""

    message_id = models.UUIDField()
    channel = models.CharField(max_length=16)
    to = models.CharField(max_length=20)
    attempts = models.PositiveIntegerField(default=0)
    provider_message_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message_id", "channel"], name="simulator_send_unique"),
        ]
