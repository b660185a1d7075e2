"""Run queued django.tasks jobs in the test process, as `manage.py db_worker --batch` would.

Tests use the real database backend, so a job exists only if the transaction that
enqueued it committed, exactly as in production. `run_queued_tasks()` runs every ready
job (and the jobs those enqueue) until none is left; `include_future=True` also runs
jobs whose `run_after` lies ahead (retries with backoff) without waiting for them.
"""

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, get_date_max

from django.db.models import Q
from django.tasks import TaskResultStatus
from django.utils import timezone


def _worker() -> Worker:
    return Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )


def queued_tasks(task_name: str | None = None):
    """Jobs not yet run (READY), optionally only those of one task ("messaging.tasks.dispatch")."""
    jobs = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    if task_name:
        jobs = jobs.filter(task_path=task_name)
    return jobs


def run_queued_tasks(
    *, include_future: bool = False, max_jobs: int = 10_000, task_name: str | None = None
) -> int:
    """Run ready jobs (only those of `task_name`, if given) until none is left; returns how
    many ran. Failed jobs re-raise nothing: check their status with
    `DBTaskResult.objects.failed()`."""
    worker = _worker()
    ran = 0
    while ran < max_jobs:
        jobs = queued_tasks(task_name)
        if not include_future:
            jobs = jobs.filter(Q(run_after=get_date_max()) | Q(run_after__lte=timezone.now()))
        job = jobs.order_by("-priority", "run_after", "enqueued_at").first()
        if job is None:
            break
        job.claim("tests")
        worker.run_task(job)
        ran += 1
    return ran
