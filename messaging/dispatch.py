"""Handing messages to providers: claim, send, record — at most once per message.

Messages wait for dispatch in the message table itself, each in its *lane* (its sender's
pace key and its customer: `Message.dispatch_lane`). A dispatch job is a wake-up: a send
enqueues one, a retry one at its time, a paced sender one for when it has tokens again. The
job drains what is due, round after round (docs/architecture.md#fairness-between-tenants):

1. **Claim** by compare-and-set: one UPDATE moves a fair, paced share of the due messages
   (`claim_due`: round-robin over lanes, within each sender's token bucket,
   messaging.pacing) to PROCESSED with a fresh claim token (and counts the attempt). A
   message another run claimed, or that is no longer waiting, is simply not in this run: a
   job that runs twice, or two workers at once, hand each message to a provider once.
2. **Send**, outside any transaction, each message with its id as the provider's
   idempotency key, in groups (FLUSH_EVERY_MESSAGES, more for a fast provider); an HTTP
   adapter's calls of a group run side by side (PROVIDER_CONCURRENCY threads), the
   simulator's one after the other.
3. **Record** each group's outcomes in one transaction, holding
   the rows: SENT (and the provider's planned receipts scheduled), a retry (back to QUEUED
   with a job at `run_after`, exponential backoff with jitter), FAILED (with a refund: no
   provider accepted it), or a fallback to the next channel, which is sent in the same
   run.

A worker that dies between 1 and 3 leaves PROCESSED messages: the reconciler asks the
provider about them after MESSAGE_STUCK_PROCESSED_SECONDS and either records SENT or
dispatches again. This module never imports `messaging.tasks` (which runs it): follow-up
jobs go through the `Scheduler` the task passes in.
"""

import functools
import json
import logging
import random
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.errors import InsufficientBalance
from billing.models import Customer
from billing.services import balance_adjust, balance_refund
from contacts.models import Contact, Source
from contacts.services import contact_set_opt_out, contacts_record_deliveries
from messaging import reasons
from messaging.lifecycle import Journal, hold, save_held, status_set
from messaging.models import AUTO_CHANNEL, ActivityKind, Message
from messaging.pacing import (
    SEGMENTS,
    buckets_lock,
    buckets_save,
    lane_pace_key,
    message_cost,
    pace_throttled,
)
from messaging.providers import get_provider
from messaging.providers.base import OutboundMessage, ProviderError, ProviderResult
from messaging.routing import line
from messaging.senders import sender_route
from messaging.statuses import MessageStatus
from sent_project.metrics import PROVIDER_ERRORS
from sent_project.request_context import log_context

logger = logging.getLogger(__name__)
S = MessageStatus
# Record outcomes after each group of hand-offs, so a message the provider took isn't left
# PROCESSED while the rest of a slow batch is sent. The first group of a claim has
# FLUSH_EVERY_MESSAGES; each next one as many as the provider just took in about
# FLUSH_EVERY_SECONDS, up to FLUSH_MAX_MESSAGES: a slow provider keeps small groups, a fast
# one (the simulator, a local gateway) gets fewer, bigger records — and fewer receipt jobs.
FLUSH_EVERY_MESSAGES = 25
FLUSH_MAX_MESSAGES = 100
FLUSH_EVERY_SECONDS = 0.1


class Scheduler(Protocol):
    """Enqueues follow-up jobs inside the caller's transaction (`messaging.tasks`)."""

    def dispatch(self, message_ids: list[str], *, run_after: datetime | None = None) -> None: ...

    def receipts(self, receipts: list[dict]) -> None: ...

    def wake(self, run_after: datetime) -> None:
        """A dispatch job at `run_after`, unless one already waits to run by then."""

    def coalesce(self) -> int:
        """Mark the due dispatch jobs that wait done: the running job does their work."""

    def callbacks(self) -> None:
        """The job that applies recorded provider callbacks (messaging.callbacks.records),
        unless one already waits to run (due or not)."""


@dataclass
class Outcome:
    message: Message  # as claimed
    result: ProviderResult | None = None
    error: ProviderError | None = None
    provider: str = ""
    opted_out: bool = False  # not handed off: the contact opted out since acceptance


