"""Page-number pagination as the SDK pagers read it, with has_more from one extra row."""

from decimal import Decimal

import pytest

from django.db import connection

from billing.services import balance_top_up
from tests.queries import rate_limit_queries

pytestmark = pytest.mark.urls("tests.sent_project.probe_urls")


def add_entries(customer, count: int):
    for _ in range(count):
        balance_top_up(customer, amount=Decimal("1"))


def test_pages_walk_every_row_once_and_stop(api_client, account):
    add_entries(account, 44)  # + the opening balance = 45 entries
    seen, page = [], 1
    while True:
        data = api_client.get("/v3/probe/ledger", {"page": page, "page_size": 20}).json()["data"]
        seen += [row["id"] for row in data["entries"]]
        if not data["pagination"]["has_more"]:
            break
        page += 1
    assert page == 3
    assert len(seen) == len(set(seen)) == 45
    assert data["pagination"] == {
        "page": 3,
        "page_size": 20,
        "total_count": 45,
        "total_pages": 3,
        "has_more": False,
        "cursors": None,
        "total_count_is_estimate": False,
    }


def test_the_first_page_is_the_default_and_newest_first(api_client, account):
    add_entries(account, 2)
    data = api_client.get("/v3/probe/ledger").json()["data"]
    assert data["pagination"]["page"] == 1
    assert data["pagination"]["page_size"] == 20
    ids = [row["id"] for row in data["entries"]]
    assert ids == sorted(ids, reverse=True)


def test_page_size_is_capped(api_client, account, settings):
    settings.API_MAX_PAGE_SIZE = 5
    add_entries(account, 7)
    data = api_client.get("/v3/probe/ledger", {"page_size": 10000}).json()["data"]
    assert data["pagination"]["page_size"] == 5
    assert len(data["entries"]) == 5
    assert data["pagination"]["has_more"] is True


def test_the_seeds_pagesize_spelling_is_accepted(api_client, account):
    add_entries(account, 3)
    data = api_client.get("/v3/probe/ledger", {"pageSize": 2}).json()["data"]
    assert len(data["entries"]) == 2


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"page": 0}, "VALIDATION_005"),
        ({"page": -1}, "VALIDATION_005"),
        ({"page": "x"}, "VALIDATION_001"),
        ({"page_size": 0}, "VALIDATION_005"),
        ({"page": "²"}, "VALIDATION_001"),
        ({"pageSize": "½"}, "VALIDATION_001"),
    ],
)
def test_bad_page_parameters_get_400(api_client, params, code):
    response = api_client.get("/v3/probe/ledger", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_a_page_past_the_end_is_empty_and_says_no_more(api_client, account):
    data = api_client.get("/v3/probe/ledger", {"page": 9}).json()["data"]
    assert data["entries"] == []
    assert data["pagination"]["has_more"] is False
    assert data["pagination"]["total_count"] == 1


def test_totals_beyond_the_exact_limit_are_marked_as_estimates(api_client, account, settings):
    settings.API_EXACT_COUNT_LIMIT = 3
    add_entries(account, 9)  # 10 entries
    data = api_client.get("/v3/probe/ledger", {"page_size": 2}).json()["data"]
    pagination = data["pagination"]
    assert pagination["has_more"] is True
    if settings.IS_POSTGRES:
        assert pagination["total_count_is_estimate"] is True
        assert pagination["total_count"] > 3
    else:  # SQLite has no planner estimate: the count stays exact.
        assert pagination == pagination | {"total_count": 10, "total_count_is_estimate": False}


def test_a_list_page_costs_a_fixed_number_of_queries(
    api_client, account, settings, django_assert_max_num_queries
):
    add_entries(account, 30)
    api_client.get("/v3/probe/ledger")  # warm the key's last_used_at
    # key lookup, page (+1 row), bounded count, the rate limit's upsert; on PostgreSQL the
    # planner's estimate first (stale statistics that believe the table huge skip the count)
    with django_assert_max_num_queries((4 if settings.IS_POSTGRES else 3) + rate_limit_queries()):
        response = api_client.get("/v3/probe/ledger")
    assert len(response.json()["data"]["entries"]) == 20


def test_a_total_far_beyond_the_limit_is_the_estimate_without_counting(
    api_client, account, settings, django_assert_max_num_queries
):
    settings.API_EXACT_COUNT_LIMIT = 1
    add_entries(account, 29)  # 30 entries: the planner expects far more than 10 × the limit
    if settings.IS_POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE billing_ledgerentry")  # statistics, as autovacuum keeps them
    api_client.get("/v3/probe/ledger")  # warm the key's last_used_at
    # key lookup, page, then the estimate (PostgreSQL) or the bounded and the full count (SQLite)
    limit = (3 if settings.IS_POSTGRES else 4) + rate_limit_queries()
    with django_assert_max_num_queries(limit) as queries:
        data = api_client.get("/v3/probe/ledger", {"page_size": 5}).json()["data"]
    assert data["pagination"]["has_more"] is True
    if settings.IS_POSTGRES:
        assert not any("COUNT(" in query["sql"] for query in queries.captured_queries)
        assert data["pagination"]["total_count_is_estimate"] is True
        assert data["pagination"]["total_count"] > 10
    else:  # SQLite has no planner estimate: the count stays exact.
        assert data["pagination"]["total_count"] == 30


def test_pages_read_key_first_give_the_same_rows_order_and_exact_total(
    api_client, account, settings, django_assert_max_num_queries
):
    add_entries(account, 44)  # 45 entries: more than a page, well within the exact limit
    if settings.IS_POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE billing_ledgerentry")
    expected = [
        row["id"]
        for row in api_client.get("/v3/probe/ledger", {"page_size": 100}).json()["data"]["entries"]
    ]
    seen = []
    for page in (1, 2, 3):
        with django_assert_max_num_queries(5) as queries:
            data = api_client.get("/v3/probe/ledger", {"page": page, "page_size": 20}).json()[
                "data"
            ]
        seen += [row["id"] for row in data["entries"]]
        assert data["pagination"]["total_count"] == 45
        assert data["pagination"]["total_count_is_estimate"] is False
        assert data["pagination"]["has_more"] is (page < 3)
        if settings.IS_POSTGRES:  # the keys, then the page's rows by key; never a COUNT
            sqls = [query["sql"] for query in queries.captured_queries]
            assert any(sql.startswith('SELECT "billing_ledgerentry"."id" AS "pk"') for sql in sqls)
            assert not any("COUNT(" in sql for sql in sqls)
    assert seen == expected


def test_another_tenant_never_sees_my_rows(other_api_client, account):
    add_entries(account, 3)
    data = other_api_client.get("/v3/probe/ledger").json()["data"]
    assert [row["kind"] for row in data["entries"]] == ["top_up"]  # only its own opening balance
    assert data["pagination"]["total_count"] == 1
