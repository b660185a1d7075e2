"""The ledger can't be edited, and tampering is detected
(docs/reliability.md#4-the-ledger-is-append-only-and-tamper-evident)."""

from decimal import Decimal
from io import StringIO

import pytest

from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from billing.models import LedgerEntry
from billing.services import balance_charge
from tests.billing.factories import new_message_id, raw_customer_id


@pytest.fixture
def entry(account):
    return balance_charge(
        account, amount=Decimal("0.0083"), description="SMS", message_id=new_message_id()
    )


def test_saving_an_existing_entry_raises(entry):
    entry.amount = Decimal("-0.0001")
    with pytest.raises(PermissionError):
        entry.save()


def test_deleting_an_entry_raises(entry):
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_a_queryset_update_raises(entry):
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=0)


def test_the_database_refuses_a_raw_update(entry):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE billing_ledgerentry SET amount = 0 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.amount == Decimal("-0.0083")


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps DELETE open for flushes"
)
def test_postgresql_refuses_a_raw_delete(entry):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM billing_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def check_ledger() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("check_ledger", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_check_ledger_passes_on_a_consistent_ledger(entry, other_account):
    out, err = check_ledger()
    assert "Checked 2 customer(s), 3 ledger entries: all consistent." in out
    assert err == ""


def test_check_ledger_fails_when_a_balance_was_changed_behind_the_ledger(
    entry, account, ledger_tampering
):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_customer SET balance = balance + 1 WHERE id = %s",
            [raw_customer_id(account)],
        )
    with pytest.raises(CommandError, match="1 problem"):
        check_ledger()


def test_check_ledger_fails_on_an_entry_inserted_behind_the_services(
    entry, account, ledger_tampering
):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_ledgerentry (customer_id, kind, amount, ending_balance, currency,"
            " description, reason, created_at) VALUES (%s, 'top_up', 5, 5, 'USD', '', '', %s)",
            [raw_customer_id(account), entry.created_at],
        )
    err = StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("check_ledger", stdout=StringIO(), stderr=err)
    assert "says ending balance 5.0000, the running sum is 104.9917" in err.getvalue()
    assert "balance is 99.9917, the ledger sums to 104.9917" in err.getvalue()


def test_check_ledger_fails_on_an_amount_edited_with_the_trigger_off(entry, ledger_tampering):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
            cursor.execute(
                "ALTER TABLE billing_ledgerentry DISABLE TRIGGER billing_ledger_append_only"
            )
        else:
            cursor.execute("DROP TRIGGER billing_ledger_append_only")
        cursor.execute("UPDATE billing_ledgerentry SET amount = -1 WHERE id = %s", [entry.pk])
    with pytest.raises(CommandError):
        check_ledger()


def test_check_ledger_can_check_one_customer(entry, account, other_account):
    out = StringIO()
    call_command("check_ledger", "--customer", str(other_account.pk), stdout=out)
    assert "Checked 1 customer(s), 1 ledger entries" in out.getvalue()


def test_check_ledger_rejects_a_malformed_customer_id(db):
    with pytest.raises(CommandError, match="Not a customer id"):
        call_command("check_ledger", "--customer", "nope")
