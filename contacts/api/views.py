"""The contacts API: /v3/contacts…, /v3/numbers/lookup/{phone_number}. Thin views: parse,
call one service or selector, render."""

import csv

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.response import Response

from contacts.api.filters import ContactFilterSet
from contacts.api.serializers import (
    ConsentEventSerializer,
    ContactCreateSerializer,
    ContactDeletedSerializer,
    ContactListQuerySerializer,
    ContactMessageSummarySerializer,
    ContactSerializer,
    ContactUpdateSerializer,
    NumberLookupSerializer,
)
from contacts.selectors import (
    consent_events_for,
    consent_ledger_for,
    contact_get,
    contacts_for,
    number_lookup,
)
from contacts.services import contact_create, contact_delete, contact_update

# GET /v3/contacts/{id}/message-summary reads the messages app's selector: presentation may
# read the selectors of the app above (docs/architecture.md).
from messaging.selectors import contact_message_summary
from sent_project.api.pagination import PagePagination, paginate
from sent_project.api.validation import PageQuerySerializer, validated, validated_query
from sent_project.api.views import CustomerAPIView
from sent_project.sandbox import in_sandbox, sandbox_headers

TAGS = ["Contacts"]


class ContactListCreateView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "contacts"

    @extend_schema(
        operation_id="contacts_list",
        tags=TAGS,
        responses=ContactSerializer(many=True),
        parameters=[ContactListQuerySerializer],
    )
    def get(self, request):
        filters = ContactFilterSet(
            request.query_params, contacts_for(self.customer), customer=self.customer
        )
        return paginate(request, self, filters.qs, ContactSerializer, narrowing=filters.narrowing)

    @extend_schema(
        operation_id="contacts_create",
        tags=TAGS,
        request=ContactCreateSerializer,
        examples=[
            OpenApiExample("E.164", {"phone_number": "+14155550100"}, request_only=True),
            OpenApiExample("National (US)", {"phone_number": "(415) 555-0123"}, request_only=True),
        ],
        responses={
            201: OpenApiResponse(ContactSerializer, description="Created"),
            200: OpenApiResponse(ContactSerializer, description="The number already was a contact"),
        },
    )
    def post(self, request):
        data, sandbox = validated(ContactCreateSerializer, request.data), self.sandbox
        contact, created = in_sandbox(
            sandbox,
            lambda: contact_create(
                self.customer,
                phone_number=data["phone_number"],
                metadata=data.get("metadata"),
                name=data.get("name"),
            ),
        )
        return Response(
            ContactSerializer(contact).data,
            status=201 if created else 200,
            headers=sandbox_headers(sandbox),
        )


class ContactDetailView(CustomerAPIView):
    @extend_schema(operation_id="contacts_retrieve", tags=TAGS, responses=ContactSerializer)
    def get(self, request, contact_id):
        contact = contact_get(self.customer, contact_id=contact_id)
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        operation_id="contacts_update",
        tags=TAGS,
        request=ContactUpdateSerializer,
        responses=ContactSerializer,
    )
    def patch(self, request, contact_id):
        data, sandbox = validated(ContactUpdateSerializer, request.data), self.sandbox
        contact = in_sandbox(
            sandbox,
            lambda: contact_update(
                self.customer,
                contact_id=contact_id,
                default_channel=data.get("default_channel"),
                opt_out=data.get("opt_out"),
                metadata=data.get("metadata"),
                name=data.get("name"),
            ),
        )
        return Response(ContactSerializer(contact).data, headers=sandbox_headers(sandbox))

    @extend_schema(
        operation_id="contacts_delete",
        tags=TAGS,
        request=None,
        responses={200: ContactDeletedSerializer},
        description='Deprecated (as in the SDK): prefer PATCH {"opt_out": true}. Removes the '
        "contact from lists and lookups; its messages and consent history are kept.",
        deprecated=True,
    )
    def delete(self, request, contact_id):
        sandbox = self.sandbox
        contact = in_sandbox(sandbox, lambda: contact_delete(self.customer, contact_id=contact_id))
        return Response({"id": str(contact.id), "deleted": True}, headers=sandbox_headers(sandbox))


class ContactMessageSummaryView(CustomerAPIView):
    @extend_schema(
        operation_id="contacts_retrieve_message_summary",
        tags=TAGS,
        responses=ContactMessageSummarySerializer,
    )
    def get(self, request, contact_id):
        contact = contact_get(self.customer, contact_id=contact_id)
        return Response(ContactMessageSummarySerializer(contact_message_summary(contact)).data)


class ContactConsentView(CustomerAPIView):
    pagination_class = PagePagination
    items_key = "consent"

    @extend_schema(
        operation_id="contacts_consent_list",
        tags=TAGS,
        responses=ConsentEventSerializer(many=True),
        description="The contact's consent ledger: every opt-out and opt-in, oldest first.",
    )
    def get(self, request, contact_id):
        contact = contact_get(self.customer, contact_id=contact_id)
        validated_query(PageQuerySerializer, request.query_params)
        return paginate(request, self, consent_events_for(contact), ConsentEventSerializer)


class _Echo:
    def write(self, value):
        return value


CONSENT_CSV_HEADER = [
    "event_id",
    "contact_id",
    "phone_number",
    "opt_out",
    "source",
    "note",
    "message_id",
    "created_at",
    "contact_deleted",
]


class ConsentExportView(CustomerAPIView):
    @extend_schema(
        operation_id="contacts_consent_export",
        tags=TAGS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The whole account's consent ledger as CSV, oldest first.",
    )
    def get(self, request):
        writer = csv.writer(_Echo())
        events = consent_ledger_for(self.customer)

        def lines():
            yield writer.writerow(CONSENT_CSV_HEADER)
            for event in events.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        event.id,
                        event.contact.id,
                        event.contact.format_e164,
                        "true" if event.opt_out else "false",
                        event.source,
                        event.note,
                        event.message_id or "",
                        event.created_at.isoformat(),
                        "true" if event.contact.deleted_at else "false",
                    ]
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="consent.csv"'
        return response


class NumberLookupView(CustomerAPIView):
    @extend_schema(
        operation_id="numbers_lookup", tags=["Numbers"], responses=NumberLookupSerializer
    )
    def get(self, request, phone_number):
        return Response(NumberLookupSerializer(
            number_lookup(phone_number, default_region=self.customer.default_region)
        ).data)  # fmt: skip
