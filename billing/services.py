"""Billing domain operations: customers, API keys, and every change of a balance.

Balances change only here, inside a transaction, each change with one LedgerEntry.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.models import ApiKey, Customer, LedgerEntry, Membership
from sent_project.errors import InsufficientBalance, ValidationFailed

API_KEY_PREFIX = "sent_"
# last_used_at is refreshed at most this often, so authentication stays a read.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once; never stored


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def customer_create(
    *,
    name: str,
    email: str = "",
    balance: Decimal = Decimal("0"),
    default_region: str = "US",
) -> Customer:
    """A new customer; an opening balance is recorded as a top-up ledger entry."""
    if not name.strip():
        raise ValidationFailed(details={"name": ["A name is required."]})
    if balance < 0:
        raise ValidationFailed(code="VALIDATION_005", details={"balance": ["Must be 0 or more."]})
    with transaction.atomic():
        customer = Customer.objects.create(
            name=name.strip(), email=email, default_region=default_region.upper()
        )
        if balance > 0:
            balance_top_up(customer, amount=balance, note="Opening balance")
    customer.refresh_from_db()
    return customer


def api_key_create(customer: Customer, *, name: str = "Default") -> CreatedApiKey:
    raw = API_KEY_PREFIX + secrets.token_urlsafe(30)
    api_key = ApiKey.objects.create(
        customer=customer,
        name=name.strip() or "Default",
        prefix=raw[:12],
        key_hash=hash_api_key(raw),
    )
    return CreatedApiKey(api_key=api_key, raw_key=raw)


def api_key_revoke(customer: Customer, *, api_key_id) -> ApiKey:
    api_key = ApiKey.objects.get(customer=customer, pk=api_key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """The active key with this secret (customer loaded), or None."""
    if len(raw) > 200:
        return None
    api_key = (
        ApiKey.objects.select_related("customer")
        .filter(key_hash=hash_api_key(raw), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def membership_create(customer: Customer, *, username: str, password: str, email: str = "",
                      role: str = Membership.Role.ADMIN, is_superuser: bool = False) -> Membership:
    """A dashboard user of this customer (an admin-site superuser too if asked)."""
    User = get_user_model()
    with transaction.atomic():
        if is_superuser:
            user = User.objects.create_superuser(username=username, email=email, password=password)
        else:
            user = User.objects.create_user(username=username, email=email, password=password)
        return Membership.objects.create(user=user, customer=customer, role=role)


def _ledger_apply(
    customer: Customer | str,
    *,
    amount: Decimal,
    kind: str,
    description: str = "",
    message_id=None,
) -> LedgerEntry:
    """Change the balance by `amount` and append the entry that says so.

    A negative amount only applies if the balance covers it (a conditional UPDATE,
    never read-modify-write), else InsufficientBalance. Must run inside
    transaction.atomic: the row stays locked by our UPDATE until commit, so the
    balance we read back is exactly this entry's ending balance.
    """
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    rows = Customer.objects.filter(pk=customer_id)
    if amount < 0:
        rows = rows.filter(balance__gte=-amount)
    if rows.update(balance=F("balance") + amount, updated_at=timezone.now()) != 1:
        raise InsufficientBalance()
    ending = Customer.objects.filter(pk=customer_id).values_list("balance", flat=True).get()
    return LedgerEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        ending_balance=ending,
        description=description[:300],
        message_id=message_id,
    )


def balance_top_up(customer: Customer, *, amount: Decimal, note: str = "") -> LedgerEntry:
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationFailed(code="VALIDATION_005", details={"amount": ["Must be more than 0."]})
    with transaction.atomic():
        return _ledger_apply(customer, amount=amount, kind=LedgerEntry.Kind.TOP_UP,
                             description=note or "Top-up")


def customer_set_low_balance_threshold(customer: Customer, *, threshold: Decimal) -> Customer:
    threshold = Decimal(threshold)
    if threshold < 0:
        raise ValidationFailed(
            code="VALIDATION_005", details={"low_balance_threshold": ["Must be 0 or more."]}
        )
    customer.low_balance_threshold = threshold
    customer.save(update_fields=["low_balance_threshold", "updated_at"])
    return customer
