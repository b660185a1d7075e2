"""Billing domain operations: customers, API keys, prices, and every change of a balance.

Balances change only here, inside a transaction, each change with one LedgerEntry whose
`ending_balance` is the balance right after it. Amounts are Decimals with at most four
decimal places (USD). What messaging calls, per message (see
docs/api/account.md#for-other-apps-python):

- `balance_charge(customer, amount=, description=, message_id=)` at acceptance, or
  `balance_charge_batch(customer, items=[ChargeItem(...)])` for a whole request;
- `balance_adjust(customer, message_id=, amount=, reason=)` when the final price differs
  (fallback to SMS, corrected segment count) — once per (message, reason);
- `balance_refund(customer, message_id=)` when a message fails before any provider — once.
"""

import hashlib
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Round
from django.utils import timezone

from billing import audit, caching
from billing.errors import InsufficientBalance
from billing.models import ApiKey, Customer, LedgerEntry, Membership, Price
from billing.rate_card import rate_card_rows
from billing.roles import acting, require
from sent_project.db import rows_insert, update_returning
from sent_project.errors import RequiredFieldMissing, ValidationFailed, ValueOutOfRange
from sent_project.metrics import BALANCE_LOW
from sent_project.outbox import event_emit

API_KEY_PREFIX = "sent_"
# last_used_at is refreshed at most this often, so authentication stays a read.
LAST_USED_RESOLUTION = timedelta(seconds=60)
MONEY_STEP = Decimal("0.0001")


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
    description: str = "",
    low_balance_threshold: Decimal | None = None,
    routing_strategy: str | None = None,
) -> Customer:
    """A new customer; an opening balance is recorded as a top-up ledger entry.

    `low_balance_threshold` and `routing_strategy` left None take the model's defaults.
    """
    if not name.strip():
        raise ValidationFailed(details={"name": ["A name is required."]})
    balance = _money(balance, field="balance")
    optional = {
        "low_balance_threshold": low_balance_threshold,
        "routing_strategy": routing_strategy,
    }
    with transaction.atomic():
        customer = Customer.objects.create(
            name=name.strip(),
            email=email,
            default_region=default_region.upper(),
            description=description,
            **{field: value for field, value in optional.items() if value is not None},
        )
        if balance > 0:
            balance_top_up(customer, amount=balance, note="Opening balance")
    customer.refresh_from_db()
    return customer


def api_key_create(customer: Customer, *, name: str = "Default") -> CreatedApiKey:
    require(acting(), "api_keys")
    raw = API_KEY_PREFIX + secrets.token_urlsafe(30)
    api_key = ApiKey.objects.create(
        customer=customer,
        name=name.strip() or "Default",
        prefix=raw[:12],
        key_hash=hash_api_key(raw),
    )
    audit.record(customer, audit.API_KEY_CREATED, target=f"{api_key.name} ({api_key.prefix}…)")
    return CreatedApiKey(api_key=api_key, raw_key=raw)


