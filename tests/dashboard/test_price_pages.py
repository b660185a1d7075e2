"""The price list page, /billing/prices/ (docs/dashboard.md#pages): the account's prices as
GET /v3/billing/prices has them, paginated, filtered by country and channel, its overrides
only, linked from the billing page and the navigation."""

import re
from decimal import Decimal

import pytest

from django.urls import reverse

from billing.pricing import PriceBook
from billing.rate_card import RATE_CARD
from billing.services import membership_create, prices_seed_defaults
from tests.billing.factories import make_override

PRICES = reverse("billing:price_list")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "prices"}


@pytest.fixture(autouse=True)
def prices(db):
    prices_seed_defaults()


def shown(response) -> list[str]:
    """The rows' ids ("price-<channel>-<country>-<category>") in the page's order."""
    return re.findall(r'<tr id="(price-[^"]+)">', response.text)


def test_the_page_lists_the_prices_of_the_api_25_a_page(dashboard_client, account):
    everything = PriceBook.load(account).effective_prices()
    assert len(everything) == len(RATE_CARD) > 50
    expected = [f"price-{p.channel}-{p.country}-{p.category or 'any'}" for p in everything]
    first = dashboard_client.get(PRICES)
    assert first.status_code == 200
    assert shown(first) == expected[:25]
    assert 'href="?page=2"' in first.text
    second = dashboard_client.get(PRICES, {"page": 2})
    assert shown(second) == expected[25:50]
    us_sms = first.text[first.text.index('<tr id="price-sms-US-any">') :]
    assert "0.0083 USD" in us_sms[: us_sms.index("</tr>")]


def test_filter_by_country_and_channel(dashboard_client):
    response = dashboard_client.get(PRICES, {"country": " pt "})
    assert shown(response) == [
        "price-mms-PT-any",
        "price-sms-PT-any",
        "price-whatsapp-PT-AUTHENTICATION",
        "price-whatsapp-PT-MARKETING",
        "price-whatsapp-PT-SERVICE",
        "price-whatsapp-PT-UTILITY",
    ]
    whatsapp = dashboard_client.get(PRICES, {"country": "PT", "channel": "whatsapp"})
    assert [row.split("-")[1] for row in shown(whatsapp)] == ["whatsapp"] * 4
    assert 'value="PT"' in whatsapp.text and '<option value="whatsapp" selected>' in whatsapp.text


def test_a_bad_country_says_so_and_shows_every_price(dashboard_client):
    response = dashboard_client.get(PRICES, {"country": "Germany"})
    assert response.status_code == 200
    assert "A two-letter ISO country code, such as DE." in response.text
    assert len(shown(response)) == 25


def test_my_agreed_prices_show_on_my_page_only(dashboard_client, client, account, other_account):
    make_override(
        account, channel="whatsapp", country="*", category="", discount_percent=Decimal("50")
    )
    mine = dashboard_client.get(PRICES, {"country": "DE", "channel": "whatsapp"})
    row = mine.text[mine.text.index('<tr id="price-whatsapp-DE-MARKETING">') :]
    row = row[: row.index("</tr>")]
    assert "0.0708 USD" in row and "0.1415" in row and "50.00 %" in row
    assert "your agreed price" in row
    other = membership_create(other_account, username="globex", password="x")
    client.force_login(other.user)
    theirs = client.get(PRICES, {"country": "DE", "channel": "whatsapp"})
    assert "your agreed price" not in theirs.text and "0.0708" not in theirs.text


def test_a_filter_change_answers_the_list_only(dashboard_client):
    response = dashboard_client.get(PRICES, {"country": "DE"}, **HTMX)
    assert response.text.lstrip().startswith('<div id="prices">')
    assert "<html" not in response.text


def test_the_billing_page_and_the_navigation_link_to_it(dashboard_client):
    billing = dashboard_client.get(reverse("billing:billing"))
    assert f'href="{PRICES}"' in billing.text
    nav = [item["url"] for item in billing.context["nav_items"]]
    assert PRICES in nav


def test_only_the_prices_link_is_current_on_the_prices_page(dashboard_client):
    """/billing/prices/ is under /billing/: the navigation marks the closest page alone."""
    current = lambda url: [  # noqa: E731
        item["url"] for item in dashboard_client.get(url).context["nav_items"] if item["current"]
    ]
    assert current(PRICES) == [PRICES]
    assert current(reverse("billing:billing")) == [reverse("billing:billing")]


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(PRICES)
    assert response.status_code == 302 and "/login/" in response["Location"]
