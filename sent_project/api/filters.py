"""The base of every list's FilterSet (django-filter): a list's query-string filtering.

    class ThingFilterSet(QueryFilterSet):
        query_serializer = ThingListQuerySerializer
        status = django_filters.Filter(field_name="status", lookup_expr="in")

    things = ThingFilterSet(request.query_params, things_for(customer)).qs

The query string is validated by the list's query serializer with the API's one policy
(`sent_project.api.validation.validated_query`: a repeated parameter, a blank value, a bad
value answer the same codes on every endpoint, docs/api/conventions.md#filtering); each
declared filter then applies its validated value to the queryset (a value left out or empty
filters nothing). Pagination stays the paginator's (`page`/`page_size` are not filters).
"""

import django_filters
from rest_framework import serializers

from sent_project.api.validation import validated_query


class QueryFilterSet(django_filters.FilterSet):
    # The serializer that validates the query string (and documents it in the schema).
    query_serializer: type[serializers.Serializer]
    # Parameters the serializer accepts (and validates) that filter nothing.
    accepted_unused: frozenset[str] = frozenset()

    def __init__(self, data, queryset, *, request=None, **context):
        super().__init__(data=data, queryset=queryset, request=request)
        self.context = context

    @property
    def cleaned_data(self) -> dict:
        """The validated query; raises ValidationFailed (400) as `validated_query` does."""
        if not hasattr(self, "_cleaned_data"):
            self._cleaned_data = validated_query(self.query_serializer, self.data, **self.context)
        return self._cleaned_data

    def is_valid(self) -> bool:
        self.cleaned_data  # noqa: B018 — raises the API's error instead of answering False
        return True

    @property
    def errors(self) -> dict:
        self.cleaned_data  # noqa: B018
        return {}

    def filter_queryset(self, queryset):
        for name, value in self.cleaned_data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset
