"""The messaging app's series for /metrics (docs/operations.md#metrics), read from its
tables at scrape time: messages by status and channel, webhook deliveries by status, and per
lane the jobs due and the age of the oldest (METRICS_COLLECTORS lists `collect`)."""

from django.db.models import Count

from messaging import task_backend
from messaging.models import Message, WebhookDelivery


def collect() -> list[tuple]:
    messages = Message.objects.order_by().values("status", "channel").annotate(n=Count("pk"))
    deliveries = WebhookDelivery.objects.order_by().values("status").annotate(n=Count("pk"))
    queues = task_backend.lane_queue_stats()
    return [
        (
            "sent_messages",
            "Messages stored, by status and channel",
            ["status", "channel"],
            [((row["status"], row["channel"] or "none"), row["n"]) for row in messages],
        ),
        (
            "sent_webhook_deliveries",
            "Webhook deliveries kept (the delivery log), by status",
            ["status"],
            [((row["status"],), row["n"]) for row in deliveries],
        ),
        (
            "sent_queue_depth",
            "Background jobs due and not started, by lane",
            ["lane"],
            [((lane,), depth) for lane, (depth, _) in queues.items()],
        ),
        (
            "sent_queue_oldest_seconds",
            "How long the oldest due job of each lane has waited",
            ["lane"],
            [((lane,), oldest or 0) for lane, (_, oldest) in queues.items()],
        ),
    ]
