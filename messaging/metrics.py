"""The messaging app's series for /metrics (docs/operations.md#metrics), read from its
tables at scrape time: messages by status and channel, webhook deliveries by status, and per
lane the jobs due and the age of the oldest, and the dispatch queue per sender as
GET /v3/messages/queue reports it for the whole install (messaging.queue; METRICS_COLLECTORS
lists `collect`)."""

from django.db.models import Count

from messaging import task_backend
from messaging.models import Message, WebhookDelivery
from messaging.queue import queue_snapshot


def collect() -> list[tuple]:
    messages = Message.objects.order_by().values("status", "channel").annotate(n=Count("pk"))
    deliveries = WebhookDelivery.objects.order_by().values("status").annotate(n=Count("pk"))
    queues = task_backend.lane_queue_stats()
    snapshot = queue_snapshot(None)
    senders = [
        ((row.address or ("default" if row.sender_id is None else str(row.sender_id))), row)
        for row in snapshot.senders
    ]
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
        (
            "sent_dispatch_waiting",
            "Messages waiting to be handed to a provider, by sender, channel and status",
            ["sender", "channel", "status"],
            [
                ((name, row.channel, status), getattr(row, field))
                for name, row in senders
                for status, field in (
                    ("QUEUED", "queued"),
                    ("PROCESSED", "processed"),
                    ("SCHEDULED_DUE", "scheduled_due"),
                    ("SCHEDULED_LATER", "scheduled_later"),
                )
            ],
        ),
        (
            "sent_dispatch_oldest_waiting_seconds",
            "How long the oldest waiting message of each sender has waited",
            ["sender", "channel"],
            [
                ((name, row.channel), row.as_dict(snapshot.now)["oldest_waiting_seconds"] or 0)
                for name, row in senders
            ],
        ),
        (
            "sent_dispatch_drain_per_second",
            "Messages each sender handed off per second over the last minute",
            ["sender", "channel"],
            [((name, row.channel), row.drain_per_second) for name, row in senders],
        ),
        (
            "sent_dispatch_stuck",
            "Messages past the reconciler's thresholds, by sender and status",
            ["sender", "channel", "status"],
            [
                ((name, row.channel, status), getattr(row, field))
                for name, row in senders
                for status, field in (("QUEUED", "stuck_queued"), ("PROCESSED", "stuck_processed"))
            ],
        ),
    ]
