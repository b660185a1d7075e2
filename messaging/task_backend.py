"""The message reconciler's and the webhook sweep's view of the `django-tasks-db` backend.

The one module of the messaging app that knows the database backend exists (everything else
uses `django.tasks` only). That backend never retries and leaves a job RUNNING forever when
its worker is killed; the reconciler marks such jobs failed, and reads the queue to tell a
lost dispatch job from one that is merely waiting behind others. With another backend both
are no-ops.
"""

from datetime import datetime

from django_tasks_db.models import DBTaskResult, get_date_max

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import TaskResultStatus
from django.utils import timezone

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
