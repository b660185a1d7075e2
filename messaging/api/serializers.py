"""Wire shapes of /v3/messages (docs/api/messages.md): one serializer per shape."""

from datetime import datetime
from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.phone import describe_e164
from messaging.lifecycle import REASON_STATUSES
from messaging.models import Direction, Message, MessageActivity
from messaging.routing import CHANNELS
from messaging.sending import MAX_RECIPIENTS, SUPPORTED_CHANNELS
from messaging.statuses import MessageStatus
from messaging.webhooks.signing import webhook_time
from sent_project.api.query import comma_choices
from sent_project.api.serializers import JsonInputSerializer

STRING_OR_NULL = {"type": ["string", "null"]}


def money(value) -> str:
    return f"{value:.4f}"


# --- send ---------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "enum": list(SUPPORTED_CHANNELS)})
class ChannelNameField(serializers.CharField):
    """A channel name; an unknown one is refused by the send's checks (VALIDATION_006)."""


class MessageTemplateRefSerializer(JsonInputSerializer):
    """The template of a send: its `id` or its `name`, and its `parameters`."""

    id = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_null=True, max_length=100)
    parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=4096),
        required=False,
        allow_null=True,
        help_text="Every declared variable by name; unknown keys are ignored.",
    )

    def validate(self, attrs):
        if (attrs.get("id") is None) == (attrs.get("name") is None):
            raise serializers.ValidationError("Give the template's id or its name (not both).")
        return attrs


SENDER_CHANNELS = ("sms", "whatsapp", "rcs", "mms")


