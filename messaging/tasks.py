"""Background jobs of messages (django.tasks). Thin: they call `dispatch`, `receipts` and
`reconciler`, and give them `SCHEDULER` to enqueue what comes next inside their
transactions. (Webhook jobs: `messaging.webhooks.tasks`.)"""

from datetime import datetime, timedelta

from django.tasks import task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from messaging import task_backend
from messaging.dispatch import dispatch_messages, retry_delay
from messaging.providers.whatsapp_templates import template_submit_to_meta
from messaging.receipts import Receipt, receipts_apply
from messaging.reconciler import reconcile, reconcile_record, reconcile_schedule_next
from sent_project import lanes


class TaskScheduler:
    """Follow-up jobs, enqueued in the caller's transaction (the database backend makes the
    job part of it: a rolled-back change leaves no job)."""

    def dispatch(self, message_ids: list[str], *, run_after: datetime | None = None) -> None:
        message_dispatch.using(run_after=run_after).enqueue(message_ids=message_ids)

    def wake(self, run_after: datetime) -> None:
        if not task_backend.job_waiting_by(DISPATCH_TASK, run_after):
            message_dispatch.using(run_after=run_after).enqueue(message_ids=[])

    def coalesce(self) -> int:
        return task_backend.coalesce_ready_jobs(DISPATCH_TASK)

    def receipts(self, receipts: list[dict]) -> None:
        run_after = min(parse_datetime(item["due_at"]) for item in receipts)
        message_receipts.using(run_after=run_after).enqueue(receipts=receipts)


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
