"""Page-number pagination exactly as the SDK pagers read it.

`data = {<items_key>: [...], pagination: {page, page_size, total_count, total_pages,
has_more, cursors}}`. `has_more` comes from fetching one row more than the page;
`total_count` is exact up to API_EXACT_COUNT_LIMIT rows and the planner's estimate
beyond it (then `total_count_is_estimate` is true), so a list over a million rows
never pays for a full COUNT — nor for a bounded one when the planner expects far more;
a list narrowed by a search looks among its newest rows first (see `queryset_page`).
"""

import json
import math
import re
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, OrderBy, Q, QuerySet, Window
from django.db.models.functions import RowNumber
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


def _plan(queryset: QuerySet) -> dict | None:
    """PostgreSQL's plan for the query (EXPLAIN), or None where there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]["Plan"]


def estimated_count(queryset: QuerySet) -> int | None:
    """PostgreSQL's row estimate for the query (EXPLAIN), or None where there is none."""
    plan = _plan(queryset)
    return None if plan is None else int(plan["Plan Rows"])


def _walk_plan(sliced: QuerySet) -> tuple[int | None, bool]:
    """(PostgreSQL's row estimate for the query without its slice, whether its plan walks an
    index in the query's order), from one EXPLAIN; (None, False) where there is none."""
    plan = _plan(sliced)
    if plan is None:
        return None, False
    scan = plan["Plans"][0] if plan["Node Type"] == "Limit" else plan
    return int(scan["Plan Rows"]), scan["Node Type"] in ("Index Scan", "Index Only Scan")


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


# A narrowed list's page is looked for first among its newest rows: 100 for each row up to the
# page's end (a term in 1 % of the rows fills it), 2,000 to 20,000 (about 0.4 ms a thousand
# rows, warm).
WINDOW_ROWS_PER_ROW_NEEDED = 100
WINDOW_ROWS = (2_000, 20_000)
# What one match costs the search's own index (its heap page, read at random and sorted after),
# in rows an ordered walk reads (measured: about 5 µs against 0.4 µs).
MATCH_COST_IN_WALKED_ROWS = 10


def queryset_page(
    queryset: QuerySet, offset: int, size: int, *, narrowing: Q | None = None
) -> tuple[list, bool, int, bool]:
    """(rows, has_more, total, total_is_estimate) of one page of `queryset`, in its order
    (narrowed by `narrowing`, if given: the page is then `queryset.filter(narrowing)`'s).

    By default: the page's query with one extra row for `has_more`; on the last page the
    total is known, otherwise a bounded count gives it. On PostgreSQL the planner's estimate
    comes first (one EXPLAIN) and picks the cheapest way:
    - far above the exact-count limit: the page's query, and the estimate is the total;
    - more than a page but within the limit's reach: one ordered query of the first
      `limit + 1` keys gives the exact total, `has_more` and the page's keys, and the page's
      rows follow by primary key — a search answered by a bitmap scan scans once, not twice.

    `narrowing` is a search only an unordered index answers (a substring search, trigram GIN;
    `queryset` ordered by field names). The planner's statistics are the table's, not the
    tenant's: for a term common in another tenant's rows but absent from this one's it walks
    the ordered index expecting a match every few rows, and reads every row. So, on
    PostgreSQL, when the plan of the query that runs walks an index in order (one EXPLAIN of
    the page's query gives the plan and the estimate; one of the keys' query when that is the
    one), the newest window comes first (`_newest_first_page`):
    the matches among only `queryset`'s newest rows (WINDOW_ROWS), in one query that stops at
    the last one needed. The window is a prefix of the order, so its matches are a prefix of
    all the matches: when it holds as many as the plan needs (the page and one more; `limit +
    1` for an exact total), or the window is the whole list, they are the answer. Otherwise
    the window is a sample of the list: where its density says the walk finds the page soon,
    the walk gives the page, and the total is the estimate (the sample expects far more than
    the limit) or a bounded count; where it says the matches are few, the search's own index
    answers first (`_index_walks_off`), which is fast exactly then, and counts them exactly up
    to the limit — a term with no match reports 0, not the table's estimate.
    """
    limit = settings.API_EXACT_COUNT_LIMIT
    if narrowing is None:
        narrowed, walks = queryset, False
        estimate = estimated_count(queryset.order_by())
    else:
        narrowed = queryset.filter(narrowing)
        estimate, walks = _walk_plan(narrowed[offset : offset + size + 1])
    trusted = estimate is not None and estimate > limit * ESTIMATE_TRUSTED_ABOVE
    if walks and not trusted and estimate > size and offset + size <= limit:
        # The keys' query runs instead (`_keys_page`): its plan, for more rows, may not walk.
        walks = _walk_plan(narrowed.values_list("pk", flat=True)[: limit + 1])[1]
    if walks:
        page = _newest_first_page(queryset, narrowing, offset, size, estimate, trusted)
        if page is not None:
            return page
    return _planned_page(narrowed, offset, size, estimate, trusted)