class SenderPinSerializer(JsonInputSerializer):
    """One entry of `channels.{channel}`: the sender addresses that channel may use."""

    # `from` is a Python keyword: the field is declared under its wire name below.
    country = serializers.CharField(
        required=False, allow_null=True, max_length=2, help_text="Stored, not used."
    )
    strategy = serializers.CharField(
        required=False, allow_null=True, max_length=32, help_text="Stored, not used."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.ListField(
            child=serializers.CharField(max_length=20),
            min_length=1,
            max_length=20,
            help_text="Your sender numbers (E.164) or alphanumeric sender ids.",
        )
        return fields


class SenderPinsField(serializers.DictField):
    """`channels`: {channel: [{from: [...]}]}; the key `sent` (automatic) is refused."""

    child = serializers.ListField(child=SenderPinSerializer(), min_length=1, max_length=5)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        unknown = [key for key in value if key not in SENDER_CHANNELS]
        if unknown:
            raise serializers.ValidationError(
                {
                    key: [f"'{key}' can't pin senders: use one of {', '.join(SENDER_CHANNELS)}."]
                    for key in unknown
                }
            )
        return {
            channel: list(dict.fromkeys(a for pin in pins for a in pin["from"]))
            for channel, pins in value.items()
        }


MAX_MEDIA = 10  # Twilio's MediaUrl limit per message
SUBJECT_MAX = 60  # as a template's mms subject


def _is_https_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and not parts.username


class MediaUrlField(serializers.CharField):
    """A media URL of an MMS: a public https URL (the carrier fetches it)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            valid = _is_https_url(value)
        except ValueError:
            valid = False
        if not valid:
            raise serializers.ValidationError(
                "Must be a public https URL (https://…): the carrier fetches it.", code="invalid"
            )
        return value


class MessageSendSerializer(JsonInputSerializer):
    """POST /v3/messages: a template or a text to 1–1,000 recipients."""

    to = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=MAX_RECIPIENTS,
        help_text="Phone numbers (any common format) or ids of your contacts.",
    )
    channel = serializers.ListField(
        child=ChannelNameField(max_length=16),
        required=False,
        allow_null=True,
        max_length=len(SUPPORTED_CHANNELS),
        help_text='Omitted or ["sent"]: routed automatically. Each named channel makes its own '
        "message per recipient.",
    )
    template = MessageTemplateRefSerializer(required=False, allow_null=True)
    text = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=4096,
        help_text="Free-form text (SMS only: it can't open a WhatsApp conversation).",
    )
    channels = SenderPinsField(
        required=False,
        allow_null=True,
        help_text="Per channel, the senders of yours it may go out from "
        '(`{"sms": [{"from": ["+14155550100"]}]}`). A listed address that is not an active '
        "sender of yours makes the message BLOCKED with BUSINESS_029.",
    )
    media_urls = serializers.ListField(
        child=MediaUrlField(max_length=2000),
        required=False,
        allow_null=True,
        max_length=MAX_MEDIA,
        help_text="MMS only: up to 10 public https URLs, replacing the template's mms media. "
        'A send naming channel "mms" needs media here or on its template; on an automatic '
        "send, media make a US/Canadian recipient's message an MMS. Ignored by other channels.",
    )
    subject = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=SUBJECT_MAX,
        help_text="MMS only: replaces the template's subject. Stored with the message; Twilio "
        "has no subject field, so it is not sent to handsets.",
    )
    scheduled_at = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=64,
        help_text="Send later: ISO 8601 with its offset, at most MESSAGE_SCHEDULE_HORIZON_DAYS "
        "(30) ahead; the messages are SCHEDULED until then (docs/api/messages.md#scheduling).",
    )
    quiet_hours = serializers.ChoiceField(
        choices=["respect", "skip"],
        required=False,
        allow_null=True,
        help_text="Our addition: override your quiet-hours setting for this send (marketing "
        "templates only; see docs/api/messages.md#quiet-hours).",
    )
    sandbox = serializers.BooleanField(required=False, default=False)
    test_mode = serializers.BooleanField(
        required=False, default=False, help_text="The seeds' name for `sandbox`."
    )
    batch_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Our addition: the `batch_id` of an earlier send of yours, to follow a campaign "
        "of many requests as one send (GET /v3/messages/queue?batch=). Another account's or "
        "an unknown one: 404 RESOURCE_012, nothing sent.",
    )

    def validate(self, attrs):
        if (attrs.get("template") is None) == (attrs.get("text") is None):
            raise serializers.ValidationError(
                {"template": ["Give a template or a text (exactly one)."]}
            )
        return attrs


class MessageRecipientSerializer(serializers.Serializer):
    message_id = serializers.UUIDField()
    to = serializers.CharField()
    channel = serializers.CharField(allow_null=True)
    body = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(
        choices=MessageStatus.choices,
        help_text="QUEUED, SCHEDULED (held for later), or FILTERED/BLOCKED when it won't be sent.",
    )
    reason_code = serializers.CharField(allow_null=True)


class MessageSendResponseSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="Always QUEUED: the request was accepted.")
    template_id = serializers.UUIDField(allow_null=True)
    template_name = serializers.CharField(allow_null=True)
    batch_id = serializers.UUIDField(
        allow_null=True,
        help_text="Our addition: the send's id; its progress is GET /v3/messages/queue?batch=.",
    )
    recipients = MessageRecipientSerializer(many=True)


def send_response(result, scheduled_at=None) -> dict:
    """The SDK's send result; with `scheduled_at` (the request carried one) that instant in
    UTC, as the SDK's scheduled send response has it."""
    template = result.template
    extra = {"scheduled_at": webhook_time(scheduled_at)} if scheduled_at is not None else {}
    return {
        "status": "QUEUED",
        **extra,
        "template_id": str(template.pk) if template is not None else None,
        "template_name": template.name if template is not None else None,
        # Our addition: the send's id, for its progress (GET /v3/messages/queue?batch=).
        "batch_id": str(result.batch.pk) if result.batch is not None else None,
        "recipients": [
            {
                "message_id": str(m.pk),
                "to": m.phone,
                "channel": m.channel or None,
                "body": m.body or None,
                "status": m.status,
                "reason_code": m.reason_code or None,
                **(
                    {"scheduled_at": webhook_time(m.scheduled_at)}
                    if m.status == MessageStatus.SCHEDULED
                    else {}
                ),
            }
            for m in result.messages
        ],
    }


# --- a message ----------------------------------------------------------------------------


class MessageEventSerializer(serializers.Serializer):
    """One status-history entry; `reason_code`/`reason` only on FAILED/FILTERED/BLOCKED."""

    status = serializers.CharField()
    timestamp = serializers.DateTimeField(source="created_at")
    description = serializers.CharField()
    reason_code = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)

    def to_representation(self, activity: MessageActivity) -> dict:
        data = super().to_representation(activity)
        if activity.status not in REASON_STATUSES or not activity.reason_code:
            data.pop("reason_code"), data.pop("reason")
        return data


