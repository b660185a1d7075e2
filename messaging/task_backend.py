"""The message reconciler's and the webhook sweep's view of the `django-tasks-db` backend.

The one module of the messaging app that knows the database backend exists (everything else
uses `django.tasks` only). That backend never retries and leaves a job RUNNING forever when
its worker is killed; the reconciler marks such jobs failed, and reads the queue to tell a
lost dispatch job from one that is merely waiting behind others. With another backend both
are no-ops.
"""

from datetime import datetime

from django_tasks_db.models import DBTaskResult

from django.conf import settings
from django.db.models import Min
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


def oldest_waiting_job(task_path: str) -> datetime | None:
    """When the oldest due, not yet started job of `task_path` was enqueued (None: none waits)."""
    if not uses_database_backend():
        return None
    waiting = DBTaskResult.objects.ready().filter(task_path=task_path)
    return waiting.aggregate(oldest=Min("enqueued_at"))["oldest"]


def job_waiting(task_path: str) -> bool:
    """Whether a job of `task_path` is queued and not yet started (due or not). With another
    backend: False (the caller enqueues; a spare job is harmless)."""
    if not uses_database_backend():
        return False
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task_path).exists()
