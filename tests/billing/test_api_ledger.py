from decimal import Decimal

import pytest

from billing.services import balance_charge, balance_refund
from tests.billing.factories import new_message_id

URL = "/v3/billing/ledger"


@pytest.fixture
def message_id(account):
    message_id = new_message_id()
    balance_charge(
        account, amount=Decimal("0.0083"), description="SMS to +1 202…", message_id=message_id
    )
    balance_refund(account, message_id=message_id, reason="pre_provider_failure")
    return message_id


def test_it_lists_the_accounts_ledger_newest_first(api_client, message_id):
    response = api_client.get(URL)
    assert response.status_code == 200
    data = response.json()["data"]
    assert [e["kind"] for e in data["entries"]] == ["refund", "charge", "top_up"]
    refund, charge, top_up = data["entries"]
    assert charge == {
        "id": charge["id"],
        "kind": "charge",
        "amount": "-0.0083",
        "ending_balance": "99.9917",
        "currency": "USD",
        "description": "SMS to +1 202…",
        "reason": "",
        "message_id": str(message_id),
        "created_at": charge["created_at"],
    }
    assert (refund["amount"], refund["ending_balance"], refund["reason"]) == (
        "0.0083",
        "100.0000",
        "pre_provider_failure",
    )
    assert top_up["message_id"] is None
    assert data["pagination"]["total_count"] == 3


def test_it_filters_by_kind_and_message(api_client, message_id):
    assert [
        e["kind"] for e in api_client.get(URL, {"kind": "charge"}).json()["data"]["entries"]
    ] == ["charge"]
    entries = api_client.get(URL, {"message_id": str(message_id)}).json()["data"]["entries"]
    assert {e["kind"] for e in entries} == {"charge", "refund"}


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"kind": "gift"}, "kind", "VALIDATION_006"),
        ({"message_id": "nope"}, "message_id", "VALIDATION_001"),
    ],
)
def test_it_rejects_bad_filters(api_client, params, field, code):
    response = api_client.get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and field in error["details"]


def test_it_pages(api_client, account):
    for _ in range(4):
        balance_charge(account, amount=Decimal("1"), description="SMS")
    page = api_client.get(URL, {"page": 2, "page_size": 2}).json()["data"]
    assert [e["ending_balance"] for e in page["entries"]] == ["98.0000", "99.0000"]
    assert page["pagination"] | {"cursors": None} == {
        "page": 2,
        "page_size": 2,
        "total_count": 5,
        "total_pages": 3,
        "has_more": True,
        "cursors": None,
        "total_count_is_estimate": False,
    }


def test_another_account_never_sees_my_entries(other_api_client, message_id):
    data = other_api_client.get(URL, {"message_id": str(message_id)}).json()["data"]
    assert data["entries"] == []
    assert [e["kind"] for e in other_api_client.get(URL).json()["data"]["entries"]] == ["top_up"]


def test_a_page_costs_a_fixed_number_of_queries(api_client, account, assert_list_queries):
    for _ in range(30):
        balance_charge(account, amount=Decimal("0.01"), description="SMS")
    api_client.get(URL)  # refreshes the key's last_used_at once
    # API key, the page (+1 row), the count.
    with assert_list_queries(3):
        assert len(api_client.get(URL).json()["data"]["entries"]) == 20


def test_it_needs_an_api_key(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_001"


def test_it_is_read_only(api_client):
    response = api_client.post(URL, {"amount": "100"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "REQUEST_002"


def test_ledger_filters_combine_and_a_repeated_or_empty_one_is_refused(
    api_client, account, message_id
):
    """The FilterSet's filters (docs/api/conventions.md#filtering) narrow together."""
    balance_charge(account, amount=Decimal("1"), description="another message's")
    entries = api_client.get(URL, {"kind": "charge", "message_id": str(message_id)})
    assert [(e["kind"], e["message_id"]) for e in entries.json()["data"]["entries"]] == [
        ("charge", str(message_id))
    ]
    for query, code in [
        ("?kind=charge&kind=refund", "VALIDATION_001"),
        ("?kind=", "VALIDATION_006"),
    ]:
        error = api_client.get(URL + query).json()["error"]
        assert (error["code"], list(error["details"])) == (code, ["kind"])
