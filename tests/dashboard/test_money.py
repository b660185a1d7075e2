"""One rule for money in the dashboard (docs/dashboard.md#money): every amount — balance,
warning threshold, prices, totals, ledger amounts — with four decimals, as the API's money
strings, through the `money` filter. The same balance reads the same on every page."""

import re
from decimal import Decimal

import pytest

from django.template import Context, Template

from messaging.models import Message
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.usefixtures("instant_lifecycle")
TWO_DECIMALS = re.compile(r"(?<![\d.])\d+\.\d\d(?![\d.])")


def render(value) -> str:
    return Template("{% load sent %}{{ value|money }}").render(Context({"value": value}))


@pytest.mark.parametrize(
    "value,shown",
    [
        (Decimal("100"), "100.0000"),
        (Decimal("99.99995"), "100.0000"),
        (Decimal("0.0075"), "0.0075"),
        (Decimal("-0.0150"), "-0.0150"),
        ("12.5", "12.5000"),
        (None, ""),
    ],
)
def test_the_money_filter(value, shown):
    assert render(value) == shown


def test_the_balance_and_prices_read_the_same_on_every_page(dashboard_client, account):
    make_approved_template(account)
    sent = send(account, [number(60)])  # SMS, delivered
    run_queued_tasks()
    account.refresh_from_db()
    message = Message.objects.get(pk=sent[0].pk)
    balance, price = f"{account.balance:.4f}", f"{message.price:.4f}"
    assert balance != f"{account.balance:.2f}"  # the rule shows: the charge has 4 decimals

    pages = {
        "/": [balance, f"{account.low_balance_threshold:.4f}"],
        "/billing/": [balance, f"{account.low_balance_threshold:.4f}", price],
        "/messages/": [price],
        f"/messages/{message.pk}/": [price],
    }
    for path, amounts in pages.items():
        response = dashboard_client.get(path)
        assert response.status_code == 200, path
        for amount in amounts:
            assert amount in response.text, (path, amount)
        money_text = " ".join(
            re.findall(r'id="balance"[^>]*>([^<]*)', response.text)
            + re.findall(r'class="num[^"]*"[^>]*>([^<]*)', response.text)
        )
        assert not TWO_DECIMALS.search(money_text), (path, money_text)


def test_the_low_balance_warning_uses_the_same_rule(dashboard_client, account):
    account.low_balance_threshold = Decimal("500")
    account.save(update_fields=["low_balance_threshold"])
    text = dashboard_client.get("/").text
    assert f"Your balance ({account.balance:.4f} {account.currency})" in text
    assert "threshold of 500.0000" in text
