"""GET /v3/contacts: newest first, search, channel and phone filters, pagination, queries."""

import pytest

from contacts.services import contact_create
from tests.contacts.factories import make_contact, make_contacts


def ids(response):
    return [c["format_e164"] for c in response.json()["data"]["contacts"]]


@pytest.fixture
def book(account):
    """Five contacts created one after the other (distinct created_at)."""
    # Simulator: WhatsApp for the tails 00, 10, 85, 20; not for 50, 66.
    numbers = ["+12345678900", "+12015550150", "+447400123410", "+4915199887766", "+12125550185"]
    for number in numbers:
        contact_create(account, phone_number=number)
    contact_create(account, phone_number="+33612345620", metadata={"company": "Acme Corp"})
    return numbers


def test_the_list_is_newest_first_and_paginated(api_client, book):
    response = api_client.get("/v3/contacts?page_size=2")
    assert response.status_code == 200
    data = response.json()["data"]
    assert [c["format_e164"] for c in data["contacts"]] == ["+33612345620", "+12125550185"]
    assert data["pagination"] == {
        "page": 1,
        "page_size": 2,
        "total_count": 6,
        "total_pages": 3,
        "has_more": True,
        "cursors": None,
        "total_count_is_estimate": False,
    }
    last = api_client.get("/v3/contacts?page_size=2&page=3").json()["data"]
    assert [c["format_e164"] for c in last["contacts"]] == ["+12015550150", "+12345678900"]
    assert last["pagination"]["has_more"] is False


def test_another_accounts_contacts_never_appear(api_client, other_api_client, book):
    assert other_api_client.get("/v3/contacts").json()["data"]["contacts"] == []
    assert other_api_client.get("/v3/contacts?search=1234").json()["data"]["contacts"] == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("+1234", ["+12345678900"]),  # a prefix of E.164 (docs/api/contacts.md#endpoints)
        ("+1", ["+12125550185", "+12015550150", "+12345678900"]),
        ("234-567-89", ["+12345678900"]),  # a fragment of the international/national format
        ("(234) 567", ["+12345678900"]),
        ("555-0150", ["+12015550150"]),
        ("07400 123", ["+447400123410"]),  # national format with the trunk 0
        ("0049 151", ["+4915199887766"]),  # IDD form of a prefix
        ("0044 7400", ["+447400123410"]),
        ("0150", ["+12015550150"]),  # four digits: only digits, not "+150…"
        ("998877", ["+4915199887766"]),
        ("acme", ["+33612345620"]),  # metadata values, any case
        ("CORP", ["+33612345620"]),
        ("nobody", []),
    ],
)
def test_search_matches_any_format_fragment_and_metadata(api_client, book, search, expected):
    response = api_client.get("/v3/contacts", {"search": search})
    assert response.status_code == 200
    assert ids(response) == expected


def test_the_channel_filter_keeps_contacts_that_have_it(api_client, book):
    # +12015550150 (50) and +4915112345678 (78) are not on WhatsApp in the simulator.
    whatsapp = ids(api_client.get("/v3/contacts?channel=whatsapp"))
    assert "+12015550150" not in whatsapp and "+4915199887766" not in whatsapp
    assert len(whatsapp) == 4
    assert len(ids(api_client.get("/v3/contacts?channel=sms"))) == 6
    response = api_client.get("/v3/contacts?channel=fax")
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_006"
    assert "channel" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "phone", ["+12345678900", "(234) 567-8900", "+1 234-567-8900", "tel:+1-234-567-8900"]
)
def test_the_phone_filter_finds_the_exact_number_in_any_format(api_client, book, phone):
    assert ids(api_client.get("/v3/contacts", {"phone": phone})) == ["+12345678900"]


def test_the_phone_filter_with_a_non_number_is_validation_002(api_client, book):
    response = api_client.get("/v3/contacts", {"phone": "call me"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_002"
    assert "phone" in response.json()["error"]["details"]


def test_filters_combine(api_client, book):
    assert ids(api_client.get("/v3/contacts", {"search": "+1", "channel": "whatsapp"})) == [
        "+12125550185",
        "+12345678900",
    ]


@pytest.mark.parametrize(
    ("search", "code"),
    [("1" * 201, "VALIDATION_005"), ("12\x0034", "VALIDATION_001"), ("", "VALIDATION_004")],
)
def test_overlong_empty_or_nul_searches_are_refused(api_client, account, search, code):
    response = api_client.get("/v3/contacts", {"search": search})
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert "search" in response.json()["error"]["details"]


def test_the_list_costs_a_fixed_number_of_queries(api_client, account, assert_list_queries):
    make_contacts(account, 30)
    api_client.get("/v3/contacts")  # warm the key's last_used_at
    # API key, page (+1 row for has_more), bounded count.
    with assert_list_queries(3):
        response = api_client.get("/v3/contacts?page_size=25")
    assert len(response.json()["data"]["contacts"]) == 25
    with assert_list_queries(3):
        api_client.get("/v3/contacts?page_size=25&search=201555")


def test_deleted_contacts_are_not_listed(api_client, account):
    contact = make_contact(account)
    api_client.delete(f"/v3/contacts/{contact.pk}")
    assert api_client.get("/v3/contacts").json()["data"]["pagination"]["total_count"] == 0


def test_a_repeated_filter_is_refused_and_a_parameter_the_list_does_not_read_is_ignored(
    api_client, book
):
    """The FilterSet's filters (docs/api/conventions.md#filtering): each given once."""
    response = api_client.get("/v3/contacts?channel=sms&channel=whatsapp")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["details"])) == ("VALIDATION_001", ["channel"])
    only = api_client.get("/v3/contacts?phone=%2B12015550150&utm=a&utm=b")
    assert ids(only) == ["+12015550150"]
    assert api_client.get("/v3/contacts", {"channel": "fax"}).json()["error"]["code"] == (
        "VALIDATION_006"
    )