class MessageBodySerializer(serializers.Serializer):
    """The rendered content, camelCase inside (every key present)."""

    content = serializers.CharField(allow_null=True)
    header = serializers.CharField(allow_null=True)
    footer = serializers.CharField(allow_null=True)
    subject = serializers.CharField(allow_null=True)
    buttons = serializers.ListField(child=serializers.DictField(), allow_null=True)
    headerMedia = serializers.DictField(allow_null=True)  # noqa: N815 (wire name)
    media = serializers.ListField(child=serializers.DictField(), allow_null=True)
    encoding = serializers.CharField(allow_null=True)
    segments = serializers.IntegerField(allow_null=True)


class MessagePricingSerializer(serializers.Serializer):
    originalPrice = serializers.FloatField()  # noqa: N815 (the seeds' names)
    correctedPrice = serializers.FloatField()  # noqa: N815
    currency = serializers.CharField()


def _inbound_media(item: dict) -> dict:
    """An inbound message's media as the SDK's media item: what the provider declared
    (docs/api/inbound.md#inbound-messages); a WhatsApp item is a reference (`id`, no URL)."""
    media = {
        "url": item.get("url"),
        "mediaType": item.get("kind"),
        "mimeType": item.get("mime_type"),
        "sizeBytes": item.get("size_bytes"),
        "sourceHashSha256": item.get("hash_sha256"),
    }
    if item.get("id"):
        media["id"] = item["id"]
    return media


class MessageSerializer(serializers.ModelSerializer):
    """GET /v3/messages/{id} and the items of GET /v3/messages."""

    phone_international = serializers.SerializerMethodField()
    price = serializers.FloatField()
    active_contact_price = serializers.SerializerMethodField()
    channel = serializers.SerializerMethodField()
    template_name = serializers.SerializerMethodField()
    template_category = serializers.SerializerMethodField()
    reason_code = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    events = MessageEventSerializer(source="history", many=True)
    message_body = serializers.SerializerMethodField()
    pricing = serializers.SerializerMethodField()
    routing_reason = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "customer_id",
            "contact_id",
            "direction",
            "channel",
            "status",
            "phone",
            "phone_international",
            "region_code",
            "template_id",
            "template_name",
            "template_category",
            "price",
            "active_contact_price",
            "reason_code",
            "reason",
            "events",
            "message_body",
            "pricing",
            "routing_reason",
            "requested_channel",
            "sandbox",
            "attempts",
            "sent_at",
            "delivered_at",
            "read_at",
            "created_at",
            "updated_at",
        ]

    def get_phone_international(self, message: Message) -> str:
        return describe_e164(message.phone).international

    def get_active_contact_price(self, message: Message) -> float:
        return 0.0

    @extend_schema_field(STRING_OR_NULL)
    def get_channel(self, message: Message) -> str | None:
        return message.channel or None

    @extend_schema_field(STRING_OR_NULL)
    def get_template_name(self, message: Message) -> str | None:
        return message.template_name or None

    @extend_schema_field(STRING_OR_NULL)
    def get_template_category(self, message: Message) -> str | None:
        return message.template_category or None

    @extend_schema_field(MessageBodySerializer)
    def get_message_body(self, message: Message) -> dict:
        content = message.content or {}
        mms = message.provider_payload if message.channel == "mms" else {}
        media = [  # the SDK's media item; we never fetch the file, so only its URL is known
            {"url": url, "mediaType": None, "mimeType": None, "sizeBytes": None}
            for url in mms.get("media_urls") or []
        ]
        if message.direction == Direction.INBOUND:
            media += [_inbound_media(item) for item in content.get("media") or []]
        return {
            "content": message.body or None,
            "header": content.get("header"),
            "footer": content.get("footer"),
            "subject": mms.get("subject"),
            "buttons": content.get("buttons"),
            "headerMedia": content.get("headerMedia"),
            "media": media or None,
            "encoding": content.get("encoding"),
            "segments": content.get("segments"),
        }

    @extend_schema_field(MessagePricingSerializer)
    def get_pricing(self, message: Message) -> dict:
        return {
            "originalPrice": float(message.original_price),
            "correctedPrice": float(message.price),
            "currency": message.currency,
        }

    @extend_schema_field(STRING_OR_NULL)
    def get_routing_reason(self, message: Message) -> str | None:
        return message.routing_reason or None

    def to_representation(self, message: Message) -> dict:
        data = super().to_representation(message)
        if message.status not in REASON_STATUSES:
            data.pop("reason_code"), data.pop("reason")
        if message.scheduled_at is not None:
            # a message that is or was held: when it is (was) due, and why it was held
            data["scheduled_at"] = webhook_time(message.scheduled_at)
            data["schedule_reason"] = message.schedule_reason or None
        return data


