"""Billing reads, always starting from the customer."""

from decimal import Decimal

from django.db.models import QuerySet

from billing.models import ApiKey, Customer, LedgerEntry


def api_keys_for(customer: Customer) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(customer=customer).order_by("-created_at")


def ledger_for(customer: Customer, *, kind: str = "", message_id=None) -> QuerySet[LedgerEntry]:
    """The customer's ledger, newest first (served by the `ledger_customer_id` index)."""
    entries = LedgerEntry.objects.filter(customer=customer)
    if kind:
        entries = entries.filter(kind=kind)
    if message_id:
        entries = entries.filter(message_id=message_id)
    return entries.order_by("-id")


def customer_for_user(user) -> Customer | None:
    membership = getattr(user, "membership", None)
    return membership.customer if membership else None


def ledger_problems(customer_ids=None) -> tuple[int, int, list[str]]:
    """Check every customer's ledger (or these ones): (customers, entries, problems).

    The rules: entries replayed in id order give each entry's `ending_balance`, and
    their sum equals the customer's `balance`. One streaming pass over the ledger.
    """
    customers = Customer.objects.order_by("pk")
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
    balances = dict(customers.values_list("pk", "balance"))
    entries = LedgerEntry.objects.all()
    if customer_ids is not None:
        entries = entries.filter(customer_id__in=list(balances))
    # Summed here as Decimals, exactly (SQLite would sum floats).
    rows = entries.order_by("customer_id", "id").values_list(
        "customer_id", "id", "amount", "ending_balance"
    )
    problems: list[str] = []
    sums: dict = {}
    count = 0
    for customer_id, entry_id, amount, ending_balance in rows.iterator(chunk_size=5000):
        count += 1
        running = sums.get(customer_id, Decimal("0")) + amount
        sums[customer_id] = running
        if ending_balance != running:
            problems.append(
                f"customer {customer_id}: entry {entry_id} says ending balance "
                f"{ending_balance}, the running sum is {running}"
            )
    for customer_id, balance in balances.items():
        total = sums.get(customer_id, Decimal("0"))
        if total != balance:
            problems.append(
                f"customer {customer_id}: balance is {balance}, the ledger sums to {total}"
            )
    return len(balances), count, problems
