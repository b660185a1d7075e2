"""GET /v3/messages's query-string filters (docs/api/conventions.md#filtering); each is
served by an index of `messaging_message`."""

import django_filters

from messaging.api.serializers import MessageListQuerySerializer
from sent_project.api.filters import QueryFilterSet


class MessageFilterSet(QueryFilterSet):
    query_serializer = MessageListQuerySerializer

    # `status`/`channel` arrive as lists (comma-joined on the wire).
    status = django_filters.Filter(field_name="status", lookup_expr="in")
    channel = django_filters.Filter(field_name="channel", lookup_expr="in")
    contact_id = django_filters.Filter(field_name="contact_id")
    template_id = django_filters.Filter(field_name="template_id")
    created_after = django_filters.Filter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.Filter(field_name="created_at", lookup_expr="lt")
