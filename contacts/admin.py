"""Django admin for contacts: search by any format, filters, normalised fields read-only.

Changes go through the contact services (consent ledger and events included).
"""

from django import forms
from django.contrib import admin

from contacts.bulk import metadata_error
from contacts.models import Channel, ConsentEvent, Contact, ContactImport, Source
from contacts.phone import normalise
from contacts.selectors import search_filter
from contacts.services import contact_create, contact_delete, contact_update
from sent_project.admin import ReadOnlyAdmin
from sent_project.errors import SentError

NORMALISED = [
    "format_e164",
    "format_international",
    "format_national",
    "format_rfc",
    "country_code",
    "region_code",
    "line_type",
    "carrier",
    "time_zones",
    "available_channels",
    "sms_available",
    "sms_checked_at",
    "whatsapp_available",
    "whatsapp_checked_at",
    "default_channel_is_custom",
    "delivery_stats",
    "source",
    "created_at",
    "updated_at",
]


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return [("sms", "SMS"), ("whatsapp", "WhatsApp"), ("none", "No channel")]

    def queryset(self, request, queryset):
        if self.value() == "sms":
            return queryset.filter(sms_available=True)
        if self.value() == "whatsapp":
            return queryset.filter(whatsapp_available=True)
        if self.value() == "none":
            return queryset.filter(sms_available=False, whatsapp_available=False)
        return queryset


class MetadataFormMixin:
    def clean_metadata(self):
        """What the services would refuse, as a form error (`null` = none / unchanged)."""
        metadata = self.cleaned_data.get("metadata")
        if metadata is not None and (error := metadata_error(metadata)):
            raise forms.ValidationError(error.message)
        return metadata


class ContactAddForm(MetadataFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["customer", "phone_number", "metadata"]

    def clean(self):
        cleaned = super().clean()
        customer, phone_number = cleaned.get("customer"), cleaned.get("phone_number")
        if customer and phone_number:
            try:
                normalise(phone_number, customer.default_region)
            except SentError as exc:
                raise forms.ValidationError(exc.message) from None
        return cleaned


class ContactChangeForm(MetadataFormMixin, forms.ModelForm):
    default_channel = forms.ChoiceField(choices=Channel.choices, required=False)

    class Meta:
        model = Contact
        fields = ["default_channel", "opt_out", "metadata"]

    def clean_default_channel(self):
        value = self.cleaned_data["default_channel"]
        if value and value != self.instance.default_channel and value not in self.instance.channels:
            raise forms.ValidationError(f"This contact has no {value} channel.")
        return value


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = [
        "format_e164",
        "customer",
        "region_code",
        "line_type",
        "available_channels",
        "default_channel",
        "opt_out",
        "created_at",
    ]
    list_filter = [ChannelFilter, "opt_out", "line_type", "region_code"]
    list_select_related = ["customer"]
    search_fields = ["format_e164"]
    search_help_text = (
        "Any part of the number in any format (+1234, (234) 567, 234-56) or metadata."
    )
    show_full_result_count = False
    ordering = ["-created_at", "-id"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ContactChangeForm if obj else ContactAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["customer", "phone_number", "metadata"]
        return ["customer", "phone_number", "default_channel", "opt_out", "metadata", *NORMALISED]

    def get_readonly_fields(self, request, obj=None):
        return ["customer", "phone_number", *NORMALISED] if obj else []

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(search_filter(search_term)), False

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            contact, _ = contact_create(
                data["customer"],
                phone_number=data["phone_number"],
                source=Source.ADMIN,
                metadata=data.get("metadata") or None,
            )
            obj.pk, obj._state.adding, obj._state.db = contact.pk, False, contact._state.db
            return
        data = form.cleaned_data
        # The select always posts a channel: only a change of it makes the default custom.
        chosen = "default_channel" in form.changed_data and data.get("default_channel")
        contact_update(
            obj.customer,
            contact_id=obj.pk,
            default_channel=chosen or None,
            opt_out=data.get("opt_out"),
            metadata=data.get("metadata"),
            source=Source.ADMIN,
        )

    def delete_model(self, request, obj):
        contact_delete(obj.customer, contact_id=obj.pk, source=Source.ADMIN)

    def delete_queryset(self, request, queryset):
        for contact in queryset.select_related("customer"):
            contact_delete(contact.customer, contact_id=contact.pk, source=Source.ADMIN)


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    """The consent ledger: append-only, changed only through the contact services."""

    list_display = ["id", "contact", "customer", "opt_out", "source", "note", "created_at"]
    list_filter = ["opt_out", "source"]
    list_select_related = ["contact", "customer"]
    search_fields = ["contact__format_e164", "note"]
    show_full_result_count = False


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "customer",
        "status",
        "source_format",
        "total_rows",
        "created_count",
        "existing_count",
        "invalid_count",
        "rows_per_second",
        "created_at",
    ]
    list_filter = ["status", "source_format"]
    list_select_related = ["customer"]
    exclude = ["payload"]