@dataclass
class ContactStat:
    """A final outcome to count in the contact's delivery statistics (routing reads them)."""

    contact_id: object
    channel: str
    delivered: bool
    not_reachable: bool = False


def count_outcome(stats: list, message: Message, *, delivered: bool, not_reachable=False) -> None:
    """Note the message's outcome for its contact — not for sandbox messages, whose
    simulated outcomes say nothing about the real contact."""
    if not message.sandbox:  # an MMS counts on the contact's SMS line (routing.line)
        stats.append(
            ContactStat(message.contact_id, line(message.channel), delivered, not_reachable)
        )


def retry_delay(attempt: int) -> float:
    """Seconds before the retry that follows hand-off attempt `attempt` (1-based)."""
    base = min(
        settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** (attempt - 1), settings.MESSAGE_RETRY_MAX_SECONDS
    )
    return base * random.uniform(0.5, 1.0) * settings.MESSAGE_RETRY_DELAY_SCALE


def receipt_jobs(message: Message, result: ProviderResult, now: datetime) -> list[dict]:
    """The provider's planned status callbacks for `message`, as receipt-job items."""
    return [
        {
            "provider_message_id": result.provider_message_id,
            "message_id": str(message.pk),
            "channel": message.channel,
            "status": status,
            "reason_code": reason_code,
            "due_at": (now + timedelta(seconds=seconds)).isoformat(),
        }
        for status, seconds, reason_code in result.scheduled_receipts
    ]


def _pause(seconds: float) -> None:
    if seconds > 0:  # test hooks (the killed-worker scenarios): a window to kill the worker in
        time.sleep(seconds)


# --- 1. claim ---------------------------------------------------------------------------

# Statuses a claim takes when due: QUEUED (new, or a retry), SCHEDULED (its time has come).
CLAIMABLE = ("QUEUED", "SCHEDULED")
_WAITING_SQL = "{alias}status IN ('QUEUED', 'SCHEDULED')"  # the message_lane_due index's
_lane_cursor = {"after": ""}  # this process's place in the round-robin over lanes


@dataclass
class Claim:
    messages: list[Message]
    # When a lane that has messages due but no tokens left can next be served (None: none).
    paced_until: datetime | None = None