class MessageActivitySerializer(serializers.Serializer):
    """One activity of a message: prices as strings with 4 decimals."""

    status = serializers.CharField()
    timestamp = serializers.DateTimeField(source="created_at")
    description = serializers.CharField()
    kind = serializers.CharField(help_text="Our extra: what happened (routed, charged, status…).")
    channel = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()
    active_contact_price = serializers.SerializerMethodField()
    reason_code = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    details = serializers.JSONField(source="data")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.SerializerMethodField(method_name="get_from")
        return fields

    @extend_schema_field(STRING_OR_NULL)
    def get_from(self, activity: MessageActivity) -> str | None:
        return activity.from_number or None

    @extend_schema_field(STRING_OR_NULL)
    def get_channel(self, activity: MessageActivity) -> str | None:
        return activity.channel or None

    def get_price(self, activity: MessageActivity) -> str:
        return money(activity.price)

    def get_active_contact_price(self, activity: MessageActivity) -> str:
        return money(0)

    def to_representation(self, activity: MessageActivity) -> dict:
        data = super().to_representation(activity)
        if activity.status not in REASON_STATUSES or not activity.reason_code:
            data.pop("reason_code"), data.pop("reason")
        held = (activity.data or {}).get("scheduled_at")
        if held and activity.status in (MessageStatus.SCHEDULED, MessageStatus.CANCELLED):
            data["scheduled_at"] = webhook_time(datetime.fromisoformat(held))
        return data


class MessageActivitiesSerializer(serializers.Serializer):
    message_id = serializers.UUIDField()
    activities = MessageActivitySerializer(many=True)
    pagination = serializers.DictField()


class MessageListQuerySerializer(serializers.Serializer):
    """GET /v3/messages filters (`page`/`page_size` are the paginator's)."""

    status = comma_choices(MessageStatus.values, "FAILED,BLOCKED")
    channel = comma_choices(CHANNELS, "sms,mms")
    contact_id = serializers.UUIDField(required=False)
    template_id = serializers.UUIDField(required=False)
    created_after = serializers.DateTimeField(required=False, help_text="Inclusive.")
    created_before = serializers.DateTimeField(required=False, help_text="Exclusive.")

    def validate_status(self, value: str) -> list[str]:
        return value.split(",")

    def validate_channel(self, value: str) -> list[str]:
        return value.split(",")


# --- the queue ------------------------------------------------------------------------------


class QueueQuerySerializer(serializers.Serializer):
    """GET /v3/messages/queue: the whole queue, or with `batch` one send's progress."""

    batch = serializers.CharField(
        required=False, help_text="A send's `batch_id` (from POST /v3/messages): its progress."
    )


class QueueFiguresSerializer(serializers.Serializer):
    waiting = serializers.IntegerField(help_text="QUEUED + PROCESSED + SCHEDULED due now.")
    queued = serializers.IntegerField()
    processed = serializers.IntegerField()
    scheduled_due = serializers.IntegerField()
    scheduled_later = serializers.IntegerField()
    oldest_waiting_seconds = serializers.FloatField(allow_null=True)
    sent_last_minute = serializers.IntegerField()
    drain_per_second = serializers.FloatField()
    eta_seconds = serializers.FloatField(allow_null=True)
    stuck_queued = serializers.IntegerField()
    stuck_processed = serializers.IntegerField()


class QueueSenderSerializer(QueueFiguresSerializer):
    sender_id = serializers.UUIDField(allow_null=True)
    default_route = serializers.BooleanField()
    address = serializers.CharField()
    channel = serializers.CharField()


class QueueSerializer(QueueFiguresSerializer):
    as_of = serializers.DateTimeField()
    window_seconds = serializers.IntegerField()
    stuck_after_seconds = serializers.DictField(child=serializers.FloatField())
    senders = QueueSenderSerializer(many=True)


class BatchProgressSerializer(serializers.Serializer):
    batch_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    template_name = serializers.CharField(allow_null=True)
    sandbox = serializers.BooleanField()
    total = serializers.IntegerField()
    waiting = serializers.IntegerField()
    finished = serializers.IntegerField()
    percent = serializers.IntegerField()
    done = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())
