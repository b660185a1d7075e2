"""Message templates: content with named variables, per customer, with a review lifecycle."""

import uuid

from django.db import models
from django.db.models import Q

from templates_app import definition as defn


class TemplateCategory(models.TextChoices):
    # WhatsApp prices a message by its template's category (billing reads it).
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class AutoReplyAction(models.TextChoices):
    """A template that answers an inbound keyword (messaging.keywords) instead of the
    default reply: the SDK's `auto_reply_action`."""

    OPT_IN = "OPT_IN"
    OPT_OUT = "OPT_OUT"
    HELP = "HELP"
    OTHER = "OTHER"


class TemplateStatus(models.TextChoices):
    DRAFT = "DRAFT"  # created without review
    PENDING = "PENDING"  # in review: content frozen
    APPROVED = "APPROVED"  # the only status that can send
    REJECTED = "REJECTED"  # reviewer said no (`rejection_reason`); editable, resubmittable
    PAUSED = "PAUSED"  # stopped by the reviewer/operator (e.g. quality); only a reviewer reinstates
    DISABLED = "DISABLED"  # SDK status: disabled by WhatsApp
    REVOKED = "REVOKED"  # SDK status: approval withdrawn
    ARCHIVED = "ARCHIVED"  # retired by an operator (seed docs)


class Template(models.Model):
    """A customer's template. `definition` is the API's camelCase structure (docs/api/templates.md#the-definition-and-its-rules), stored
    normalised (see `templates_app.definition`); change it only through the services."""

    Category = TemplateCategory
    Status = TemplateStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        "billing.Customer", on_delete=models.CASCADE, related_name="templates"
    )
    # The reference callers use when sending (`template: {"name": ...}`); unique per customer.
    name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=20, choices=TemplateCategory.choices)
    language = models.CharField(max_length=16, default="en_US")
    status = models.CharField(
        max_length=10, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT
    )
    rejection_reason = models.TextField(blank=True)
    # True exactly while the template is APPROVED, i.e. usable for sending.
    is_published = models.BooleanField(default=False)
    whatsapp_template_id = models.CharField(max_length=100, blank=True)
    whatsapp_template_name = models.CharField(max_length=512, blank=True)
    # Set when a submission broke WhatsApp's template rules (templates_app.whatsapp_rules):
    # the WhatsApp leg alone is REJECTED for this reason while the template stays usable on
    # SMS. Cleared when a new WhatsApp review opens or the content changes.
    whatsapp_rejection_reason = models.TextField(blank=True)
    definition = models.JSONField()
    creation_source = models.CharField(max_length=50, default="from-api")
    # Set on a keyword auto-reply template only ("" for ordinary templates).
    auto_reply_action = models.CharField(max_length=8, choices=AutoReplyAction.choices, blank=True)
    # The definition's texts, kept in step by save(): what `search` matches besides the names.
    content_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Sends name templates by `name`: one per customer.
            models.UniqueConstraint(fields=["customer", "name"], name="template_customer_name"),
            models.CheckConstraint(
                condition=Q(status__in=TemplateStatus.values), name="template_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=TemplateCategory.values), name="template_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_published=True, status=TemplateStatus.APPROVED)
                | (Q(is_published=False) & ~Q(status=TemplateStatus.APPROVED)),
                name="template_published_iff_approved",
            ),
        ]
        indexes = [
            # GET /v3/templates: one customer's templates, newest first.
            models.Index(fields=["customer", "-created_at"], name="template_customer_created"),
            # GET /v3/templates?status=APPROVED (the send playground's picker).
            models.Index(fields=["customer", "status"], name="template_customer_status"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.content_text = "\n".join(defn.definition_texts(self.definition or {}))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "definition" in update_fields:
            kwargs["update_fields"] = {*update_fields, "content_text"}
        super().save(*args, **kwargs)

    @property
    def channels(self) -> list[str]:
        """Channels the definition can render on (not approval), in the API's order."""
        return defn.definition_channels(self.definition)

    @property
    def delivery_channels(self) -> list[str]:
        """Channels a send of it can go out on in this install (what the dashboard shows):
        no RCS, MMS only with media."""
        return defn.delivery_channels(self.definition)

    @property
    def whatsapp_status(self) -> str | None:
        """The WhatsApp leg's status: None without WhatsApp content; REJECTED when WhatsApp's
        rules refused it on its own; otherwise the template's status."""
        if "whatsapp" not in self.channels:
            return None
        return TemplateStatus.REJECTED if self.whatsapp_rejection_reason else self.status

    @property
    def sendable_channels(self) -> list[str]:
        """Channels a send may use now: none unless APPROVED, and not WhatsApp while its
        leg is rejected."""
        if self.status != TemplateStatus.APPROVED:
            return []
        return [c for c in self.channels if c != "whatsapp" or not self.whatsapp_rejection_reason]

    @property
    def variables(self) -> list[str]:
        """Names of every declared variable: the keys a send must pass in `parameters`."""
        return defn.definition_variables(self.definition)


class TemplateStatusChange(models.Model):
    """One status change of a template (append-only), for its history and audit."""

    class Source(models.TextChoices):
        API = "api"
        ADMIN = "admin"
        PROVIDER = "provider"  # the WhatsApp reviewer's verdict
        SYSTEM = "system"  # e.g. SMS-only templates approved on submission, seed data

    id = models.BigAutoField(primary_key=True)
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, blank=True)  # "" for the creation row
    to_status = models.CharField(max_length=10, choices=TemplateStatus.choices)
    # The channel leg the change is about ("whatsapp", "sms"); "" for the whole template.
    channel = models.CharField(max_length=10, blank=True)
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        get_latest_by = "id"
        indexes = [
            # A template's history, in order (detail view, stale-verdict check).
            models.Index(fields=["template", "id"], name="template_status_change_seq"),
        ]

    def __str__(self) -> str:
        leg = f"{self.channel}: " if self.channel else ""
        return f"{leg}{self.from_status or '∅'} → {self.to_status}"