def _planned_page(queryset, offset, size, estimate, trusted) -> tuple[list, bool, int, bool]:
    """`queryset_page` by the planner's estimate (None: SQLite's simple path)."""
    limit = settings.API_EXACT_COUNT_LIMIT
    if estimate is not None and not trusted and estimate > size and offset + size <= limit:
        return _keys_page(queryset, offset, size, estimate)
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


def _newest_first_page(queryset, narrowing, offset, size, estimate, trusted):
    """`queryset_page` of a narrowed list whose page's plan walks the list's ordered index: the
    newest window first, then by the window's density either the walk (for the page only) or
    the search's own index; the total from the window, or a bounded count by the search's
    index (`limit + 1` matches at most)."""
    limit = settings.API_EXACT_COUNT_LIMIT
    narrowed = queryset.filter(narrowing)
    page_end = offset + size + 1  # the page and one more, for `has_more`
    # The matches the plan needs: the page's; for an exact total, `limit + 1`.
    needed = limit + 1 if not trusted and offset + size <= limit else page_end
    window = min(max(WINDOW_ROWS[0], page_end * WINDOW_ROWS_PER_ROW_NEEDED), WINDOW_ROWS[1])
    keys, full = _newest_window_keys(queryset, narrowing, needed, window)
    if len(keys) >= needed:  # more than the limit, or the estimate is trusted
        total = max(estimate, limit + 1)
        return _rows_by_key(narrowed, keys[offset : offset + size]), True, total, True
    if not full:  # the window is the whole list: these are all its matches
        page = _rows_by_key(narrowed, keys[offset : offset + size])
        return page, len(keys) > offset + size, len(keys), False
    # The window is a sample of the list: at its density, how many matches in all.
    matches = len(keys) * (estimated_count(queryset.order_by()) or 0) / window
    if len(keys) >= page_end:
        rows, has_more = _rows_by_key(narrowed, keys[offset : offset + size]), True
    elif keys and (page_end - len(keys)) * window / len(keys) < matches * MATCH_COST_IN_WALKED_ROWS:
        # The walk reads fewer rows for the page than the search's index would read matches.
        rows = list(narrowed[offset : offset + size + 1])
        has_more, rows = len(rows) > size, rows[:size]
        if not has_more and (rows or not offset):
            return rows, False, offset + len(rows), False  # the last page: known
    else:  # Few matches: the estimate is disproved; the search's index, exact up to the limit.
        with _index_walks_off(connections[queryset.db]):
            return _planned_page(narrowed, offset, size, estimate, trusted=False)
    if matches > limit * ESTIMATE_TRUSTED_ABOVE:  # the window's density trusts the estimate
        return rows, has_more, max(estimate, limit + 1), True
    with _index_walks_off(connections[queryset.db]):
        return rows, has_more, *count_rows(narrowed, estimate=estimate)


