"""Background jobs of webhooks (django.tasks). Thin: load, call, enqueue what's next.

Kept apart from `messaging.tasks` (the message jobs): `sent_project.outbox` enqueues the fan-out,
and the message code that emits events is itself run by message jobs.

Deliveries are not one job each: they wait in the WebhookDelivery table and `webhook_drain`
jobs take them in a fair order (docs/architecture.md#fairness-in-the-webhooks-lane). Requests for a drain coalesce
(`webhook_drain_request`): at most one drain job waits at a time, plus one per busy worker.
"""

from datetime import datetime

from django.tasks import task
from django.utils import timezone

from messaging import task_backend
from messaging.webhooks import lane
from messaging.webhooks.delivery import claimed_attempt
from messaging.webhooks.fanout import event_fan_out, webhooks_sweep
from sent_project import lanes


def webhook_drain_request(at: datetime | None = None, *, force: bool = False) -> None:
    """Have a drain run at `at` (now by default), unless one is already due by then."""
    at = at or timezone.now()
    if lane.wakeup_claim(at, force=force):
        job = webhook_drain if at <= timezone.now() else webhook_drain.using(run_after=at)
        job.enqueue()


def webhook_deliveries_enqueue(delivery_ids: list[str]) -> None:
    """New or re-driven deliveries are due: have the lane drained."""
    if delivery_ids:
        webhook_drain_request()


@task(queue_name=lanes.WEBHOOKS)
def webhook_event_fan_out(event_id: str) -> dict:
    """One delivery per subscribed endpoint; the lane's drain sends them."""
    delivery_ids = event_fan_out(event_id)
    webhook_deliveries_enqueue(delivery_ids)
    return {"deliveries": len(delivery_ids)}


@task(queue_name=lanes.WEBHOOKS)
def webhook_events_fan_out(event_ids: list[str]) -> dict:
    """`webhook_event_fan_out` for many events at once (a bulk emission: one job, not one each)."""
    delivery_ids = [d for event_id in event_ids for d in event_fan_out(event_id)]
    webhook_deliveries_enqueue(delivery_ids)
    return {"events": len(event_ids), "deliveries": len(delivery_ids)}


@task(queue_name=lanes.WEBHOOKS)
def webhook_drain() -> dict:
    """Send due deliveries, fairly between customers and within every endpoint's and customer's
    limits, for up to WEBHOOK_DRAIN_SECONDS; then ask for the next drain when work is due."""
    lane.wakeup_taken(timezone.now())
    attempted = []

    def attempt(delivery_id):
        attempted.append(claimed_attempt(delivery_id).outcome)

    next_at = lane.lane_drain(attempt=attempt, on_busy=lambda: webhook_drain_request(force=True))
    if next_at is not None:
        webhook_drain_request(next_at)
    return {"attempts": len(attempted), "next_at": next_at.isoformat() if next_at else None}


@task(queue_name=lanes.WEBHOOKS)
def webhook_deliver(delivery_id: str) -> str:
    """A job of one delivery, as enqueued before the lane drained the table: the drain sends it."""
    webhook_drain_request()
    return "drain requested"


@task(queue_name=lanes.WEBHOOKS)
def webhook_sweep() -> dict:
    """Periodic (`manage.py webhooks_sweep`): re-drive fan-outs and deliveries whose work was
    lost (a crash between commit and enqueue, a killed worker), and make sure a drain runs
    while due deliveries wait."""
    delivery_ids = webhooks_sweep()
    if lane.unfinished_due(timezone.now()) and not task_backend.job_waiting(
        webhook_drain.module_path
    ):
        webhook_drain_request(force=True)
    return {"enqueued": len(delivery_ids)}
