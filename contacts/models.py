"""Contacts: validated, normalised, channel-aware phone endpoints of a customer.

A contact stores what queries and routing need (E.164, calling code, region, line type,
channel availability, consent, delivery statistics); the display formats, carrier and time
zones are derived from the E.164 number on read (`contact.details`), which keeps bulk
imports fast and follows phonenumbers' data when it is updated.
"""

import uuid
from functools import cached_property

from django.db import models
from django.db.models import Q

from contacts.phone import PhoneDetails, describe_e164
from sent_project.ids import uuid7


class Channel(models.TextChoices):
    SMS = "sms"
    WHATSAPP = "whatsapp"


# Wire order of `available_channels` ("sms,whatsapp").
CHANNEL_ORDER = (Channel.SMS, Channel.WHATSAPP)


class Source(models.TextChoices):
    """Who created a contact or changed its consent."""

    API = "api"
    DASHBOARD = "dashboard"
    IMPORT = "import"
    MESSAGE = "message"  # created implicitly by a send
    KEYWORD = "keyword"  # an inbound STOP/START
    PROVIDER = "provider"  # a provider's signal (e.g. a carrier opt-out)
    ADMIN = "admin"


class LineType(models.TextChoices):
    FIXED_LINE = "fixed_line"
    MOBILE = "mobile"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    VOIP = "voip"
    PERSONAL_NUMBER = "personal_number"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


