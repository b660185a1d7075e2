"""GET /v3/contacts?search=…, page by page: the newest-window-first plan on PostgreSQL
(sent_project.api.pagination.queryset_page, docs/operations.md#contacts-lists-search-and-import)
answers every page, `has_more` and the total exactly as the plain query does — for a term
common in one account and absent from another, whose planner statistics are the table's."""

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.bulk import search_text_for
from contacts.models import Contact
from contacts.selectors import contacts_for
from sent_project.api import pagination
from tests.contacts.factories import make_contacts


def tag(contacts, metadata: dict) -> None:
    for contact in contacts:
        Contact.objects.filter(pk=contact.pk).update(
            metadata=metadata, search_text=search_text_for(contact.format_e164, metadata)
        )


@pytest.fixture
def tiers(account, other_account):
    """Acme: 90 contacts, two in three `gold`. Globex: 30 contacts, none `gold`, its 3 oldest
    `silver` — so the table's statistics say half of all contacts are `gold`."""
    acme = make_contacts(account, 90)
    tag([c for n, c in enumerate(acme) if n % 3], {"tier": "gold"})
    globex = make_contacts(other_account, 30, start=2125550000)
    newest_first = list(contacts_for(other_account))
    tag(newest_first[-3:], {"tier": "silver"})
    assert {c.pk for c in globex} == {c.pk for c in newest_first}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contact")
            # As on a big table: the page's plan walks the newest-first index (and would read
            # every contact of an account without the term), not a scan of a few pages.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")


@pytest.fixture(params=["window of 2,000 rows, limit 1,000", "window of 10 rows, limit 4"])
def plan(request, settings, monkeypatch):
    """The default window and exact-count limit (every account within one window), and a
    window of 10 rows with a limit of 4: pages inside, across and beyond the window, totals
    beyond the limit, the estimate trusted (Acme's `gold`) and disproved (Globex's)."""
    if request.param.startswith("window of 10"):
        monkeypatch.setattr(pagination, "WINDOW_ROWS", (10, 10))
        settings.API_EXACT_COUNT_LIMIT = 4
    return request.param


def pages(client, search: str, size: int, *, windowed: bool) -> list[dict]:
    """Every page of the search, and one past the end. `windowed`: on PostgreSQL the first page
    is looked for among the newest contacts first (its plan walks the index: with a limit of 4
    the statistics make `gold`'s estimate trusted, so the page's query runs; with 1,000 the
    keys' query runs, and sorts these few rows instead)."""
    answers, page = [], 1
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                "/v3/contacts", {"search": search, "page": page, "page_size": size}
            )
        assert response.status_code == 200
        if windowed and connection.vendor == "postgresql" and page == 1:
            assert any("window_key" in query["sql"] for query in queries.captured_queries)
        answers.append(response.json()["data"])
        if len(answers) > 1 and not answers[-2]["pagination"]["has_more"]:
            return answers
        page += 1


def expected_pages(customer, search: str, size: int, count: int) -> list[tuple[list, bool]]:
    """The plain query's pages, to the last and one past it."""
    everything = [c.format_e164 for c in contacts_for(customer, search=search)]
    assert len(everything) == count  # the data is what the test means
    last = max(0, (count - 1) // size)
    return [
        (everything[offset : offset + size], count > offset + size)
        for offset in range(0, (last + 2) * size, size)
    ]


def assert_total(pagination_meta: dict, count: int, limit: int) -> None:
    """Exact up to the limit (and wherever it is known: the last page, SQLite); beyond it, on
    PostgreSQL, an estimate above the limit, marked as one."""
    total, is_estimate = pagination_meta["total_count"], pagination_meta["total_count_is_estimate"]
    if is_estimate:
        assert connection.vendor == "postgresql" and count > limit and total > limit
    else:
        assert total == count


@pytest.mark.parametrize(
    ("who", "search", "count"),
    [
        ("acme", "gold", 60),  # dense: two contacts in three
        ("globex", "gold", 0),  # absent here, common in the table
        ("globex", "silver", 3),  # only beyond a small window: its 3 oldest contacts
        ("globex", "212555", 30),  # every contact: digits of each number
    ],
)
@pytest.mark.parametrize("size", [2, 3, 7])
def test_every_page_and_total_are_the_plain_querys(
    api_client, other_api_client, account, other_account, tiers, plan, settings, who, search,
    count, size,
):  # fmt: skip
    client, customer = (api_client, account) if who == "acme" else (other_api_client, other_account)
    answers = pages(client, search, size, windowed=search == "gold" and "limit 4" in plan)
    expected = expected_pages(customer, search, size, count)
    assert [
        ([c["format_e164"] for c in data["contacts"]], data["pagination"]["has_more"])
        for data in answers
    ] == expected
    for data in answers:
        assert_total(data["pagination"], count, settings.API_EXACT_COUNT_LIMIT)


def test_a_term_no_contact_has_reports_a_total_of_zero(other_api_client, tiers, plan):
    data = other_api_client.get("/v3/contacts", {"search": "gold"}).json()["data"]
    assert data["contacts"] == []
    assert data["pagination"] | {"page_size": None} == {
        "page": 1,
        "page_size": None,
        "total_count": 0,
        "total_pages": 0,
        "has_more": False,
        "cursors": None,
        "total_count_is_estimate": False,
    }
