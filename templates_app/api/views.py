"""The templates API: /v3/templates… Thin views: parse, call one service or selector, render."""

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from sent_project.api.pagination import PagePagination, paginate
from sent_project.errors import ValidationFailed
from templates_app.api.serializers import (
    TemplateCreateSerializer,
    TemplateDeletedSerializer,
    TemplateDeleteSerializer,
    TemplatePreviewRequestSerializer,
    TemplatePreviewSerializer,
    TemplateSerializer,
    TemplateUpdateSerializer,
)
from templates_app.models import TemplateCategory, TemplateStatus
from templates_app.rendering import template_preview
from templates_app.selectors import template_get, templates_for
from templates_app.services import template_create, template_delete, template_update

TAGS = ["Templates"]
SANDBOX_HEADERS = {"X-Sandbox": "true"}
SEARCH_MAX_LENGTH = 200


def _choices(request, name: str, allowed: list[str]) -> list[str]:
    """A comma-joined filter (`status=APPROVED,PENDING`), each value from `allowed`."""
    raw = request.query_params.get(name)
    if raw is None:
        return []
    values = [value.strip() for value in raw.split(",")]
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValidationFailed(
            code="VALIDATION_006",
            details={name: [f"Unknown value(s) {', '.join(unknown)}: use {', '.join(allowed)}."]},
        )
    return values


def _text(request, name: str) -> str:
    value = request.query_params.get(name, "").replace("\x00", "")
    if len(value) > SEARCH_MAX_LENGTH:
        raise ValidationFailed(
            code="VALIDATION_005", details={name: [f"At most {SEARCH_MAX_LENGTH} characters."]}
        )
    return value


def _ignored_flag(request, name: str) -> None:
    """A boolean filter we accept and ignore; still, only true/false is a boolean."""
    if request.query_params.get(name, "false") not in ("true", "false"):
        raise ValidationFailed(details={name: ["Must be true or false."]})


def _headers(sandbox: bool) -> dict | None:
    return SANDBOX_HEADERS if sandbox else None


class TemplateListCreateView(APIView):
    pagination_class = PagePagination
    items_key = "templates"

    @extend_schema(
        operation_id="templates_list",
        tags=TAGS,
        responses=TemplateSerializer(many=True),
        parameters=[
            OpenApiParameter("search", str, description="Part of the name, display name or text."),
            OpenApiParameter("category", str, enum=TemplateCategory.values,
                             description="Also several, comma-joined."),
            OpenApiParameter("status", str, enum=TemplateStatus.values,
                             description="Also several, comma-joined: APPROVED,PENDING."),
            OpenApiParameter("language", str, description="e.g. en_US"),
            OpenApiParameter("is_welcome_playground", bool, description="Accepted and ignored."),
        ],
    )
    def get(self, request):
        _ignored_flag(request, "is_welcome_playground")
        templates = templates_for(
            request.user.customer,
            statuses=_choices(request, "status", TemplateStatus.values),
            categories=_choices(request, "category", TemplateCategory.values),
            language=_text(request, "language"),
            search=_text(request, "search"),
        )
        return paginate(request, self, templates, TemplateSerializer)

    @extend_schema(
        operation_id="templates_create",
        tags=TAGS,
        request=TemplateCreateSerializer,
        responses={201: TemplateSerializer},
        description="Created DRAFT, or with `submit_for_review: true` sent to review "
        "(PENDING; SMS-only templates are APPROVED at once).",
    )
    def post(self, request):
        serializer = TemplateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = template_create(
            request.user.customer,
            definition=data["definition"],
            category=data.get("category"),
            language=data.get("language"),
            name=data.get("name"),
            display_name=data.get("display_name"),
            submit_for_review=data["submit_for_review"],
            creation_source=data.get("creation_source"),
            sandbox=data["sandbox"],
        )
        return Response(TemplateSerializer(template).data, status=201,
                        headers=_headers(data["sandbox"]))


class TemplateDetailView(APIView):
    @extend_schema(operation_id="templates_retrieve", tags=TAGS, responses=TemplateSerializer)
    def get(self, request, id):
        return Response(TemplateSerializer(template_get(request.user.customer, id)).data)

    @extend_schema(
        operation_id="templates_update",
        tags=TAGS,
        request=TemplateUpdateSerializer,
        responses=TemplateSerializer,
        description="Partial update (only the fields given). 409 CONFLICT_006 while in review.",
    )
    def put(self, request, id):
        customer = request.user.customer
        template = template_get(customer, id)
        serializer = TemplateUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = template_update(
            customer,
            template,
            name=data.get("name"),
            display_name=data.get("display_name"),
            category=data.get("category"),
            language=data.get("language"),
            definition=data.get("definition"),
            submit_for_review=data["submit_for_review"],
            sandbox=data["sandbox"],
        )
        return Response(TemplateSerializer(template).data, headers=_headers(data["sandbox"]))

    @extend_schema(operation_id="templates_partial_update", tags=TAGS,
                   request=TemplateUpdateSerializer, responses=TemplateSerializer)
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
        customer = request.user.customer
        template = template_get(customer, id)
        serializer = TemplateDeleteSerializer(data=request.data if request.data else {})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template_delete(customer, template, delete_from_meta=bool(data["delete_from_meta"]),
                        sandbox=data["sandbox"])
        return Response({"id": template.pk, "deleted": True}, headers=_headers(data["sandbox"]))


class TemplatePreviewView(APIView):
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
        template = template_get(request.user.customer, id)
        serializer = TemplatePreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        values, previews = template_preview(
            template, parameters=data.get("parameters"), channels=data.get("channels")
        )
        return Response({
            "template_id": template.pk,
            "parameters": values,
            "previews": [asdict(preview) for preview in previews],
        })
