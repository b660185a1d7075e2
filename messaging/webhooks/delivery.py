"""One delivery attempt: claim it, POST the signed envelope, record the outcome, decide what
comes next. Never imports `messaging.webhooks.tasks`: the task enqueues the retry this returns.

Outcomes (one word, also stored on each WebhookAttempt):
- delivered: 2xx.
- gone: 410, the endpoint is disabled and the delivery stops.
- throttled: 429, retried no sooner than its Retry-After.
- failed / timeout / error / blocked: any other status (3xx included: redirects are not
  followed), too slow, a network error, or an address the SSRF guard refuses after DNS
  resolution. Retried on WEBHOOK_RETRY_SCHEDULE until it runs out.
"""

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging.http import http_client
from messaging.models import (
    CircuitState,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from messaging.webhooks import lane, ssrf
from messaging.webhooks.signing import delivery_headers, envelope_body, secret_decrypt

# A Retry-After longer than a day is read as a day.
MAX_RETRY_AFTER = 24 * 3600
UNFINISHED = [DeliveryStatus.PENDING, DeliveryStatus.RETRYING]


@dataclass(frozen=True)
class AttemptResult:
    outcome: str
    status_code: int | None = None
    response_body: str = ""
    error: str = ""
    latency_ms: int = 0
    retry_after: float | None = None


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # an attempt outcome, or "skipped" (not due / already done) / "disabled"
    retry_at: datetime | None = None


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, plus the previous during its grace period."""
    in_use = [secret_decrypt(endpoint.signing_secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires and expires > now:
        in_use.append(secret_decrypt(endpoint.previous_secret_encrypted))
    return in_use


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _read_limited(response: httpx.Response, deadline: float) -> str:
    limit = settings.WEBHOOK_RESPONSE_BODY_LIMIT
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit or time.monotonic() > deadline:
            break
    # PostgreSQL text can't hold NUL.
    return b"".join(chunks)[:limit].decode("utf-8", errors="replace").replace("\x00", "")


def _classify(response: httpx.Response, body: str, latency_ms: int) -> AttemptResult:
    code = response.status_code
    if 200 <= code < 300:
        outcome, error = "delivered", ""
    elif code == 410:
        outcome, error = "gone", "The endpoint answered 410 Gone"
    elif code == 429:
        outcome, error = "throttled", "The endpoint answered 429 Too Many Requests"
    elif 300 <= code < 400:
        outcome = "failed"
        error = f"The endpoint answered {code} (redirects are not followed)"
    else:
        outcome, error = "failed", f"The endpoint answered {code}"
    retry_after = _retry_after_seconds(response.headers.get("retry-after")) if code == 429 else None
    return AttemptResult(outcome, code, body, error, latency_ms, retry_after)


def post_signed(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> AttemptResult:
    """POST the delivery's event to the endpoint once, to the address the SSRF guard vetted."""
    started = time.monotonic()
    try:
        target = ssrf.url_target(endpoint.endpoint_url)
    except ssrf.UnsafeTarget as exc:
        return AttemptResult("blocked", error=f"Blocked by the SSRF guard: {exc}")
    except OSError as exc:
        return AttemptResult("error", error=f"DNS lookup failed: {exc}")
    event = delivery.event
    body = envelope_body(event)
    headers = delivery_headers(
        signing_secrets(endpoint, timezone.now()),
        event_id=str(event.pk),
        endpoint_id=str(endpoint.pk),
        event_family=event.field,
        timestamp=int(time.time()),
        body=body,
    )
    url = httpx.URL(endpoint.endpoint_url)
    # Connect to the vetted IP; the Host header and TLS SNI/certificate check keep the name.
    headers["host"] = url.netloc.decode("ascii")
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timeout = endpoint.effective_timeout_seconds
    deadline = started + timeout
    try:
        with http_client(timeout=timeout, trust_env=False) as client:
            request = client.build_request(
                "POST",
                url.copy_with(host=target.ip),
                content=body,
                headers=headers,
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                text = _read_limited(response, deadline)
            finally:
                response.close()
    except httpx.TimeoutException:
        latency = int((time.monotonic() - started) * 1000)
        return AttemptResult("timeout", error=f"No answer within {timeout:g} s", latency_ms=latency)
    except httpx.HTTPError as exc:
        latency = int((time.monotonic() - started) * 1000)
        return AttemptResult(
            "error", error=f"{type(exc).__name__}: {exc}"[:500], latency_ms=latency
        )
    return _classify(response, text, int((time.monotonic() - started) * 1000))


def retry_delay(failures: int, retry_after: float | None = None) -> float | None:
    """Seconds until the next attempt after `failures` failed ones in a row, or None when the
    schedule is exhausted. Jittered, scaled by WEBHOOK_RETRY_DELAY_SCALE; never sooner than
    the receiver's Retry-After."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if failures > len(schedule):
        return None
    jitter = settings.WEBHOOK_RETRY_JITTER
    delay = schedule[failures - 1] * settings.WEBHOOK_RETRY_DELAY_SCALE
    delay *= random.uniform(1 - jitter, 1 + jitter)
    if retry_after:
        delay = max(delay, retry_after)
    return delay


def _claim(delivery_id, now: datetime) -> bool:
    """Compare-and-set: only one worker moves a due delivery to SENDING."""
    return (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status__in=UNFINISHED, next_attempt_at__lte=now
        ).update(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            processing_started_at=Coalesce(F("processing_started_at"), now),
        )
        == 1
    )


def delivery_attempt(delivery_id) -> DeliveryResult:
    """Make the next attempt of a delivery if it is due and nobody else is making it.

    Safe to call any number of times, concurrently: the claim lets one caller through.
    Test deliveries (POST /test) go to inactive endpoints too, are never retried and don't
    move the endpoint's counters.
    """
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status not in UNFINISHED:
        return DeliveryResult("skipped")
    endpoint = delivery.endpoint
    if not endpoint.is_active and not delivery.is_test:
        WebhookDelivery.objects.filter(pk=delivery.pk, status__in=UNFINISHED).update(
            status=DeliveryStatus.FAILED,
            error_message="Not sent: the endpoint is disabled (redeliver after enabling it)",
            processing_completed_at=now,
            next_attempt_at=None,
        )
        return DeliveryResult("disabled")
    if not _claim(delivery.pk, now):
        return DeliveryResult("skipped")
    delivery.refresh_from_db(fields=["attempts", "round_failures"])
    result = post_signed(endpoint, delivery)
    return _record(delivery, endpoint, result, started_at=now)


def claimed_attempt(delivery_id) -> DeliveryResult:
    """Make the attempt of a delivery the lane has claimed (SENDING: messaging.webhooks.lane)."""
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint")
        .filter(pk=delivery_id, status=DeliveryStatus.SENDING)
        .first()
    )
    if delivery is None:
        return DeliveryResult("skipped")
    result = post_signed(delivery.endpoint, delivery)
    return _record(delivery, delivery.endpoint, result, started_at=delivery.claimed_at)


def _record(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    result: AttemptResult,
    *,
    started_at: datetime,
) -> DeliveryResult:
    now = timezone.now()
    retry_at = None
    changes = {
        "http_status_code": result.status_code,
        "error_message": result.error,
        "response_body": result.response_body,
        "claimed_at": None,
    }
    if result.outcome == "delivered":
        changes.update(
            status=DeliveryStatus.DELIVERED, processing_completed_at=now, next_attempt_at=None
        )
    else:
        failures = delivery.round_failures + 1
        delay = None
        if result.outcome != "gone" and not delivery.is_test:
            delay = retry_delay(failures, result.retry_after)
        changes["round_failures"] = failures
        if delay is None:
            changes.update(
                status=DeliveryStatus.FAILED, processing_completed_at=now, next_attempt_at=None
            )
        else:
            retry_at = now + timedelta(seconds=delay)
            changes.update(status=DeliveryStatus.RETRYING, next_attempt_at=retry_at)
    with transaction.atomic():
        circuit = ""
        if not delivery.is_test:
            # Lane transactions lock the customer's lane row first (messaging.webhooks.lane).
            tenant = lane.tenant_lock(endpoint.customer_id, now)
            lane.tenant_account_wait(tenant, result.latency_ms, now)
            circuit = _circuit_move(endpoint.pk, result, now)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started_at,
            latency_ms=result.latency_ms,
            http_status_code=result.status_code,
            outcome=result.outcome,
            response_body=result.response_body,
            error=result.error,
            circuit=circuit,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            **changes
        )
        if not delivery.is_test:
            _endpoint_count(endpoint, result, now)
        else:  # a test moves no counter, but it is an attempt (the page's "Last attempt")
            _test_attempt_seen(endpoint, result, now)
    return DeliveryResult(result.outcome, retry_at)


def _test_attempt_seen(endpoint: WebhookEndpoint, result: AttemptResult, now: datetime) -> None:
    """A test delivery's attempt: `last_delivery_attempt_at` (and `last_successful_delivery_at`
    when the receiver took it) move; the failure streak, the circuit and disabling don't."""
    changes = {"last_delivery_attempt_at": now}
    if result.outcome == "delivered":
        changes["last_successful_delivery_at"] = now
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**changes)


