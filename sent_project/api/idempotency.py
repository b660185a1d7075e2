"""Idempotency-Key on POST/PUT/PATCH under /v3 (Stripe / IETF draft semantics).

- Same key, same request within IDEMPOTENCY_TTL_HOURS → the stored status and body,
  byte for byte, with `Idempotent-Replayed: true` and `X-Original-Request-Id`.
- Same key, different request → 422 IDEMPOTENCY_001 (`x-should-retry: false`).
- Same key while the first is still running → 409 CONFLICT_001 with `Retry-After: 1`
  (the SDK waits and retries, then gets the replay).
- Only 2xx responses are stored. Every request is atomic, so a request that failed
  wrote nothing, and retrying it with the same key (after fixing the input or
  topping up the balance) runs it again.
- Keys are scoped per customer: another account using the same string is unrelated.
"""

import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from sent_project.api.envelope import error_response
from sent_project.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    RequestTooLarge,
    SentError,
)
from sent_project.models import IdempotencyRecord

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
IDEMPOTENT_METHODS = {"POST", "PUT", "PATCH"}
# Response headers worth replaying (the rest are per-request).
REPLAYED_HEADERS = {"content-type", "location", "x-sandbox"}


def request_fingerprint(request: HttpRequest) -> str:
    body = request.body
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON (or nested too deeply): the bytes as sent
        canonical = body
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
    digest.update(canonical)
    return digest.hexdigest()


def _claim_insert(**fields) -> IdempotencyRecord:
    """The claim's INSERT, committed before the request runs (a concurrent duplicate must see
    it). In autocommit it is its own transaction, one round trip; inside a caller's
    transaction (a test's) it gets a savepoint, so a duplicate key doesn't break that."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(**fields)
    return IdempotencyRecord.objects.create(**fields)


def idempotency_begin(*, customer, key: str, fingerprint: str, request_id: str):
    """Claim the key. Returns ("run", record) | ("replay", record) | ("in_flight", None) | ("mismatch", None)."""
    now = timezone.now()
    ttl = timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    lock = timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS)
    for _attempt in range(3):
        try:
            record = _claim_insert(
                customer=customer,
                key=key,
                fingerprint=fingerprint,
                request_id=request_id,
                created_at=now,
                locked_at=now,
            )
            return "run", record
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(customer=customer, key=key).first()
        if record is None:
            continue  # the first request failed and released the key meanwhile
        if record.created_at < now - ttl:
            # Past retention: the key is new again.
            IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.fingerprint != fingerprint:
            return "mismatch", None
        if record.state == IdempotencyRecord.State.COMPLETED:
            return "replay", record
        if record.locked_at < now - lock:
            # The first request died mid-way (its process was killed): take the key over.
            taken = IdempotencyRecord.objects.filter(
                pk=record.pk, locked_at=record.locked_at, state=IdempotencyRecord.State.IN_FLIGHT
            ).update(locked_at=now, request_id=request_id)
            if taken:
                record.locked_at, record.request_id = now, request_id
                return "run", record
            continue
        return "in_flight", None
    return "in_flight", None


def idempotency_complete(record: IdempotencyRecord, response: HttpResponse) -> None:
    record.state = IdempotencyRecord.State.COMPLETED
    record.response_status = response.status_code
    record.response_body = bytes(response.content)
    record.response_headers = {
        name: value for name, value in response.items() if name.lower() in REPLAYED_HEADERS
    }
    record.save(update_fields=["state", "response_status", "response_body", "response_headers"])


def idempotency_release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_FLIGHT, request_id=record.request_id
    ).delete()


def idempotency_purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def replay_response(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body or b""), status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    response["X-Original-Request-Id"] = record.request_id
    return response


def request_customer(request: HttpRequest):
    """The customer an API request authenticates as, or None (the view then answers 401).

    Asks the API's own authentication classes (`REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`,
    the billing app's API keys here), whose principal carries the `customer`; they cache what
    they resolve on the request, so the view does not look the key up again.
    """
    api_request = Request(request)
    for authentication_class in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        try:
            authenticated = authentication_class().authenticate(api_request)
        except (APIException, SentError):
            return None
        if authenticated is not None:
            return authenticated[0].customer
    return None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        if (
            key is None
            or request.method not in IDEMPOTENT_METHODS
            or not request.path.startswith("/v3/")
        ):
            return self.get_response(request)
        if not KEY_RE.fullmatch(key):
            return error_response(InvalidIdempotencyKey())
        customer = request_customer(request)
        if customer is None:
            return self.get_response(request)  # the view answers 401 (or 404)
        try:
            fingerprint = request_fingerprint(request)
        except RequestDataTooBig:
            return error_response(RequestTooLarge())
        outcome, record = idempotency_begin(
            customer=customer,
            key=key,
            fingerprint=fingerprint,
            request_id=request.request_id,
        )
        if outcome == "replay":
            return replay_response(record)
        if outcome == "mismatch":
            return error_response(IdempotencyKeyReused())
        if outcome == "in_flight":
            return error_response(IdempotencyKeyInProgress(headers={"Retry-After": "1"}))
        try:
            response = self.get_response(request)
        except BaseException:
            idempotency_release(record)
            raise
        if 200 <= response.status_code < 300 and not response.streaming:
            idempotency_complete(record, response)
        else:
            idempotency_release(record)
        return response
