"""/v3/webhooks: thin views over messaging.webhooks.services and selectors."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from messaging.webhooks import selectors, services
from messaging.webhooks.api.filters import WebhookFilterSet
from messaging.webhooks.api.serializers import (
    TEXT_PATTERN,
    WebhookCreateSerializer,
    WebhookDeletedSerializer,
    WebhookDeliverySerializer,
    WebhookEventTypeSerializer,
    WebhookListQuerySerializer,
    WebhookSandboxSerializer,
    WebhookSecretSerializer,
    WebhookSerializer,
    WebhookTestRequestSerializer,
    WebhookTestResultSerializer,
    WebhookToggleStatusSerializer,
    WebhookUpdateSerializer,
)
from messaging.webhooks.catalogue import event_types_listing
from messaging.webhooks.signing import secret_generate
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.validation import PageQuerySerializer, validated, validated_query
from sent_project.api.views import CustomerAPIView
from sent_project.sandbox import SANDBOX_HEADERS, sandbox_headers

TAGS = ["Webhooks"]


def _fields(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("sandbox", "sender_profile")}


class WebhookListCreateView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "webhooks"

    @extend_schema(
        operation_id="webhooks_list",
        tags=TAGS,
        responses=WebhookSerializer(many=True),
        parameters=[
            OpenApiParameter(
                "search", str, description="In the display name or URL", pattern=TEXT_PATTERN
            ),
            OpenApiParameter("is_active", bool),
        ],
    )
    def get(self, request):
        endpoints = WebhookFilterSet(request.query_params, selectors.webhooks_for(self.customer)).qs
        return paginate(request, self, endpoints, WebhookSerializer)

    @extend_schema(
        operation_id="webhooks_create",
        tags=TAGS,
        request=WebhookCreateSerializer,
        responses={
            201: WebhookSerializer,
            200: OpenApiResponse(WebhookSerializer, "Sandbox: checked, nothing created (id null)"),
        },
    )
    def post(self, request):
        data = validated(WebhookCreateSerializer, request.data)
        customer = self.customer
        if data["sandbox"]:
            endpoint, secret = services.webhook_endpoint_build(customer, **_fields(data))
            body = WebhookSerializer(endpoint, context={"signing_secret": secret}).data
            # Nothing was created, so nothing has an id.
            return Response({**body, "id": None}, headers=SANDBOX_HEADERS)
        endpoint, secret = services.webhook_endpoint_create(customer, **_fields(data))
        return Response(
            WebhookSerializer(endpoint, context={"signing_secret": secret}).data, status=201
        )


class WebhookEventTypesView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "event_types"

    @extend_schema(
        operation_id="webhooks_event_types",
        tags=TAGS,
        responses=WebhookEventTypeSerializer(many=True),
    )
    def get(self, request):
        validated_query(PageQuerySerializer, request.query_params)
        return paginate(request, self, event_types_listing(), WebhookEventTypeSerializer)


class WebhookDetailView(CustomerAPIView):
    @extend_schema(operation_id="webhooks_retrieve", tags=TAGS, responses=WebhookSerializer)
    def get(self, request, id):
        endpoint = selectors.webhook_get(self.customer, id)
        return Response(WebhookSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_update",
        tags=TAGS,
        request=WebhookUpdateSerializer,
        responses=WebhookSerializer,
    )
    def put(self, request, id):
        customer = self.customer
        endpoint = selectors.webhook_get(customer, id)
        data = validated(WebhookUpdateSerializer, request.data)
        endpoint = services.webhook_endpoint_update(
            customer, endpoint, save=not data["sandbox"], **_fields(data)
        )
        return Response(WebhookSerializer(endpoint).data, headers=sandbox_headers(data["sandbox"]))

    @extend_schema(
        operation_id="webhooks_delete",
        tags=TAGS,
        request=None,
        responses={200: WebhookDeletedSerializer},
    )
    def delete(self, request, id):
        customer = self.customer
        endpoint = selectors.webhook_get(customer, id)
        services.webhook_endpoint_delete(customer, endpoint)
        return Response({"id": str(id), "deleted": True})


class WebhookTestView(CustomerAPIView):
    @extend_schema(
        operation_id="webhooks_test",
        tags=TAGS,
        request=WebhookTestRequestSerializer,
        responses=WebhookTestResultSerializer,
    )
    def post(self, request, id):
        customer = self.customer
        endpoint = selectors.webhook_get(customer, id)
        data = validated(WebhookTestRequestSerializer, request.data)
        if data["sandbox"]:
            _field, event = services.webhook_test_event(customer, endpoint, data.get("event_type"))
            body = {"success": True, "message": f"Sandbox: test event {event} not sent"}
            return Response(body, headers=SANDBOX_HEADERS)
        success, message = services.webhook_test_send(
            customer, endpoint, event_type=data.get("event_type")
        )
        return Response({"success": success, "message": message})


class WebhookToggleStatusView(CustomerAPIView):
    @extend_schema(
        operation_id="webhooks_toggle_status",
        tags=TAGS,
        request=WebhookToggleStatusSerializer,
        responses=WebhookSerializer,
    )
    def patch(self, request, id):
        customer = self.customer
        endpoint = selectors.webhook_get(customer, id)
        data = validated(WebhookToggleStatusSerializer, request.data)
        endpoint = services.webhook_endpoint_set_active(
            customer,
            endpoint,
            is_active=data.get("is_active", not endpoint.is_active),
            save=not data["sandbox"],
        )
        return Response(WebhookSerializer(endpoint).data, headers=sandbox_headers(data["sandbox"]))


class WebhookRotateSecretView(CustomerAPIView):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        tags=TAGS,
        request=WebhookSandboxSerializer,
        responses=WebhookSecretSerializer,
    )
    def post(self, request, id):
        customer = self.customer
        endpoint = selectors.webhook_get(customer, id)
        if validated(WebhookSandboxSerializer, request.data)["sandbox"]:
            return Response({"signing_secret": secret_generate()}, headers=SANDBOX_HEADERS)
        return Response({"signing_secret": services.webhook_secret_rotate(customer, endpoint)})


class WebhookEventsView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "events"

    @extend_schema(
        operation_id="webhooks_events_list",
        tags=TAGS,
        responses=WebhookDeliverySerializer(many=True),
        parameters=[
            OpenApiParameter(
                "search", str, description="Event type, status or error", pattern=TEXT_PATTERN
            )
        ],
    )
    def get(self, request, id):
        endpoint = selectors.webhook_get(self.customer, id)
        query = validated_query(WebhookListQuerySerializer, request.query_params)
        deliveries = selectors.deliveries_for(endpoint, search=query.get("search", ""))
        return paginate(request, self, deliveries, WebhookDeliverySerializer)


class WebhookRedeliverView(CustomerAPIView):
    @extend_schema(
        operation_id="webhooks_event_redeliver",
        tags=TAGS,
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    def post(self, request, id, event_id):
        customer = self.customer
        endpoint = selectors.webhook_get(customer, id)
        delivery = selectors.delivery_get(endpoint, event_id)
        delivery = services.webhook_delivery_redeliver(customer, endpoint, delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=202)
