from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from billing.models import (
    ApiKey,
    AuditEntry,
    Customer,
    Invitation,
    LedgerEntry,
    Membership,
    Price,
    PriceOverride,
)
from billing.services import api_key_create, api_key_revoke, balance_top_up, customer_create
from sent_project.admin import ReadOnlyAdmin
from sent_project.errors import SentError


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class PriceOverrideInline(admin.TabularInline):
    """Negotiated prices: a fixed unit price or a discount, per channel/country/category."""

    model = PriceOverride
    fields = ["channel", "country", "category", "unit_price", "discount_percent"]
    extra = 0


class TopUpForm(forms.Form):
    amount = forms.DecimalField(
        min_value=Decimal("0.0001"),
        max_digits=18,
        decimal_places=4,
        help_text="USD, added to each selected customer's balance",
    )
    note = forms.CharField(
        max_length=200, required=False, help_text="Shown in the ledger, e.g. the invoice number"
    )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "balance", "currency", "default_region", "created_at"]
    search_fields = ["name", "email", "id"]
    readonly_fields = ["id", "balance", "currency", "created_at", "updated_at"]
    fields = [
        "id",
        "name",
        "email",
        "description",
        "default_region",
        "low_balance_threshold",
        "routing_strategy",
        "balance",
        "currency",
        "created_at",
        "updated_at",
    ]
    inlines = [ApiKeyInline, MembershipInline, PriceOverrideInline]
    actions = ["top_up"]
    # Editable on an existing customer. Saving only these keeps the admin from writing back
    # a balance it read before a concurrent charge.
    EDITABLE = [
        "name",
        "email",
        "description",
        "default_region",
        "low_balance_threshold",
        "routing_strategy",
    ]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=[*self.EDITABLE, "updated_at"])
            return
        created = customer_create(
            name=obj.name,
            email=obj.email,
            default_region=obj.default_region,
            description=obj.description,
            low_balance_threshold=obj.low_balance_threshold,
            routing_strategy=obj.routing_strategy,
        )
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Top up balance of selected customers")
    def top_up(self, request, queryset):
        """An intermediate page asks for amount and note; each customer gets one ledger entry."""
        form = TopUpForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for customer in queryset:
                try:
                    entry = balance_top_up(
                        customer, amount=form.cleaned_data["amount"], note=form.cleaned_data["note"]
                    )
                except SentError as exc:
                    self.message_user(request, f"{customer}: {exc.message}", messages.ERROR)
                    continue
                self.message_user(
                    request, f"{customer}: balance now {entry.ending_balance} {entry.currency}."
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Top up balance",
            "form": form,
            "customers": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/billing/customer/top_up.html", context)


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    """The list price table. Unit prices are editable in the list; quotes read it live."""

    list_display = ["channel", "country", "category", "unit_price", "currency", "updated_at"]
    list_editable = ["unit_price"]
    list_filter = ["channel", "category"]
    search_fields = ["country"]
    list_per_page = 200


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "customer", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "customer__name"]
    list_select_related = ["customer"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    autocomplete_fields = ["customer"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ["customer", "name"] + (self.readonly_fields if obj else [])

    def get_readonly_fields(self, request, obj=None):
        return ["customer", *self.readonly_fields] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        created = api_key_create(obj.customer, name=obj.name)
        obj.pk = created.api_key.pk
        obj._state.adding = False
        obj._state.db = created.api_key._state.db
        self.message_user(
            request,
            f"API key created. Copy it now, it will not be shown again: {created.raw_key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        for api_key in queryset.select_related("customer"):
            api_key_revoke(api_key.customer, api_key_id=api_key.pk)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "role", "status", "two_factor", "created_at"]
    list_filter = ["role", "status"]
    search_fields = ["user__username", "user__email", "customer__name"]
    autocomplete_fields = ["user", "customer"]
    readonly_fields = ["public_id", "two_factor", "invited_at"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations (their tokens are hashes: the link is only in the email). An operator may
    withdraw one by deleting it; new ones come from the users page or the API."""

    list_display = ["membership", "created_at", "expires_at", "used_at", "revoked_at"]
    list_select_related = ["membership__user", "membership__customer"]
    readonly_fields = [f.name for f in Invitation._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["created_at", "customer", "action", "actor", "target"]
    list_filter = ["action"]
    list_select_related = ["customer"]
    search_fields = ["actor", "target", "customer__name"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Read-only: the ledger changes only through billing services."""

    list_display = [
        "id",
        "customer",
        "kind",
        "amount",
        "ending_balance",
        "currency",
        "reason",
        "message_id",
        "created_at",
    ]
    list_filter = ["kind"]
    search_fields = ["customer__name", "message_id", "description"]
    list_select_related = ["customer"]
