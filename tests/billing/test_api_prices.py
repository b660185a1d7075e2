from decimal import Decimal

import pytest

from billing.rate_card import RATE_CARD
from billing.services import prices_seed_defaults
from tests.billing.factories import make_override
from tests.queries import rate_limit_queries

PRICES = "/v3/billing/prices"
QUOTE = "/v3/billing/quote"


@pytest.fixture(autouse=True)
def prices(db):
    prices_seed_defaults()


def test_it_lists_the_whole_effective_price_table(api_client):
    response = api_client.get(PRICES)
    assert response.status_code == 200
    prices = response.json()["data"]["prices"]
    assert len(prices) == len(RATE_CARD)
    us_sms = next(p for p in prices if p["channel"] == "sms" and p["country"] == "US")
    assert us_sms == {
        "channel": "sms",
        "country": "US",
        "category": None,
        "unit_price": "0.0083",
        "list_price": "0.0083",
        "currency": "USD",
        "source": "table",
        "discount_percent": None,
    }


def test_my_overrides_show_in_my_prices_only(api_client, other_api_client, account):
    make_override(
        account, channel="whatsapp", country="*", category="", discount_percent=Decimal("50")
    )
    mine = api_client.get(PRICES, {"channel": "whatsapp", "country": "DE"}).json()["data"]["prices"]
    marketing = next(p for p in mine if p["category"] == "MARKETING")
    assert (
        marketing["unit_price"],
        marketing["list_price"],
        marketing["source"],
        marketing["discount_percent"],
    ) == ("0.0708", "0.1415", "override", "50.00")
    theirs = other_api_client.get(PRICES, {"channel": "whatsapp", "country": "DE"}).json()["data"]
    assert {p["source"] for p in theirs["prices"]} == {"table"}


def test_prices_for_one_country_without_a_row_come_from_the_default_rows(api_client):
    prices = api_client.get(PRICES, {"country": "pt"}).json()["data"]["prices"]
    assert [(p["channel"], p["country"], p["category"]) for p in prices] == [
        ("mms", "PT", None),
        ("sms", "PT", None),
        ("whatsapp", "PT", "AUTHENTICATION"),
        ("whatsapp", "PT", "MARKETING"),
        ("whatsapp", "PT", "SERVICE"),
        ("whatsapp", "PT", "UTILITY"),
    ]


def test_the_price_list_costs_one_query_once_the_book_is_cached(
    api_client, django_assert_num_queries
):
    api_client.get(PRICES)  # API key (with the cache counters), rate limit, table, overrides
    # Then the price book comes from the cache: only the API key and its rate limit.
    with django_assert_num_queries(1 + rate_limit_queries()):
        api_client.get(PRICES)


@pytest.mark.parametrize(
    ("params", "field"), [({"channel": "fax"}, "channel"), ({"country": "Germany"}, "country")]
)
def test_the_price_list_rejects_bad_filters(api_client, params, field):
    response = api_client.get(PRICES, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_a_quote_prices_sms_per_segment(api_client):
    response = api_client.get(QUOTE, {"channel": "sms", "country": "DE", "segments": 2})
    assert response.status_code == 200
    assert response.json()["data"] == {
        "channel": "sms",
        "country": "DE",
        "category": None,
        "units": 2,
        "unit_price": "0.0995",
        "list_price": "0.0995",
        "amount": "0.1990",
        "currency": "USD",
        "source": "table",
        "discount_percent": None,
    }


def test_a_quote_prices_whatsapp_by_category(api_client, account):
    make_override(
        account,
        channel="whatsapp",
        country="DE",
        category="MARKETING",
        unit_price=Decimal("0.1000"),
    )
    data = api_client.get(
        QUOTE, {"channel": "whatsapp", "country": "DE", "segments": 2, "category": "MARKETING"}
    ).json()["data"]
    assert (data["units"], data["amount"], data["source"]) == (1, "0.1000", "override")
    free_form = api_client.get(QUOTE, {"channel": "whatsapp", "country": "DE"}).json()["data"]
    assert (free_form["category"], free_form["amount"]) == ("SERVICE", "0.0050")


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"country": "DE"}, "channel", "VALIDATION_004"),
        ({"channel": "sms"}, "country", "VALIDATION_004"),
        ({"channel": "sms", "country": "DE", "segments": 0}, "segments", "VALIDATION_005"),
        ({"channel": "sms", "country": "DE", "segments": "two"}, "segments", "VALIDATION_001"),
        (
            {"channel": "whatsapp", "country": "DE", "category": "PROMO"},
            "category",
            "VALIDATION_006",
        ),
    ],
)
def test_a_quote_rejects_bad_input(api_client, params, field, code):
    response = api_client.get(QUOTE, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and field in error["details"]


@pytest.mark.parametrize("url", [PRICES, QUOTE])
def test_prices_need_an_api_key(client, url):
    assert client.get(url, {"channel": "sms", "country": "US"}).status_code == 401


def test_the_openapi_schema_documents_the_billing_endpoints(client):
    paths = client.get("/v3/openapi.json").json()["paths"]
    ledger = paths["/v3/billing/ledger"]["get"]
    assert ledger["operationId"] == "billing_ledger_list"
    assert {p["name"] for p in ledger["parameters"]} >= {"page", "page_size", "kind", "message_id"}
    assert paths["/v3/billing/quote"]["get"]["operationId"] == "billing_quote_retrieve"
    assert "402" not in paths["/v3/billing/quote"]["get"]["responses"]
