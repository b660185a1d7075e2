from decimal import Decimal

import pytest

from billing.models import Price
from billing.pricing import PriceBook, price_quote, price_quote_detail
from billing.rate_card import RATE_CARD
from billing.services import prices_seed_defaults
from sent_project.errors import ValidationFailed
from tests.billing.factories import make_override

SEEDED_COUNTRIES = [
    "US",
    "CA",
    "GB",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BR",
    "MX",
    "IN",
    "NG",
    "ZA",
    "AU",
    "*",
]


@pytest.fixture
def prices(db):
    prices_seed_defaults()


def test_the_seed_covers_every_required_country_and_category(prices):
    keys = set(Price.objects.values_list("channel", "country", "category"))
    for country in SEEDED_COUNTRIES:
        assert ("sms", country, "") in keys
        for category in ["MARKETING", "UTILITY", "AUTHENTICATION"]:
            assert ("whatsapp", country, category) in keys
    assert ("whatsapp", "*", "SERVICE") in keys


def test_seeding_again_adds_nothing_and_keeps_edited_prices(prices):
    Price.objects.filter(channel="sms", country="US").update(unit_price=Decimal("0.0100"))
    assert prices_seed_defaults() == 0
    assert Price.objects.count() == len(RATE_CARD)
    assert Price.objects.get(channel="sms", country="US").unit_price == Decimal("0.0100")


def test_seeding_restores_a_deleted_row(prices):
    Price.objects.filter(channel="sms", country="DE").delete()
    assert prices_seed_defaults() == 1


def test_prices_are_realistic(prices, account):
    us_sms = price_quote(account, channel="sms", country="US")
    india_utility = price_quote(account, channel="whatsapp", country="IN", category="UTILITY")
    german_marketing = price_quote(account, channel="whatsapp", country="DE", category="MARKETING")
    assert us_sms == Decimal("0.0083")
    assert india_utility < us_sms
    assert german_marketing > 10 * us_sms


def test_sms_is_priced_per_segment(prices, account):
    assert price_quote(account, channel="sms", country="DE", segments=3) == Decimal("0.2985")


def test_whatsapp_is_priced_per_message_whatever_the_segments(prices, account):
    one = price_quote(account, channel="whatsapp", country="GB", category="UTILITY")
    assert (
        price_quote(account, channel="whatsapp", country="GB", segments=4, category="UTILITY")
        == one
        == Decimal("0.0270")
    )


def test_free_form_whatsapp_is_priced_as_service(prices, account):
    quote = price_quote_detail(account, channel="whatsapp", country="BR", category=None)
    assert quote.category == "SERVICE"
    assert quote.amount == Decimal("0.0050")
    assert quote.row == "whatsapp:*:SERVICE"


def test_a_country_without_a_row_uses_the_default_row(prices, account):
    quote = price_quote_detail(account, channel="sms", country="PT")
    assert (quote.amount, quote.source, quote.row) == (Decimal("0.1000"), "table", "sms:*")


def test_an_sms_ignores_the_template_category(prices, account):
    assert price_quote(account, channel="sms", country="US", category="MARKETING") == Decimal(
        "0.0083"
    )


def test_the_table_is_read_live_so_admin_edits_apply(prices, account):
    Price.objects.filter(channel="sms", country="US").update(unit_price=Decimal("0.0079"))
    assert price_quote(account, channel="sms", country="US", segments=3) == Decimal("0.0237")


def test_an_empty_table_falls_back_to_the_built_in_rate_card(db, account):
    Price.objects.all().delete()
    quote = price_quote_detail(account, channel="sms", country="GB")
    assert (quote.amount, quote.source) == (Decimal("0.0524"), "rate_card")


