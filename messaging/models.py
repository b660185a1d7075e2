"""Models of the messaging app: the event outbox, webhook endpoints and their deliveries."""

import uuid

from django.db import models
from django.db.models import Q


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
    # When the webhook fan-out created this event's deliveries (or found no subscriber).
    # NULL = still to do: the fan-out task, or the sweep if that task was never enqueued.
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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


class WebhookEndpoint(models.Model):
    """A customer's URL that receives signed event deliveries.

    Changed only through `messaging.webhooks.services`. The signing secret is stored
    encrypted (Fernet, key derived from SECRET_KEY); the previous one keeps signing in
    parallel until `previous_secret_expires_at` after a rotation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    display_name = models.CharField(max_length=200, blank=True)
    endpoint_url = models.URLField(max_length=2048)
    # Subscribed families (`message`, `templates`, `contact`, `balance`) and, optionally,
    # per family the event suffixes to keep: {"message": ["delivered", "failed"]}.
    event_types = models.JSONField(default=list)
    event_filters = models.JSONField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    signing_secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Accepted and returned for SDK compatibility; the retry schedule is the install's
    # WEBHOOK_RETRY_SCHEDULE (README.d/webhooks.md).
    retry_count = models.PositiveSmallIntegerField(default=3)
    timeout_seconds = models.PositiveSmallIntegerField(default=30)
    # Failed attempts in a row (reset by any success) and when that streak began.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_delivery_attempt_at = models.DateTimeField(null=True, blank=True)
    last_successful_delivery_at = models.DateTimeField(null=True, blank=True)
    # Why Sent turned the endpoint off (410 Gone, too many failures); empty when the
    # customer did it or it is active. Shown by the API and the dashboard.
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The API list (newest first) and the fan-out's "active endpoints of this customer".
            models.Index(fields=["customer", "-created_at"], name="webhook_customer_created"),
            models.Index(fields=["customer", "is_active"], name="webhook_customer_active"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(timeout_seconds__gte=1, timeout_seconds__lte=120),
                name="webhook_timeout_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.endpoint_url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"  # waiting for its first attempt
    SENDING = "sending"  # claimed by a worker, request in flight
    RETRYING = "retrying"  # failed, next attempt at `next_attempt_at`
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # gave up: schedule exhausted, 410, endpoint disabled


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint. Retries are attempts of the same delivery, so
    the receiver sees the same `webhook-id` (the event id) every time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    is_test = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    # Failed attempts since the last (re)delivery request: the index into the retry schedule.
    round_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The latest attempt's outcome (every attempt is in WebhookAttempt).
    http_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processing_completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The fan-out may run twice; an event reaches an endpoint once.
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_event_endpoint"),
        ]
        indexes = [
            # GET /v3/webhooks/{id}/events: one endpoint's deliveries, newest first.
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_created"),
            # The sweep: unfinished deliveries whose task is overdue or whose worker died.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="delivery_unfinished",
                condition=Q(status__in=["pending", "sending", "retrying"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.event} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request to an endpoint (or one refused before sending): the delivery log."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(default=0)
    http_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # One word: delivered, failed, gone, throttled, timeout, blocked, error.
    outcome = models.CharField(max_length=16)
    # At most WEBHOOK_RESPONSE_BODY_LIMIT bytes of what the endpoint answered.
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_delivery_number"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"
