"""The webhooks lane: which due delivery goes next, fairly between customers, and only within
each endpoint's and each customer's limits (docs/architecture.md#fairness-in-the-webhooks-lane,
docs/api/webhooks.md#slow-and-dead-endpoints).

Deliveries wait in the WebhookDelivery table, not as one job each. A `webhook_drain` job
(messaging.webhooks.tasks) repeatedly picks due deliveries here, round-robin by customer (the
one picked least recently first) and, inside a customer, by endpoint, and makes the attempts
on a few threads. A pick passes four gates, checked again while the customer's lane row is
locked, so they hold across every worker:

- the endpoint's circuit is closed, or open with its probe due (then this pick is the probe);
- fewer than WEBHOOK_ENDPOINT_CONCURRENCY attempts to the endpoint are in flight;
- fewer than WEBHOOK_TENANT_CONCURRENCY attempts of the customer are in flight;
- the customer's attempts have waited less than WEBHOOK_TENANT_WAIT_BUDGET_SECONDS this minute.

A delivery that doesn't pass stays as it is (pending or retrying, no attempt counted). Never
imports `messaging.webhooks.tasks`: the task enqueues the drains this asks for.
"""

import logging
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging.models import (
    CircuitState,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookLaneWakeup,
    WebhookTenantLane,
)
from messaging.webhooks.fanout import events_fan_out_pending

logger = logging.getLogger(__name__)

WAITING = [DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
WINDOW = timedelta(seconds=60)
# How often a drain whose threads are busy looks for newly due work.
POLL_SECONDS = 0.1


def circuit_pause(trips: int) -> timedelta:
    """The pause after the circuit opened `trips` times in a row: doubling, capped."""
    base = settings.WEBHOOK_CIRCUIT_PAUSE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(trips - 1, 0), settings.WEBHOOK_CIRCUIT_PAUSE_MAX_SECONDS)
    )


def probe_allowance(endpoint: WebhookEndpoint) -> timedelta:
    """How long a probe may go unanswered before another one may go (its worker died)."""
    return timedelta(seconds=endpoint_timeout(endpoint) + 60)


def endpoint_timeout(endpoint: WebhookEndpoint) -> float:
    return endpoint.effective_timeout_seconds


def tenant_lock(customer_id, now: datetime) -> WebhookTenantLane:
    """Lock the customer's lane row for the rest of the transaction (an UPDATE: a row lock on
    PostgreSQL, the write lock on SQLite) and return it. Lane transactions take it first."""
    rows = WebhookTenantLane.objects.filter(pk=customer_id)
    if not rows.update(locked_at=now):
        try:
            with transaction.atomic():
                WebhookTenantLane.objects.create(customer_id=customer_id, locked_at=now)
        except IntegrityError:  # created by a concurrent transaction meanwhile
            rows.update(locked_at=now)
    return rows.get()


def waited_this_window(lane: WebhookTenantLane | None, now: datetime) -> float:
    """Seconds the customer's finished attempts waited in its current window."""
    if lane is None or lane.window_started_at is None or lane.window_started_at <= now - WINDOW:
        return 0.0
    return lane.waited_ms / 1000


def tenant_account_wait(lane: WebhookTenantLane, latency_ms: int, now: datetime) -> None:
    """Add a finished attempt's wait to the customer's window (a new window once a minute)."""
    if lane.window_started_at is None or lane.window_started_at <= now - WINDOW:
        lane.window_started_at, lane.waited_ms = now, latency_ms
    else:
        lane.waited_ms += latency_ms
    WebhookTenantLane.objects.filter(pk=lane.pk).update(
        window_started_at=lane.window_started_at, waited_ms=lane.waited_ms
    )


@dataclass
class _Tenant:
    customer_id: object
    picked_at: datetime | None
    lane: WebhookTenantLane | None
    in_flight: list[datetime] = field(default_factory=list)  # claimed_at of its attempts
    endpoints: list[WebhookEndpoint] = field(default_factory=list)

    def over_budget(self, now: datetime) -> bool:
        waiting = sum((now - at).total_seconds() for at in self.in_flight)
        budget = settings.WEBHOOK_TENANT_WAIT_BUDGET_SECONDS
        return waited_this_window(self.lane, now) + waiting >= budget

    def budget_resumes_at(self) -> datetime | None:
        return (
            self.lane.window_started_at + WINDOW
            if self.lane and self.lane.window_started_at
            else None
        )


def _due(now: datetime, since: datetime | None) -> Q:
    """Due deliveries not sent by hand (tests go out in the request). With `since` (the drain's
    start), a delivery this drain already attempted waits for the next drain."""
    due = Q(status__in=WAITING, is_test=False, next_attempt_at__lte=now)
    if since is not None:
        due &= Q(attempts=0) | Q(next_attempt_at__lte=since)
    return due


