from decimal import Decimal

import pytest

from django.db import connection, transaction

from billing.errors import InsufficientBalance
from billing.models import LedgerEntry
from billing.selectors import ledger_problems
from billing.services import (
    ChargeItem,
    _ledger_apply_unique,
    balance_adjust,
    balance_charge,
    balance_charge_batch,
    balance_refund,
    balance_top_up,
    message_net_charge,
)
from sent_project.errors import ValidationFailed
from sent_project.models import Event
from tests.billing.factories import ledger_amounts, new_message_id
from tests.factories import make_customer


def assert_consistent(customer):
    customer.refresh_from_db()
    assert ledger_problems([customer.pk])[2] == []
    assert sum(ledger_amounts(customer)) == customer.balance


# --- charge -----------------------------------------------------------------


def test_a_charge_takes_the_amount_and_writes_one_entry_for_the_message(account):
    message_id = new_message_id()
    entry = balance_charge(
        account, amount=Decimal("0.0083"), description="SMS to +1…", message_id=message_id
    )
    assert (entry.kind, entry.amount, entry.ending_balance) == (
        "charge",
        Decimal("-0.0083"),
        Decimal("99.9917"),
    )
    assert entry.message_id == message_id
    assert account.balance == Decimal("99.9917")  # the instance is refreshed
    assert_consistent(account)


def test_three_charges_of_0_0079_use_up_exactly_0_0237(db):
    customer = make_customer(balance="0.0237")
    for _ in range(3):
        balance_charge(customer, amount=Decimal("0.0079"), description="SMS")
    customer.refresh_from_db()
    assert customer.balance == Decimal("0.0000")
    with pytest.raises(InsufficientBalance):
        balance_charge(customer, amount=Decimal("0.0001"), description="SMS")
    assert_consistent(customer)


def test_a_charge_the_balance_cannot_cover_raises_402_and_writes_nothing(db):
    customer = make_customer(balance="0.0100")
    with pytest.raises(InsufficientBalance) as caught:
        balance_charge(customer, amount=Decimal("0.0101"), description="SMS")
    assert (caught.value.code, caught.value.status) == ("BUSINESS_003", 402)
    customer.refresh_from_db()
    assert customer.balance == Decimal("0.0100")
    assert LedgerEntry.objects.filter(customer=customer, kind="charge").count() == 0


def test_a_charge_rolls_back_with_the_callers_transaction(account):
    with pytest.raises(RuntimeError), transaction.atomic():
        balance_charge(account, amount=Decimal("1"), description="SMS")
        raise RuntimeError("the send failed later in the same transaction")
    account.refresh_from_db()
    assert account.balance == Decimal("100")
    assert ledger_amounts(account) == [Decimal("100")]


@pytest.mark.parametrize("amount", [Decimal("-1"), Decimal("0.00001"), "abc", Decimal("NaN"), 0.1])
def test_a_charge_refuses_amounts_that_are_not_exact_money(account, amount):
    with pytest.raises(ValidationFailed) as caught:
        balance_charge(account, amount=amount, description="SMS")
    assert caught.value.code == "VALIDATION_005"
    assert ledger_amounts(account) == [Decimal("100")]


def test_a_free_message_is_charged_zero_with_an_entry(account):
    entry = balance_charge(
        account, amount=Decimal("0"), description="100% discount", message_id=new_message_id()
    )
    assert entry.amount == 0 and entry.ending_balance == Decimal("100")


# --- batch ------------------------------------------------------------------


def test_a_batch_charges_the_total_once_with_running_ending_balances(db):
    customer = make_customer(balance="1")
    ids = [new_message_id() for _ in range(3)]
    entries = balance_charge_batch(
        customer,
        items=[
            ChargeItem(ids[0], Decimal("0.0079"), "SMS 1"),
            (ids[1], Decimal("0.0079"), "SMS 2"),
            (ids[2], Decimal("0.1415"), "WhatsApp"),
        ],
    )
    assert [e.ending_balance for e in entries] == [
        Decimal("0.9921"),
        Decimal("0.9842"),
        Decimal("0.8427"),
    ]
    assert all(e.pk for e in entries)
    assert [e.message_id for e in entries] == ids
    assert customer.balance == Decimal("0.8427")
    assert_consistent(customer)


def test_a_batch_the_balance_cannot_cover_charges_nothing(db):
    price = Decimal("0.0084")
    customer = make_customer(balance=price * Decimal("9.5"))
    with pytest.raises(InsufficientBalance):
        balance_charge_batch(customer, items=[(new_message_id(), price, "SMS")] * 10)
    customer.refresh_from_db()
    assert customer.balance == Decimal("0.0798")
    assert LedgerEntry.objects.filter(customer=customer, kind="charge").count() == 0


