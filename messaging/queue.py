"""The queue, as a customer sees it (docs/api/messages.md#queue): what waits per sender and
status, the oldest waiting, how fast it drains, when the backlog should be gone, what is
stuck — and one send's progress (docs/api/messages.md#send-progress).

Plain reads, shared by GET /v3/messages/queue, the dashboard's Queue page and anything else
that wants the numbers (a metrics exporter calls `queue_snapshot`). Each stays a fixed
number of queries whatever the backlog: the waiting messages are aggregated in one query
served by the partial index `message_waiting` (only QUEUED, PROCESSED and SCHEDULED rows
are in it), the drain rate counts the last minute's hand-offs through `message_customer_sent`
(an index range on `sent_at`), a send's progress counts through `message_batch_status`.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from billing.models import Customer
from messaging.errors import BatchNotFound
from messaging.models import WAITING_STATUSES, Message, MessageBatch, Sender
from messaging.providers import default_route
from messaging.statuses import MessageStatus

S = MessageStatus
# By its wire value: held until a time (`next_attempt_at` is when it is due).
SCHEDULED = "SCHEDULED"
# The drain rate is what was handed off (SENT) during this many seconds before now.
DRAIN_WINDOW_SECONDS = 60


@dataclass
class SenderQueue:
    """What waits for one sender (or the install's default route on a channel)."""

    sender_id: uuid.UUID | None
    channel: str
    address: str = ""
    queued: int = 0
    processed: int = 0
    scheduled_due: int = 0  # SCHEDULED and due now (should be going out)
    scheduled_later: int = 0  # SCHEDULED for later: not part of the backlog yet
    stuck_queued: int = 0
    stuck_processed: int = 0
    sent_last_window: int = 0
    oldest_waiting_since: datetime | None = None

    @property
    def waiting(self) -> int:
        """The backlog: what should be handed off now."""
        return self.queued + self.processed + self.scheduled_due

    @property
    def drain_per_second(self) -> float:
        return round(self.sent_last_window / DRAIN_WINDOW_SECONDS, 3)

    def as_dict(self, now: datetime) -> dict:
        return {
            "sender_id": str(self.sender_id) if self.sender_id else None,
            "default_route": self.sender_id is None,
            "address": self.address,
            "channel": self.channel,
            **_figures(self, now),
        }


def _seconds(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round(max(0.0, (now - since).total_seconds()), 1)


def _figures(queue, now: datetime) -> dict:
    rate = queue.drain_per_second
    return {
        "waiting": queue.waiting,
        "queued": queue.queued,
        "processed": queue.processed,
        "scheduled_due": queue.scheduled_due,
        "scheduled_later": queue.scheduled_later,
        "oldest_waiting_seconds": _seconds(queue.oldest_waiting_since, now),
        "sent_last_minute": queue.sent_last_window,
        "drain_per_second": rate,
        "eta_seconds": round(queue.waiting / rate, 1) if rate and queue.waiting else None,
        "stuck_queued": queue.stuck_queued,
        "stuck_processed": queue.stuck_processed,
    }


@dataclass
class QueueSnapshot:
    """The customer's queue at `now`: one row per sender that has something waiting or
    handed something off in the last minute, and the totals."""

    now: datetime
    senders: list[SenderQueue] = field(default_factory=list)

    @property
    def totals(self) -> SenderQueue:
        total = SenderQueue(sender_id=None, channel="")
        for row in self.senders:
            for name in (
                "queued",
                "processed",
                "scheduled_due",
                "scheduled_later",
                "stuck_queued",
                "stuck_processed",
                "sent_last_window",
            ):
                setattr(total, name, getattr(total, name) + getattr(row, name))
            if row.oldest_waiting_since is not None and (
                total.oldest_waiting_since is None
                or row.oldest_waiting_since < total.oldest_waiting_since
            ):
                total.oldest_waiting_since = row.oldest_waiting_since
        return total

    def as_dict(self) -> dict:
        return {
            "as_of": self.now.isoformat().replace("+00:00", "Z"),
            **_figures(self.totals, self.now),
            "window_seconds": DRAIN_WINDOW_SECONDS,
            "stuck_after_seconds": {
                "queued": settings.MESSAGE_STUCK_QUEUED_SECONDS,
                "processed": settings.MESSAGE_STUCK_PROCESSED_SECONDS,
            },
            "senders": [row.as_dict(self.now) for row in self.senders],
        }


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return min(present) if present else None


def queue_snapshot(customer: Customer | None, *, now: datetime | None = None) -> QueueSnapshot:
    """The customer's queue (see the module doc). Two queries, three when a sender of the
    customer's own has something waiting or sent. `customer=None`: the whole install's, per
    sender (for an operator's metrics; never for an API caller)."""
    now = now or timezone.now()
    scope = {"customer": customer} if customer is not None else {}
    stuck_queued_before = now - timedelta(seconds=settings.MESSAGE_STUCK_QUEUED_SECONDS)
    stuck_processed_before = now - timedelta(seconds=settings.MESSAGE_STUCK_PROCESSED_SECONDS)
    due = Q(next_attempt_at__lte=now)
    waiting = (
        Message.objects.filter(status__in=WAITING_STATUSES, **scope)
        .values("sender_id", "channel", "status")
        .annotate(
            count=Count("status"),
            due=Count("status", filter=due),
            oldest_created=Min("created_at"),
            oldest_due=Min("next_attempt_at", filter=due),
            stuck_queued=Count(
                "status", filter=Q(status=S.QUEUED, next_attempt_at__lt=stuck_queued_before)
            ),
            stuck_processed=Count(
                "status", filter=Q(status=S.PROCESSED, claimed_at__lt=stuck_processed_before)
            ),
        )
        .order_by()
    )
    sent = (
        Message.objects.filter(sent_at__gte=now - timedelta(seconds=DRAIN_WINDOW_SECONDS), **scope)
        .values("sender_id", "channel")
        .annotate(count=Count("sent_at"))
        .order_by()
    )
    rows: dict[tuple, SenderQueue] = {}

    def row_for(sender_id, channel) -> SenderQueue:
        key = (sender_id, channel)
        if key not in rows:
            rows[key] = SenderQueue(sender_id=sender_id, channel=channel)
        return rows[key]

    for group in waiting:
        row = row_for(group["sender_id"], group["channel"])
        status = group["status"]
        if status == SCHEDULED:
            row.scheduled_due += group["due"]
            row.scheduled_later += group["count"] - group["due"]
            since = group["oldest_due"]  # a scheduled message waits from its due time
        else:
            if status == S.QUEUED:
                row.queued += group["count"]
            else:
                row.processed += group["count"]
            since = group["oldest_created"]
        row.stuck_queued += group["stuck_queued"]
        row.stuck_processed += group["stuck_processed"]
        row.oldest_waiting_since = _earliest(row.oldest_waiting_since, since)
    for group in sent:
        row_for(group["sender_id"], group["channel"]).sent_last_window += group["count"]
    own = {key[0] for key in rows if key[0] is not None}
    addresses = (
        dict(Sender.objects.filter(customer=customer, pk__in=own).values_list("pk", "address"))
        if own
        else {}
    )
    for (sender_id, channel), row in rows.items():
        if sender_id is None:
            row.address = default_route(channel).address if channel else ""
        else:
            row.address = addresses.get(sender_id, "")
    ordered = sorted(rows.values(), key=lambda r: (-r.waiting, r.channel, r.address))
    return QueueSnapshot(now=now, senders=ordered)


# --- one send's progress -------------------------------------------------------------------


@dataclass
class BatchProgress:
    batch: MessageBatch
    counts: dict[str, int]  # status → messages, in the lifecycle's order (only those present)

    @property
    def waiting(self) -> int:
        return sum(self.counts.get(status, 0) for status in WAITING_STATUSES)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return self.total - self.waiting

    @property
    def done(self) -> bool:
        return self.waiting == 0

    @property
    def percent(self) -> int:
        """Finished in percent of the send, rounded down (100 only when done)."""
        return 100 if not self.total else (100 * self.finished) // self.total

    def as_dict(self) -> dict:
        return {
            "batch_id": str(self.batch.pk),
            "created_at": self.batch.created_at.isoformat().replace("+00:00", "Z"),
            "template_name": self.batch.template_name or None,
            "sandbox": self.batch.sandbox,
            "total": self.total,
            "waiting": self.waiting,
            "finished": self.finished,
            "percent": self.percent,
            "done": self.done,
            "counts": self.counts,
        }


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    # The waiting ones first, then the lifecycle's order.
    order = ["QUEUED", SCHEDULED, "PROCESSED", *(s for s in S.values if s not in WAITING_STATUSES)]
    known = {status: counts[status] for status in order if status in counts}
    return {**known, **{s: n for s, n in counts.items() if s not in known}}


def _batch_counts(customer: Customer, batch_ids: list) -> dict:
    rows = (
        Message.objects.filter(customer=customer, batch_id__in=batch_ids)
        .values_list("batch_id", "status")
        .annotate(count=Count("status"))
        .order_by()
    )
    counts: dict = {batch_id: {} for batch_id in batch_ids}
    for batch_id, status, count in rows:
        counts[batch_id][status] = count
    return {batch_id: _ordered(found) for batch_id, found in counts.items()}


def batch_progress(customer: Customer, *, batch_id) -> BatchProgress:
    """One of the customer's sends, its messages counted by status (two queries). Another
    customer's send, a missing one or a malformed id → 404 RESOURCE_012."""
    try:
        batch_id = uuid.UUID(str(batch_id))
    except ValueError:
        raise BatchNotFound() from None
    batch = MessageBatch.objects.filter(customer=customer, pk=batch_id).first()
    if batch is None:
        raise BatchNotFound()
    return BatchProgress(batch=batch, counts=_batch_counts(customer, [batch.pk])[batch.pk])


def recent_batches(customer: Customer, *, limit: int = 10) -> list[BatchProgress]:
    """The customer's latest sends, newest first, with their progress (two queries)."""
    batches = list(MessageBatch.objects.filter(customer=customer).order_by("-created_at")[:limit])
    counts = _batch_counts(customer, [batch.pk for batch in batches]) if batches else {}
    return [BatchProgress(batch=batch, counts=counts[batch.pk]) for batch in batches]
