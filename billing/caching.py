"""Caches of the send path, correct across processes with only the database shared.

Every cached entry (a template by name or id, a customer's price book) is stored with the
two version counters it was read under: the customer's (`CustomerCacheVersion`: its
templates and their review history, its price overrides) and the price table's
(`CacheVersion "prices"`). Each counter is bumped by the write it stands for, in the same
transaction when there is one (post_save / post_delete receivers; explicit bumps where a
write skips the signals, as `prices_seed_defaults`' bulk_create).

An API request reads both counters in the statement that authenticates it (the API key is
read live, with its customer: `billing.services.api_key_authenticate`), so they cost no
query; an entry stored under other counters is ignored and read again. So a template or
price change applies to every process's next send. The cache (Django's default: per
process, or Redis with REDIS_URL) only saves the reads; it never decides what is current.
Entries expire after CACHE_SEND_TTL seconds: the bound for a change made behind the ORM's
back (raw SQL, `QuerySet.update`), and for memory. docs/architecture.md#send-path-caches.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from billing.models import CacheVersion, Customer, CustomerCacheVersion
from sent_project import request_context

PRICES = "prices"
_VERSIONS_ATTR = "_sent_cache_versions"


def customer_version_bump(customer_id) -> None:
    """A change to this customer's templates or price overrides: its entries are stale."""
    _bump(CustomerCacheVersion.objects, {"customer_id": customer_id})


def price_table_version_bump() -> None:
    """A change to the price table: every cached price book is stale."""
    _bump(CacheVersion.objects, {"name": PRICES})


def _bump(manager, lookup: dict) -> None:
    rows = manager.filter(**lookup)
    if rows.update(value=F("value") + 1):
        return
    try:
        with transaction.atomic():
            manager.create(**lookup, value=1)
    except IntegrityError:  # created meanwhile by another writer: count ours on top
        rows.update(value=F("value") + 1)


def version_annotations(customer_ref="pk") -> dict:
    """Annotations that read both counters in the statement that reads the customer
    (`customer_ref`: the customer's id as seen from the queried model)."""
    return {
        "_cv": Coalesce(
            Subquery(
                CustomerCacheVersion.objects.filter(customer=OuterRef(customer_ref)).values(
                    "value"
                )[:1]
            ),
            Value(0),
        ),
        "_pv": Coalesce(
            Subquery(CacheVersion.objects.filter(name=PRICES).values("value")[:1]), Value(0)
        ),
    }


def versions_attach(customer, versions: tuple[int, int]) -> None:
    """Mark `customer` (this request's) as read together with these counters — on the
    object, and for the rest of the request by its id (`request_context`)."""
    setattr(customer, _VERSIONS_ATTR, versions)
    request_context.cache_versions_note(customer.pk, versions)


def versions_of(customer) -> tuple[int, int] | None:
    return getattr(customer, _VERSIONS_ATTR, None)


def ids_cached(kind: str, ids, load) -> dict:
    """`load(ids)` (a dict by customer id, a customer absent when it has nothing), with each
    customer's part cached under the counters this request read for it; customers read
    without them (not this request's API customer: the dashboard, tasks) come from the
    database each time. Keys start with the customer's id."""
    ids = list(ids)
    found, missing = {}, []
    for customer_id in ids:
        versions = request_context.cache_versions_of(customer_id)
        entry = None
        if versions is not None and settings.CACHE_SEND_TTL:
            entry = cache_get(kind, customer_id, versions=versions)
        if entry is None:
            missing.append(customer_id)
        else:
            found[customer_id] = entry
    if missing:
        loaded = load(missing)
        for customer_id in missing:
            value = loaded.get(customer_id)
            versions = request_context.cache_versions_of(customer_id)
            if versions is not None and settings.CACHE_SEND_TTL:
                cache_set(kind, customer_id, versions=versions, value=value or [])
            if value:
                found[customer_id] = value
    return {customer_id: value for customer_id, value in found.items() if value}


def cache_key(kind: str, *parts) -> str:
    return "sent:" + ":".join([kind, *map(str, parts)])


def cache_get(kind: str, *parts, versions):
    """The entry stored under (kind, parts) if it was stored with these `versions`."""
    if versions is None:
        return None
    entry = cache.get(cache_key(kind, *parts))
    if entry is None or entry[0] != versions:
        return None
    return entry[1]


def cache_set(kind: str, *parts, versions, value) -> None:
    if versions is not None:
        cache.set(cache_key(kind, *parts), (versions, value), settings.CACHE_SEND_TTL)


def customer_cached(customer, kind: str, key, load):
    """`load()`, or its value cached for this customer under `key`.

    Cached only for a customer read with its counters (an API request's); any other caller
    (the dashboard, tasks) reads the database as before. Keys always start with the
    customer's id, so no tenant ever sees another's entry.
    """
    versions = versions_of(customer)
    if versions is None or not settings.CACHE_SEND_TTL:
        return load()
    found = cache_get(kind, customer.pk, key, versions=versions)
    if found is not None:
        return found
    value = load()
    if value is not None:
        cache_set(kind, customer.pk, key, versions=versions, value=value)
    return value


def deleting(origin) -> type | None:
    """The model whose deletion sent a post_delete (its `origin`: an instance or a queryset),
    or None for a post_save."""
    return None if origin is None else getattr(origin, "model", type(origin))


def customer_changed(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a per-customer cached model (`instance.customer_id`)."""
    if deleting(kwargs.get("origin")) is Customer:
        return  # a cascade of deleting customers: their counters go with them
    customer_version_bump(instance.customer_id)


def price_table_changed(sender, instance, **kwargs) -> None:
    price_table_version_bump()
