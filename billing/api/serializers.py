from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import Channel, LedgerEntry
from billing.pricing import WHATSAPP_CATEGORIES
from messaging.selectors import customer_sender_addresses


def _money_field(**kwargs):
    """An amount in USD as the API writes it: a string with four decimal places."""
    return serializers.DecimalField(
        max_digits=18, decimal_places=4, coerce_to_string=True, **kwargs
    )


def _senders_field():
    return serializers.ListField(
        child=serializers.CharField(),
        help_text="Every address a send may name in `channels.{channel}[].from`: your active "
        "senders on this channel, or the install's default when you have none of your own.",
    )


class ChannelSmsSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    phone_number = serializers.CharField(
        required=False,
        help_text="The number a message to the United States goes out from (left out when "
        "that is an alphanumeric sender id or a Messaging Service without a number).",
    )
    senders = _senders_field()


class ChannelWhatsappSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    phone_number = serializers.CharField(required=False)
    business_name = serializers.CharField(required=False)
    senders = _senders_field()


class ChannelRcsSerializer(serializers.Serializer):
    configured = serializers.BooleanField()


class MeChannelsSerializer(serializers.Serializer):
    sms = ChannelSmsSerializer()
    whatsapp = ChannelWhatsappSerializer()
    rcs = ChannelRcsSerializer()


class MeSerializer(serializers.Serializer):
    """GET /v3/me: the account's fields plus `balance` and `currency`."""

    id = serializers.UUIDField()
    type = serializers.SerializerMethodField()
    name = serializers.CharField()
    description = serializers.CharField()
    email = serializers.CharField()
    icon = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    channels = serializers.SerializerMethodField()
    sending_phone_number = serializers.SerializerMethodField()
    sending_phone_number_profile_id = serializers.SerializerMethodField()
    enable_template_auto_creation_for_sp = serializers.SerializerMethodField()
    profiles = serializers.SerializerMethodField()
    balance = _money_field()
    currency = serializers.CharField()
    default_region = serializers.CharField()
    low_balance_threshold = _money_field()

    def get_type(self, customer) -> str:
        return "user"

    def get_icon(self, customer) -> str | None:
        return None

    @extend_schema_field(MeChannelsSerializer)
    def get_channels(self, customer) -> dict:
        senders = self._senders(customer)
        channels = {"rcs": {"configured": False}}
        for channel, found in senders.items():
            channels[channel] = {"configured": found["configured"]}
            if found["phone_number"]:  # omitted when there is none
                channels[channel]["phone_number"] = found["phone_number"]
            channels[channel]["senders"] = found["senders"]
        if channels["whatsapp"]["configured"]:
            channels["whatsapp"]["business_name"] = settings.WHATSAPP_BUSINESS_NAME
        return channels

    def _senders(self, customer) -> dict:
        # Read once per response (two fields use it).
        cached = self.context.setdefault("_senders", {})
        if customer.pk not in cached:
            cached[customer.pk] = customer_sender_addresses(customer)
        return cached[customer.pk]

    def get_sending_phone_number(self, customer) -> str | None:
        return self._senders(customer)["sms"]["phone_number"]

    def get_sending_phone_number_profile_id(self, customer) -> str | None:
        return None

    def get_enable_template_auto_creation_for_sp(self, customer) -> bool:
        return False

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_profiles(self, customer) -> list[dict]:
        return []


class LedgerEntrySerializer(serializers.Serializer):
    """One balance change (GET /v3/billing/ledger — our addition, not in the SDK)."""

    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="top_up, charge, adjustment or refund")
    amount = _money_field(help_text="Positive adds to the balance, negative takes from it")
    ending_balance = _money_field(help_text="The balance right after this entry")
    currency = serializers.CharField()
    description = serializers.CharField()
    reason = serializers.CharField()
    message_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class LedgerQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LedgerEntry.Kind.values, required=False)
    message_id = serializers.UUIDField(required=False)


class PriceSerializer(serializers.Serializer):
    """One row of this account's effective price table (GET /v3/billing/prices)."""

    channel = serializers.CharField()
    country = serializers.CharField(help_text='ISO code, or "*" for every other country')
    category = serializers.SerializerMethodField()
    unit_price = _money_field(help_text="What this account pays per SMS segment / WhatsApp message")
    list_price = _money_field(help_text="The price table's unit price, before overrides")
    currency = serializers.CharField()
    source = serializers.CharField(help_text="override, table or rate_card")
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, allow_null=True
    )

    def get_category(self, quote) -> str | None:
        return quote.category or None


class PriceQuoteSerializer(PriceSerializer):
    """The price of one message for this account (GET /v3/billing/quote)."""

    units = serializers.IntegerField(help_text="SMS segments; 1 for WhatsApp")
    amount = _money_field(help_text="unit_price × units")


class PriceListSerializer(serializers.Serializer):
    prices = PriceSerializer(many=True)


class PriceListQuerySerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.values, required=False)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", required=False)


class PriceQuoteQuerySerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.values)
    country = serializers.RegexField(r"^[A-Za-z]{2}$")
    segments = serializers.IntegerField(min_value=1, max_value=100, default=1)
    category = serializers.ChoiceField(choices=WHATSAPP_CATEGORIES, required=False, allow_null=True)
