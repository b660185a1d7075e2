"""Background jobs of messages (django.tasks). Thin: they call `dispatch`, `receipts` and
`reconciler`, and give them `SCHEDULER` to enqueue what comes next inside their
transactions. (Webhook jobs: `messaging.webhooks.tasks`.)"""

from datetime import datetime, timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from messaging import task_backend
from messaging.callbacks import records
from messaging.callbacks.readers import CALLBACK_READERS
from messaging.callbacks.records import (
    CALLBACK_COALESCE_SECONDS,
    CALLBACKS_TASK,
    callbacks_apply_pending,
)
from messaging.dispatch import dispatch_messages, retry_delay
from messaging.periodic import (
    PRUNE_JOB,
    heartbeat_job,
    periodic_record,
    periodic_schedule_ensure,
    periodic_schedule_next,
)
from messaging.providers.whatsapp_templates import template_submit_to_meta
from messaging.receipts import Receipt, receipts_apply
from messaging.reconciler import reconcile, reconcile_record, reconcile_schedule_next
from sent_project import lanes
from sent_project.retention import prune_all


class TaskScheduler:
    """Follow-up jobs, enqueued in the caller's transaction (the database backend makes the
    job part of it: a rolled-back change leaves no job)."""

    def dispatch(self, message_ids: list[str], *, run_after: datetime | None = None) -> None:
        message_dispatch.using(run_after=run_after).enqueue(message_ids=message_ids)

    def soon(self) -> None:
        """A dispatch job now — unless one waits to run now: it is held until this
        transaction commits (task_backend.job_hold_ready), so it runs after it and drains
        what it wrote. A burst of sends leaves one waiting job, not one per send."""
        if not task_backend.job_hold_ready(DISPATCH_TASK):
            message_dispatch.enqueue(message_ids=[])

    def wake(self, run_after: datetime) -> None:
        if not task_backend.job_waiting_by(DISPATCH_TASK, run_after):
            message_dispatch.using(run_after=run_after).enqueue(message_ids=[])

    def coalesce(self) -> int:
        return task_backend.coalesce_ready_jobs(DISPATCH_TASK)

    def receipts(self, receipts: list[dict]) -> None:
        run_after = min(parse_datetime(item["due_at"]) for item in receipts)
        message_receipts.using(run_after=run_after).enqueue(receipts=receipts)

    def callbacks(self) -> None:
        """The callbacks job, CALLBACK_COALESCE_SECONDS from now, unless one waits to run
        (due or not): it hasn't started, so it reads what is committed now. Called once the
        records it is for are committed."""
        if not task_backend.job_waiting(CALLBACKS_TASK):
            run_after = timezone.now() + timedelta(seconds=CALLBACK_COALESCE_SECONDS)
            provider_callbacks_apply.using(run_after=run_after).enqueue()


DISPATCH_TASK = "messaging.tasks.message_dispatch"
SCHEDULER = TaskScheduler()


@task(queue_name=lanes.DISPATCH)
def message_dispatch(message_ids: list[str]) -> dict:
    """Hand a batch of QUEUED messages to their providers (see messaging.dispatch)."""
    return dispatch_messages(message_ids, scheduler=SCHEDULER)


@task(queue_name=lanes.RECEIPTS)
def message_receipts(receipts: list[dict]) -> dict:
    """A provider's scheduled status callbacks (the simulator's): apply those due, in order,
    and schedule the rest for their time."""
    if not receipts:
        return {"applied": 0}
    receipts = sorted(receipts, key=lambda item: parse_datetime(item["due_at"]))
    # Those due now; at least the earliest (only a test harness runs a job before its time).
    cutoff = max(timezone.now(), parse_datetime(receipts[0]["due_at"]))
    due = [item for item in receipts if parse_datetime(item["due_at"]) <= cutoff]
    later = receipts[len(due) :]
    counts = receipts_apply([Receipt.from_job(item) for item in due])
    if later:
        SCHEDULER.receipts(later)
    return {**counts, "later": len(later)}


