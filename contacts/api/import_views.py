"""POST/GET /v3/contacts/import, GET /v3/contacts/import/{id}: bulk imports."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from contacts.api.serializers import (
    ContactImportCreateSerializer,
    ContactImportDetailSerializer,
    ContactImportRowSerializer,
    ContactImportRowsQuerySerializer,
    ContactImportSerializer,
)
from contacts.imports import import_payload_from_csv, import_payload_from_json
from contacts.models import ContactImport
from contacts.selectors import contact_import_get, contact_import_rows, contact_imports_for
from contacts.services import contact_import_create
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.parsers import JSONParser
from sent_project.api.validation import PageQuerySerializer, validated_query
from sent_project.api.views import CustomerAPIView
from sent_project.errors import RequiredFieldMissing, ValidationFailed
from sent_project.sandbox import in_sandbox, sandbox_headers

TAGS = ["Contacts"]
# The detail answers one page of the rows, so it takes the paginator's `page`/`page_size`
# (list views get them from `pagination_class`; this one is no list).
ROW_PAGE_PARAMETERS = [
    OpenApiParameter(p["name"], p["schema"], description=p["description"])
    for p in PagePagination().get_schema_operation_parameters(None)
]


class CSVTextParser(BaseParser):
    """A raw CSV body (Content-Type: text/csv)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"csv": stream.read() if stream else b""}


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "The CSV must be UTF-8 text.", details={"file": ["The CSV must be UTF-8 text."]}
        ) from None


def _upload(request, sandbox: bool) -> tuple[str, str, int, str, bool]:
    """(format, payload, rows, filename, sandbox) of any accepted upload, or a 400
    (`sandbox`: the body's flag, which only a JSON upload can carry)."""
    data = request.data
    if request.content_type.startswith("multipart/"):
        upload = request.FILES.get("file")
        if upload is None:
            raise RequiredFieldMissing(
                details={"file": ["Upload the CSV as the multipart form field 'file'."]},
            )
        payload, rows = import_payload_from_csv(_decode(upload.read()))
        return ContactImport.Format.CSV, payload, rows, upload.name or "", False
    if request.content_type.startswith("text/csv"):
        payload, rows = import_payload_from_csv(_decode(data.get("csv") or b""))
        return ContactImport.Format.CSV, payload, rows, "", False
    contacts = data.get("contacts") if isinstance(data, dict) else None
    if not isinstance(contacts, list):
        raise RequiredFieldMissing(
            details={"contacts": ['A JSON array of rows is required: {"contacts": [...]}.']},
        )
    payload, rows = import_payload_from_json(contacts)
    return ContactImport.Format.JSON, payload, rows, "", sandbox


class ContactImportListCreateView(CustomerAPIView):
    parser_classes = [JSONParser, MultiPartParser, CSVTextParser]
    pagination_class = PagePagination
    items_key = "imports"

    @extend_schema(
        operation_id="contacts_import_list",
        tags=TAGS,
        responses=ContactImportSerializer(many=True),
    )
    def get(self, request):
        validated_query(PageQuerySerializer, request.query_params)
        imports = contact_imports_for(self.customer)
        return paginate(request, self, imports, ContactImportSerializer)

    @extend_schema(
        operation_id="contacts_import_create",
        tags=TAGS,
        request={
            "application/json": ContactImportCreateSerializer,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
            "text/csv": OpenApiTypes.STR,
        },
        responses={202: ContactImportSerializer},
        description="Queue an import of up to 100,000 rows: a CSV (column phone_number, "
        "optional opt_out, other columns become metadata) or JSON rows. Poll "
        "GET /v3/contacts/import/{id} for progress and per-row results.",
    )
    def post(self, request):
        source_format, payload, rows, filename, sandbox = _upload(request, self.sandbox)
        contact_import = in_sandbox(
            sandbox,
            lambda: contact_import_create(
                self.customer,
                source_format=source_format,
                payload=payload,
                total_rows=rows,
                filename=filename,
            ),
        )
        return Response(
            ContactImportSerializer(contact_import).data,
            status=202,
            headers=sandbox_headers(sandbox),
        )


class ContactImportDetailView(CustomerAPIView):
    items_key = "rows"

    @extend_schema(
        operation_id="contacts_import_retrieve",
        tags=TAGS,
        responses=ContactImportDetailSerializer,
        parameters=[*ROW_PAGE_PARAMETERS, ContactImportRowsQuerySerializer],
    )
    def get(self, request, import_id):
        contact_import = contact_import_get(self.customer, import_id=import_id)
        query = validated_query(ContactImportRowsQuerySerializer, request.query_params)
        rows = contact_import_rows(contact_import, status=query.get("status", ""))
        page = paginate(request, self, rows, ContactImportRowSerializer)
        return Response({**ContactImportSerializer(contact_import).data, **page.data})
