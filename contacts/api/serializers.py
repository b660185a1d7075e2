"""Wire shapes of the contacts API (docs/api/contacts.md, plus our documented extras)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import CHANNEL_ORDER, Contact, ContactImport, ContactImportRow, LineType
from sent_project.api.serializers import StrictBooleanField

CHANNEL_ENUM = {"type": ["string", "null"], "enum": ["sms", "whatsapp", None]}


class ContactChannelSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    checked_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    delivered = serializers.IntegerField()


class ContactChannelsSerializer(serializers.Serializer):
    sms = ContactChannelSerializer()
    whatsapp = ContactChannelSerializer()


class ContactSerializer(serializers.Serializer):
    """A contact: the SDK's fields, then ours (line type, carrier, time zones, channels, metadata)."""

    id = serializers.UUIDField()
    phone_number = serializers.CharField()
    format_e164 = serializers.CharField()
    format_international = serializers.CharField()
    format_national = serializers.CharField()
    format_rfc = serializers.CharField()
    country_code = serializers.CharField()
    region_code = serializers.CharField()
    available_channels = serializers.CharField(
        help_text='Comma-separated channels that can reach the contact, e.g. "sms,whatsapp".'
    )
    default_channel = serializers.SerializerMethodField()
    opt_out = serializers.BooleanField()
    is_inherited = serializers.SerializerMethodField()
    customer_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    line_type = serializers.ChoiceField(choices=LineType.choices)
    carrier = serializers.CharField(help_text="Carrier name where known; empty otherwise.")
    time_zones = serializers.ListField(child=serializers.CharField())
    default_channel_is_custom = serializers.BooleanField(
        help_text="True when the customer chose default_channel; false when it was detected."
    )
    channels = serializers.SerializerMethodField()
    whatsapp_window_expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the WhatsApp customer-service window closes (24 hours after the "
        "contact's last WhatsApp message; null if it never wrote on WhatsApp). Free-form "
        "WhatsApp text goes out only before then.",
    )
    metadata = serializers.DictField()
    source = serializers.CharField(help_text="How the contact was created.")
    name = serializers.CharField(help_text='The person\'s name; "" when none was given.')

    @extend_schema_field(CHANNEL_ENUM)
    def get_default_channel(self, contact: Contact) -> str | None:
        return contact.default_channel or None

    def get_is_inherited(self, contact: Contact) -> bool:
        return False

    @extend_schema_field(ContactChannelsSerializer)
    def get_channels(self, contact: Contact) -> dict:
        channels = {}
        for channel in CHANNEL_ORDER:
            stats = contact.channel_stats(channel)
            channels[str(channel)] = {
                "available": getattr(contact, f"{channel}_available"),
                "checked_at": self._datetime(getattr(contact, f"{channel}_checked_at")),
                "attempts": stats["attempts"],
                "delivered": stats["delivered"],
            }
        return channels

    @staticmethod
    def _datetime(value):
        return _DATETIME.to_representation(value) if value else None

    def to_representation(self, contact: Contact) -> dict:
        """What the declared fields give (tests/contacts/test_serializers.py compares the two),
        built directly: a page of 100 contacts spent most of its time in DRF's per-field
        machinery."""
        datetime = self._datetime
        return {
            "id": str(contact.id),
            "phone_number": contact.phone_number,
            "format_e164": contact.format_e164,
            "format_international": contact.format_international,
            "format_national": contact.format_national,
            "format_rfc": contact.format_rfc,
            "country_code": contact.country_code,
            "region_code": contact.region_code,
            "available_channels": contact.available_channels,
            "default_channel": contact.default_channel or None,
            "opt_out": bool(contact.opt_out),
            "is_inherited": False,
            "customer_id": str(contact.customer_id),
            "created_at": datetime(contact.created_at),
            "updated_at": datetime(contact.updated_at),
            "line_type": contact.line_type,
            "carrier": contact.carrier,
            "time_zones": list(contact.time_zones),
            "default_channel_is_custom": bool(contact.default_channel_is_custom),
            "channels": self.get_channels(contact),
            "whatsapp_window_expires_at": datetime(contact.whatsapp_window_expires_at),
            "metadata": {str(key): value for key, value in contact.metadata.items()},
            "source": contact.source,
            "name": contact.name,
        }


# DRF's rendering of a datetime (time zone, ISO 8601, "Z"), one field for every value.
_DATETIME = serializers.DateTimeField()


# Every body below also takes `"sandbox": true` (answer as the real call would, write
# nothing). It is read by the views and left out of the schema: a sandbox "create" returns an
# id that does not exist, which would only mislead clients generated from the schema.


