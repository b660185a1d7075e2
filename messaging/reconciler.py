"""The message reconciler: finds messages stuck between states and resolves them.

Runs every MESSAGE_RECONCILE_EVERY_SECONDS as a self-rescheduling job
(`messaging.tasks.messages_reconcile`) and on demand (`manage.py reconcile_messages`):

- **QUEUED (or SCHEDULED) past its due time by MESSAGE_STUCK_QUEUED_SECONDS** while no
  dispatch job waits or runs: the wake-up was lost → a new dispatch job (messages wait in
  their lanes, messaging.dispatch; the job drains them).
- **PROCESSED since longer than MESSAGE_STUCK_PROCESSED_SECONDS**: the worker that claimed
  it died. The provider is asked first (`fetch` by our message id, never a re-send): if it
  has the message → recorded SENT (its receipts follow as usual); if not → back to QUEUED
  and dispatched again (FAILED and refunded once it has used MESSAGE_MAX_ATTEMPTS claims).
- **Messaging jobs RUNNING since longer than MESSAGE_ORPHANED_TASK_SECONDS** belong to a dead
  worker (the task backend never notices): marked FAILED.
- **Provider callbacks PENDING for longer than PROVIDER_CALLBACK_STUCK_SECONDS** while no
  callbacks job waits or runs: a new job (messaging.callbacks.records).

Every change holds the message rows and goes through the state machine, so a reconciler
racing a live worker or another reconciler changes nothing twice.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from messaging import reasons, task_backend
from messaging.callbacks.records import callbacks_wake_stuck
from messaging.dispatch import CLAIMABLE, Scheduler, fail_unsent, record_sent
from messaging.lifecycle import Journal, hold, save_held, status_set
from messaging.models import ActivityKind, Message, PeriodicJob
from messaging.providers import get_provider
from messaging.receipts import Receipt, receipts_apply
from messaging.senders import sender_route
from messaging.statuses import MessageStatus

logger = logging.getLogger(__name__)
S = MessageStatus
RECONCILE_JOB = "messages_reconcile"
DISPATCH_TASK = "messaging.tasks.message_dispatch"
BATCH = 1000


def reconcile(*, scheduler: Scheduler, now: datetime | None = None) -> dict:
    """One pass; returns what it did."""
    now = now or timezone.now()
    orphaned = task_backend.fail_orphaned_jobs(
        task_prefix="messaging.",
        started_before=now - timedelta(seconds=settings.MESSAGE_ORPHANED_TASK_SECONDS),
    )
    return {
        "orphaned_jobs": orphaned,
        "requeued": requeue_lost_jobs(scheduler=scheduler, now=now),
        **resolve_dead_claims(scheduler=scheduler, now=now),
        "callbacks_woken": callbacks_wake_stuck(scheduler=scheduler, now=now),
    }


def requeue_lost_jobs(*, scheduler: Scheduler, now: datetime) -> int:
    """Messages due for longer than MESSAGE_STUCK_QUEUED_SECONDS while no dispatch job waits
    or runs: their wake-up was lost (a job a dead worker held, a backend purged) → a new
    dispatch job, which drains their lanes. Returns how many were waiting (up to BATCH).
    Messages of a paced sender wait with a wake-up booked: not lost."""
    overdue = now - timedelta(seconds=settings.MESSAGE_STUCK_QUEUED_SECONDS)
    stuck = Message.objects.filter(status__in=CLAIMABLE, next_attempt_at__lt=overdue)
    ids = list(stuck.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])
    if not ids:
        return 0
    running_since = now - timedelta(seconds=3 * settings.MESSAGE_DISPATCH_JOB_SECONDS + 60)
    if task_backend.job_waiting_by(DISPATCH_TASK, now) or task_backend.job_running_since(
        DISPATCH_TASK, running_since
    ):
        return 0
    with transaction.atomic():
        journal = Journal()
        for message in Message.objects.filter(pk__in=ids, status__in=CLAIMABLE):
            journal.note(
                message,
                ActivityKind.RECONCILED,
                "Its dispatch wake-up was lost: dispatch woken again",
                at=now,
            )
        journal.flush()
        scheduler.dispatch([])
    logger.warning("%s messages waited without a dispatch job: one enqueued", len(ids))
    return len(ids)


def resolve_dead_claims(*, scheduler: Scheduler, now: datetime) -> dict:
    """PROCESSED messages whose worker died: SENT if the provider has them, else again."""
    stale = now - timedelta(seconds=settings.MESSAGE_STUCK_PROCESSED_SECONDS)
    stuck = Message.objects.filter(status=S.PROCESSED, claimed_at__lt=stale)
    candidates = list(stuck.select_related("sender__account").order_by("claimed_at")[:BATCH])
    counts = {"found_at_provider": 0, "redispatched": 0, "failed": 0}
    if not candidates:
        return counts
    answers = {}
    for message in candidates:  # provider calls: outside any transaction
        try:
            route = sender_route(message.sender, message.channel, sandbox=message.sandbox)
            provider = get_provider(message.channel, sandbox=message.sandbox, route=route)
            answers[message.pk] = (
                provider.name,
                provider.fetch(
                    str(message.pk),
                    provider_message_id=message.provider_message_id,
                    to=message.phone,
                    claimed_at=message.claimed_at,
                ),
                message.claim_token,
            )
        except Exception:
            logger.exception("could not ask the provider about message %s", message.pk)
    later: list[Receipt] = []
    with transaction.atomic():
        held = hold(stuck.filter(pk__in=list(answers)))
        journal, receipts, again, changed = Journal(), [], [], []
        for message in held:
            provider, found, token = answers[message.pk]
            if message.claim_token != token:
                continue  # claimed again meanwhile
            changed.append(message)
            if found is not None:
                counts["found_at_provider"] += 1
                journal.note(
                    message,
                    ActivityKind.RECONCILED,
                    "Its worker stopped after the provider took it: found at the "
                    "provider, recorded as sent (not sent again)",
                    at=now,
                )
                record_sent(
                    message,
                    found,
                    provider,
                    journal,
                    receipts,
                    now=now,
                    description=f"Accepted by the {provider} {message.channel} provider "
                    "(found by the reconciler)",
                )
                if found.status != S.SENT:
                    later.append(
                        Receipt(
                            status=found.status,
                            provider_message_id=found.provider_message_id,
                            raw=found.raw,
                        )
                    )
            elif message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
                counts["failed"] += 1
                fail_unsent(
                    message,
                    reasons.PROVIDER_ERROR,
                    f"Its workers stopped {message.attempts} times before the provider took it",
                    journal,
                    now=now,
                )
            else:
                counts["redispatched"] += 1
                message.next_attempt_at = now
                status_set(
                    message,
                    S.QUEUED,
                    journal,
                    at=now,
                    description="Its worker stopped before the provider took it: "
                    "dispatched again (the provider doesn't have it)",
                )
                again.append(str(message.pk))
        save_held(changed)
        journal.flush()
        if receipts:
            scheduler.receipts(receipts)
        _dispatch_in_batches(scheduler, again)
    if later:
        receipts_apply(later)
    return counts


def _dispatch_in_batches(scheduler: Scheduler, message_ids: list[str]) -> None:
    size = settings.MESSAGE_DISPATCH_BATCH_SIZE
    for start in range(0, len(message_ids), size):
        scheduler.dispatch(message_ids[start : start + size])


# --- the periodic job: one pending run at a time ------------------------------------------


def _book(condition: Q, run_at: datetime) -> bool:
    PeriodicJob.objects.get_or_create(name=RECONCILE_JOB)
    return bool(
        PeriodicJob.objects.filter(condition, name=RECONCILE_JOB).update(next_run_at=run_at)
    )


def reconcile_schedule_next(
    *, enqueue: Callable[[datetime], None], now: datetime | None = None
) -> bool:
    """Book and enqueue the run after this one, unless another run is already booked
    (two chains never run side by side for long: the later one stops here)."""
    now = now or timezone.now()
    run_at = now + timedelta(seconds=settings.MESSAGE_RECONCILE_EVERY_SECONDS)
    with transaction.atomic():
        booked = _book(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now), run_at)
        if booked:
            enqueue(run_at)
    return booked


def reconcile_schedule_ensure(
    *, enqueue: Callable[[datetime | None], None], now: datetime | None = None
) -> bool:
    """Start the chain now if no run is booked, or the booked one is long overdue (its job
    was lost). `manage.py serve` calls it at start; `reconcile_messages --schedule` too."""
    now = now or timezone.now()
    grace = max(60.0, 3 * settings.MESSAGE_RECONCILE_EVERY_SECONDS)
    with transaction.atomic():
        booked = _book(
            Q(next_run_at__isnull=True) | Q(next_run_at__lt=now - timedelta(seconds=grace)), now
        )
        if booked:
            enqueue(None)
    return booked


def reconcile_record(outcome: dict, *, now: datetime | None = None) -> None:
    PeriodicJob.objects.filter(name=RECONCILE_JOB).update(
        last_run_at=now or timezone.now(), last_outcome=outcome
    )
