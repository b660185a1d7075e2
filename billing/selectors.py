"""Billing reads, always starting from the customer."""

from django.db.models import QuerySet

from billing.models import ApiKey, Customer, LedgerEntry


def api_keys_for(customer: Customer) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(customer=customer).order_by("-created_at")


def ledger_for(customer: Customer) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(customer=customer).order_by("-id")


def customer_for_user(user) -> Customer | None:
    membership = getattr(user, "membership", None)
    return membership.customer if membership else None
