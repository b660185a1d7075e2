"""Wire shapes of /v3/webhooks (docs/api/webhooks.md)."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from messaging.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from messaging.webhooks.catalogue import (
    FAMILIES,
    event_filters_schema,
    event_names,
    normalise_filters,
)
from messaging.webhooks.signing import envelope
from messaging.webhooks.ssrf import WEBHOOK_URL_PATTERN
from sent_project.api.serializers import StrictBooleanField

# No NUL: PostgreSQL text can't hold it (DRF's CharField refuses it too).
TEXT_PATTERN = "^[^\\u0000]*$"


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction (not a string, not a boolean)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string (DRF would also turn numbers into strings)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 2048,
        "pattern": WEBHOOK_URL_PATTERN,
        "description": "http(s) URL of a public host; private and loopback addresses are refused "
        "(WEBHOOK_001) unless the install allows them.",
    }
)
class WebhookUrlField(StrictCharField):
    """Checked by the service (messaging.webhooks.ssrf.url_check: WEBHOOK_001)."""


@extend_schema_field(event_filters_schema())
class EventFiltersField(serializers.DictField):
    child = serializers.ListField(child=StrictCharField(max_length=64))


@extend_schema_field({"type": "string", "maxLength": 200, "pattern": TEXT_PATTERN})
class DisplayNameField(StrictCharField):
    pass


TIMEOUT_HELP = (
    "Seconds to wait for the receiver's answer: 5–120 accepted (the SDK's range), but a "
    "delivery waits at most WEBHOOK_TIMEOUT_MAX_SECONDS (15 s by default) whatever this says"
)


class WebhookSerializer(serializers.ModelSerializer):
    """The webhook object. `signing_secret` is only ever filled on create and rotate."""

    id = serializers.UUIDField(
        read_only=True,
        allow_null=True,
        help_text="null only on a sandbox create (nothing was created)",
    )
    customer_id = serializers.UUIDField(read_only=True)
    event_types = serializers.ListField(child=serializers.CharField())
    event_filters = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), allow_null=True
    )
    signing_secret = serializers.SerializerMethodField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "customer_id",
            "display_name",
            "endpoint_url",
            "event_types",
            "event_filters",
            "is_active",
            "signing_secret",
            "retry_count",
            "timeout_seconds",
            "consecutive_failures",
            "last_delivery_attempt_at",
            "last_successful_delivery_at",
            "disabled_reason",
            "disabled_at",
            "circuit_state",
            "circuit_opened_at",
            "circuit_probe_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_signing_secret(self, endpoint) -> str | None:
        return self.context.get("signing_secret")


class _WebhookFieldsMixin:
    def validate_event_types(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate_event_filters(self, value: dict | None) -> dict | None:
        clean, errors = normalise_filters(value)
        if errors:
            raise serializers.ValidationError(
                [message for messages in errors.values() for message in messages],
                code="invalid_choice",
            )
        return clean


# `sandbox` is read and checked but left out of the schema: a sandbox create answers with an id
# that does not exist, which would only mislead clients and tools that follow the schema's links.
@extend_schema_serializer(exclude_fields=["sandbox"])
class WebhookCreateSerializer(_WebhookFieldsMixin, serializers.Serializer):
    display_name = DisplayNameField(max_length=200, required=False, allow_blank=True, default="")
    endpoint_url = WebhookUrlField(max_length=2048)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(FAMILIES)), min_length=1
    )
    event_filters = EventFiltersField(required=False, allow_null=True, default=None)
    retry_count = StrictIntegerField(min_value=1, max_value=5, default=3)
    timeout_seconds = StrictIntegerField(
        min_value=5, max_value=120, default=30, help_text=TIMEOUT_HELP
    )
    sandbox = StrictBooleanField(default=False)
    # Organization → sender-profile cloning is not supported: accepted and ignored.
    sender_profile = serializers.DictField(required=False, allow_null=True, write_only=True)


class WebhookUpdateSerializer(_WebhookFieldsMixin, serializers.Serializer):
    """PUT with PATCH semantics: only the fields sent change."""

    display_name = DisplayNameField(max_length=200, required=False, allow_blank=True)
    endpoint_url = WebhookUrlField(max_length=2048, required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=list(FAMILIES)), min_length=1, required=False
    )
    event_filters = EventFiltersField(required=False, allow_null=True)
    retry_count = StrictIntegerField(min_value=1, max_value=5, required=False)
    timeout_seconds = StrictIntegerField(
        min_value=5, max_value=120, required=False, help_text=TIMEOUT_HELP
    )
    sandbox = StrictBooleanField(default=False)
    sender_profile = serializers.DictField(required=False, allow_null=True, write_only=True)


class WebhookListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.ChoiceField(choices=["true", "false"], required=False)


class WebhookToggleStatusSerializer(serializers.Serializer):
    is_active = StrictBooleanField(required=False, help_text="Omit to flip the state.")
    sandbox = StrictBooleanField(default=False)


class WebhookTestRequestSerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(
        choices=event_names(),
        required=False,
        allow_blank=True,
        help_text="A family (`message`) or an event (`message.delivered`); default: the "
        "webhook's first family.",
    )
    sandbox = StrictBooleanField(default=False)


class WebhookTestResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class WebhookSandboxSerializer(serializers.Serializer):
    sandbox = StrictBooleanField(default=False)


class WebhookSecretSerializer(serializers.Serializer):
    signing_secret = serializers.CharField()


class WebhookDeletedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    deleted = serializers.BooleanField()


class WebhookEventSubTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    display_name = serializers.CharField()
    description = serializers.CharField()
    event_type = serializers.CharField()
    is_active = serializers.BooleanField()
    sub_types = serializers.ListField(child=serializers.DictField())


class WebhookEventTypeSerializer(WebhookEventSubTypeSerializer):
    sub_types = WebhookEventSubTypeSerializer(many=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "started_at",
            "latency_ms",
            "http_status_code",
            "outcome",
            "response_body",
            "error",
            "circuit",
        ]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One item of GET /v3/webhooks/{id}/events: an event's delivery to this endpoint."""

    event_id = serializers.UUIDField(help_text="The `webhook-id` / `X-Webhook-Event-ID` header.")
    event_type = serializers.CharField(source="event.event")
    delivery_status = serializers.ChoiceField(
        source="status", choices=WebhookDelivery._meta.get_field("status").choices
    )
    delivery_attempts = serializers.IntegerField(source="attempts")
    event_data = serializers.SerializerMethodField()
    attempts = WebhookAttemptSerializer(source="attempt_log", many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "delivery_status",
            "delivery_attempts",
            "http_status_code",
            "error_message",
            "response_body",
            "event_data",
            "is_test",
            "next_attempt_at",
            "created_at",
            "processing_started_at",
            "processing_completed_at",
            "attempts",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "description": "The exact envelope delivered."})
    def get_event_data(self, delivery) -> dict:
        return envelope(delivery.event)
