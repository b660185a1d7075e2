"""Self-rescheduling periodic jobs other than the reconciler: the retention prune and the
lanes' worker heartbeats (docs/operations.md#retention, docs/operations.md#health).

Like the reconciler's chain (messaging.reconciler), each job has one `PeriodicJob` row: a run
books the next one first (so a worker dying mid-run doesn't end the chain), and `ensure`
restarts a chain whose booked run is long overdue (its job was lost). No cron needed.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from messaging.models import PeriodicJob

PRUNE_JOB = "retention_prune"
HEARTBEAT_PREFIX = "heartbeat:"


def heartbeat_job(lane: str) -> str:
    return f"{HEARTBEAT_PREFIX}{lane}"


def _book(name: str, condition: Q, run_at: datetime) -> bool:
    PeriodicJob.objects.get_or_create(name=name)
    return bool(PeriodicJob.objects.filter(condition, name=name).update(next_run_at=run_at))


def periodic_schedule_next(
    name: str, *, every: float, enqueue: Callable[[datetime], None], now: datetime | None = None
) -> bool:
    """Book and enqueue the run after this one, unless another run is already booked."""
    now = now or timezone.now()
    run_at = now + timedelta(seconds=every)
    with transaction.atomic():
        booked = _book(name, Q(next_run_at__isnull=True) | Q(next_run_at__lte=now), run_at)
        if booked:
            enqueue(run_at)
    return booked


def periodic_schedule_ensure(
    name: str,
    *,
    every: float,
    enqueue: Callable[[datetime | None], None],
    now: datetime | None = None,
) -> bool:
    """Start the chain now if no run is booked or the booked one is long overdue."""
    now = now or timezone.now()
    grace = max(60.0, 3 * every)
    with transaction.atomic():
        booked = _book(
            name,
            Q(next_run_at__isnull=True) | Q(next_run_at__lt=now - timedelta(seconds=grace)),
            now,
        )
        if booked:
            enqueue(None)
    return booked


def periodic_record(name: str, outcome: dict, *, now: datetime | None = None) -> None:
    PeriodicJob.objects.filter(name=name).update(
        last_run_at=now or timezone.now(), last_outcome=outcome
    )


def periodic_last_runs(names: list[str]) -> dict[str, datetime | None]:
    """When each named job last ran (None: never)."""
    found = dict(PeriodicJob.objects.filter(name__in=names).values_list("name", "last_run_at"))
    return {name: found.get(name) for name in names}
