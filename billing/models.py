"""The customer account that pays: customer, API keys, dashboard memberships, balance ledger,
and the price table (with per-customer overrides) that messages are charged from."""

import uuid
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 18, "decimal_places": 4}


class Customer(models.Model):
    """A tenant: owns contacts, templates, messages and webhooks, and pays for messages."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    description = models.CharField(max_length=500, blank=True)
    # Changed only by billing services, inside a transaction, with a LedgerEntry.
    balance = models.DecimalField(**MONEY, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD", editable=False)
    # Region used to parse national-format numbers ("(234) 567-8900").
    default_region = models.CharField(max_length=2, default="US")
    low_balance_threshold = models.DecimalField(**MONEY, default=Decimal("5"))
    # How automatic routing orders the channels a contact can get (messaging.routing):
    # WhatsApp first where available (the default), or the cheapest healthy channel.
    routing_strategy = models.CharField(
        max_length=20,
        choices=[
            ("prefer_whatsapp", "Prefer WhatsApp"),
            ("cheapest_reliable", "Cheapest reliable channel"),
        ],
        default="prefer_whatsapp",
    )
    # Quiet hours (docs/api/messages.md#quiet-hours): marketing messages that would reach a
    # recipient between start and end, in the recipient's local time, are held until the
    # end. Off by default; start > end spans midnight (21:00 → 08:00).
    quiet_hours_enabled = models.BooleanField(default=False)
    quiet_hours_start = models.TimeField(default=time(21, 0))
    quiet_hours_end = models.TimeField(default=time(8, 0))
    # Every user must sign in with a second factor (set by the account's admins).
    require_two_factor = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="customer_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """An API key. Only a SHA-256 hash of the secret is stored; the full key is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="Default")
    # The first characters of the key, safe to display ("sent_k7Qp2x…").
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"  # the admin's "API keys", not "Api keys"
        ordering = ["-created_at"]
        indexes = [
            # The dashboard's API key list: one customer's keys, newest first.
            models.Index(fields=["customer", "-created_at"], name="apikey_customer_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Membership(models.Model):
    """A dashboard user belongs to exactly one customer, with one role (docs/dashboard.md#roles).

    `public_id` is the user's id in the API (`/v3/users/{id}`). An invited user has a Django
    user that cannot sign in (no usable password, inactive) until the invitation is accepted.
    """

    class Role(models.TextChoices):
        ADMIN = "admin"
        BILLING = "billing"
        DEVELOPER = "developer"

    class Status(models.TextChoices):
        INVITED = "invited"
        ACTIVE = "active"
        SUSPENDED = "suspended"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ADMIN)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Has a confirmed second factor (kept by billing.two_factor, read on every page).
    two_factor = models.BooleanField(default=False)
    invited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The users list: one customer's members, oldest first.
            models.Index(fields=["customer", "created_at"], name="membership_customer_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"


class Invitation(models.Model):
    """A one-time link that lets an invited user set a password. Only a hash of the token is
    stored; the link is in the email. Valid until `expires_at`, used once."""

    id = models.BigAutoField(primary_key=True)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"invitation of {self.membership.user}"


class AuditEntryQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("Audit entries are append-only")

    def update(self, **kwargs):
        raise PermissionError("Audit entries are append-only")


class AuditEntry(models.Model):
    """Who did what and when, in one customer's account (docs/dashboard.md#audit-log).
    Append-only. The actor is a dashboard user or an API key; `actor` keeps its name for
    when the user or key is gone."""

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="audit_log")
    action = models.CharField(max_length=64)
    actor = models.CharField(max_length=200)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["customer", "-id"], name="audit_customer_id"),
            # The action filter of the log page and the invitation rate limit.
            models.Index(fields=["customer", "action", "created_at"], name="audit_customer_action"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries are append-only")


class LedgerEntryQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("Ledger entries are append-only")

    def update(self, **kwargs):
        raise PermissionError("Ledger entries are append-only")


class LedgerEntry(models.Model):
    """One change of a customer's balance. Append-only: the sum of `amount` equals the balance.

    Besides the Python guards below, the database refuses UPDATE (and on PostgreSQL DELETE)
    of ledger rows: see `billing.db_guards`.
    """

    class Kind(models.TextChoices):
        TOP_UP = "top_up"
        CHARGE = "charge"
        ADJUSTMENT = "adjustment"
        REFUND = "refund"

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Positive adds to the balance (top-up, refund), negative takes from it (charge).
    amount = models.DecimalField(**MONEY)
    # The balance right after this entry: a running sum, checked by `check_ledger`.
    ending_balance = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, default="USD")
    description = models.CharField(max_length=300, blank=True)
    # Machine-readable why, for refunds and adjustments ("fallback", "price_correction"):
    # an adjustment is unique per (message, reason), so a retried correction applies once.
    reason = models.CharField(max_length=64, blank=True)
    # The message it is for, where there is one (no FK: the messaging app owns messages,
    # and ledger rows outlive them).
    message_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            # The dashboard ledger page and check_ledger: one customer's entries by id.
            models.Index(fields=["customer", "-id"], name="ledger_customer_id"),
            # Refund/adjustment idempotency: entries of one message.
            models.Index(
                fields=["message_id"], name="ledger_message", condition=Q(message_id__isnull=False)
            ),
        ]
        constraints = [
            # A message is refunded at most once, even if its failure path runs twice at once.
            models.UniqueConstraint(
                fields=["message_id"],
                condition=Q(kind="refund"),
                name="ledger_one_refund_per_message",
            ),
            # A correction (fallback, price change) of one message applies once per reason.
            models.UniqueConstraint(
                fields=["message_id", "reason"],
                condition=Q(kind="adjustment"),
                name="ledger_one_adjustment_per_reason",
            ),
            models.CheckConstraint(
                condition=Q(ending_balance__gte=0), name="ledger_ending_balance_not_negative"
            ),
            # Charges take, top-ups and refunds give; adjustments go either way.
            models.CheckConstraint(
                condition=Q(kind="charge", amount__lte=0)
                | Q(kind__in=["top_up", "refund"], amount__gt=0)
                | Q(kind="adjustment"),
                name="ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["refund", "adjustment"], message_id__isnull=False)
                | Q(kind__in=["top_up", "charge"]),
                name="ledger_refund_adjustment_have_message",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger entries are append-only")


class Channel(models.TextChoices):
    """The channels a message can be priced for (wire values, as in the API)."""

    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    MMS = "mms", "MMS"


class PriceCategory(models.TextChoices):
    """What a WhatsApp message is priced as. SMS and MMS rows use "" (any content)."""

    NONE = "", "— (SMS, MMS)"
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"
    # Free-form text (no template), deliverable only inside the 24-hour customer-service
    # window, where Meta charges nothing: our per-message platform fee only.
    SERVICE = "SERVICE"


ANY_COUNTRY = "*"
# Two upper-case letters (ISO 3166-1 alpha-2) or "*" for "every other country".
COUNTRY_CHECK = Q(country__regex=r"^([A-Z]{2}|\*)$")
PRICE = {"max_digits": 12, "decimal_places": 4}
COUNTRY_MESSAGE = 'Country must be a two-letter ISO code such as "DE", or "*".'
CATEGORY_FITS_CHANNEL = Q(channel__in=["sms", "mms"], category="") | Q(
    channel="whatsapp", category__in=["MARKETING", "UTILITY", "AUTHENTICATION", "SERVICE"]
)
CATEGORY_MESSAGE = "SMS and MMS prices have no category; WhatsApp prices need one."


class _CountryCleanMixin:
    def clean(self):
        super().clean()
        self.country = (self.country or "").strip().upper()


class Price(_CountryCleanMixin, models.Model):
    """The list price of one unit: an SMS segment, one MMS, or one WhatsApp message of a
    category.

    Resolution (see `billing.pricing`): the exact country row, else the `*` row of the
    same channel and category. Admin-editable; `prices_seed_defaults()` fills the defaults.
    """

    channel = models.CharField(max_length=16, choices=Channel.choices)
    country = models.CharField(max_length=2, help_text='ISO country code, or "*" for any other')
    category = models.CharField(max_length=16, choices=PriceCategory.choices, blank=True)
    unit_price = models.DecimalField(
        **PRICE, help_text="USD per SMS segment / MMS / WhatsApp message"
    )
    currency = models.CharField(max_length=3, default="USD", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "country", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "country", "category"], name="price_unique_key"
            ),
            models.CheckConstraint(
                condition=COUNTRY_CHECK,
                name="price_country_format",
                violation_error_message=COUNTRY_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="price_not_negative",
                violation_error_message="A price cannot be negative.",
            ),
            models.CheckConstraint(
                condition=CATEGORY_FITS_CHANNEL,
                name="price_category_fits_channel",
                violation_error_message=CATEGORY_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        category = f" {self.category}" if self.category else ""
        return f"{self.get_channel_display()} {self.country}{category}: {self.unit_price} {self.currency}"


class PriceOverride(_CountryCleanMixin, models.Model):
    """A customer's negotiated price: a fixed unit price, or a discount off the table.

    `country` may be "*" and `category` "" (any), so one row can say "20% off every
    WhatsApp message"; the most specific matching row wins (country first, then category).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="price_overrides")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    country = models.CharField(
        max_length=2, default=ANY_COUNTRY, help_text='ISO country code, or "*" for every country'
    )
    category = models.CharField(
        max_length=16, choices=PriceCategory.choices, blank=True, help_text="Empty: every category"
    )
    unit_price = models.DecimalField(
        **PRICE, null=True, blank=True, help_text="Negotiated USD unit price (or leave empty)"
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Percent off the table price (or leave empty)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "country", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel", "country", "category"],
                name="price_override_unique_key",
            ),
            models.CheckConstraint(
                condition=COUNTRY_CHECK,
                name="price_override_country_format",
                violation_error_message=COUNTRY_MESSAGE,
            ),
            models.CheckConstraint(
                condition=CATEGORY_FITS_CHANNEL | Q(channel="whatsapp", category=""),
                name="price_override_category_fits_channel",
                violation_error_message="An SMS or MMS override has no category.",
            ),
            # Exactly one of a fixed price or a discount.
            models.CheckConstraint(
                condition=Q(
                    unit_price__isnull=False, discount_percent__isnull=True, unit_price__gte=0
                )
                | Q(
                    unit_price__isnull=True,
                    discount_percent__isnull=False,
                    discount_percent__gte=0,
                    discount_percent__lte=100,
                ),
                name="price_override_price_xor_discount",
                violation_error_message="Give either a unit price (0 or more) or a discount "
                "between 0 and 100 percent, not both.",
            ),
        ]

    def __str__(self) -> str:
        what = (
            f"{self.unit_price} USD"
            if self.unit_price is not None
            else f"-{self.discount_percent}%"
        )
        return f"{self.customer}: {self.channel} {self.country} {self.category or 'any'} {what}"


class CustomerCacheVersion(models.Model):
    """A counter bumped (in the writing transaction) by every change to what the API caches
    for this customer: its templates (and their review history) and its price overrides
    (`billing.caching`; API keys are read live, never cached).

    A row of its own, changed only by `UPDATE … SET value = value + 1`, so a full save of
    the Customer can never write an old value back. No row yet reads as 0.
    """

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="cache_version"
    )
    value = models.PositiveBigIntegerField(default=0)


class CacheVersion(models.Model):
    """A counter of a cached thing that belongs to no customer ("prices": the price table),
    bumped like `CustomerCacheVersion`."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)