def _due_lanes(after: str, limit: int) -> list[str]:
    """Up to `limit` lanes with waiting messages, in order after `after` (an index skip-scan:
    one index probe per lane, however many messages wait)."""
    table = Message._meta.db_table
    sql = f"""
        WITH RECURSIVE lanes(lane, n) AS (
            SELECT (SELECT lane FROM {table} WHERE {_WAITING_SQL.format(alias="")}
                    AND lane > %s ORDER BY lane LIMIT 1), 1
            UNION ALL
            SELECT (SELECT m.lane FROM {table} m WHERE {_WAITING_SQL.format(alias="m.")}
                    AND m.lane > lanes.lane ORDER BY m.lane LIMIT 1), n + 1
            FROM lanes WHERE lanes.lane IS NOT NULL AND n < %s
        )
        SELECT lane FROM lanes WHERE lane IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, limit])
        return [row[0] for row in cursor.fetchall()]


def _lanes_round_robin(limit: int) -> list[str]:
    """The next `limit` lanes with waiting messages, going on from this process's last claim
    and wrapping around."""
    after = _lane_cursor["after"]
    lanes = _due_lanes(after, limit)
    if len(lanes) < limit and after:
        lanes += [lane for lane in _due_lanes("", limit - len(lanes)) if lane not in lanes]
    return lanes


def _segments(content) -> int:
    if isinstance(content, str):
        content = json.loads(content or "{}")
    return max(1, int((content or {}).get("segments") or 1))


def _due_ids(wanted: dict[str, int], now: datetime) -> dict[str, list]:
    """Per lane, (id, segments) of up to `wanted[lane]` of its due messages, oldest due
    first, in one statement (a range scan of the lane's index entries each)."""
    table = Message._meta.db_table
    parts, params = [], []
    at = connection.ops.adapt_datetimefield_value(now)
    for index, (lane, count) in enumerate(wanted.items()):
        parts.append(
            f"SELECT * FROM (SELECT id, lane, content FROM {table} WHERE "
            f"{_WAITING_SQL.format(alias='')} AND lane = %s AND next_attempt_at <= %s "
            f"ORDER BY next_attempt_at, id LIMIT %s) AS due_{index}"
        )
        params += [lane, at, count]
    found: dict[str, list] = {lane: [] for lane in wanted}
    if not parts:
        return found
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for pk, lane, content in cursor.fetchall():
            found[lane].append((pk, _segments(content)))
    return found


def claim(message_ids: list[str]) -> list[Message]:
    """Waiting → PROCESSED for these messages only, those no one else has claimed; those, as
    claimed (their tokens are spent: see `claim_due`)."""
    return claim_due(message_ids, fill=False).messages


def claim_due(message_ids=(), *, fill: bool = True, budget: int | None = None) -> Claim:
    """Claim a fair share of what is due, by compare-and-set.

    Fair between lanes (a sender × a customer, messaging.pacing.dispatch_lane): the budget
    (MESSAGE_DISPATCH_BATCH_SIZE) is shared equally between the lanes that have messages
    due, visited round-robin, so a customer with 100,000 waiting messages takes one share of
    a claim and another customer's first message is in the next claim. Paced: no sender's
    lanes together take more than its bucket holds (messaging.pacing), in the same
    transaction that moves the messages, so the rate holds across all workers.
    """
    budget = budget or settings.MESSAGE_DISPATCH_BATCH_SIZE
    now = timezone.now()
    lanes = _lanes_round_robin(settings.MESSAGE_DISPATCH_LANES_PER_CLAIM) if fill else []
    own = list(message_ids)
    if not lanes and not own:
        return Claim([])
    token = uuid.uuid4().hex
    with transaction.atomic():
        # A SCHEDULED message is never taken before its time (its job may run early).
        claimable = Q(status=S.QUEUED) | Q(status=S.SCHEDULED, next_attempt_at__lte=now)
        own_lanes = dict(Message.objects.filter(claimable, pk__in=own).values_list("pk", "lane"))
        keys = {lane_pace_key(lane) for lane in [*lanes, *own_lanes.values()]}
        buckets = buckets_lock(keys, now=now)
        allowed = {key: bucket.available() for key, bucket in buckets.items()}
        # The job's own messages (a retry's, due at the job's time) first, whatever the
        # bucket holds: their cost is a debt the next claims pay, so the rate still holds.
        chosen = list(own_lanes)
        for lane in own_lanes.values():
            allowed[lane_pace_key(lane)] -= 1
        tokens = {key: bucket.pace.tokens for key, bucket in buckets.items()}
        share = max(1, -(-(budget - len(chosen)) // max(len(lanes), 1)))
        wanted, starved = {}, []
        for lane in lanes:
            key = lane_pace_key(lane)
            take = min(share, max(allowed[key], 0))
            if take > 0:
                allowed[key] -= take
                wanted[lane] = take
            else:
                starved.append(lane)
        # Lanes without tokens: only whether they have anything due (to book a wake-up).
        found = _due_ids({**wanted, **{lane: 1 for lane in starved}}, now)
        for lane in wanted:  # within the bucket: an SMS pays its segments
            key = lane_pace_key(lane)
            segments = buckets[key].rate.unit == SEGMENTS
            for pk, cost in found[lane]:
                if tokens[key] < 1:
                    break
                chosen.append(pk)
                tokens[key] -= cost if segments else 1
        paced = [buckets[lane_pace_key(lane)] for lane in starved if found[lane]]
        paced_until = min((bucket.ready_at() for bucket in paced), default=None)
        if lanes:
            _lane_cursor["after"] = lanes[-1]
        count = 0
        if chosen:
            count = Message.objects.filter(claimable, pk__in=chosen).update(
                status=S.PROCESSED,
                claimed_at=now,
                claim_token=token,
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        if not count:
            return Claim([], paced_until)
        claimed = list(
            Message.objects.filter(pk__in=chosen, claim_token=token)
            .select_related("sender__account")
            .order_by("pk")
        )
        for message in claimed:
            bucket = buckets[lane_pace_key(message.lane)]
            # Paid in full: tokens counted one per message, SMS pays its segments.
            bucket.spend(message_cost(message, bucket.rate))
        buckets_save(buckets)
        journal = Journal()
        for message in claimed:
            journal.note(
                message,
                ActivityKind.STATUS,
                f"Claimed by a worker for hand-off to the {message.channel} provider "
                f"(attempt {message.attempts})",
                at=now,
                attempt=message.attempts,
            )
        journal.flush()
    return Claim(claimed, paced_until)


# --- 2. send ----------------------------------------------------------------------------


def _prepared(message: Message):
    """The message's adapter and what it is handed."""
    route = sender_route(message.sender, message.channel, sandbox=message.sandbox)
    provider = get_provider(message.channel, sandbox=message.sandbox, route=route)
    return provider, OutboundMessage(
        message_id=str(message.pk),
        channel=message.channel,
        to=message.phone,
        body=message.body,
        from_number=route.address,
        sender_ref=route.provider_ref,
        template_name=message.template_name or None,
        parameters=message.parameters,
        payload=message.provider_payload,
        attempt=message.attempts,
        accepted_at=message.created_at,
    )


def hand_off(message: Message) -> Outcome:
    """One provider call for the message, outside any transaction."""
    provider, outbound = _prepared(message)
    try:
        with log_context(customer_id=message.customer_id, message_id=message.pk):
            result = provider.send(outbound)
            logger.debug("%s accepted the %s message", provider.name, message.channel)
    except ProviderError as error:
        return Outcome(message, error=error, provider=provider.name)
    except Exception as error:  # a bug or an unmapped network error: transient, retried
        with log_context(customer_id=message.customer_id, message_id=message.pk):
            logger.exception("provider %s failed on message %s", provider.name, message.pk)
        return Outcome(
            message, error=ProviderError(f"Provider error: {error}"), provider=provider.name
        )
    _pause(settings.MESSAGE_TEST_PAUSE_AFTER_PROVIDER)
    return Outcome(message, result=result, provider=provider.name)


def hand_off_group(messages: list[Message]) -> list[Outcome]:
    """One call of a batched adapter (the simulator: `send_many`) for messages it takes,
    outside any transaction; each message's outcome, in order."""
    prepared = [_prepared(message) for message in messages]
    provider = prepared[0][0]
    try:
        answers = provider.send_many([outbound for _, outbound in prepared])
    except Exception as error:  # a bug: transient for all of them, retried
        logger.exception("provider %s failed on a group of %s", provider.name, len(messages))
        answers = [ProviderError(f"Provider error: {error}")] * len(messages)
    outcomes = [
        Outcome(message, error=answer, provider=provider.name)
        if isinstance(answer, ProviderError)
        else Outcome(message, result=answer, provider=provider.name)
        for message, answer in zip(messages, answers, strict=True)
    ]
    if logger.isEnabledFor(logging.DEBUG):  # the line `hand_off` logs, per message
        for outcome in outcomes:
            if outcome.result is not None:
                message = outcome.message
                with log_context(customer_id=message.customer_id, message_id=message.pk):
                    logger.debug("%s accepted the %s message", provider.name, message.channel)
    if any(outcome.result is not None for outcome in outcomes):
        _pause(settings.MESSAGE_TEST_PAUSE_AFTER_PROVIDER)
    return outcomes


# --- 3. record --------------------------------------------------------------------------


@dataclass
class _Batch:
    """What recording a set of outcomes leads to, beyond the rows themselves."""

    journal: Journal
    now: datetime
    receipts: list[dict]
    retries: list[tuple[str, datetime]]
    stats: list[ContactStat]
    resend: list[Message]  # switched to a fallback channel: send again now


def retrying(function):
    """Run a write transaction again, from the rows as they are then, when the database
    aborts it (a deadlock between workers, a lock wait past SQLite's timeout). Up to 3 tries."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        for attempt in range(1, 4):
            try:
                return function(*args, **kwargs)
            except OperationalError:
                if attempt == 3 or transaction.get_connection().in_atomic_block:
                    raise
                logger.warning("%s: transaction aborted, trying again", function.__name__)
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    return run


@retrying
def record(outcomes: list[Outcome], *, scheduler: Scheduler) -> list[Message]:
    """Write the outcomes in one transaction; returns the messages to send again (fallbacks)."""
    if not outcomes:
        return []
    ids = [outcome.message.pk for outcome in outcomes]
    with transaction.atomic():
        held = {m.pk: m for m in hold(Message.objects.filter(pk__in=ids))}
        batch = _Batch(Journal(), timezone.now(), [], [], [], [])
        throttled = {
            outcome.message.pace_key(): outcome.error.retry_after
            for outcome in outcomes
            if outcome.error is not None and outcome.error.rate_limited
        }
        if throttled:
            pace_throttled(throttled, now=batch.now)
        changed = []
        for outcome in outcomes:
            message = held[outcome.message.pk]
            if _record_one(message, outcome, batch):
                changed.append(message)
        save_held(changed)
        batch.journal.flush()
        contacts_update(batch.stats)
        if batch.receipts:
            scheduler.receipts(batch.receipts)
        for message_id, run_after in batch.retries:
            scheduler.dispatch([message_id], run_after=run_after)
    return batch.resend


def _record_one(message: Message, outcome: Outcome, batch: _Batch) -> bool:
    """Apply one outcome to the held message; True if it changed."""
    if outcome.opted_out:
        if message.status != S.PROCESSED or message.claim_token != outcome.message.claim_token:
            return False
        if status_set(
            message,
            S.FILTERED,
            batch.journal,
            at=batch.now,
            reason_code=reasons.OPTED_OUT,
            reason=reasons.reason_text(reasons.OPTED_OUT),
            description="Not handed off: the contact opted out after the message was accepted",
        ):
            refund_unsent(message, batch.journal, now=batch.now, reason="opted_out")
        return True
    if outcome.result is not None:
        return record_sent(
            message,
            outcome.result,
            outcome.provider,
            batch.journal,
            batch.receipts,
            now=batch.now,
            description=None,
        )
    if message.status != S.PROCESSED or message.claim_token != outcome.message.claim_token:
        # The reconciler (or another run) took the message over meanwhile: not ours to move.
        return False
    error = outcome.error
    PROVIDER_ERRORS.labels(outcome.provider, error.code).inc()
    batch.journal.note(
        message,
        ActivityKind.PROVIDER_ERROR,
        f"{outcome.provider} refused the {message.channel} message: {error.message}",
        reason_code=error.code,
        reason=error.message,
        at=batch.now,
        permanent=error.permanent,
        not_reachable=error.not_reachable,
        provider_response=error.raw,
    )
    if error.opt_out:
        _opt_out(message, error)
    if error.not_reachable and message.requested_channel == AUTO_CHANNEL and message.fallbacks:
        return _fall_back(message, error, batch, provider=outcome.provider)
    if error.permanent:
        fail_unsent(
            message,
            error.code,
            error.message,
            batch.journal,
            now=batch.now,
            description=f"Refused by the {outcome.provider} {message.channel} provider: "
            f"{error.message}",
        )
        count_outcome(batch.stats, message, delivered=False, not_reachable=error.not_reachable)
        return True
    if message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
        text = (
            f"{reasons.reason_text(reasons.RETRIES_EXHAUSTED)} ({message.attempts} "
            f"attempts; last: {error.message})"
        )
        fail_unsent(
            message,
            reasons.RETRIES_EXHAUSTED,
            text,
            batch.journal,
            now=batch.now,
            description=f"Not accepted by the {outcome.provider} {message.channel} provider: "
            f"{text}",
        )
        return True
    delay = retry_delay(message.attempts)
    if error.retry_after:  # the provider's own wait (Retry-After), up to the longest backoff
        delay = max(
            delay,
            min(error.retry_after, settings.MESSAGE_RETRY_MAX_SECONDS)
            * settings.MESSAGE_RETRY_DELAY_SCALE,
        )
    message.next_attempt_at = batch.now + timedelta(seconds=delay)
    status_set(
        message,
        S.QUEUED,
        batch.journal,
        at=batch.now,
        description=f"Retry {message.attempts + 1} of {settings.MESSAGE_MAX_ATTEMPTS} in "
        f"{delay:.1f} s: {error.message}",
    )
    batch.retries.append((str(message.pk), message.next_attempt_at))
    return True


def _opt_out(message: Message, error: ProviderError) -> None:
    """The provider says the recipient opted out (Twilio 21610, a STOP reply): the contact's
    consent ledger records it, so later sends are FILTERED before they reach the provider.
    Not for sandbox messages (the simulator's answers say nothing about the real contact)."""
    if message.sandbox:
        return
    contact_set_opt_out(
        Contact(pk=message.contact_id),
        opt_out=True,
        source=Source.PROVIDER,
        note=f"{error.message} ({error.code})",
        message_id=str(message.pk),
        to=message.from_number or None,  # the sender the recipient unsubscribed from
        channel=message.channel,
    )


def record_sent(
    message: Message,
    result: ProviderResult,
    provider: str,
    journal: Journal,
    receipts: list[dict],
    *,
    now: datetime,
    description: str | None,
) -> bool:
    """The provider accepted the message: SENT, its id there, its callbacks scheduled.

    If a receipt got there first (DELIVERED before we wrote SENT, perhaps leaving the
    provider's id), the status stays and the provider's answer is filled in. Returns True
    (the row changed) unless already recorded.
    """
    if message.provider and message.provider_message_id == result.provider_message_id:
        return False  # recorded already (a receipt that came first filled in the id only)
    message.provider = provider
    message.provider_message_id = result.provider_message_id
    message.channel_response = result.raw
    message.updated_at = now
    status_set(
        message,
        S.SENT,
        journal,
        at=now,
        provider_message_id=result.provider_message_id,
        description=description or f"Accepted by the {provider} {message.channel} provider",
        from_number=message.from_number,
    )
    receipts.extend(receipt_jobs(message, result, now))
    return True


def fail_unsent(
    message: Message,
    code: str,
    text: str,
    journal: Journal,
    *,
    now: datetime,
    description: str | None = None,
) -> None:
    """FAILED before any provider accepted it, and refunded. `description` is what happened
    (the history's line, the message page's summary): the provider that refused it, when
    one did; else it never reached one. The caller holds the row and saves it."""
    if status_set(
        message,
        S.FAILED,
        journal,
        at=now,
        reason_code=code,
        reason=text,
        description=description or f"Failed before reaching a provider: {text}",
    ):
        refund_unsent(message, journal, now=now)


def refund_unsent(
    message: Message, journal: Journal, *, now: datetime, reason: str = "pre_provider_failure"
) -> None:
    """Give back everything a message that never reached a provider paid — once (nothing
    for sandbox messages, which were never charged)."""
    if message.sandbox or message.price <= 0:
        return
    entry = balance_refund(Customer(pk=message.customer_id), message_id=message.pk, reason=reason)
    journal.note(
        message,
        ActivityKind.REFUNDED,
        f"Refunded {entry.amount} {message.currency}: no provider accepted it",
        price=entry.amount,
        at=now,
    )


def _fall_back(message: Message, error: ProviderError, batch: _Batch, *, provider: str) -> bool:
    """Not reachable on this channel (`provider` said so): the same message goes on the next
    one, re-rendered and re-priced (one adjustment), and the contact is marked unreachable
    there."""
    old_channel, new_channel = message.channel, message.fallbacks[0]
    alternative = message.alternatives[new_channel]
    corrected = Decimal(alternative["price"])
    count_outcome(batch.stats, message, delivered=False, not_reachable=True)
    if not message.sandbox and corrected != message.price:
        try:
            with transaction.atomic():
                balance_adjust(
                    Customer(pk=message.customer_id),
                    message_id=message.pk,
                    amount=message.price - corrected,
                    reason=f"fallback_{new_channel}",
                    description=f"Fallback {old_channel} → {new_channel}",
                )
        except InsufficientBalance:
            fail_unsent(
                message,
                reasons.FALLBACK_UNAFFORDABLE,
                reasons.reason_text(reasons.FALLBACK_UNAFFORDABLE),
                batch.journal,
                now=batch.now,
                description=f"Refused by the {provider} {old_channel} provider "
                f"({error.message}); the balance can't pay the {new_channel} fallback",
            )
            return True
    message.channel = new_channel
    message.sender_id = alternative.get("sender_id")
    message.lane = message.dispatch_lane()
    message.from_number = alternative.get("from_number", "")
    message.provider_payload = alternative.get("payload", {})
    message.fallbacks = message.fallbacks[1:]
    message.body = alternative["body"]
    message.content = alternative["content"]
    original, message.price = message.price, corrected
    message.routing_reason = f"{new_channel}: fallback, {old_channel} not reachable"[:300]
    message.updated_at = batch.now
    batch.journal.note(
        message,
        ActivityKind.FALLBACK,
        f"{old_channel} can't reach the contact ({error.message}): falling back to {new_channel}",
        reason_code=error.code,
        at=batch.now,
        from_channel=old_channel,
    )
    if corrected != original:
        batch.journal.note(
            message,
            ActivityKind.ADJUSTED,
            f"Price corrected from {original} to {corrected} {message.currency}"
            + (" (sandbox: not charged)" if message.sandbox else ""),
            price=corrected - original,
            at=batch.now,
        )
    batch.resend.append(message)
    return True


def contacts_update(stats: list[ContactStat]) -> None:
    """Count final outcomes in the contacts' delivery statistics (one bulk call)."""
    contacts_record_deliveries(
        [(stat.contact_id, stat.channel, stat.delivered, stat.not_reachable) for stat in stats]
    )


# --- the job ----------------------------------------------------------------------------


_pools: dict[int, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def _provider_pool() -> ThreadPoolExecutor:
    """The hand-off threads: PROVIDER_CONCURRENCY of them, as the setting is now (a pool per
    size, so a changed setting is what bounds the calls, never an older pool's size)."""
    size = settings.PROVIDER_CONCURRENCY
    pool = _pools.get(size)
    if pool is None:
        with _pool_lock:
            pool = _pools.get(size)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="hand-off")
                _pools[size] = pool
    return pool


def _concurrent(message: Message) -> bool:
    """Whether the message's adapter may be called from the hand-off threads (the HTTP
    adapters; not the simulator, whose bookkeeping uses this thread's database connection)."""
    if message.sandbox:
        return False
    route = sender_route(message.sender, message.channel)
    return get_provider(message.channel, route=route).concurrent


def _opted_out_since(messages: list[Message]) -> set:
    """The messages whose contact opted out (an inbound STOP) after they were accepted: one
    query per group, just before its hand-off."""
    contact_ids = {m.contact_id for m in messages if not m.keyword_reply}
    if not contact_ids:
        return set()
    opted = set(
        Contact.all_objects.filter(pk__in=contact_ids, opt_out=True).values_list("pk", flat=True)
    )
    return {m.pk for m in messages if m.contact_id in opted and not m.keyword_reply}


def _batched_key(message: Message):
    """The batched adapter (the simulator) that takes the message, as a grouping key; None
    for an adapter called once per message."""
    route = sender_route(message.sender, message.channel, sandbox=message.sandbox)
    provider = get_provider(message.channel, sandbox=message.sandbox, route=route)
    return (provider.name, provider.channel) if provider.batched else None


def hand_off_all(messages: list[Message]) -> list[Outcome]:
    """One provider call per message, in order — for a batched adapter (the simulator) one
    call per group, its bookkeeping a single transaction. The HTTP adapters' calls run side
    by side (PROVIDER_CONCURRENCY at a time): a provider answering in 200 ms doesn't make a
    worker hand off 5 messages a second."""
    groups: dict = {}
    for index, message in enumerate(messages):
        key = _batched_key(message)
        if key is not None:
            groups.setdefault(key, []).append(index)
    outcomes: list[Outcome | None] = [None] * len(messages)
    for indexes in groups.values():
        for index, outcome in zip(
            indexes, hand_off_group([messages[i] for i in indexes]), strict=True
        ):
            outcomes[index] = outcome
    rest = [index for index, outcome in enumerate(outcomes) if outcome is None]
    for index, outcome in zip(rest, _hand_off_each([messages[i] for i in rest]), strict=True):
        outcomes[index] = outcome
    return outcomes


def _hand_off_each(messages: list[Message]) -> list[Outcome]:
    if settings.PROVIDER_CONCURRENCY <= 1 or len(messages) <= 1:
        return [hand_off(message) for message in messages]
    remote = [_concurrent(message) for message in messages]
    pending = {
        index: _provider_pool().submit(hand_off, message)
        for index, (message, is_remote) in enumerate(zip(messages, remote, strict=True))
        if is_remote
    }
    outcomes = [
        None if is_remote else hand_off(message)
        for message, is_remote in zip(messages, remote, strict=True)
    ]
    for index, future in pending.items():
        outcomes[index] = future.result()
    return outcomes


def dispatch_messages(message_ids: list[str], *, scheduler: Scheduler) -> dict:
    """The dispatch job: drain what is due, claim after claim, for up to
    MESSAGE_DISPATCH_JOB_SECONDS; returns counts by outcome.

    Each round first marks the other waiting dispatch jobs done (this job does their work:
    the messages wait in their lanes, not in the jobs), then claims a fair, paced share
    (`claim_due`), hands it off a group at a time (`next_group_size`) and records each group
    before the next. It stops when nothing due is left, booking a wake-up for when a paced
    sender has tokens again, or at its time limit, handing over to a new job.
    """
    started = time.monotonic()
    counts = {"claimed": 0, "accepted": 0, "refused": 0, "fallbacks": 0, "rounds": 0}
    own = list(message_ids)
    while True:
        scheduler.coalesce()
        claimed = claim_due(own)
        own = []
        _pause(settings.MESSAGE_TEST_PAUSE_AFTER_CLAIM)
        if not claimed.messages:
            if claimed.paced_until is not None:
                scheduler.wake(claimed.paced_until)
            break
        counts["rounds"] += 1
        counts["claimed"] += len(claimed.messages)
        _hand_off_and_record(deque(claimed.messages), counts, scheduler=scheduler)
        if time.monotonic() - started > settings.MESSAGE_DISPATCH_JOB_SECONDS:
            scheduler.wake(timezone.now())  # the next job goes on
            break
    return counts


def next_group_size(handed_off: int, seconds: float) -> int:
    """How many messages the next group hands off before its outcomes are recorded: what the
    provider took in FLUSH_EVERY_SECONDS at the rate it just answered (`handed_off` in
    `seconds`), between FLUSH_EVERY_MESSAGES and FLUSH_MAX_MESSAGES."""
    if handed_off == 0:
        return FLUSH_EVERY_MESSAGES
    taken = handed_off * FLUSH_EVERY_SECONDS / max(seconds, 1e-6)
    return max(FLUSH_EVERY_MESSAGES, min(FLUSH_MAX_MESSAGES, int(taken)))


def _hand_off_and_record(messages: deque, counts: dict, *, scheduler: Scheduler) -> None:
    size = FLUSH_EVERY_MESSAGES
    while messages:
        group = [messages.popleft() for _ in range(min(size, len(messages)))]
        opted_out = _opted_out_since(group)
        handing_off = [m for m in group if m.pk not in opted_out]
        began = time.monotonic()
        outcomes = hand_off_all(handing_off) + [
            Outcome(m, opted_out=True) for m in group if m.pk in opted_out
        ]
        size = next_group_size(len(handing_off), time.monotonic() - began)
        for outcome in outcomes:
            counts["accepted" if outcome.result else "refused"] += 1
        resend = record(outcomes, scheduler=scheduler)
        counts["fallbacks"] += len(resend)
        messages.extend(resend)