def test_an_empty_batch_does_nothing(account, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert balance_charge_batch(account, items=[]) == []


def test_a_batch_with_a_bad_amount_charges_nothing(account):
    with pytest.raises(ValidationFailed):
        balance_charge_batch(
            account,
            items=[
                (new_message_id(), Decimal("1"), "ok"),
                (new_message_id(), Decimal("-1"), "bad"),
            ],
        )
    assert ledger_amounts(account) == [Decimal("100")]


def test_a_batch_costs_a_fixed_number_of_queries(account, django_assert_num_queries):
    items = [(new_message_id(), Decimal("0.01"), "SMS")] * 50
    # Inside the caller's transaction: UPDATE … RETURNING the new balance, one INSERT (on
    # PostgreSQL the entries' ids from their sequence, then one COPY: docs/operations.md).
    statements = 3 if connection.vendor == "postgresql" else 2
    with transaction.atomic(), django_assert_num_queries(statements):
        balance_charge_batch(account, items=items)
    assert LedgerEntry.objects.filter(customer=account, kind="charge").count() == 50


def test_a_refused_batch_leaves_the_callers_transaction_usable(db):
    customer = make_customer(balance=Decimal("0.0100"))
    with transaction.atomic():
        with pytest.raises(InsufficientBalance):
            balance_charge_batch(customer, items=[(new_message_id(), Decimal("0.02"), "SMS")])
        # The caller may go on: charge what the balance covers.
        balance_charge_batch(customer, items=[(new_message_id(), Decimal("0.0060"), "SMS")])
    customer.refresh_from_db()
    assert customer.balance == Decimal("0.0040")


# --- refund -----------------------------------------------------------------


def test_a_refund_gives_back_everything_the_message_paid_once(account):
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("0.0995"), description="SMS", message_id=message_id)
    first = balance_refund(account, message_id=message_id, reason="pre_provider_failure")
    second = balance_refund(account, message_id=message_id, reason="pre_provider_failure")
    assert first.pk == second.pk
    assert (first.kind, first.amount, first.reason) == (
        "refund",
        Decimal("0.0995"),
        "pre_provider_failure",
    )
    assert LedgerEntry.objects.filter(message_id=message_id, kind="refund").count() == 1
    assert account.balance == Decimal("100")
    assert message_net_charge(account, message_id=message_id) == 0
    assert_consistent(account)


def test_a_partial_refund_then_a_second_refund_changes_nothing(account):
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("0.3"), description="SMS", message_id=message_id)
    balance_refund(account, message_id=message_id, amount=Decimal("0.1"), reason="segment")
    balance_refund(account, message_id=message_id, amount=Decimal("0.2"), reason="segment")
    account.refresh_from_db()
    assert account.balance == Decimal("99.8")


def test_a_refund_cannot_exceed_what_the_message_paid(account):
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("0.05"), description="SMS", message_id=message_id)
    with pytest.raises(ValidationFailed):
        balance_refund(account, message_id=message_id, amount=Decimal("0.0501"))
    with pytest.raises(ValidationFailed):
        balance_refund(account, message_id=new_message_id())  # never charged
    assert LedgerEntry.objects.filter(kind="refund").count() == 0


def test_a_refund_of_another_customers_message_is_refused(account, other_account):
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("1"), description="SMS", message_id=message_id)
    with pytest.raises(ValidationFailed):
        balance_refund(other_account, message_id=message_id)
    other_account.refresh_from_db()
    assert other_account.balance == Decimal("100")


# --- adjust -----------------------------------------------------------------


def test_a_fallback_to_a_dearer_channel_is_settled_with_one_adjustment(account):
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("0.0064"), description="WhatsApp", message_id=message_id)
    sms = Decimal("0.0832")
    first = balance_adjust(
        account, message_id=message_id, amount=Decimal("0.0064") - sms, reason="fallback_sms"
    )
    again = balance_adjust(
        account, message_id=message_id, amount=Decimal("0.0064") - sms, reason="fallback_sms"
    )
    assert first.pk == again.pk
    assert (first.kind, first.amount) == ("adjustment", Decimal("-0.0768"))
    assert message_net_charge(account, message_id=message_id) == sms
    assert_consistent(account)


def test_a_cheaper_final_price_gives_the_difference_back(account):
    message_id = new_message_id()
    balance_charge(
        account, amount=Decimal("0.0249"), description="3 segments", message_id=message_id
    )
    entry = balance_adjust(
        account, message_id=message_id, amount=Decimal("0.0083"), reason="price_correction"
    )
    assert entry.amount == Decimal("0.0083")
    assert message_net_charge(account, message_id=message_id) == Decimal("0.0166")


