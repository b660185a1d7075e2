"""Page-number pagination exactly as the SDK pagers read it.

`data = {<items_key>: [...], pagination: {page, page_size, total_count, total_pages,
has_more, cursors}}`. `has_more` comes from fetching one row more than the page;
`total_count` is exact up to API_EXACT_COUNT_LIMIT rows and the planner's estimate
beyond it (then `total_count_is_estimate` is true), so a list over a million rows
never pays for a full COUNT — nor for a bounded one when the planner expects far more
(see `queryset_page`).
"""

import json
import math
import re

from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from sent_project.errors import ValidationFailed, ValueOutOfRange

MAX_PAGE = 1_000_000


WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")


def _int_param(request, names: tuple[str, ...], default: int) -> int:
    """A whole number (range checked by the caller: VALIDATION_005); anything else, "x" or
    "²" or "½", is not a number at all (VALIDATION_001), as in every other parameter."""
    for name in names:
        raw = request.query_params.get(name)
        if raw is not None:
            if not WHOLE_NUMBER.fullmatch(raw.strip()):
                raise ValidationFailed(details={names[0]: ["A whole number is required."]})
            return int(raw)
    return default


def estimated_count(queryset: QuerySet) -> int | None:
    """PostgreSQL's row estimate for the query (EXPLAIN), or None where there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# When the planner expects more than this many times the exact-count limit, its estimate is
# the total: counting even the first limit + 1 matches of a search that matches a few percent
# of a million rows costs more than the page (20 ms against 0.2 ms, measured).
ESTIMATE_TRUSTED_ABOVE = 10


def count_rows(queryset: QuerySet, *, estimate: int | None = None) -> tuple[int, bool]:
    """(total, is_estimate). Exact up to the limit; beyond it the planner's `estimate`
    (never below the limit; without one, e.g. on SQLite, an exact COUNT)."""
    limit = settings.API_EXACT_COUNT_LIMIT
    unordered = queryset.order_by()
    bounded = unordered[: limit + 1].count()
    if bounded <= limit:
        return bounded, False
    if estimate is None:
        return unordered.count(), False
    return max(estimate, limit + 1), True


def queryset_page(queryset: QuerySet, offset: int, size: int) -> tuple[list, bool, int, bool]:
    """(rows, has_more, total, total_is_estimate) of one page of `queryset`, in its order.

    By default: the page's query with one extra row for `has_more`; on the last page the
    total is known, otherwise a bounded count gives it. On PostgreSQL the planner's estimate
    comes first (one EXPLAIN) and picks the cheapest way:
    - far above the exact-count limit: the page's query, and the estimate is the total;
    - more than a page but within the limit's reach: one ordered query of the first
      `limit + 1` keys gives the exact total, `has_more` and the page's keys, and the page's
      rows follow by primary key — a search answered by a bitmap scan scans once, not twice.
    """
    limit = settings.API_EXACT_COUNT_LIMIT
    estimate = estimated_count(queryset.order_by())
    trusted = estimate is not None and estimate > limit * ESTIMATE_TRUSTED_ABOVE
    if estimate is not None and not trusted and estimate > size and offset + size <= limit:
        keys = list(queryset.values_list("pk", flat=True)[: limit + 1])
        page_keys = keys[offset : offset + size]
        by_key = {row.pk: row for row in queryset.order_by().filter(pk__in=page_keys)}
        rows = [by_key[key] for key in page_keys if key in by_key]
        total = (len(keys), False) if len(keys) <= limit else (max(estimate, limit + 1), True)
        return rows, len(keys) > offset + size, *total
    rows = list(queryset[offset : offset + size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    if not has_more and (rows or not offset):
        total = (offset + len(rows), False)  # the last page: known without counting
    elif trusted:
        total = (estimate, True)
    else:
        total = count_rows(queryset, estimate=estimate)
    return rows, has_more, *total


class PagePagination(BasePagination):
    """Set `items_key` on the view (e.g. "contacts"); `page` is 1-based."""

    page_query_param = "page"

    def paginate_queryset(self, queryset, request, view=None):
        self.items_key = getattr(view, "items_key", "items")
        self.page = _int_param(request, ("page",), 1)
        self.page_size = _int_param(request, ("page_size", "pageSize"), settings.API_PAGE_SIZE)
        if not 1 <= self.page <= MAX_PAGE:
            raise ValueOutOfRange(details={"page": [f"Must be from 1 to {MAX_PAGE}."]})
        if self.page_size < 1:
            raise ValueOutOfRange(details={"page_size": ["Must be 1 or more."]})
        self.page_size = min(self.page_size, settings.API_MAX_PAGE_SIZE)
        offset = (self.page - 1) * self.page_size
        if isinstance(queryset, QuerySet):
            rows, self.has_more, self.total_count, self.is_estimate = queryset_page(
                queryset, offset, self.page_size
            )
            return rows
        rows = list(queryset)
        self.has_more = len(rows) > offset + self.page_size
        self.total_count, self.is_estimate = len(rows), False
        return rows[offset : offset + self.page_size]

    def pagination_meta(self) -> dict:
        return {
            "page": self.page,
            "page_size": self.page_size,
            "total_count": self.total_count,
            "total_pages": math.ceil(self.total_count / self.page_size) if self.total_count else 0,
            "has_more": self.has_more,
            "cursors": None,
            "total_count_is_estimate": self.is_estimate,
        }

    def get_paginated_response(self, data):
        return Response({self.items_key: data, "pagination": self.pagination_meta()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": [self.items_key_for_schema, "pagination"],
            "properties": {
                self.items_key_for_schema: schema,
                "pagination": {"$ref": "#/components/schemas/Pagination"},
            },
        }

    items_key_for_schema = "items"

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page number, 1-based.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Items per page (default {settings.API_PAGE_SIZE}, "
                f"capped at {settings.API_MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999},
            },
        ]


def paginate(request, view, queryset, serializer_class, *, context: dict | None = None):
    """The list-endpoint one-liner: page the queryset, serialize the rows, wrap with `pagination`.

    The view declares `pagination_class = PagePagination` and `items_key = "<resource>"`
    (both also drive the OpenAPI schema) and `@extend_schema(responses=Serializer(many=True))`.
    """
    paginator = PagePagination()
    rows = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(rows, many=True, context={"request": request, **(context or {})}).data
    return paginator.get_paginated_response(data)
