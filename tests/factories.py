"""Plain builder functions for test data (RapidPro style: no factory library)."""

from decimal import Decimal

from billing.models import Customer
from billing.services import api_key_create, customer_create


def make_customer(name: str = "Acme", *, balance: Decimal | str = "100", **overrides) -> Customer:
    """A customer with an API key; the raw key is on `customer.raw_api_key`."""
    customer = customer_create(name=name, balance=Decimal(str(balance)), **overrides)
    customer.raw_api_key = api_key_create(customer).raw_key
    return customer