def test_different_reasons_adjust_separately(account):
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("0.1"), description="SMS", message_id=message_id)
    balance_adjust(account, message_id=message_id, amount=Decimal("-0.01"), reason="fallback_sms")
    balance_adjust(
        account, message_id=message_id, amount=Decimal("-0.01"), reason="price_correction"
    )
    assert message_net_charge(account, message_id=message_id) == Decimal("0.12")


def test_an_adjustment_the_balance_cannot_cover_raises_402(db):
    customer = make_customer(balance="0.01")
    message_id = new_message_id()
    balance_charge(customer, amount=Decimal("0.01"), description="WhatsApp", message_id=message_id)
    with pytest.raises(InsufficientBalance):
        balance_adjust(
            customer, message_id=message_id, amount=Decimal("-0.07"), reason="fallback_sms"
        )
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 0


def test_a_credit_cannot_exceed_what_the_message_paid(account):
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("0.01"), description="SMS", message_id=message_id)
    with pytest.raises(ValidationFailed):
        balance_adjust(
            account, message_id=message_id, amount=Decimal("0.0101"), reason="price_correction"
        )


def test_a_zero_adjustment_writes_nothing(account):
    assert (
        balance_adjust(
            account, message_id=new_message_id(), amount=Decimal("0"), reason="price_correction"
        )
        is None
    )
    assert ledger_amounts(account) == [Decimal("100")]


def test_an_adjustment_needs_a_reason(account):
    with pytest.raises(ValidationFailed) as caught:
        balance_adjust(account, message_id=new_message_id(), amount=Decimal("-1"), reason=" ")
    assert caught.value.code == "VALIDATION_004"


# --- top-up -----------------------------------------------------------------


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), Decimal("1.00001")])
def test_a_top_up_must_be_positive_exact_money(account, amount):
    with pytest.raises(ValidationFailed):
        balance_top_up(account, amount=amount)


# --- low balance --------------------------------------------------------------


def low_balance_events(customer):
    return list(Event.objects.filter(customer=customer, event="balance.low").order_by("created_at"))


def test_crossing_the_threshold_records_one_balance_low_event(db):
    customer = make_customer(balance="5.02")  # threshold 5
    balance_charge(customer, amount=Decimal("0.01"), description="SMS")  # 5.01: above
    assert low_balance_events(customer) == []
    balance_charge(customer, amount=Decimal("0.02"), description="SMS")  # 4.99: crossed
    balance_charge(customer, amount=Decimal("0.02"), description="SMS")  # 4.97: still below
    [event] = low_balance_events(customer)
    assert event.field == "balance"
    assert event.payload == {
        "account_id": str(customer.pk),
        "balance": "4.9900",
        "threshold": "5.0000",
        "currency": "USD",
    }


def test_a_top_up_above_the_threshold_rearms_the_event(db):
    customer = make_customer(balance="5")
    balance_charge(customer, amount=Decimal("1"), description="SMS")
    balance_top_up(customer, amount=Decimal("10"))
    balance_charge(customer, amount=Decimal("10"), description="batch")
    assert len(low_balance_events(customer)) == 2


def test_a_batch_crossing_the_threshold_records_one_event(db):
    customer = make_customer(balance="6")
    balance_charge_batch(customer, items=[(new_message_id(), Decimal("0.5"), "SMS")] * 4)
    assert len(low_balance_events(customer)) == 1


def test_a_threshold_of_zero_never_fires(db):
    customer = make_customer(balance="1")
    customer.low_balance_threshold = Decimal("0")
    customer.save(update_fields=["low_balance_threshold"])
    balance_charge(customer, amount=Decimal("1"), description="SMS")
    assert low_balance_events(customer) == []


def test_a_failed_charge_records_no_event(db):
    customer = make_customer(balance="5")
    with pytest.raises(InsufficientBalance):
        balance_charge(customer, amount=Decimal("6"), description="SMS")
    assert low_balance_events(customer) == []


def test_the_unique_constraint_backs_refunds_and_rolls_the_balance_back(account):
    """Past the lock and the look-up, the constraint still stops a second refund, and the
    savepoint undoes that refund's balance change."""
    message_id = new_message_id()
    balance_charge(account, amount=Decimal("1"), description="SMS", message_id=message_id)
    first = balance_refund(account, message_id=message_id)
    again = _ledger_apply_unique(
        account, kind="refund", unique={"message_id": message_id}, amount=Decimal("1")
    )
    assert again.pk == first.pk
    assert_consistent(account)
    assert account.balance == Decimal("100")
