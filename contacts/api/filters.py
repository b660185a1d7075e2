"""GET /v3/contacts's query-string filters (docs/api/conventions.md#filtering)."""

import django_filters
from django.db.models import Q

from contacts import selectors
from contacts.api.serializers import ContactListQuerySerializer
from sent_project.api.filters import QueryFilterSet


class ContactFilterSet(QueryFilterSet):
    """`qs` is the list the channel and phone filters leave; `search` is not applied to it but
    given as `narrowing`, for the paginator to look among the newest contacts first
    (`sent_project.api.pagination.queryset_page`): PostgreSQL's statistics are the table's, so
    they cannot tell how rare a term is in one account's contacts."""

    query_serializer = ContactListQuerySerializer

    search = django_filters.Filter(method="filter_search")
    channel = django_filters.Filter(method="filter_channel")
    phone = django_filters.Filter(method="filter_phone")

    @property
    def narrowing(self) -> Q | None:
        search = self.cleaned_data.get("search") or ""
        return selectors.search_filter(search) if search.strip() else None

    def filter_search(self, queryset, name, value):
        return queryset  # the paginator's: `narrowing`

    def filter_channel(self, queryset, name, value):
        return queryset.filter(selectors.channel_filter(value))

    def filter_phone(self, queryset, name, value):
        return queryset.filter(selectors.phone_filter(self.context["customer"], value))