def test_inputs_are_normalised(prices, account):
    quote = price_quote_detail(account, channel=" SMS ", country="de", segments=1)
    assert (quote.channel, quote.country) == ("sms", "DE")
    assert price_quote(account, channel="whatsapp", country="in", category="utility") == Decimal(
        "0.0064"
    )


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"channel": "rcs", "country": "US"}, "VALIDATION_006", "channel"),
        ({"channel": "sms", "country": "USA"}, "VALIDATION_001", "country"),
        ({"channel": "sms", "country": ""}, "VALIDATION_001", "country"),
        ({"channel": "sms", "country": "US", "segments": 0}, "VALIDATION_005", "segments"),
        (
            {"channel": "whatsapp", "country": "US", "category": "PROMO"},
            "VALIDATION_006",
            "category",
        ),
    ],
)
def test_it_rejects_bad_input_with_a_code(prices, account, kwargs, code, field):
    with pytest.raises(ValidationFailed) as caught:
        price_quote(account, **kwargs)
    assert caught.value.code == code
    assert field in caught.value.details


def test_a_negotiated_rate_wins_over_the_table(prices, account, other_account):
    make_override(account, channel="sms", country="US", unit_price=Decimal("0.0050"))
    quote = price_quote_detail(account, channel="sms", country="US", segments=2)
    assert (quote.unit_price, quote.amount, quote.source) == (
        Decimal("0.0050"),
        Decimal("0.0100"),
        "override",
    )
    assert quote.list_price == Decimal("0.0083")
    assert price_quote(other_account, channel="sms", country="US") == Decimal("0.0083")


def test_a_discount_applies_to_the_table_price_rounded_half_up(prices, account):
    make_override(
        account, channel="whatsapp", country="*", category="", discount_percent=Decimal("12.5")
    )
    # 0.1415 × 0.875 = 0.1238125 → 0.1238
    quote = price_quote_detail(account, channel="whatsapp", country="DE", category="MARKETING")
    assert (quote.unit_price, quote.discount_percent) == (Decimal("0.1238"), Decimal("12.50"))
    # SMS is untouched by a WhatsApp discount.
    assert price_quote(account, channel="sms", country="DE") == Decimal("0.0995")


def test_the_most_specific_override_wins(prices, account):
    make_override(
        account, channel="whatsapp", country="*", category="", discount_percent=Decimal("10")
    )
    make_override(
        account,
        channel="whatsapp",
        country="*",
        category="MARKETING",
        discount_percent=Decimal("20"),
    )
    make_override(
        account, channel="whatsapp", country="DE", category="", unit_price=Decimal("0.0900")
    )
    book = PriceBook.load(account)

    def unit(country, category):
        return book.quote(channel="whatsapp", country=country, category=category).unit_price

    assert unit("DE", "MARKETING") == Decimal("0.0900")  # country beats category
    assert unit("FR", "MARKETING") == Decimal("0.0727")  # 0.0909 - 20%
    assert unit("FR", "UTILITY") == Decimal("0.0315")  # 0.0350 - 10%


def test_a_price_book_quotes_many_messages_in_two_queries(
    prices, account, django_assert_num_queries
):
    make_override(account, channel="sms", country="*", discount_percent=Decimal("5"))
    with django_assert_num_queries(2):
        book = PriceBook.load(account)
        totals = [book.quote(channel="sms", country=c, segments=2).amount for c in SEEDED_COUNTRIES]
    assert len(totals) == len(SEEDED_COUNTRIES)


def test_the_effective_price_list_applies_overrides_and_names_override_countries(prices, account):
    make_override(account, channel="sms", country="PT", unit_price=Decimal("0.0400"))
    rows = {
        (q.channel, q.country, q.category): q for q in PriceBook.load(account).effective_prices()
    }
    assert len(rows) == len(RATE_CARD) + 1
    assert rows["sms", "PT", ""].unit_price == Decimal("0.0400")
    assert rows["sms", "PT", ""].source == "override"
    assert rows["sms", "US", ""].source == "table"


def test_the_effective_price_list_for_one_country_covers_every_channel_and_category(
    prices, account
):
    rows = PriceBook.load(account).effective_prices(country="pt")
    assert [(q.channel, q.category, q.row) for q in rows] == [
        ("mms", "", "mms:*"),
        ("sms", "", "sms:*"),
        ("whatsapp", "AUTHENTICATION", "whatsapp:*:AUTHENTICATION"),
        ("whatsapp", "MARKETING", "whatsapp:*:MARKETING"),
        ("whatsapp", "SERVICE", "whatsapp:*:SERVICE"),
        ("whatsapp", "UTILITY", "whatsapp:*:UTILITY"),
    ]
