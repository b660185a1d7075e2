"""Background jobs of webhooks (django.tasks). Thin: load, call, enqueue what's next.

Kept apart from `messaging.tasks` (the message jobs): `sent_project.outbox` enqueues the fan-out,
and the message code that emits events is itself run by message jobs.
"""

from django.tasks import task

from messaging.webhooks.delivery import delivery_attempt
from messaging.webhooks.fanout import event_fan_out, webhooks_sweep
from sent_project import lanes


def webhook_deliveries_enqueue(delivery_ids: list[str]) -> None:
    for delivery_id in delivery_ids:
        webhook_deliver.enqueue(delivery_id=delivery_id)


@task(queue_name=lanes.WEBHOOKS)
def webhook_event_fan_out(event_id: str) -> dict:
    """One delivery per subscribed endpoint, each with its delivery task."""
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
def webhook_deliver(delivery_id: str) -> str:
    """One attempt; a failure that will be retried enqueues the next attempt for later."""
    result = delivery_attempt(delivery_id)
    if result.retry_at is not None:
        webhook_deliver.using(run_after=result.retry_at).enqueue(delivery_id=delivery_id)
    return result.outcome


@task(queue_name=lanes.WEBHOOKS)
def webhook_sweep() -> dict:
    """Periodic (`manage.py webhooks_sweep`): re-drive fan-outs and deliveries whose task
    was lost (a crash between commit and enqueue, a killed worker)."""
    delivery_ids = webhooks_sweep()
    webhook_deliveries_enqueue(delivery_ids)
    return {"enqueued": len(delivery_ids)}