def api_key_revoke(customer: Customer, *, api_key_id) -> ApiKey:
    require(acting(), "api_keys")
    api_key = ApiKey.objects.get(customer=customer, pk=api_key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit.record(customer, audit.API_KEY_REVOKED, target=f"{api_key.name} ({api_key.prefix}…)")
    return api_key


def api_key_authenticate(*, raw: str) -> ApiKey | None:
    """The active key with this secret (customer loaded), or None.

    One statement, read live on every request (a revoked key, or a deleted customer's, is
    refused at once, in every process, however it was revoked). The same statement reads
    the send path's cache counters; they mark the customer (`billing.caching`), so this
    request's template and price book can come from the cache without another query.
    """
    if len(raw) > 200:
        return None
    api_key = (
        ApiKey.objects.select_related("customer")
        .annotate(**caching.version_annotations("customer_id"))
        .filter(key_hash=hash_api_key(raw), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    caching.versions_attach(api_key.customer, (api_key._cv, api_key._pv))
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def membership_create(
    customer: Customer,
    *,
    username: str,
    password: str | None = None,
    password_hash: str | None = None,
    email: str = "",
    role: str = Membership.Role.ADMIN,
    is_superuser: bool = False,
) -> Membership:
    """A dashboard user of this customer (an admin-site superuser too if asked), with
    `password`, or `password_hash` when it was hashed already (`make_password`): one of them."""
    if (password is None) == (password_hash is None):
        raise ValueError("membership_create takes a password or a password_hash")
    User = get_user_model()
    with transaction.atomic():
        if password_hash is not None:
            user = User(
                username=User.normalize_username(username),
                email=User.objects.normalize_email(email),
                password=password_hash,
                is_staff=is_superuser,
                is_superuser=is_superuser,
            )
            user.save()
        elif is_superuser:
            user = User.objects.create_superuser(username=username, email=email, password=password)
        else:
            user = User.objects.create_user(username=username, email=email, password=password)
        return Membership.objects.create(user=user, customer=customer, role=role)


def _money(value, *, field: str = "amount", minimum: Decimal | None = Decimal("0")) -> Decimal:
    """`value` as an exact Decimal of at most 4 decimal places (≥ `minimum` unless None)."""
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
        exact = amount.is_finite() and amount == amount.quantize(MONEY_STEP)
    except (InvalidOperation, TypeError, ValueError):
        exact = False
    if not exact:
        raise ValueOutOfRange(details={field: ["A number with at most 4 decimal places."]})
    if minimum is not None and amount < minimum:
        raise ValueOutOfRange(details={field: [f"Must be {minimum} or more."]})
    return amount


def _balance_change(customer_id, amount: Decimal) -> Customer:
    """Add `amount` to the balance with one conditional UPDATE; the customer as it is now.

    A debit applies only where the balance covers it (`WHERE balance >= debit`), else
    InsufficientBalance. Our UPDATE keeps the row locked until commit, and its RETURNING
    reads back exactly the balance after this change (one statement, no SELECT).
    """
    rows = Customer.objects.filter(pk=customer_id)
    if amount < 0:
        rows = rows.filter(balance__gte=-amount)
    # ROUND keeps SQLite exact: it stores decimals as binary floats, where 0.0237 - 0.0079
    # - 0.0079 is just under 0.0079; rounding to 4 places after each change stores the float
    # nearest the true decimal, so comparisons stay right. A no-op on PostgreSQL's numeric.
    new_balance = Round(F("balance") + amount, 4)
    changed = update_returning(
        rows,
        {"balance": new_balance, "updated_at": timezone.now()},
        returning=["balance", "low_balance_threshold", "currency"],
    )
    if len(changed) != 1:
        raise InsufficientBalance()
    balance, low_balance_threshold, currency = changed[0]
    return Customer(
        pk=customer_id,
        balance=balance,
        low_balance_threshold=low_balance_threshold,
        currency=currency,
    )


def _low_balance_check(now: Customer, debit: Decimal) -> None:
    """Record `balance.low` when this debit took the balance from ≥ threshold to below it.

    Only the crossing counts, so later debits stay silent until a credit lifts the balance
    back to the threshold. A threshold of 0 never fires.
    """
    before = now.balance + debit
    if before >= now.low_balance_threshold > now.balance:
        BALANCE_LOW.inc()
        event_emit(
            now,
            field="balance",
            event="balance.low",
            payload={
                "account_id": str(now.pk),
                "balance": f"{now.balance:.4f}",
                "threshold": f"{now.low_balance_threshold:.4f}",
                "currency": now.currency,
            },
        )


def _ledger_apply(
    customer: Customer | str,
    *,
    amount: Decimal,
    kind: str,
    description: str = "",
    message_id=None,
    reason: str = "",
) -> LedgerEntry:
    """Change the balance by `amount` and append the entry that says so.

    A negative amount only applies if the balance covers it (a conditional UPDATE,
    never read-modify-write), else InsufficientBalance; crossing the low-balance
    threshold records a `balance.low` event. Must run inside transaction.atomic: the
    row stays locked by our UPDATE until commit, so the balance we read back is exactly
    this entry's ending balance. A Customer passed in gets its `balance` refreshed.
    """
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    now = _balance_change(customer_id, amount)
    entry = LedgerEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        ending_balance=now.balance,
        currency=now.currency,
        description=description[:300],
        reason=reason,
        message_id=message_id,
    )
    if amount < 0:
        _low_balance_check(now, -amount)
    if isinstance(customer, Customer):
        customer.balance = now.balance
    return entry


def balance_top_up(customer: Customer, *, amount: Decimal, note: str = "") -> LedgerEntry:
    """Add money to the prepaid balance (admin action, `top_up` command, opening balance)."""
    require(acting(), "billing")
    amount = _money(amount)
    if amount <= 0:
        raise ValueOutOfRange(details={"amount": ["Must be more than 0."]})
    with transaction.atomic():
        entry = _ledger_apply(
            customer, amount=amount, kind=LedgerEntry.Kind.TOP_UP, description=note or "Top-up"
        )
        audit.record(customer, audit.TOP_UP, target=f"{amount} USD", detail={"note": note})
    return entry


def balance_top_up_request(customer: Customer, *, amount, note: str = "") -> None:
    """Ask the operator to add money (a billing user or an admin, on the billing page):
    the request goes in the audit log and, when `TOP_UP_REQUEST_EMAIL` is set, to that
    address after the transaction commits. The balance changes only when the operator tops
    up (admin site or `manage.py top_up`)."""
    require(acting(), "billing")
    amount = _money(amount)
    if amount <= 0:
        raise ValueOutOfRange(details={"amount": ["Must be more than 0."]})
    note = note.strip()[:500]
    entry = audit.record(
        customer, audit.TOP_UP_REQUESTED, target=f"{amount} USD", detail={"note": note}
    )
    recipient = settings.TOP_UP_REQUEST_EMAIL
    if recipient:
        subject = f"Top-up requested: {amount} USD for {customer.name}"
        body = (
            f"{entry.actor} asks for a top-up of {amount} USD for {customer.name} "
            f"(account {customer.pk}).\n\nNote: {note or '-'}\n\n"
            "Top up in the admin site (Customers → Top up) or with manage.py top_up.\n"
        )
        transaction.on_commit(
            lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        )


def balance_charge(
    customer: Customer, *, amount: Decimal, description: str, message_id=None
) -> LedgerEntry:
    """Take `amount` (≥ 0, e.g. a `price_quote`) from the balance for one message.

    Returns the charge entry (its `amount` is negative). Raises InsufficientBalance
    (402 BUSINESS_003) with nothing written if the balance can't cover it; the balance
    never goes below zero, however many run at once. Atomic on its own, or part of the
    caller's transaction (then a later rollback undoes the charge too).
    """
    amount = _money(amount)
    with transaction.atomic():
        return _ledger_apply(
            customer,
            amount=-amount,
            kind=LedgerEntry.Kind.CHARGE,
            description=description,
            message_id=message_id,
        )


class ChargeItem(NamedTuple):
    """One message of a batch charge; a plain `(message_id, amount, description)` tuple works too."""

    message_id: object
    amount: Decimal
    description: str


def balance_charge_batch(customer: Customer, *, items: list[ChargeItem]) -> list[LedgerEntry]:
    """Charge a whole send request at once: all of it, or nothing.

    One conditional UPDATE takes the total; then one bulk insert writes an entry per item
    (in order) whose `ending_balance` is the running balance. Raises InsufficientBalance
    with nothing written if the total isn't covered. Returns the entries (ids set).
    """
    items = [ChargeItem(m, _money(a), d) for m, a, d in items]
    if not items:
        return []
    total = sum((item.amount for item in items), Decimal("0"))
    customer_id = customer.pk
    # Inside the caller's transaction, no savepoint of our own (two round trips fewer per
    # send): a refused debit writes nothing, so the caller's transaction stays usable.
    in_transaction = transaction.get_connection().in_atomic_block
    with nullcontext() if in_transaction else transaction.atomic():
        now = _balance_change(customer_id, -total)
        running = now.balance + total
        entries = []
        for item in items:
            running -= item.amount
            entries.append(
                LedgerEntry(
                    customer_id=customer_id,
                    kind=LedgerEntry.Kind.CHARGE,
                    amount=-item.amount,
                    ending_balance=running,
                    currency=now.currency,
                    description=item.description[:300],
                    message_id=item.message_id,
                )
            )
        entries = rows_insert(LedgerEntry, entries)
        _low_balance_check(now, total)
    customer.balance = now.balance
    return entries


def message_net_charge(customer: Customer, *, message_id) -> Decimal:
    """What this customer has paid for the message so far (charges less credits), ≥ 0."""
    amounts = LedgerEntry.objects.filter(customer=customer, message_id=message_id).values_list(
        "amount", flat=True
    )
    return -sum(amounts, Decimal("0"))  # summed here, exactly (SQLite sums floats)


def _entry_for(customer: Customer, *, kind: str, unique: dict) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(customer=customer, kind=kind, **unique).first()


def _lock_and_find(customer: Customer, *, kind: str, unique: dict) -> LedgerEntry | None:
    """Lock the customer's row until commit, then its entry of `kind` matching `unique`.

    Under the lock (PostgreSQL; SQLite's IMMEDIATE mode already serialises writers) the
    ledger reads that decide a write stay true until it commits.
    """
    Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk").get()
    return _entry_for(customer, kind=kind, unique=unique)


def _ledger_apply_unique(customer: Customer, *, kind: str, unique: dict, **fields) -> LedgerEntry:
    """`_ledger_apply` guarded by a unique partial constraint on `unique`.

    Callers lock the customer and look for an existing entry first; the constraint is
    the last line: on a conflict the savepoint rolls the balance change back with the
    insert, and the entry already there is returned.
    """
    try:
        with transaction.atomic():
            return _ledger_apply(customer, kind=kind, **unique, **fields)
    except IntegrityError:
        existing = _entry_for(customer, kind=kind, unique=unique)
        if existing is None:
            raise
        return existing


def balance_refund(
    customer: Customer, *, message_id, amount: Decimal | None = None, reason: str = "refund"
) -> LedgerEntry:
    """Give a message's money back, at most once per message.

    `amount` defaults to everything paid for the message (charges ± adjustments) and may
    not exceed it. A second call for the same message — in turn or concurrently — writes
    nothing and returns the first refund entry. `reason` is stored on the entry
    ("pre_provider_failure").
    """
    unique = {"message_id": message_id}
    with transaction.atomic():
        existing = _lock_and_find(customer, kind=LedgerEntry.Kind.REFUND, unique=unique)
        if existing is not None:
            return existing
        paid = message_net_charge(customer, message_id=message_id)
        amount = paid if amount is None else _money(amount)
        if not 0 < amount <= paid:
            raise ValueOutOfRange(
                details={"amount": [f"A refund must be more than 0 and at most the {paid} paid."]},
            )
        return _ledger_apply_unique(
            customer,
            kind=LedgerEntry.Kind.REFUND,
            unique=unique,
            amount=amount,
            reason=reason[:64],
            description=f"Refund: {reason}",
        )


def balance_adjust(
    customer: Customer, *, message_id, amount: Decimal, reason: str, description: str = ""
) -> LedgerEntry | None:
    """Settle a message's price change with one adjustment entry, once per (message, reason).

    `amount` is the change to the balance, like `LedgerEntry.amount`: negative takes more
    (the final price is higher: pass `original - corrected`), positive gives back. A credit
    can't exceed what the message has paid. A debit the balance can't cover raises
    InsufficientBalance. `reason` is a short key ("fallback_sms", "price_correction"): a
    repeat with the same message and reason returns the first entry and writes nothing.
    Zero writes nothing and returns None.
    """
    amount = _money(amount, minimum=None)
    reason = reason.strip()[:64]
    if not reason:
        raise RequiredFieldMissing(details={"reason": ["A reason is required."]})
    if amount == 0:
        return None
    unique = {"message_id": message_id, "reason": reason}
    with transaction.atomic():
        existing = _lock_and_find(customer, kind=LedgerEntry.Kind.ADJUSTMENT, unique=unique)
        if existing is not None:
            return existing
        if amount > message_net_charge(customer, message_id=message_id):
            raise ValueOutOfRange(
                details={"amount": ["A credit can't exceed what the message has paid."]},
            )
        return _ledger_apply_unique(
            customer,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            unique=unique,
            amount=amount,
            description=description or f"Adjustment: {reason}",
        )


def prices_seed_defaults() -> int:
    """Write the built-in rate card's rows that the table lacks; the number written.

    Idempotent: rows that exist (including ones edited in the admin) are left alone.
    """
    before = Price.objects.count()
    with transaction.atomic():
        Price.objects.bulk_create(rate_card_rows(Price), ignore_conflicts=True)
        caching.price_table_version_bump()  # bulk_create sends no post_save
    return Price.objects.count() - before


def customer_set_low_balance_threshold(customer: Customer, *, threshold: Decimal) -> Customer:
    require(acting(), "billing")
    threshold = Decimal(threshold)
    if threshold < 0:
        raise ValueOutOfRange(details={"low_balance_threshold": ["Must be 0 or more."]})
    customer.low_balance_threshold = threshold
    customer.save(update_fields=["low_balance_threshold", "updated_at"])
    return customer


def customer_set_quiet_hours(customer: Customer, *, enabled: bool, start, end) -> Customer:
    """The account's quiet hours (docs/api/messages.md#quiet-hours): marketing messages that
    would reach a recipient between `start` and `end` (their local time) are held until `end`.
    Applied to sends from now on; messages already held keep their time."""
    require(acting(), "billing")
    if enabled and start == end:
        raise ValueOutOfRange(details={"quiet_hours_end": ["Give a window: start and end differ."]})
    customer.quiet_hours_enabled = enabled
    customer.quiet_hours_start, customer.quiet_hours_end = start, end
    customer.save(
        update_fields=["quiet_hours_enabled", "quiet_hours_start", "quiet_hours_end", "updated_at"]
    )
    return customer
