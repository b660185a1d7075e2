from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ChannelSmsSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    phone_number = serializers.CharField(required=False)


class ChannelWhatsappSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    phone_number = serializers.CharField(required=False)
    business_name = serializers.CharField(required=False)


class ChannelRcsSerializer(serializers.Serializer):
    configured = serializers.BooleanField()


class MeChannelsSerializer(serializers.Serializer):
    sms = ChannelSmsSerializer()
    whatsapp = ChannelWhatsappSerializer()
    rcs = ChannelRcsSerializer()


class MeSerializer(serializers.Serializer):
    """GET /v3/me: the contract's account fields plus `balance` and `currency`."""

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
    balance = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    currency = serializers.CharField()
    default_region = serializers.CharField()
    low_balance_threshold = serializers.DecimalField(
        max_digits=18, decimal_places=4, coerce_to_string=True
    )

    def get_type(self, customer) -> str:
        return "user"

    def get_icon(self, customer) -> str | None:
        return None

    @extend_schema_field(MeChannelsSerializer)
    def get_channels(self, customer) -> dict:
        sms = {"configured": bool(settings.SMS_PROVIDER)}
        if settings.SMS_PROVIDER and settings.SMS_FROM_NUMBER:
            sms["phone_number"] = settings.SMS_FROM_NUMBER
        whatsapp = {"configured": bool(settings.WHATSAPP_PROVIDER)}
        if settings.WHATSAPP_PROVIDER:
            if settings.WHATSAPP_FROM_NUMBER:
                whatsapp["phone_number"] = settings.WHATSAPP_FROM_NUMBER
            whatsapp["business_name"] = settings.WHATSAPP_BUSINESS_NAME
        return {"sms": sms, "whatsapp": whatsapp, "rcs": {"configured": False}}

    def get_sending_phone_number(self, customer) -> str | None:
        return settings.SMS_FROM_NUMBER if settings.SMS_PROVIDER else None

    def get_sending_phone_number_profile_id(self, customer) -> str | None:
        return None

    def get_enable_template_auto_creation_for_sp(self, customer) -> bool:
        return False

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_profiles(self, customer) -> list[dict]:
        return []