def _in_flight(now: datetime) -> Q:
    """Attempts under way: claimed, and not for longer than any attempt can take (one whose
    worker died stops counting then; the sweep puts its delivery back)."""
    longest = timedelta(seconds=settings.WEBHOOK_TIMEOUT_MAX_SECONDS + 60)
    return Q(status=DeliveryStatus.SENDING, claimed_at__gt=now - longest)


def _circuit_waits(endpoint: WebhookEndpoint, now: datetime) -> bool:
    return endpoint.circuit_state != CircuitState.CLOSED and (
        endpoint.circuit_probe_at is None or endpoint.circuit_probe_at > now
    )


@dataclass
class Plan:
    tenants: list[_Tenant]  # customers with a delivery that may go now, least recently first
    next_at: datetime | None  # when a waiting delivery could go (None: no unfinished work)


def lane_plan(now: datetime, *, since: datetime | None = None) -> Plan:
    """Who may be picked now, and, for the rest, when to look again."""
    due = WebhookDelivery.objects.filter(_due(now, since), endpoint=OuterRef("pk"))
    endpoints = list(
        WebhookEndpoint.objects.filter(Exists(due)).only(
            "id",
            "customer_id",
            "is_active",
            "timeout_seconds",
            "circuit_state",
            "circuit_probe_at",
            "lane_picked_at",
        )
    )
    customer_ids = {e.customer_id for e in endpoints}
    lanes = {lane.pk: lane for lane in WebhookTenantLane.objects.filter(pk__in=customer_ids)}
    tenants = {
        c: _Tenant(c, lanes[c].picked_at if c in lanes else None, lanes.get(c))
        for c in customer_ids
    }
    endpoint_flight: dict = {}
    for endpoint_id, customer_id, claimed_at in WebhookDelivery.objects.filter(
        _in_flight(now), endpoint__customer_id__in=customer_ids
    ).values_list("endpoint_id", "endpoint__customer_id", "claimed_at"):
        tenants[customer_id].in_flight.append(claimed_at or now)
        endpoint_flight[endpoint_id] = endpoint_flight.get(endpoint_id, 0) + 1
    later: list[datetime] = []
    ready = []
    for tenant in tenants.values():
        if tenant.over_budget(now):
            if resumes := tenant.budget_resumes_at():
                later.append(max(resumes, now))
            continue
        if len(tenant.in_flight) >= settings.WEBHOOK_TENANT_CONCURRENCY:
            continue  # an attempt in flight ends first: its drain looks again
        for endpoint in endpoints:
            if endpoint.customer_id != tenant.customer_id:
                continue
            if endpoint.is_active and _circuit_waits(endpoint, now):
                later.append(endpoint.circuit_probe_at)
            elif endpoint_flight.get(endpoint.pk, 0) < settings.WEBHOOK_ENDPOINT_CONCURRENCY:
                tenant.endpoints.append(endpoint)
        if tenant.endpoints:
            tenant.endpoints.sort(key=lambda e: (e.lane_picked_at is not None, e.lane_picked_at))
            ready.append(tenant)
    ready.sort(key=lambda t: (t.picked_at is not None, t.picked_at, str(t.customer_id)))
    if ready:
        return Plan(ready, now)
    waiting = WebhookDelivery.objects.filter(status__in=WAITING, is_test=False)
    future = waiting.filter(next_attempt_at__gt=now).aggregate(at=Min("next_attempt_at"))["at"]
    if future is not None:
        later.append(future)
    if since is not None and waiting.filter(_due(now, None) & ~_due(now, since)).exists():
        later.append(now)  # retries this drain left for the next one
    return Plan([], min(later) if later else None)


def lane_claim(endpoint_id, customer_id, now: datetime, *, since: datetime | None = None):
    """Claim the endpoint's oldest due delivery if every gate still lets it go; the claimed
    delivery (SENDING, its attempt counted) or None."""
    with transaction.atomic():
        lane = tenant_lock(customer_id, now)
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            return None
        waiting = WebhookDelivery.objects.filter(_due(now, since), endpoint=endpoint)
        if not endpoint.is_active:
            waiting.update(
                status=DeliveryStatus.FAILED,
                error_message="Not sent: the endpoint is disabled (redeliver after enabling it)",
                processing_completed_at=now,
                next_attempt_at=None,
            )
            return None
        in_flight = list(
            WebhookDelivery.objects.filter(
                _in_flight(now), endpoint__customer_id=customer_id
            ).values_list("endpoint_id", "claimed_at")
        )
        tenant = _Tenant(customer_id, lane.picked_at, lane, [at or now for _, at in in_flight])
        if len(in_flight) >= settings.WEBHOOK_TENANT_CONCURRENCY or tenant.over_budget(now):
            return None
        if (
            sum(1 for e, _ in in_flight if e == endpoint.pk)
            >= settings.WEBHOOK_ENDPOINT_CONCURRENCY
        ):
            return None
        if _circuit_waits(endpoint, now):
            return None
        delivery = waiting.order_by("next_attempt_at", "id").first()
        if delivery is None:
            return None
        if endpoint.circuit_state != CircuitState.CLOSED:  # the probe is due: this is it
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                circuit_state=CircuitState.PROBING, circuit_probe_at=now + probe_allowance(endpoint)
            )
        claimed = WebhookDelivery.objects.filter(pk=delivery.pk, status__in=WAITING).update(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            processing_started_at=Coalesce(F("processing_started_at"), now),
        )
        if not claimed:
            return None
        WebhookTenantLane.objects.filter(pk=customer_id).update(picked_at=now)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(lane_picked_at=now)
    return delivery.pk


