from decimal import Decimal
from io import StringIO

import pytest

from django.core.management import CommandError, call_command

from billing.models import LedgerEntry, Price
from billing.rate_card import RATE_CARD


def test_top_up_adds_to_the_balance_with_a_ledger_entry(account):
    out = StringIO()
    call_command(
        "top_up", "--customer", str(account.pk), "--amount", "12.5", "--note", "INV-7", stdout=out
    )
    assert "New balance: 112.5000 USD" in out.getvalue()
    entry = LedgerEntry.objects.filter(customer=account).first()
    assert (entry.kind, entry.amount, entry.description) == ("top_up", Decimal("12.5"), "INV-7")


@pytest.mark.parametrize("amount", ["-1", "0", "x", "0.00001"])
def test_top_up_refuses_a_bad_amount(account, amount):
    with pytest.raises(CommandError):
        call_command("top_up", "--customer", str(account.pk), "--amount", amount)
    assert LedgerEntry.objects.filter(customer=account).count() == 1


def test_top_up_refuses_an_unknown_customer(db):
    with pytest.raises(CommandError, match="No customer"):
        call_command(
            "top_up", "--customer", "00000000-0000-0000-0000-000000000000", "--amount", "1"
        )


def test_seed_prices_restores_missing_rows_only(db):
    call_command("seed_prices", stdout=StringIO())
    Price.objects.filter(country="NG").delete()
    Price.objects.filter(channel="sms", country="US").update(unit_price=Decimal("0.0079"))
    out = StringIO()
    call_command("seed_prices", stdout=out)
    assert "4 row(s) added" in out.getvalue()
    assert Price.objects.count() == len(RATE_CARD)
    assert Price.objects.get(channel="sms", country="US").unit_price == Decimal("0.0079")
