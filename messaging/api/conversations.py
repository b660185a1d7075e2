"""Conversations (docs/api/inbound.md#conversations): every message in and out, newest first;
one conversation is one contact across channels, its id the contact's id. And the
simulator's inbound messages (`POST /v3/simulator/inbound`, our addition)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from contacts.selectors import contact_get
from messaging.api.serializers import MessageSerializer
from messaging.inbound import Inbound, inbound_receive
from messaging.selectors import message_get, messages_for, with_history
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.serializers import JsonInputSerializer
from sent_project.api.validation import PageQuerySerializer, validated, validated_query
from sent_project.api.views import CustomerAPIView
from sent_project.errors import ValidationFailed

TAGS = ["Conversations"]


class ConversationListView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "messages"

    @extend_schema(
        operation_id="conversations_list",
        tags=TAGS,
        responses=MessageSerializer(many=True),
        description="Every message of yours, inbound and outbound, newest first.",
    )
    def get(self, request):
        validated_query(PageQuerySerializer, request.query_params)
        return paginate(request, self, with_history(messages_for(self.customer)), MessageSerializer)


class ConversationMessagesView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "messages"

    @extend_schema(
        operation_id="conversations_list_messages",
        tags=TAGS,
        responses=MessageSerializer(many=True),
        description="One conversation: the messages to and from one contact (its id is the "
        "conversation's), across channels, newest first.",
    )
    def get(self, request, contact_id):
        validated_query(PageQuerySerializer, request.query_params)
        contact = contact_get(self.customer, contact_id=contact_id)
        messages = with_history(messages_for(self.customer, contact_id=contact.pk))
        return paginate(request, self, messages, MessageSerializer)


class SimulatedInboundSerializer(JsonInputSerializer):
    """A message as if a contact had sent it to one of your numbers."""

    from_number = serializers.CharField(max_length=32, help_text="The contact's number (E.164).")
    text = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=4096)
    channel = serializers.ChoiceField(choices=["sms", "whatsapp", "mms"], default="sms")
    to = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="Your number that receives it (default: your default sender's).",
    )
    media_urls = serializers.ListField(
        child=serializers.URLField(max_length=2048), required=False, max_length=10
    )
    profile_name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_number")  # `from` is a keyword in Python
        return fields

    def validate(self, attrs):
        if not attrs.get("text") and not attrs.get("media_urls"):
            raise serializers.ValidationError({"text": ["Give a text or media_urls."]})
        return attrs


class SimulatedInboundView(CustomerAPIView):
    @extend_schema(
        operation_id="simulator_inbound",
        tags=TAGS,
        request=SimulatedInboundSerializer,
        responses={201: MessageSerializer},
        description="Our addition, for development and tests: store a message as if the "
        "contact had sent it (a sandbox message; keywords act on the contact as a real one "
        "would).",
    )
    def post(self, request):
        data = validated(SimulatedInboundSerializer, request.data)
        result = inbound_receive(
            Inbound(
                provider="simulator",
                channel=data["channel"],
                from_number=data["from"],
                to=data.get("to", ""),
                text=data.get("text") or None,
                media=tuple({"url": url} for url in data.get("media_urls", [])),
                profile_name=data.get("profile_name", ""),
                raw={"simulated": True},
                customer=self.customer,
                sandbox=True,
            )
        )
        if result.message is None:
            raise ValidationFailed(details={"from": [result.detail]})
        message = message_get(self.customer, message_id=result.message.pk)
        return Response(MessageSerializer(message).data, status=201)
