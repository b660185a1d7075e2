"""Billing test builders and helpers (plain functions)."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.db import connection, connections

from billing.errors import InsufficientBalance
from billing.models import Customer, LedgerEntry, PriceOverride


def make_override(customer: Customer, **fields) -> PriceOverride:
    """A negotiated price; pass `unit_price` or `discount_percent` (and channel/country/...)."""
    fields.setdefault("channel", "sms")
    fields.setdefault("country", "*")
    return PriceOverride.objects.create(customer=customer, **fields)


def ledger_amounts(customer: Customer) -> list[Decimal]:
    """The customer's ledger amounts, oldest first."""
    return list(
        LedgerEntry.objects.filter(customer=customer)
        .order_by("id")
        .values_list("amount", flat=True)
    )


def run_concurrently(calls: int, fn, *, workers: int) -> list[str]:
    """Run `fn(i)` for i in range(calls) on `workers` threads, each call on its own database
    connection, all released at once. Outcomes: "ok", "402", or the repr of any other error."""
    go = threading.Event()

    def call(i: int) -> str:
        go.wait()
        try:
            fn(i)
            return "ok"
        except InsufficientBalance:
            return "402"
        except Exception as exc:  # noqa: BLE001 — any other error is the finding
            return repr(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(call, i) for i in range(calls)]
        go.set()
        return [future.result() for future in futures]


def raw_customer_id(customer: Customer):
    """The customer's primary key as the database stores it (for raw SQL)."""
    return Customer._meta.pk.get_db_prep_value(customer.pk, connection)


def new_message_id() -> uuid.UUID:
    return uuid.uuid4()
