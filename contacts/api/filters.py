"""GET /v3/contacts's query-string filters (docs/api/conventions.md#filtering)."""

import django_filters

from contacts import selectors
from contacts.api.serializers import ContactListQuerySerializer
from sent_project.api.filters import QueryFilterSet


class ContactFilterSet(QueryFilterSet):
    query_serializer = ContactListQuerySerializer

    search = django_filters.Filter(method="filter_search")
    channel = django_filters.Filter(method="filter_channel")
    phone = django_filters.Filter(method="filter_phone")

    def filter_search(self, queryset, name, value):
        return queryset.filter(selectors.search_filter(value)) if value.strip() else queryset

    def filter_channel(self, queryset, name, value):
        return queryset.filter(selectors.channel_filter(value))

    def filter_phone(self, queryset, name, value):
        return queryset.filter(selectors.phone_filter(self.context["customer"], value))
