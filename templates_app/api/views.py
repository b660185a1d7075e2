"""The templates API: /v3/templates… Thin views: parse, call one service or selector, render."""

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.validation import validated
from sent_project.api.views import CustomerAPIView
from sent_project.sandbox import SANDBOX_HEADERS, sandbox_headers
from templates_app.api.filters import TemplateFilterSet
from templates_app.api.serializers import (
    TemplateCreateSerializer,
    TemplateDeletedSerializer,
    TemplateDeleteSerializer,
    TemplateListQuerySerializer,
    TemplatePreviewRequestSerializer,
    TemplatePreviewSerializer,
    TemplateSerializer,
    TemplateUpdateSerializer,
)
from templates_app.rendering import template_preview
from templates_app.selectors import template_get, templates_for
from templates_app.services import template_create, template_delete, template_update

TAGS = ["Templates"]


class TemplateListCreateView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "templates"

    @extend_schema(
        operation_id="templates_list",
        tags=TAGS,
        responses=TemplateSerializer(many=True),
        parameters=[TemplateListQuerySerializer],
    )
    def get(self, request):
        templates = TemplateFilterSet(request.query_params, templates_for(self.customer)).qs
        return paginate(request, self, templates, TemplateSerializer)

    @extend_schema(
        operation_id="templates_create",
        tags=TAGS,
        request=TemplateCreateSerializer,
        responses={
            201: TemplateSerializer,
            200: OpenApiResponse(TemplateSerializer, "Sandbox: checked, nothing created (id null)"),
        },
        description="Created DRAFT, or with `submit_for_review: true` sent to review "
        "(PENDING; SMS-only templates are APPROVED at once).",
    )
    def post(self, request):
        data = validated(TemplateCreateSerializer, request.data)
        template = template_create(
            self.customer,
            definition=data["definition"],
            category=data.get("category"),
            language=data.get("language"),
            name=data.get("name"),
            display_name=data.get("display_name"),
            submit_for_review=data["submit_for_review"],
            creation_source=data.get("creation_source"),
            auto_reply_action=data.get("auto_reply_action") or "",
            sandbox=data["sandbox"],
        )
        body = TemplateSerializer(template).data
        if data["sandbox"]:
            return Response({**body, "id": None}, headers=SANDBOX_HEADERS)
        return Response(body, status=201)


class TemplateDetailView(CustomerAPIView):
    @extend_schema(operation_id="templates_retrieve", tags=TAGS, responses=TemplateSerializer)
    def get(self, request, id):
        return Response(TemplateSerializer(template_get(self.customer, id)).data)

    @extend_schema(
        operation_id="templates_update",
        tags=TAGS,
        request=TemplateUpdateSerializer,
        responses=TemplateSerializer,
        description="Partial update (only the fields given). 409 CONFLICT_006 while in review.",
    )
    def put(self, request, id):
        customer = self.customer
        template = template_get(customer, id)
        data = validated(TemplateUpdateSerializer, request.data)
        template = template_update(
            customer,
            template,
            name=data.get("name"),
            display_name=data.get("display_name"),
            category=data.get("category"),
            language=data.get("language"),
            definition=data.get("definition"),
            submit_for_review=data["submit_for_review"],
            auto_reply_action=(
                None if "auto_reply_action" not in data else data["auto_reply_action"] or ""
            ),
            sandbox=data["sandbox"],
        )
        return Response(TemplateSerializer(template).data, headers=sandbox_headers(data["sandbox"]))

    @extend_schema(
        operation_id="templates_partial_update",
        tags=TAGS,
        request=TemplateUpdateSerializer,
        responses=TemplateSerializer,
    )
    def patch(self, request, id):
        return self.put(request, id)

    @extend_schema(
        operation_id="templates_delete",
        tags=TAGS,
        request=TemplateDeleteSerializer,
        responses={200: TemplateDeletedSerializer},
        description="Refused with 409 CONFLICT_007 while queued messages use the template.",
    )
    def delete(self, request, id):
        customer = self.customer
        template = template_get(customer, id)
        data = validated(TemplateDeleteSerializer, request.data if request.data else {})
        template_delete(
            customer,
            template,
            delete_from_meta=bool(data["delete_from_meta"]),
            sandbox=data["sandbox"],
        )
        return Response(
            {"id": template.pk, "deleted": True}, headers=sandbox_headers(data["sandbox"])
        )


class TemplatePreviewView(CustomerAPIView):
    @extend_schema(
        operation_id="templates_preview",
        tags=TAGS,
        request=TemplatePreviewRequestSerializer,
        responses={200: TemplatePreviewSerializer},
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        description="Our addition: the template rendered per channel with the given parameters "
        "(else the variables' samples), with SMS encoding and segment count. Any status.",
    )
    def post(self, request, id):
        template = template_get(self.customer, id)
        data = validated(TemplatePreviewRequestSerializer, request.data)
        values, previews = template_preview(
            template, parameters=data.get("parameters"), channels=data.get("channels")
        )
        return Response(
            {
                "template_id": template.pk,
                "parameters": values,
                "previews": [asdict(preview) for preview in previews],
            }
        )
