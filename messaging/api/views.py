"""The messages API: POST/GET /v3/messages, GET /v3/messages/{id}[/activities]. Thin views:
parse, call one service or selector, render."""

from datetime import datetime

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response

from messaging.api.filters import MessageFilterSet
from messaging.api.serializers import (
    BatchProgressSerializer,
    MessageActivitiesSerializer,
    MessageActivitySerializer,
    MessageListQuerySerializer,
    MessageSendResponseSerializer,
    MessageSendSerializer,
    MessageSerializer,
    QueueQuerySerializer,
    QueueSerializer,
    send_response,
)
from messaging.errors import ScheduledAtInvalid
from messaging.models import AUTO_CHANNEL
from messaging.queue import batch_progress, queue_snapshot
from messaging.selectors import message_activities, message_get, messages_for, with_history
from messaging.sending import SendRequest, schedule_check
from messaging.services import message_cancel, message_resend, message_send
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.validation import PageQuerySerializer, validated, validated_query
from sent_project.api.views import CustomerAPIView
from sent_project.sandbox import sandbox_headers

TAGS = ["Messages"]
SEND_EXAMPLE = {
    "to": ["+14155550123"],
    "template": {"name": "order_shipped", "parameters": {"name": "Ana", "order_id": "A-1001"}},
}


def scheduled_at(raw) -> datetime | None:
    """The body's `scheduled_at` as an aware datetime (docs/api/messages.md#scheduling):
    ISO 8601 with an offset, not more than MESSAGE_SCHEDULE_GRACE_SECONDS in the past (such a
    time means "now"), not more than MESSAGE_SCHEDULE_HORIZON_DAYS ahead."""
    if raw is None:
        return None
    details = {"scheduled_at": ["Give an ISO 8601 time with its offset: 2026-10-01T09:00:00Z."]}
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            value = None
    else:
        value = None
    if value is None or value.tzinfo is None or value.utcoffset() is None:
        raise ScheduledAtInvalid(details=details)
    return schedule_check(value)


def send_request(data: dict, raw: dict) -> SendRequest:
    """The validated body as a SendRequest."""
    template = data.get("template") or {}
    return SendRequest(
        to=data["to"],
        channels=data.get("channel") or [AUTO_CHANNEL],
        template_id=template.get("id"),
        template_name=template.get("name"),
        parameters=template.get("parameters") or {},
        text=data.get("text"),
        sandbox=data["sandbox"] or data["test_mode"],
        senders=data.get("channels") or {},
        media_urls=data.get("media_urls") or [],
        subject=data.get("subject"),
        batch_id=data.get("batch_id"),
        scheduled_at=scheduled_at(raw.get("scheduled_at") if isinstance(raw, dict) else None),
        quiet_hours=data.get("quiet_hours"),
    )


class MessageListSendView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "messages"

    @extend_schema(
        operation_id="messages_send",
        tags=TAGS,
        request=MessageSendSerializer,
        examples=[OpenApiExample("Template by name", SEND_EXAMPLE, request_only=True)],
        responses={
            202: OpenApiResponse(MessageSendResponseSerializer, description="Accepted"),
            402: OpenApiResponse(description="The balance can't cover the request (BUSINESS_003)"),
            422: OpenApiResponse(description="Every recipient has opted out (BUSINESS_004)"),
        },
        description="Send a template (or free-form text) to 1–1,000 recipients. The whole "
        "request is checked and charged at once: a bad request (400) or a balance that can't "
        "cover it (402) writes nothing.",
    )
    def post(self, request):
        send = send_request(validated(MessageSendSerializer, request.data), request.data)
        result = message_send(self.customer, request=send)
        return Response(
            send_response(result, send.scheduled_at),
            status=202,
            headers=sandbox_headers(send.sandbox),
        )

    @extend_schema(
        operation_id="messages_list",
        tags=TAGS,
        responses=MessageSerializer(many=True),
        parameters=[MessageListQuerySerializer],
        description="Our addition: your messages, newest first, with filters.",
    )
    def get(self, request):
        messages = with_history(
            MessageFilterSet(request.query_params, messages_for(self.customer)).qs
        )
        return paginate(request, self, messages, MessageSerializer)


class MessageDetailView(CustomerAPIView):
    @extend_schema(operation_id="messages_retrieve_status", tags=TAGS, responses=MessageSerializer)
    def get(self, request, message_id):
        message = message_get(self.customer, message_id=message_id)
        return Response(MessageSerializer(message).data)


class MessageActivitiesView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "activities"

    @extend_schema(
        operation_id="messages_retrieve_activities",
        tags=TAGS,
        responses=MessageActivitiesSerializer,
        description="Everything that happened to the message, most recent first.",
    )
    def get(self, request, message_id):
        message = message_get(self.customer, message_id=message_id)
        validated_query(PageQuerySerializer, request.query_params)
        paginator = PagePagination()
        rows = paginator.paginate_queryset(message_activities(message), request, view=self)
        return Response(
            {
                "message_id": str(message.pk),
                "activities": MessageActivitySerializer(rows, many=True).data,
                "pagination": paginator.pagination_meta(),
            }
        )


class MessageResendView(CustomerAPIView):
    @extend_schema(
        operation_id="messages_resend",
        tags=TAGS,
        request=None,
        responses={
            202: OpenApiResponse(MessageSerializer, description="The new message"),
            402: OpenApiResponse(description="The balance can't cover it (BUSINESS_003)"),
            422: OpenApiResponse(description="Not FAILED or BLOCKED (BUSINESS_006)"),
        },
        description="Send a FAILED or BLOCKED message again: a new message (its own id, billed "
        "again) to the same contact with the same content. Other statuses: 422 BUSINESS_006.",
    )
    def post(self, request, message_id):
        resent = message_resend(self.customer, message_id=message_id)
        message = message_get(self.customer, message_id=resent.pk)
        return Response(MessageSerializer(message).data, status=202)


class MessageCancelView(CustomerAPIView):
    @extend_schema(
        operation_id="messages_cancel",
        tags=TAGS,
        request=None,
        responses={
            200: MessageSerializer,
            409: OpenApiResponse(description="Handed to its provider already (MESSAGE_005)"),
            422: OpenApiResponse(description="Already final (BUSINESS_006)"),
        },
        description="Our addition: call off a message no worker has picked up yet (SCHEDULED "
        "or QUEUED): CANCELLED and refunded. Handed off already: 409 MESSAGE_005; already "
        "final: 422 BUSINESS_006.",
    )
    def post(self, request, message_id):
        message_cancel(self.customer, message_id=message_id)
        message = message_get(self.customer, message_id=message_id)
        return Response(MessageSerializer(message).data)


class MessageQueueView(CustomerAPIView):
    @extend_schema(
        operation_id="messages_queue",
        tags=TAGS,
        parameters=[QueueQuerySerializer],
        responses={
            200: OpenApiResponse(
                QueueSerializer, description="The queue (with `batch`: BatchProgress)"
            ),
            404: OpenApiResponse(description="`batch` is not one of your sends (RESOURCE_012)"),
        },
        description="Our addition: what waits to be handed off, per sender and status, the "
        "oldest waiting, the drain rate over the last minute, the backlog's ETA and the stuck "
        "counts; with `batch`, one send's messages counted by status.",
    )
    def get(self, request):
        query = validated_query(QueueQuerySerializer, request.query_params)
        if "batch" in query:
            progress = batch_progress(self.customer, batch_id=query["batch"])
            return Response(BatchProgressSerializer(progress.as_dict()).data)
        return Response(queue_snapshot(self.customer).as_dict())
