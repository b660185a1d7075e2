"""docs/reliability.md#3-the-ledger-always-adds-up: a Hypothesis state machine drives the balance
services against a model (exact Decimals) and checks the ledger after every step."""

from decimal import ROUND_DOWN, Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from billing.errors import InsufficientBalance
from billing.models import LedgerEntry
from billing.selectors import ledger_problems
from billing.services import (
    balance_adjust,
    balance_charge,
    balance_charge_batch,
    balance_refund,
    balance_top_up,
    customer_create,
)
from sent_project.errors import ValidationFailed
from tests.billing.factories import new_message_id

# Real unit prices: US SMS (old and new), Indian utility, German marketing, free-form.
PRICES = [
    Decimal("0.0079"),
    Decimal("0.0083"),
    Decimal("0.0064"),
    Decimal("0.1415"),
    Decimal("0.0050"),
]
price = st.builds(lambda p, n: p * n, st.sampled_from(PRICES), st.integers(1, 3))
money = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("2"), places=4)
REASONS = ["fallback_sms", "price_correction"]


class LedgerMachine(RuleBasedStateMachine):
    messages = Bundle("messages")

    def __init__(self):
        super().__init__()
        self.customer = customer_create(name="Model")
        self.balance = Decimal("0")
        self.paid: dict = {}  # message id → what it has paid, net
        self.refunded: set = set()
        self.adjusted: set = set()

    def entries(self) -> int:
        return LedgerEntry.objects.filter(customer=self.customer).count()

    @rule(amount=money)
    def top_up(self, amount):
        balance_top_up(self.customer, amount=amount)
        self.balance += amount

    @rule(target=messages, amount=price)
    def charge(self, amount):
        message_id = new_message_id()
        if amount > self.balance:
            before = self.entries()
            try:
                balance_charge(
                    self.customer, amount=amount, description="SMS", message_id=message_id
                )
            except InsufficientBalance:
                assert self.entries() == before
                return multiple()
            raise AssertionError("charged more than the balance")
        balance_charge(self.customer, amount=amount, description="SMS", message_id=message_id)
        self.balance -= amount
        self.paid[message_id] = amount
        return message_id

    @rule(target=messages, amounts=st.lists(price, min_size=1, max_size=6))
    def charge_batch(self, amounts):
        items = [(new_message_id(), amount, "batch") for amount in amounts]
        total = sum(amounts, Decimal("0"))
        if total > self.balance:
            before = self.entries()
            try:
                balance_charge_batch(self.customer, items=items)
            except InsufficientBalance:
                assert self.entries() == before
                return multiple()
            raise AssertionError("charged a batch the balance could not cover")
        balance_charge_batch(self.customer, items=items)
        self.balance -= total
        self.paid.update({message_id: amount for message_id, amount, _ in items})
        return multiple(*(message_id for message_id, _, _ in items))

    @rule(message_id=messages, partial=st.booleans())
    def refund_twice(self, message_id, partial):
        """A pre-provider failure whose failure path runs twice."""
        paid = self.paid[message_id]
        amount = (paid / 2).quantize(Decimal("0.0001"), rounding=ROUND_DOWN) if partial else None
        for _ in range(2):
            try:
                balance_refund(self.customer, message_id=message_id, amount=amount, reason="failed")
            except ValidationFailed:
                assert message_id not in self.refunded and (paid == 0 or amount == 0)
                return
        if message_id not in self.refunded:
            refunded = paid if amount is None else amount
            self.balance += refunded
            self.paid[message_id] -= refunded
            self.refunded.add(message_id)

    @rule(
        message_id=messages,
        amount=st.decimals(min_value=Decimal("-0.2"), max_value=Decimal("0.2"), places=4),
        reason=st.sampled_from(REASONS),
    )
    def adjust_twice(self, message_id, amount, reason):
        """A fallback or price correction, settled twice (a retried task)."""
        key = (message_id, reason)
        for _ in range(2):
            try:
                balance_adjust(self.customer, message_id=message_id, amount=amount, reason=reason)
            except InsufficientBalance:
                assert key not in self.adjusted and -amount > self.balance
                return
            except ValidationFailed:
                assert key not in self.adjusted and amount > self.paid[message_id]
                return
        if key not in self.adjusted and amount != 0:
            self.balance += amount
            self.paid[message_id] -= amount
            self.adjusted.add(key)

    @invariant()
    def the_ledger_is_exact(self):
        self.customer.refresh_from_db()
        assert self.customer.balance == self.balance >= 0
        customers, _, problems = ledger_problems([self.customer.pk])
        assert (customers, problems) == (1, [])
        assert all(paid >= 0 for paid in self.paid.values())


def test_the_ledger_stays_exact_under_any_sequence_of_operations(db):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
