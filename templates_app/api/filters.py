"""GET /v3/templates's query-string filters (docs/api/conventions.md#filtering)."""

import django_filters

from sent_project.api.filters import QueryFilterSet
from templates_app import selectors
from templates_app.api.serializers import TemplateListQuerySerializer


class TemplateFilterSet(QueryFilterSet):
    query_serializer = TemplateListQuerySerializer

    # `status`/`category` arrive as lists (comma-joined on the wire).
    status = django_filters.Filter(field_name="status", lookup_expr="in")
    category = django_filters.Filter(field_name="category", lookup_expr="in")
    language = django_filters.Filter(field_name="language")
    search = django_filters.Filter(method="filter_search")
    accepted_unused = frozenset({"is_welcome_playground"})  # the SDK sends it; validated only

    def filter_search(self, queryset, name, value):
        return queryset.filter(selectors.search_filter(value)) if value.strip() else queryset