def lane_pick(slots: int, *, since: datetime | None = None) -> tuple[list, datetime | None]:
    """Claim up to `slots` deliveries, one customer at a time in turn (least recently picked
    first), each customer's endpoints in turn. Returns the claimed ids and the plan's next_at."""
    now = timezone.now()
    plan = lane_plan(now, since=since)
    claimed: list = []
    tenants = plan.tenants
    while tenants and len(claimed) < slots:
        still = []
        for tenant in tenants:
            if len(claimed) >= slots:
                break
            while tenant.endpoints:
                endpoint = tenant.endpoints.pop(0)
                delivery_id = lane_claim(endpoint.pk, tenant.customer_id, now, since=since)
                if delivery_id is not None:
                    claimed.append(delivery_id)
                    tenant.endpoints.append(endpoint)  # may have more, after the others
                    still.append(tenant)
                    break
        tenants = still
        if len(claimed) >= slots:
            break
    return claimed, plan.next_at


def lane_drain(*, attempt, on_busy=None, seconds: float | None = None, threads: int | None = None):
    """Pick and attempt due deliveries until none may go or `seconds` have passed; returns when
    the lane should be drained next (None: nothing unfinished). `attempt(delivery_id)` makes
    one claimed attempt; `on_busy()` is called once if there is more due work than threads
    (the caller asks another worker to help).

    Events waiting for their fan-out are fanned out here too, so a new event doesn't wait for
    the workers to finish their drains before its fan-out job runs.

    Inside a transaction (the tests) the attempts run one by one on this connection: threads'
    own connections couldn't see the uncommitted rows.
    """
    seconds = settings.WEBHOOK_DRAIN_SECONDS if seconds is None else seconds
    threads = settings.WEBHOOK_DRAIN_THREADS if threads is None else threads
    since = timezone.now()
    deadline = time.monotonic() + seconds
    if threads <= 1 or connection.in_atomic_block:
        while time.monotonic() < deadline:
            events_fan_out_pending()
            claimed, _ = lane_pick(1, since=since)
            if not claimed:
                break
            attempt(claimed[0])
        return lane_plan(timezone.now(), since=since).next_at
    asked = False

    def run(delivery_id):
        try:
            attempt(delivery_id)
        except Exception:  # the sweep recovers the delivery; the drain goes on
            logger.exception("webhook attempt %s failed", delivery_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook") as pool:
        running: set = set()
        while True:
            free = threads - len(running)
            if free and time.monotonic() < deadline:
                events_fan_out_pending()
                claimed, _ = lane_pick(free, since=since)
                running |= {pool.submit(run, d) for d in claimed}
                if claimed and len(claimed) == free and on_busy and not asked:
                    asked = True
                    on_busy()
            if not running:
                break
            _done, running = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
    return lane_plan(timezone.now(), since=since).next_at


def wakeup_claim(at: datetime, *, force: bool = False) -> bool:
    """Ask for a drain at `at`. True: the caller enqueues it (no drain is due sooner);
    False: one already is. `force` (the sweep, when no drain job waits) always claims."""
    rows = WebhookLaneWakeup.objects.filter(pk=1)
    if not force:
        rows = rows.filter(Q(wake_at__isnull=True) | Q(wake_at__gt=at))
    if rows.update(wake_at=at):
        return True
    if not WebhookLaneWakeup.objects.filter(pk=1).exists():
        try:
            with transaction.atomic():
                WebhookLaneWakeup.objects.create(pk=1, wake_at=at)
            return True
        except IntegrityError:
            return wakeup_claim(at, force=force)
    return False


def wakeup_taken(now: datetime) -> None:
    """A drain starts: requests due by now are served by it (later ones keep their job)."""
    WebhookLaneWakeup.objects.filter(pk=1, wake_at__lte=now).update(wake_at=None)


def unfinished_due(now: datetime) -> bool:
    return WebhookDelivery.objects.filter(_due(now, None)).exists()