class AliveContactManager(models.Manager):
    """`Contact.objects`: contacts that are not deleted. `Contact.all_objects` has every row."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Contact(models.Model):
    """One phone number of a customer: unique per customer among contacts not deleted.

    Deleting is soft (`deleted_at`): messages keep pointing at the row, and the same number
    can be created again as a new contact with a new id.
    """

    # Time-ordered (UUIDv7): bulk inserts append to the primary key's index.
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # Indexed by the composite indexes below, which all start with it.
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    # The number as the caller gave it.
    phone_number = models.CharField(max_length=64)
    # The person's name, if the customer gave one ("" if not); searchable (`search_text`).
    name = models.CharField(max_length=200, blank=True)
    format_e164 = models.CharField(max_length=16)
    country_code = models.CharField(max_length=4)  # calling code, "1"
    region_code = models.CharField(max_length=3, blank=True)  # "US"; "001" non-geographic
    line_type = models.CharField(max_length=24, choices=LineType.choices)
    # Channel availability and when it was last established (detection or a delivery result).
    sms_available = models.BooleanField(default=False)
    sms_checked_at = models.DateTimeField(null=True, blank=True)
    whatsapp_available = models.BooleanField(default=False)
    whatsapp_checked_at = models.DateTimeField(null=True, blank=True)
    # WhatsApp's customer-service window: open for 24 hours after the contact's last inbound
    # WhatsApp message; free-form WhatsApp text may be sent while it is open.
    whatsapp_window_expires_at = models.DateTimeField(null=True, blank=True)
    # "" when the contact has no channel. Detected (WhatsApp when available, else SMS) unless
    # the customer chose it (`default_channel_is_custom`).
    default_channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    default_channel_is_custom = models.BooleanField(default=False)
    # Current consent; its history is the ConsentEvent ledger.
    opt_out = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    # Lower-case E.164 digits, name and metadata values: what `search` matches (trigram index
    # on PostgreSQL).
    search_text = models.TextField(blank=True, editable=False)
    # Per channel: {"attempts": n, "delivered": n, "recent": "1101"} (recent outcomes, oldest
    # first, 1 = delivered). Written by contact_record_delivery; read by routing.
    delivery_stats = models.JSONField(default=dict, blank=True, editable=False)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AliveContactManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        base_manager_name = "all_objects"
        constraints = [
            # One live contact per number and customer. Also serves the `phone` filter, the
            # bulk "which of these numbers exist" lookup and (pattern ops) prefix search.
            models.UniqueConstraint(
                fields=["customer", "format_e164"],
                condition=Q(deleted_at__isnull=True),
                name="contact_customer_e164_uniq",
                opclasses=["uuid_ops", "varchar_pattern_ops"],
            ),
            models.CheckConstraint(
                condition=Q(default_channel__in=["", "sms", "whatsapp"]),
                name="contact_default_channel_valid",
            ),
        ]
        indexes = [
            # GET /v3/contacts: a customer's live contacts, newest first.
            models.Index(
                fields=["customer", "-created_at", "-id"],
                name="contact_customer_created",
                condition=Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.format_e164

    @cached_property
    def details(self) -> PhoneDetails:
        return describe_e164(self.format_e164)

    @property
    def format_international(self) -> str:
        return self.details.international

    @property
    def format_national(self) -> str:
        return self.details.national

    @property
    def format_rfc(self) -> str:
        return self.details.rfc3966

    @property
    def carrier(self) -> str:
        return self.details.carrier

    @property
    def time_zones(self) -> list[str]:
        return self.details.time_zones

    @property
    def channels(self) -> list[str]:
        available = {Channel.SMS: self.sms_available, Channel.WHATSAPP: self.whatsapp_available}
        return [str(channel) for channel in CHANNEL_ORDER if available[channel]]

    @property
    def available_channels(self) -> str:
        return ",".join(self.channels)

    @property
    def display_name(self) -> str:
        """The name to show: `name`, else a text `name` in the metadata (where names were kept
        before contacts had one), else ""."""
        if self.name:
            return self.name
        legacy = self.metadata.get("name") if isinstance(self.metadata, dict) else None
        return legacy if isinstance(legacy, str) else ""

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def channel_stats(self, channel: str) -> dict:
        """{"attempts", "delivered", "recent"} of one channel (zeros when never used)."""
        stats = self.delivery_stats.get(channel) or {}
        return {
            "attempts": stats.get("attempts", 0),
            "delivered": stats.get("delivered", 0),
            "recent": stats.get("recent", ""),
        }

    def channel_success_rate(self, channel: str) -> float | None:
        """Share of the recent messages on `channel` that were delivered; None without any."""
        recent = self.channel_stats(channel)["recent"]
        return recent.count("1") / len(recent) if recent else None


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Consent events are append-only")

    def delete(self):
        raise PermissionError("Consent events are append-only")


class ConsentEvent(models.Model):
    """One opt-out or opt-in of a contact: the consent ledger. Append-only.

    `opt_out` is the state it resulted in; `Contact.opt_out` always equals the latest one.
    """

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="consent_events", db_index=False
    )
    opt_out = models.BooleanField()
    source = models.CharField(max_length=16, choices=Source.choices)
    # Free-form evidence: the keyword text, who in the dashboard, the import id.
    note = models.CharField(max_length=300, blank=True)
    message_id = models.UUIDField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            # GET /v3/contacts/{id}/consent: one contact's history in order.
            models.Index(fields=["contact", "id"], name="consent_contact_id"),
            # The account's consent export, in order.
            models.Index(fields=["customer", "id"], name="consent_customer_id"),
        ]

    def __str__(self) -> str:
        return f"{'opt-out' if self.opt_out else 'opt-in'} ({self.source})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Consent events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Consent events are append-only")


class ContactImport(models.Model):
    """A bulk import (CSV or JSON, up to CONTACTS_IMPORT_MAX_ROWS rows), run in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    class Format(models.TextChoices):
        CSV = "csv"
        JSON = "json"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    source_format = models.CharField(max_length=8, choices=Format.choices)
    filename = models.CharField(max_length=200, blank=True)
    # The rows to import (CSV text or a JSON array), emptied once the import has finished.
    payload = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    # Rows handled so far (each with its stored result; a rerun skips those).
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    opted_out_count = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="contactimport_customer_created"),
        ]

    def __str__(self) -> str:
        return f"import {self.id} ({self.status})"

    @property
    def rows_per_second(self) -> float | None:
        if not (self.started_at and self.finished_at) or not self.processed_rows:
            return None
        seconds = (self.finished_at - self.started_at).total_seconds()
        return round(self.processed_rows / seconds, 1) if seconds > 0 else None


class ContactImportRow(models.Model):
    """The result of one row of an import (row_number is 1-based, header excluded)."""

    class Status(models.TextChoices):
        CREATED = "created"
        EXISTING = "existing"
        INVALID = "invalid"

    pk = models.CompositePrimaryKey("contact_import", "row_number")
    # No database constraint: only the import writes these rows (100,000 FK checks per
    # import cost a third of a second); Django still cascades deletes.
    contact_import = models.ForeignKey(
        ContactImport,
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField()
    phone_number = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices)
    # No foreign key: a result stays readable whatever happens to the contact later.
    contact_id = models.UUIDField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["contact_import", "row_number"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.status}"
