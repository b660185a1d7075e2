"""GET /v3/billing/ledger's query-string filters (docs/api/conventions.md#filtering)."""

import django_filters

from billing.api.serializers import LedgerQuerySerializer
from sent_project.api.filters import QueryFilterSet


class LedgerFilterSet(QueryFilterSet):
    query_serializer = LedgerQuerySerializer

    kind = django_filters.Filter(field_name="kind")
    message_id = django_filters.Filter(field_name="message_id")
