"""Signing secrets (generated, encrypted at rest) and the headers that sign a delivery.

Signatures follow Standard Webhooks: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`
with key = the base64-decoded secret after `whsec_`. Every delivery carries them twice:
- `webhook-id` / `webhook-timestamp` / `webhook-signature` (Standard Webhooks; id = event id);
- `x-webhook-id` / `x-webhook-timestamp` / `x-webhook-signature` (Sent's documented headers;
  x-webhook-id is the endpoint id, the event id is in `X-Webhook-Event-ID`).
During a rotation's grace period each signature header holds two space-separated entries.
"""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from django.conf import settings

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    """A new signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet_key(secret_key: str) -> bytes:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"sent webhook signing secrets"
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(key)


def _fernet() -> MultiFernet:
    # SECRET_KEY encrypts; SECRET_KEY_FALLBACKS still decrypt, so the key can be rotated.
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "A webhook signing secret can't be decrypted: was SECRET_KEY changed without "
            "keeping the old one in SECRET_KEY_FALLBACKS?"
        ) from None


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def delivery_headers(
    secrets_in_use: list[str],
    *,
    event_id: str,
    endpoint_id: str,
    event_family: str,
    timestamp: int,
    body: bytes,
) -> dict[str, str]:
    """Every header of one attempt. `secrets_in_use`: the current secret first, then the
    previous one while its grace period lasts."""

    def signatures(msg_id: str) -> str:
        return " ".join(
            sign(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_in_use
        )

    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures(event_id),
        "x-webhook-id": endpoint_id,
        "x-webhook-timestamp": str(timestamp),
        "x-webhook-signature": signatures(endpoint_id),
        "x-webhook-event-type": event_family,
        "X-Webhook-Event-ID": event_id,
    }


def webhook_time(moment: datetime) -> str:
    """Webhook datetimes: UTC, second precision, `yyyy-MM-ddTHH:mm:ssZ`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(event) -> dict:
    """What we POST for an event (docs/api/webhooks.md#payloads), the same bytes on every retry:
    `timestamp` is when the event was emitted, not when this attempt was made."""
    return {
        "field": event.field,
        "event": event.event,
        "timestamp": webhook_time(event.created_at),
        "request_id": event.request_id,
        "sequence": event.sequence,
        "subject_id": str(event.subject_id) if event.subject_id else None,
        "payload": event.payload,
    }


def envelope_body(event) -> bytes:
    return json.dumps(
        envelope(event), separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()