@task(queue_name=lanes.RECEIPTS)
def provider_callbacks_apply() -> dict:
    """The providers' recorded callbacks: apply the pending ones, many at a time (the jobs
    waiting beside this one are marked done: it does their work); hand on to a new job when
    its time is up and some are left."""
    coalesced = task_backend.coalesce_ready_jobs(CALLBACKS_TASK)
    outcome = callbacks_apply_pending(
        CALLBACK_READERS,
        batch_size=records.CALLBACK_BATCH_SIZE,
        seconds=records.CALLBACK_JOB_SECONDS,
    )
    if outcome["more"]:
        provider_callbacks_apply.enqueue()
    return {**outcome, "coalesced": coalesced}


@task(queue_name=lanes.DEFAULT)
def messages_reconcile() -> dict:
    """The periodic reconciler: books its next run first (so a worker dying mid-pass doesn't
    end the chain), then runs one pass."""
    reconcile_schedule_next(
        enqueue=lambda run_at: messages_reconcile.using(run_after=run_at).enqueue()
    )
    outcome = reconcile(scheduler=SCHEDULER)
    reconcile_record(outcome)
    return outcome


@task(queue_name=lanes.BULK)
def whatsapp_template_submit(template_id: str, review_id: int, attempt: int = 1) -> str:
    """Create a template on its WhatsApp Business Account for review (enqueued by the Cloud
    API reviewer in the transaction that made it PENDING); a transient Graph error tries
    again later, with the message retries' backoff."""
    outcome = template_submit_to_meta(template_id, review_id=review_id, attempt=attempt)
    if outcome == "retry":
        run_after = timezone.now() + timedelta(seconds=retry_delay(attempt))
        whatsapp_template_submit.using(run_after=run_after).enqueue(
            template_id=template_id, review_id=review_id, attempt=attempt + 1
        )
    return outcome


@task(queue_name=lanes.BULK)
def retention_prune() -> dict:
    """The periodic prune (docs/operations.md#retention): books its next run, then deletes
    what the retention settings no longer keep, in bounded batches."""
    periodic_schedule_next(
        PRUNE_JOB,
        every=settings.RETENTION_EVERY_SECONDS,
        enqueue=lambda run_at: retention_prune.using(run_after=run_at).enqueue(),
    )
    outcome = prune_all()
    periodic_record(PRUNE_JOB, outcome)
    return outcome


# Heartbeats jump the queue of their lane: a backlog doesn't make its workers look dead.
HEARTBEAT_PRIORITY = 50


@task(queue_name=lanes.DEFAULT)
def worker_heartbeat(lane: str) -> str:
    """Proof that a worker of `lane` runs (docs/operations.md#health): enqueued on that lane
    every HEALTH_HEARTBEAT_SECONDS, it books its next run and records this one."""
    name = heartbeat_job(lane)
    periodic_schedule_next(
        name,
        every=settings.HEALTH_HEARTBEAT_SECONDS,
        enqueue=lambda run_at: heartbeat_enqueue(lane, run_at),
    )
    periodic_record(name, {"lane": lane})
    return lane


def heartbeat_enqueue(lane: str, run_at: datetime | None) -> None:
    worker_heartbeat.using(queue_name=lane, run_after=run_at, priority=HEARTBEAT_PRIORITY).enqueue(
        lane=lane
    )


def periodic_jobs_ensure() -> dict[str, bool]:
    """Start the prune and heartbeat chains where none is booked (`manage.py schedule_jobs`,
    `manage.py serve`); True where a chain was started."""
    started = {
        PRUNE_JOB: periodic_schedule_ensure(
            PRUNE_JOB,
            every=settings.RETENTION_EVERY_SECONDS,
            enqueue=lambda run_at: retention_prune.using(run_after=run_at).enqueue(),
        )
    }
    for lane in lanes.ALL:
        started[heartbeat_job(lane)] = periodic_schedule_ensure(
            heartbeat_job(lane),
            every=settings.HEALTH_HEARTBEAT_SECONDS,
            enqueue=lambda run_at, lane=lane: heartbeat_enqueue(lane, run_at),
        )
    return started
