"""Models of the messaging app: messages and their activities, webhook endpoints and their
deliveries of the outbox's events (`sent_project.models.Event`)."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from messaging.statuses import MessageStatus
from sent_project.ids import uuid7
from sent_project.models import Event


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


class CircuitState(models.TextChoices):
    CLOSED = "closed"  # attempts go out
    OPEN = "open"  # paused until circuit_probe_at
    PROBING = "probing"  # one probe attempt in flight


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
    # WEBHOOK_RETRY_SCHEDULE (docs/api/webhooks.md#retries-and-disabling).
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
    # The circuit breaker (docs/api/webhooks.md#slow-and-dead-endpoints): open after
    # WEBHOOK_CIRCUIT_FAILURES failures in a row; no attempt until `circuit_probe_at`, then one
    # probe (state "probing", `circuit_probe_at` = when an unanswered probe counts as lost).
    circuit_state = models.CharField(
        max_length=8, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    circuit_opened_at = models.DateTimeField(null=True, blank=True)
    circuit_probe_at = models.DateTimeField(null=True, blank=True)
    # Times the circuit opened without a success in between: the exponent of the pause.
    circuit_trips = models.PositiveIntegerField(default=0)
    # The lane's round-robin between a tenant's endpoints: when one was last picked.
    lane_picked_at = models.DateTimeField(null=True, blank=True)
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

    @property
    def effective_timeout_seconds(self) -> float:
        """How long a delivery really waits for this endpoint: its `timeout_seconds`, at most
        WEBHOOK_TIMEOUT_MAX_SECONDS (messaging.webhooks.lane.endpoint_timeout)."""
        return min(float(self.timeout_seconds), settings.WEBHOOK_TIMEOUT_MAX_SECONDS)


class ProviderKind(models.TextChoices):
    TWILIO = "twilio", "Twilio (SMS, MMS)"
    CLOUD_API = "cloud_api", "Meta WhatsApp Cloud API"


class ProviderAccount(models.Model):
    """An operator's account at a provider: the identifiers in the clear, the secrets
    encrypted at rest (Fernet, like webhook signing secrets) and never shown back in full.

    Twilio: `account_id` is the account SID (AC…); secrets `auth_token`, or `api_key_sid` +
    `api_key_secret`. Meta: `account_id` is the WhatsApp Business Account id; secrets
    `access_token`, `app_secret`, `verify_token`. Changed only through
    `messaging.providers.accounts` (docs/providers/README.md#provider-accounts).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ProviderKind.choices)
    account_id = models.CharField(
        "account SID / WABA id", max_length=64, help_text="Twilio account SID, or Meta WABA id."
    )
    secrets_encrypted = models.TextField(editable=False, default="")
    secrets_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "account_id"], name="provider_account_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Sender(models.Model):
    """One identity a customer sends from, on one provider account.

    SMS: `address` is an E.164 number or an alphanumeric sender id, or, with
    `provider_ref` = a Messaging Service SID (MG…), the number the service sends from (may be
    empty). WhatsApp: `address` is the business phone number (E.164) and `provider_ref` its
    Cloud API phone number id. `address` is what a send's `channels.{channel}[].from` names
    and what `/v3/me` and messages show as the sender.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(ProviderAccount, on_delete=models.PROTECT, related_name="senders")
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="senders"
    )
    channel = models.CharField(max_length=16, choices=[("sms", "SMS"), ("whatsapp", "WhatsApp")])
    address = models.CharField(
        max_length=20, blank=True, help_text="E.164 number or alphanumeric sender id."
    )
    provider_ref = models.CharField(
        max_length=64,
        blank=True,
        help_text="Twilio Messaging Service SID (MG…), or the WhatsApp phone number id.",
    )
    display_name = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    # How fast dispatch may hand messages to the provider from this sender (SMS: segments per
    # second; WhatsApp: messages per second). Empty: the provider's documented default for
    # this kind of sender (messaging.pacing, docs/providers/README.md#pacing).
    max_rate = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.01)],
        help_text="Per second (SMS: segments; WhatsApp: messages). Empty: the provider's default.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "address"]
        indexes = [models.Index(fields=["customer", "channel"], name="sender_customer_channel")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "channel", "address", "provider_ref"], name="sender_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.address or self.provider_ref}"


class CallbackOutcome(models.TextChoices):
    PENDING = "pending"  # verified and recorded, answered: the callbacks job applies it next
    APPLIED = "applied"  # verified and applied (or recorded: a late or repeated receipt)
    DUPLICATE = "duplicate"  # the same verified request again: nothing changed
    REJECTED = "rejected"  # signature missing or wrong (403), or a body too large (413)
    IGNORED = "ignored"  # verified, but nothing in it for us (unknown message, other field)
    # Verified, but applying it raised an error (its detail); "apply again" in the admin.
    FAILED = "failed"


class ProviderCallback(models.Model):
    """Every request a provider made to our callback URLs, kept for the operator (admin):
    what came, whether its signature held, and what we did with it. A verified request is
    recorded PENDING (whole: it is applied from this record) and applied once by the
    callbacks job (messaging.callbacks.records): the same body to the same URL again is a
    DUPLICATE (`digest`)."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(max_length=16, choices=ProviderKind.choices)
    kind = models.CharField(max_length=32)  # status, inbound, webhook, template_status, …
    account = models.ForeignKey(
        ProviderAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=CallbackOutcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=2048)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    body = models.TextField(blank=True)  # whole if verified, else PROVIDER_CALLBACK_BODY_LIMIT
    # sha256 of url + body for verified requests only (a forged one can't block a real one).
    digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at"], name="callback_received"),
            models.Index(fields=["outcome", "-received_at"], name="callback_outcome_received"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind}: {self.outcome}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"  # waiting for its first attempt
    SENDING = "sending"  # claimed by a worker, request in flight
    RETRYING = "retrying"  # failed, next attempt at `next_attempt_at`
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # gave up: schedule exhausted, 410, endpoint disabled


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint. Retries are attempts of the same delivery, so
    the receiver sees the same `webhook-id` (the event id) every time."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
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
        verbose_name_plural = "webhook deliveries"
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
            # The lane: an endpoint's due deliveries, oldest first, and its attempts in flight.
            models.Index(
                fields=["endpoint", "status", "next_attempt_at"],
                name="delivery_endpoint_due",
                condition=Q(status__in=["pending", "sending", "retrying"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.event} → {self.endpoint_id} ({self.status})"

    @property
    def body_sent(self) -> dict:
        """The JSON we POST for this delivery (the same on every attempt): its event's
        envelope, as `messaging.webhooks.signing.envelope_body` serialises it."""
        from messaging.webhooks.signing import envelope

        return envelope(self.event)


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
    # What this attempt did to the endpoint's circuit: "" (nothing), "opened", "probe" (it was
    # the probe and closed it), "reopened" (it was the probe and failed).
    circuit = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="attempt_delivery_number"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"


class WebhookTenantLane(models.Model):
    """A customer's place in the webhooks lane (docs/architecture.md#fairness-in-the-webhooks-lane): when the lane
    last picked one of its deliveries (round-robin between customers) and how long its attempts
    have waited in the current one-minute window (WEBHOOK_TENANT_WAIT_BUDGET_SECONDS).
    Lane transactions lock this row first, so a customer's claims are counted exactly."""

    customer = models.OneToOneField(
        "billing.Customer", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    picked_at = models.DateTimeField(null=True, blank=True)
    window_started_at = models.DateTimeField(null=True, blank=True)
    waited_ms = models.PositiveBigIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lane of {self.customer_id}"


class WebhookLaneWakeup(models.Model):
    """One row: the time the next `webhook_drain` job is enqueued for, so requests to drain
    coalesce into one job (docs/architecture.md#fairness-in-the-webhooks-lane)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    wake_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"next drain at {self.wake_at}"


class Direction(models.TextChoices):
    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


# `channel: ["sent"]` (or no channel) in a send: the routing engine picks the channel.
AUTO_CHANNEL = "sent"

# Statuses of a message that has not reached a provider yet: the queue
# (docs/api/messages.md#queue). "SCHEDULED" by its wire value: held for a later time.
WAITING_STATUSES = ("QUEUED", "PROCESSED", "SCHEDULED")


class MessageBatch(models.Model):
    """One accepted send (`POST /v3/messages`, a dashboard send, a resend): the messages it
    made share it, so its progress can be followed (docs/api/messages.md#send-progress)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # How many messages it made (one per recipient and requested channel).
    total = models.PositiveIntegerField(default=0)
    template_name = models.CharField(max_length=100, blank=True)
    sandbox = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "message batches"
        indexes = [
            # The queue page's recent sends, newest first.
            models.Index(fields=["customer", "-created_at"], name="batch_customer_created"),
        ]

    def __str__(self) -> str:
        return f"send of {self.total} ({self.template_name or 'text'})"


class Message(models.Model):
    """One message to one contact on one channel, from acceptance to its final status.

    Written only by `messaging.services` (acceptance), `messaging.dispatch` (hand-off to the
    provider), `messaging.receipts` (provider status updates) and `messaging.reconciler`;
    every status change goes through the state machine in `messaging.statuses` as a
    conditional UPDATE and appends a `MessageActivity`. The rendered content, the template's
    name and the prices are copied at acceptance, so a message's history outlives edits and
    deletes of its template.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # Indexed by the composite indexes below, which start with it.
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    direction = models.CharField(
        max_length=8, choices=Direction.choices, default=Direction.OUTBOUND
    )
    # The recipient as it was when sent (E.164) and its country.
    phone = models.CharField(max_length=16)
    region_code = models.CharField(max_length=3, blank=True)
    # The channel it is on now (after a fallback, the fallback's); "" if none could carry it.
    channel = models.CharField(max_length=16, blank=True)
    # What the caller asked for: "sent" (automatic routing) or the channel they named.
    requested_channel = models.CharField(max_length=16, default=AUTO_CHANNEL)
    # Channels still to try, in order, if `channel` says the contact is not reachable there.
    fallbacks = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    # Set with FAILED, FILTERED and BLOCKED (messaging.reasons).
    reason_code = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # The template as it was at acceptance (a plain id: the template may be deleted later).
    template_id = models.UUIDField(null=True, blank=True)
    template_name = models.CharField(max_length=100, blank=True)
    template_category = models.CharField(max_length=20, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    # Free-form text of a send without a template.
    text = models.TextField(blank=True)
    # What goes out on `channel`: the rendered body, and the rest of the rendering
    # ({header, footer, buttons, headerMedia, encoding, segments, characters}).
    body = models.TextField(blank=True)
    content = models.JSONField(default=dict, blank=True)
    # The same message rendered and priced for each fallback channel, at acceptance:
    # {"sms": {"body", "content", "price"}}.
    alternatives = models.JSONField(default=dict, blank=True)
    # Why `channel` was chosen ("whatsapp: available, 98% delivered in last 50").
    routing_reason = models.CharField(max_length=300, blank=True)
    # What the message costs: charged at acceptance (`original_price`), corrected after a
    # fallback (`price`). A sandbox message shows its price but is never charged.
    price = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    original_price = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, default="USD")
    sandbox = models.BooleanField(default=False)
    # Hand-off attempts so far (a claim counts one) and, while QUEUED, when the next is due.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Where it waits for dispatch: its sender's pace key and its customer
    # (messaging.pacing.dispatch_lane); the dispatcher claims round-robin over lanes.
    lane = models.CharField(max_length=80, blank=True)
    # A held message (docs/api/messages.md#scheduling): the time it is due as held — the
    # caller's `scheduled_at`, or later when the recipient's quiet hours moved it — and why
    # it is held (SCHEDULE_REASONS). Null/"" for a message sent right away.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    schedule_reason = models.CharField(max_length=16, blank=True)
    # The worker claim that moved it to PROCESSED (the reconciler's clock for dead workers).
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    # Who it goes out from: the customer's sender (null: the install's default) and its
    # address, copied so the history outlives the sender.
    sender = models.ForeignKey(
        Sender, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_number = models.CharField(max_length=20, blank=True)
    # The send it was part of (null: inbound, or accepted before sends were recorded).
    batch = models.ForeignKey(
        MessageBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The answer to an inbound keyword (STOP's confirmation): sent even to an opted-out contact.
    keyword_reply = models.BooleanField(default=False)
    # What a provider needs beyond the body: WhatsApp template components and language, MMS
    # media and subject ({} for a plain SMS).
    provider_payload = models.JSONField(default=dict, blank=True)
    # Meta's pricing category and conversation id, from its status webhooks.
    pricing_category = models.CharField(max_length=32, blank=True)
    conversation_id = models.CharField(max_length=64, blank=True)
    # The provider that accepted it, its id there, and its last answer.
    provider = models.CharField(max_length=32, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    channel_response = models.JSONField(default=dict, blank=True)
    # The final outcome was counted in the contact's delivery statistics (once).
    stats_recorded = models.BooleanField(default=False)
    # Its status history (the `statusHistory` items every message event embeds), carried on
    # the row and written with each change (messaging.lifecycle.Journal), so an event never
    # re-reads the activities. NULL for messages accepted before the column: their first
    # change reads the activities once and fills it in.
    status_history = models.JSONField(null=True, blank=True, default=None, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def pace_key(self) -> str:
        """The sender bucket its hand-off counts against (messaging.pacing): the simulator's
        for a sandbox message, its sender's, or the install's default route's. An MMS goes
        out from the SMS number."""
        channel = "sms" if self.channel == "mms" else self.channel
        if self.sandbox:
            return f"simulator:{channel}"
        if self.sender_id:
            return f"sender:{self.sender_id}"
        return f"default:{channel}"

    def dispatch_lane(self) -> str:
        """Where it waits for dispatch: its pace key, then its customer."""
        return f"{self.pace_key()}|{self.customer_id}"

    def save(self, *args, **kwargs):
        if not self.lane and self.direction == Direction.OUTBOUND:
            self.lane = self.dispatch_lane()
        super().save(*args, **kwargs)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MessageStatus.values), name="message_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="message_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0, original_price__gte=0), name="message_price_not_negative"
            ),
        ]
        indexes = [
            # GET /v3/messages (and its date range): a customer's messages, newest first.
            models.Index(
                fields=["customer", "-created_at", "-id"], name="message_customer_created"
            ),
            # GET /v3/messages?status=FAILED without scanning the delivered ones.
            models.Index(
                fields=["customer", "status", "-created_at"], name="message_customer_status"
            ),
            # ?contact_id= and the contact's message summary.
            models.Index(fields=["contact", "-created_at"], name="message_contact_created"),
            # ?template_id= and the template-delete check (unfinished messages of a template).
            models.Index(
                fields=["template_id", "-created_at"],
                name="message_template_created",
                condition=Q(template_id__isnull=False),
            ),
            # The reconciler: QUEUED messages whose job is overdue.
            models.Index(
                fields=["next_attempt_at"], name="message_queued_due", condition=Q(status="QUEUED")
            ),
            # Dispatch: the lanes with waiting messages, and each lane's due ones in order
            # (messaging.dispatch.claim_due).
            models.Index(
                fields=["lane", "next_attempt_at"],
                name="message_lane_due",
                condition=Q(status__in=["QUEUED", "SCHEDULED"]),
            ),
            # The reconciler: SCHEDULED messages that are due.
            models.Index(
                fields=["next_attempt_at"],
                name="message_scheduled_due",
                condition=Q(status="SCHEDULED"),
            ),
            # The reconciler: PROCESSED messages whose worker may have died.
            models.Index(
                fields=["claimed_at"],
                name="message_processed_claimed",
                condition=Q(status="PROCESSED"),
            ),
            # Receipts find their message by the provider's id.
            models.Index(
                fields=["provider_message_id"],
                name="message_provider_id",
                condition=~Q(provider_message_id=""),
            ),
            # Inbound to the install's shared number: whose contact last heard from it.
            models.Index(fields=["phone", "-created_at"], name="message_phone_created"),
            # The queue (messaging.queue): the waiting messages only, grouped by sender and
            # status, with what the ages, the due split and the stuck counts read (an
            # index-only scan on PostgreSQL).
            models.Index(
                fields=[
                    *("customer", "status", "sender", "channel"),
                    *("created_at", "next_attempt_at", "claimed_at"),
                ],
                name="message_waiting",
                condition=Q(status__in=WAITING_STATUSES),
            ),
            # The queue's drain rate: what was handed off in the last minute.
            models.Index(
                fields=["customer", "sent_at", "sender", "channel"],
                name="message_customer_sent",
                condition=Q(sent_at__isnull=False),
            ),
            # One send's progress: its messages counted by status.
            models.Index(
                fields=["customer", "batch", "status"],
                name="message_batch_status",
                condition=Q(batch__isnull=False),
            ),
        ]
        constraints += [
            # A provider delivering the same inbound message twice stores it once.
            models.UniqueConstraint(
                fields=["provider", "provider_message_id"],
                condition=Q(direction="INBOUND"),
                name="message_inbound_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel or '-'} to {self.phone} ({self.status})"


class Conversation(models.Model):
    """A customer's thread with one contact, across channels: the inbox's row. Written when
    a message comes in (and by replies to a contact that has one); the messages themselves
    are `Message` rows of both directions."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, related_name="conversation"
    )
    last_message_at = models.DateTimeField()
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_direction = models.CharField(max_length=8, choices=Direction.choices)
    last_channel = models.CharField(max_length=16, blank=True)
    last_text = models.CharField(max_length=200, blank=True)
    # Inbound messages since someone last opened the thread in the dashboard.
    unread_count = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-last_message_at"], name="conversation_recent"),
        ]

    def __str__(self) -> str:
        return f"conversation with {self.contact_id}"


class KeywordAction(models.TextChoices):
    OPT_OUT = "OPT_OUT"
    OPT_IN = "OPT_IN"
    HELP = "HELP"
    OTHER = "OTHER"  # a custom keyword: `contact.custom_keyword`, and its reply if any


class Keyword(models.Model):
    """A customer's own keyword: replaces the default meaning of that word, or adds a custom
    one (docs/api/inbound.md#keywords). Matched against the whole inbound text, ignoring case,
    surrounding spaces and punctuation."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey("billing.Customer", on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=32)
    action = models.CharField(max_length=8, choices=KeywordAction.choices)
    # The reply sent back (plain text); "" = the customer's auto-reply template for the
    # action, else the default sentence, else (OTHER) none.
    reply = models.CharField(max_length=320, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "word"], name="keyword_customer_word"),
        ]

    def __str__(self) -> str:
        return f"{self.word} → {self.action}"


# Why a message is SCHEDULED: the caller's `scheduled_at`, or the recipient's quiet hours.
SCHEDULE_REASONS = ("scheduled", "quiet_hours")


class ActivityKind(models.TextChoices):
    STATUS = "status"  # the status changed (its history)
    RECEIPT = "receipt"  # a provider update that didn't change the status (late, duplicate)
    ROUTED = "routed"  # the channel was chosen, with the reason
    CHARGED = "charged"
    REFUNDED = "refunded"
    ADJUSTED = "adjusted"  # the price was corrected (fallback)
    PROVIDER_ERROR = "provider_error"
    FALLBACK = "fallback"
    RETRY = "retry"
    RECONCILED = "reconciled"
    RECEIVED = "received"  # an inbound message arrived
    KEYWORD = "keyword"  # an inbound keyword was acted on (opt-out, opt-in, help, custom)
    QUIET_HOURS = "quiet_hours"  # held for the recipient's quiet hours


# Kinds that make up the status history (`events[]` of GET /v3/messages/{id}).
HISTORY_KINDS = (ActivityKind.STATUS, ActivityKind.RECEIPT)


class MessageActivity(models.Model):
    """One step in a message's story (append-only): GET /v3/messages/{id}/activities."""

    id = models.BigAutoField(primary_key=True)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    # The message's status this step is about (the new one for a status change).
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    description = models.CharField(max_length=500)
    reason_code = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    channel = models.CharField(max_length=16, blank=True)
    # Money this step is about (the charge, the refund, the correction), else 0.
    price = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    from_number = models.CharField(max_length=20, blank=True)
    # Provider answers, attempt numbers, worker claims.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "message activities"
        indexes = [
            # A message's activities in order (history oldest first, activities newest first).
            models.Index(fields=["message", "id"], name="activity_message_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.description}"


class PeriodicJob(models.Model):
    """When a self-rescheduling job (the message reconciler) next runs: its one pending run."""

    name = models.CharField(max_length=64, primary_key=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return self.name


class SenderPace(models.Model):
    """The token bucket of one sender (its pace key: messaging.pacing.pace_key), shared by
    every worker on every machine: dispatch takes tokens in the transaction that claims the
    messages, so the sender's rate holds however many workers run. `factor` (0–1] is the
    adaptive part: a provider's 429 halves it, and it recovers over PACING_RECOVERY_SECONDS."""

    key = models.CharField(max_length=64, primary_key=True)
    tokens = models.FloatField(default=0.0)
    factor = models.FloatField(default=1.0)
    refilled_at = models.DateTimeField(default=timezone.now)
    throttled_until = models.DateTimeField(null=True, blank=True)
    throttles = models.PositiveIntegerField(
        default=0, help_text="Rate limits the provider signalled."
    )

    def __str__(self) -> str:
        return self.key