class _TextField(serializers.CharField):
    """A JSON string only (DRF's CharField also takes 5 and makes it "5")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


NAME_HELP = (
    "Our extension (the SDK has no parameter for it: send it in the body, extra_body with the "
    'SDK): the person\'s name, at most 200 characters; searchable. "" clears it.'
)


class ContactCreateSerializer(serializers.Serializer):
    # Blank and odd values reach the phone parser, which says what is wrong (VALIDATION_002).
    phone_number = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=1000)
    metadata = serializers.DictField(
        required=False, allow_null=True, help_text="JSON object, at most 8 KB; null = none."
    )
    name = _TextField(
        required=False, allow_null=True, allow_blank=True, max_length=200, help_text=NAME_HELP
    )


class ContactUpdateSerializer(serializers.Serializer):
    """PATCH: omitted or null fields stay unchanged."""

    default_channel = serializers.ChoiceField(
        choices=["sms", "whatsapp"],
        required=False,
        allow_null=True,
        help_text="Must be one of the contact's available channels.",
    )
    opt_out = StrictBooleanField(required=False, allow_null=True)
    metadata = serializers.DictField(
        required=False, allow_null=True, help_text="Replaces the whole object; at most 8 KB."
    )
    name = _TextField(
        required=False, allow_null=True, allow_blank=True, max_length=200, help_text=NAME_HELP
    )


class ContactListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Part of a number in any format (+1234, 234-56) or text in metadata values.",
    )
    channel = serializers.ChoiceField(
        choices=["sms", "whatsapp"], required=False, help_text="Only contacts that have it."
    )
    phone = serializers.CharField(
        required=False, max_length=200, help_text="Exact number, in any format."
    )


class ContactImportRowsQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ContactImportRow.Status.choices, required=False, help_text="Only these rows."
    )


class ContactDeletedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    deleted = serializers.BooleanField()


class ChannelScoreSerializer(serializers.Serializer):
    channel = serializers.CharField()
    success_score = serializers.IntegerField()
    fail_score = serializers.IntegerField()


class ContactMessageSummarySerializer(serializers.Serializer):
    contact_id = serializers.UUIDField()
    message_count = serializers.IntegerField()
    first_message_at = serializers.DateTimeField(allow_null=True)
    last_message_at = serializers.DateTimeField(allow_null=True)
    channels_used = serializers.ListField(child=serializers.CharField())
    channel_scores = ChannelScoreSerializer(many=True)


class ConsentEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contact_id = serializers.UUIDField()
    opt_out = serializers.BooleanField(help_text="The state this change resulted in.")
    source = serializers.CharField(help_text="api, dashboard, keyword, import, provider or admin.")
    note = serializers.CharField()
    message_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class NumberLookupSerializer(serializers.Serializer):
    """GET /v3/numbers/lookup: the SDK's fields, then ours. Unknown facts are null; a string
    that is not a phone number is `is_valid: false` with `validation_error` saying why."""

    phone_number = serializers.CharField(help_text="E.164 (the input, when it is no number)")
    country_code = serializers.CharField()
    is_valid = serializers.BooleanField()
    line_type = serializers.CharField()
    carrier_name = serializers.CharField()
    is_ported = serializers.BooleanField(allow_null=True, help_text="Not known: always null.")
    is_voip = serializers.BooleanField()
    mobile_country_code = serializers.CharField(allow_null=True)
    mobile_network_code = serializers.CharField(allow_null=True)
    region_code = serializers.CharField()
    format_e164 = serializers.CharField()
    format_international = serializers.CharField()
    format_national = serializers.CharField()
    format_rfc = serializers.CharField()
    time_zones = serializers.ListField(child=serializers.CharField())
    available_channels = serializers.CharField()
    validation_error = serializers.CharField(allow_null=True)


class ContactImportCreateSerializer(serializers.Serializer):
    """JSON form of POST /v3/contacts/import (a CSV goes as multipart `file` or text/csv).

    Only the shape of the list is checked up front; each row's problems are reported in its
    result (`invalid` with a reason)."""

    contacts = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=settings.CONTACTS_IMPORT_MAX_ROWS,
        help_text='Rows: {"phone_number": "...", "opt_out": false, "metadata": {...}}.',
    )


class ContactImportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ContactImport.Status.choices)
    source_format = serializers.CharField()
    filename = serializers.CharField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    created_count = serializers.IntegerField()
    existing_count = serializers.IntegerField()
    invalid_count = serializers.IntegerField()
    opted_out_count = serializers.IntegerField()
    error = serializers.CharField()
    rows_per_second = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ContactImportRowSerializer(serializers.Serializer):
    row_number = serializers.IntegerField()
    phone_number = serializers.CharField()
    status = serializers.ChoiceField(choices=ContactImportRow.Status.choices)
    contact_id = serializers.UUIDField(allow_null=True)
    reason = serializers.CharField()


@extend_schema_field({"$ref": "#/components/schemas/Pagination"})
class PaginationField(serializers.DictField):
    pass


class ContactImportDetailSerializer(ContactImportSerializer):
    """An import with one page of its row results (`page`, `page_size`, `status` filter)."""

    rows = ContactImportRowSerializer(many=True)
    pagination = PaginationField()
