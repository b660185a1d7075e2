"""The message reconciler's and the webhook sweep's view of the `django-tasks-db` backend.

The one module of the messaging app that knows the database backend exists (everything else
uses `django.tasks` only). That backend never retries and leaves a job RUNNING forever when
its worker is killed; the reconciler marks such jobs failed, and reads the queue to tell a
lost dispatch job from one that is merely waiting behind others. With another backend both
are no-ops.
"""

from datetime import datetime, timedelta

from django_tasks_db.models import DBTaskResult, get_date_max

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.tasks import TaskResultStatus
from django.utils import timezone

from sent_project.retention import cutoff_days, delete_in_batches

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
WORKER_LOST = "messaging.reconciler.WorkerLost"


def uses_database_backend() -> bool:
    return settings.TASKS["default"]["BACKEND"] == DATABASE_BACKEND


def fail_orphaned_jobs(*, task_prefix: str, started_before: datetime) -> int:
    """Mark jobs of `task_prefix` still RUNNING since before `started_before` as FAILED (their
    worker died: a live worker finishes or fails them long before). Returns how many."""
    if not uses_database_backend():
        return 0
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING,
        task_path__startswith=task_prefix,
        started_at__lt=started_before,
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path=WORKER_LOST,
        traceback="The worker stopped while running this job (killed?): marked failed by the "
        "message reconciler, which recovers the job's messages.",
    )


def coalesce_ready_jobs(task_path: str) -> int:
    """Mark the due, not yet started jobs of `task_path` done, without running them: the
    caller is about to do their work (the dispatch job drains every due message, whichever
    job announced it). Jobs another worker is claiming right now are skipped. Returns how
    many."""
    if not uses_database_backend():
        return 0
    with transaction.atomic():
        ids = list(
            DBTaskResult.objects.ready()
            .filter(task_path=task_path)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:1000]
        )
        if not ids:
            return 0
        now = timezone.now()
        return DBTaskResult.objects.filter(pk__in=ids, status=TaskResultStatus.READY).update(
            status=TaskResultStatus.SUCCESSFUL,
            started_at=now,
            finished_at=now,
            return_value={"coalesced": True},
        )


def job_waiting_by(task_path: str, at: datetime) -> bool:
    """Whether a job of `task_path` waits to run by `at` (an immediate one, or one due then)."""
    if not uses_database_backend():
        return False
    return (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task_path)
        .filter(Q(run_after=get_date_max()) | Q(run_after__lte=at))
        .exists()
    )


def job_hold_ready(task_path: str) -> bool:
    """Lock a due, not yet started job of `task_path` until the caller's transaction ends;
    whether there was one to lock. While it is locked no worker starts it and no running
    dispatch marks it done (both skip locked jobs), so it runs after the caller's commit
    and sees what the caller wrote: the caller needn't enqueue another. A job another
    transaction holds (a worker starting it right now) doesn't count. With another backend:
    False (the caller enqueues)."""
    if not uses_database_backend():
        return False
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("job_hold_ready holds the job for the caller's transaction")
    held = (
        DBTaskResult.objects.ready()
        .filter(task_path=task_path)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[:1]
    )
    return bool(list(held))


def job_running_since(task_path: str, since: datetime) -> bool:
    """Whether a job of `task_path` started after `since` is still running."""
    if not uses_database_backend():
        return False
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, task_path=task_path, started_at__gte=since
    ).exists()


def job_waiting(task_path: str) -> bool:
    """Whether a job of `task_path` is queued and not yet started (due or not). With another
    backend: False (the caller enqueues; a spare job is harmless)."""
    if not uses_database_backend():
        return False
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task_path).exists()


def prune_task_results(*, now: datetime, batch_size: int) -> int:
    """Finished jobs (successful or failed) that finished more than RETENTION_TASK_RESULTS_DAYS
    ago (docs/operations.md#retention). The backend's own `prune_db_task_results` deletes in
    one statement; this deletes `batch_size` rows per transaction."""
    if not uses_database_backend():
        return 0
    cutoff = cutoff_days(settings.RETENTION_TASK_RESULTS_DAYS, now)
    if cutoff is None:
        return 0
    return delete_in_batches(
        DBTaskResult.objects.finished().filter(finished_at__lt=cutoff), batch_size=batch_size
    )


def lanes_running(*, since_seconds: float | None = None) -> set[str]:
    """The queues with a job RUNNING that started within MESSAGE_ORPHANED_TASK_SECONDS (older
    ones belong to dead workers)."""
    if not uses_database_backend():
        return set()
    seconds = since_seconds or settings.MESSAGE_ORPHANED_TASK_SECONDS
    since = timezone.now() - timedelta(seconds=seconds)
    return set(
        DBTaskResult.objects.running()
        .filter(started_at__gte=since)
        .values_list("queue_name", flat=True)
        .distinct()
    )


def lane_queue_stats() -> dict[str, tuple[int, float | None]]:
    """Per queue: (jobs due and not started, seconds the oldest of them has been due)."""
    if not uses_database_backend():
        return {}
    now = timezone.now()
    never = get_date_max()
    rows = (
        DBTaskResult.objects.ready()
        .values("queue_name")
        .annotate(
            depth=Count("id"),
            # Due since it was enqueued (no run_after), or since its run_after.
            plain=Min("enqueued_at", filter=Q(run_after=never)),
            later=Min("run_after", filter=~Q(run_after=never)),
        )
    )
    stats: dict[str, tuple[int, float | None]] = {}
    for row in rows:
        due_since = min(moment for moment in (row["plain"], row["later"]) if moment is not None)
        stats[row["queue_name"]] = (row["depth"], round((now - due_since).total_seconds(), 1))
    return stats
