"""GET /v3/webhooks's query-string filters (docs/api/conventions.md#filtering)."""

import django_filters

from messaging.webhooks import selectors
from messaging.webhooks.api.serializers import WebhookListQuerySerializer
from sent_project.api.filters import QueryFilterSet


class WebhookFilterSet(QueryFilterSet):
    query_serializer = WebhookListQuerySerializer

    search = django_filters.Filter(method="filter_search")
    is_active = django_filters.Filter(method="filter_is_active")

    def filter_search(self, queryset, name, value):
        return queryset.filter(selectors.search_filter(value))

    def filter_is_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "true")
