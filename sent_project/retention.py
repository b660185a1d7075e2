"""Retention: old rows of the bookkeeping tables deleted in bounded batches
(docs/operations.md#retention).

Each app prunes its own tables with a function `prune_x(*, now, batch_size) -> int` (rows
deleted or redacted); `RETENTION_PRUNERS` lists them in the order they run, and `prune_all`
runs that list: the periodic job (`messaging.tasks.retention_prune`) and `manage.py prune`
both call it. Every delete takes at most `RETENTION_BATCH_SIZE` rows, each batch in its own
short transaction, so a table with millions of old rows is never locked for long. Ledger
entries and messages are never deleted (bodies may be redacted, off by default).
"""

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from sent_project.models import Event, IdempotencyRecord

logger = logging.getLogger("sent.retention")


def cutoff_days(days: float, now: datetime) -> datetime | None:
    """The moment before which rows go, or None when the setting keeps them forever (0)."""
    return now - timedelta(days=days) if days and days > 0 else None


def delete_in_batches(queryset: QuerySet, *, batch_size: int) -> int:
    """Delete the rows of `queryset` `batch_size` at a time, in primary-key order, each batch
    in its own transaction (the primary keys are read first, then `DELETE … WHERE pk IN`):
    no statement touches more than one batch of rows."""
    model = queryset.model
    deleted = 0
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        pks = list(page.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        with transaction.atomic():
            _, per_model = model._base_manager.filter(pk__in=pks).delete()
        deleted += per_model.get(model._meta.label, 0)
        last = pks[-1]
        pause = settings.RETENTION_BATCH_PAUSE_SECONDS
        if pause:
            time.sleep(pause)
        if len(pks) < batch_size:
            return deleted


# --- the plumbing's own tables ---------------------------------------------------------


def prune_idempotency(*, now: datetime, batch_size: int) -> int:
    """Idempotency records past IDEMPOTENCY_TTL_HOURS (their key may be reused anyway)."""
    cutoff = now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    return delete_in_batches(
        IdempotencyRecord.objects.filter(created_at__lt=cutoff), batch_size=batch_size
    )


def prune_events(*, now: datetime, batch_size: int) -> int:
    """Outbox events fanned out more than RETENTION_EVENTS_DAYS ago that nothing references
    any more: an app that keeps rows pointing at an event (the webhooks' delivery log) keeps
    the event with them, and prunes those rows first (its pruner runs earlier)."""
    cutoff = cutoff_days(settings.RETENTION_EVENTS_DAYS, now)
    if cutoff is None:
        return 0
    events = Event.objects.filter(fanned_out_at__lt=cutoff, created_at__lt=cutoff)
    for relation in Event._meta.related_objects:
        events = events.filter(**{f"{relation.get_accessor_name()}__isnull": True})
    return delete_in_batches(events, batch_size=batch_size)


# --- the registry -----------------------------------------------------------------------


def pruners() -> list[tuple[str, Callable[..., int]]]:
    """(name, function) of every pruner in RETENTION_PRUNERS, in order; the name is the
    function's own (`prune_idempotency`) without the `prune_` prefix."""
    found = []
    for path in settings.RETENTION_PRUNERS:
        function = import_string(path)
        found.append((path.rsplit(".", 1)[1].removeprefix("prune_"), function))
    return found


def prune_all(*, now: datetime | None = None, only: Iterable[str] | None = None) -> dict[str, int]:
    """Run every pruner (or those named in `only`); returns rows handled per pruner. One
    failing pruner is logged and the others still run."""
    now = now or timezone.now()
    wanted = set(only) if only else None
    batch_size = settings.RETENTION_BATCH_SIZE
    outcome: dict[str, int] = {}
    for name, function in pruners():
        if wanted is not None and name not in wanted:
            continue
        try:
            outcome[name] = function(now=now, batch_size=batch_size)
        except Exception:
            logger.exception("prune %s failed", name)
            outcome[name] = -1
    logger.info("prune: %s", ", ".join(f"{k} {v}" for k, v in outcome.items()))
    return outcome