def _circuit_move(endpoint_id, result: AttemptResult, now: datetime) -> str:
    """Open, reopen or close the endpoint's circuit after an attempt; returns what happened
    ("opened", "reopened", "closed" or "") for the delivery log."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return ""
    rows = WebhookEndpoint.objects.filter(pk=endpoint_id)
    state = endpoint.circuit_state
    if result.outcome == "delivered":
        if state == CircuitState.CLOSED:
            return ""
        rows.update(
            circuit_state=CircuitState.CLOSED,
            circuit_opened_at=None,
            circuit_probe_at=None,
            circuit_trips=0,
        )
        return "closed"
    if state == CircuitState.PROBING:
        trips = endpoint.circuit_trips + 1
        rows.update(
            circuit_state=CircuitState.OPEN,
            circuit_probe_at=now + lane.circuit_pause(trips),
            circuit_trips=trips,
        )
        return "reopened"
    if state == CircuitState.CLOSED and (
        endpoint.consecutive_failures + 1 >= settings.WEBHOOK_CIRCUIT_FAILURES
    ):
        rows.update(
            circuit_state=CircuitState.OPEN,
            circuit_opened_at=now,
            circuit_probe_at=now + lane.circuit_pause(1),
            circuit_trips=1,
        )
        return "opened"
    return ""


def _endpoint_count(endpoint: WebhookEndpoint, result: AttemptResult, now: datetime) -> None:
    """Move the endpoint's counters; disable it on 410, or after too many failures in a row
    that have lasted long enough (WEBHOOK_DISABLE_AFTER_*)."""
    rows = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if result.outcome == "delivered":
        rows.update(
            consecutive_failures=0,
            failing_since=None,
            last_delivery_attempt_at=now,
            last_successful_delivery_at=now,
        )
        return
    rows.update(
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce(F("failing_since"), now),
        last_delivery_attempt_at=now,
    )
    if result.outcome == "gone":
        endpoint_disable(endpoint.pk, reason="The endpoint answered 410 Gone", now=now)
        return
    threshold = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    window = timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if rows.filter(consecutive_failures__gte=threshold, failing_since__lte=now - window).exists():
        endpoint_disable(
            endpoint.pk,
            reason=f"Disabled after {threshold} or more failed deliveries in a row "
            f"(last: {result.error or result.outcome})"[:300],
            now=now,
        )


def endpoint_disable(endpoint_id, *, reason: str, now: datetime) -> bool:
    """Sent turns an endpoint off and says why (only if it is still on)."""
    return (
        WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
            is_active=False, disabled_reason=reason, disabled_at=now, updated_at=now
        )
        == 1
    )
