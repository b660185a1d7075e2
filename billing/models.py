"""The customer account that pays: customer, API keys, dashboard memberships, balance ledger."""

import uuid
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
    """A dashboard user belongs to exactly one customer."""

    class Role(models.TextChoices):
        ADMIN = "admin"
        BILLING = "billing"
        DEVELOPER = "developer"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"


class LedgerEntryQuerySet(models.QuerySet):
    def delete(self):
        raise PermissionError("Ledger entries are append-only")

    def update(self, **kwargs):
        raise PermissionError("Ledger entries are append-only")


class LedgerEntry(models.Model):
    """One change of a customer's balance. Append-only: the sum of `amount` equals the balance."""

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
            models.Index(fields=["message_id"], name="ledger_message", condition=Q(message_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger entries are append-only")