def _keys_page(queryset, offset: int, size: int, estimate: int) -> tuple[list, bool, int, bool]:
    """The page from one ordered query of the first `limit + 1` keys (the exact total up to the
    limit, `has_more`, the page's keys), then the page's rows by key."""
    limit = settings.API_EXACT_COUNT_LIMIT
    keys = list(queryset.values_list("pk", flat=True)[: limit + 1])
    total = (len(keys), False) if len(keys) <= limit else (max(estimate, limit + 1), True)
    return _rows_by_key(queryset, keys[offset : offset + size]), len(keys) > offset + size, *total


def _rows_by_key(queryset: QuerySet, keys: list) -> list:
    """The rows of `queryset` with these primary keys, in the keys' order."""
    by_key = {row.pk: row for row in queryset.order_by().filter(pk__in=keys)}
    return [by_key[key] for key in keys if key in by_key]


def _newest_window_keys(
    queryset: QuerySet, narrowing: Q, count: int, window: int
) -> tuple[list, bool]:
    """(The first `count` keys of `queryset.filter(narrowing)` among only the newest `window`
    rows of `queryset`, in its order; whether the list has that many rows). One query that
    walks the list's ordered index and stops at the window's end, or at the `count`-th match
    (`queryset` is ordered by field names)."""
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    order_by = {f"window_order_{n}": name for n, name in enumerate(ordering)}
    rows = queryset.annotate(
        window_key=F("pk"),
        window_match=ExpressionWrapper(narrowing, output_field=BooleanField()),
        window_row=Window(
            RowNumber(),
            order_by=[
                OrderBy(F(name.lstrip("-")), descending=name.startswith("-")) for name in ordering
            ],
        ),
        **{alias: F(name.lstrip("-")) for alias, name in order_by.items()},
    ).values_list("window_key", "window_match", "window_row", *order_by)[:window]
    sql, params = rows.query.sql_with_params()
    order = ", ".join(
        f"w.{quote(alias)}{' DESC' if name.startswith('-') else ''}"
        for alias, name in order_by.items()
    )
    key, match, row = (
        f"w.{quote(column)}" for column in ("window_key", "window_match", "window_row")
    )
    with connection.cursor() as cursor:
        # The window's last row comes too (if it has one): it says the window is full.
        cursor.execute(
            f"SELECT {key}, {match}, {row} FROM ({sql}) w WHERE {match} OR {row} = %s "
            f"ORDER BY {order} LIMIT %s",
            (*params, window, count + 1),
        )
        found = cursor.fetchall()
    keys = [key for key, matches, _ in found if matches][:count]
    return keys, len(keys) >= count or any(number == window for _, _, number in found)


@contextmanager
def _index_walks_off(connection):
    """PostgreSQL's planner without index scans for the block (bitmap scans stay): a
    search's own index answers first, whatever the statistics expect. `SET LOCAL` in a
    transaction of its own (a savepoint inside another), set back at the block's end, so an
    enclosing transaction keeps its planner (an error rolls the setting back)."""
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = off")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_indexscan = on")


class PagePagination(BasePagination):
    """Set `items_key` on the view (e.g. "contacts"); `page` is 1-based."""

    page_query_param = "page"

    def paginate_queryset(self, queryset, request, view=None, *, narrowing: Q | None = None):
        """The page's rows; `narrowing` as in `queryset_page` (a QuerySet only)."""
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
                queryset, offset, self.page_size, narrowing=narrowing
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


def paginate(
    request,
    view,
    queryset,
    serializer_class,
    *,
    context: dict | None = None,
    narrowing: Q | None = None,
):
    """The list-endpoint one-liner: page the queryset, serialize the rows, wrap with `pagination`.

    `narrowing`: a search that narrows `queryset` and that only an unordered index answers (the
    page is `queryset.filter(narrowing)`'s, looked for among the newest rows first:
    `queryset_page`).

    The view declares `pagination_class = PagePagination` and `items_key = "<resource>"`
    (both also drive the OpenAPI schema) and `@extend_schema(responses=Serializer(many=True))`.
    """
    paginator = PagePagination()
    rows = paginator.paginate_queryset(queryset, request, view=view, narrowing=narrowing)
    data = serializer_class(rows, many=True, context={"request": request, **(context or {})}).data
    return paginator.get_paginated_response(data)
