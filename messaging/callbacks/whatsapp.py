"""The WhatsApp Cloud API webhook, as Sent reads it (docs/providers/whatsapp.md#the-webhook);
the endpoint, `/providers/whatsapp/webhook`, is in `messaging.callbacks.views`.

- GET is Meta's verification handshake: `hub.mode=subscribe` with a `hub.verify_token` that
  is one of our accounts' verify tokens (`verify_tokens`, or `WHATSAPP_VERIFY_TOKEN`) answers
  `hub.challenge` as plain text; anything else 403.
- POST carries `{"object": "whatsapp_business_account", "entry": [{"id": <WABA id>,
  "changes": [{"field", "value"}]}]}`, signed `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
  the raw body with the app secret>`: the secret of the account whose WABA id the entries
  name, else the environment's (`signing_secrets`, `signature_check`). A missing or wrong
  signature is answered 403, recorded as rejected and never applied. A verified request is
  recorded, answered, and applied once by the callbacks job (`messaging.callbacks.records`;
  `callback_read` reads a record back): `messages` statuses become receipts (applied with every
  other pending callback's), `messages` inbound messages become `Inbound`s stored by
  `messaging.inbound.inbound_receive` (which opens the 24-hour window),
  `message_template_status_update` the template's verdict.
"""

import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.conf import settings

from messaging import reasons
from messaging.callbacks.records import Applying, signed_scope
from messaging.inbound import Inbound, inbound_receive
from messaging.models import CallbackOutcome, ProviderAccount, ProviderCallback, ProviderKind
from messaging.providers.accounts import account_secrets
from messaging.providers.whatsapp_cloud import NOT_REACHABLE_CODES
from messaging.providers.whatsapp_templates import template_status_apply
from messaging.receipts import Receipt
from messaging.statuses import MessageStatus

PROVIDER = ProviderKind.CLOUD_API
STATUSES = {
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    "failed": MessageStatus.FAILED,
}


@dataclass(frozen=True)
class Change:
    """One `entry[].changes[]` item of a webhook."""

    waba_id: str
    field: str
    value: dict


def _changes(payload) -> list[Change]:
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return []
    changes = []
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                changes.append(
                    Change(str(entry.get("id") or ""), str(change.get("field")), change["value"])
                )
    return changes


def _kind(changes: list[Change]) -> str:
    kinds = set()
    for change in changes:
        if change.field == "message_template_status_update":
            kinds.add("template_status")
        elif change.field == "messages":
            if change.value.get("statuses"):
                kinds.add("status")
            if change.value.get("messages"):
                kinds.add("inbound")
        else:
            kinds.add(change.field[:32])
    return kinds.pop() if len(kinds) == 1 else "webhook"


# --- statuses → receipts ----------------------------------------------------------------


def _our_id(value) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


def status_receipt(status: dict) -> Receipt | None:
    """A `statuses[]` item as a receipt about a WhatsApp message (None: not one we follow)."""
    ours = STATUSES.get(str(status.get("status") or "").lower())
    if ours is None or not (status.get("id") or status.get("biz_opaque_callback_data")):
        return None
    try:
        occurred_at = datetime.fromtimestamp(int(status.get("timestamp")), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        occurred_at = None
    reason_code, reason, not_reachable = "", "", False
    if ours == MessageStatus.FAILED:
        errors = status.get("errors") or [{}]
        error = errors[0] if isinstance(errors[0], dict) else {}
        code = error.get("code")
        title = error.get("title") or error.get("message") or "Failed"
        error_data = error.get("error_data")
        details = error_data.get("details") if isinstance(error_data, dict) else ""
        not_reachable = code in NOT_REACHABLE_CODES
        reason_code = reasons.NOT_REACHABLE if not_reachable else reasons.UNDELIVERED
        reason = f"{title} (Meta {code})" + (f": {details}" if details else "")
    pricing = status.get("pricing") if isinstance(status.get("pricing"), dict) else {}
    conversation = status.get("conversation")
    conversation = conversation if isinstance(conversation, dict) else {}
    return Receipt(
        status=ours,
        provider_message_id=str(status.get("id") or ""),
        message_id=_our_id(status.get("biz_opaque_callback_data")),
        channel="whatsapp",
        reason_code=reason_code,
        reason=reason,
        occurred_at=occurred_at,
        raw=status,
        not_reachable=not_reachable,
        pricing_category=str(pricing.get("category") or "")[:32],
        conversation_id=str(conversation.get("id") or "")[:64],
    )


# --- inbound messages → messaging.inbound (docs/providers/whatsapp.md#inbound-messages) -----

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _content(message: dict) -> tuple[str | None, tuple, dict | None] | None:
    """(text, media, button) of a `messages[]` item; None for a type we don't store."""
    kind = message.get("type")
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return _text(body.get("body")) or None, (), None
    if kind == "button":  # a template's quick-reply button
        text = _text(body.get("text"))
        button = {"type": "QUICK_REPLY", "text": text, "value": None}
        return text or None, (), {**button, "postbackData": _text(body.get("payload")) or None}
    if kind == "interactive":  # a reply button or a list row of an interactive message
        reply_kind = _text(body.get("type"))
        reply = body.get(reply_kind) if reply_kind in ("button_reply", "list_reply") else None
        if not isinstance(reply, dict):
            return None
        title = _text(reply.get("title"))
        button = {
            "type": reply_kind.upper(),
            "text": title,
            "value": _text(reply.get("description")) or None,
            "postbackData": _text(reply.get("id")) or None,
        }
        return title or None, (), button
    if kind in MEDIA_TYPES:
        # A reference only: Meta's file is fetched with the access token
        # (GET /{media-id}), which Sent doesn't do; the caption is the text.
        item = {
            "url": None,
            "id": _text(body.get("id")) or None,
            "kind": kind,
            "mime_type": _text(body.get("mime_type")) or None,
            "hash_sha256": _text(body.get("sha256")) or None,
        }
        if body.get("filename"):
            item["filename"] = _text(body.get("filename"))
        return _text(body.get("caption")) or None, (item,), None
    return None


def inbound_messages(change: Change) -> list[Inbound | str]:
    """The `messages[]` of a `messages` change: an `Inbound` each, or why it isn't stored."""
    value = change.value
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    display = re.sub(r"\D", "", str(metadata.get("display_phone_number") or ""))
    names = {
        _text(contact.get("wa_id")): _text((contact.get("profile") or {}).get("name"))
        for contact in value.get("contacts") or []
        if isinstance(contact, dict) and isinstance(contact.get("profile") or {}, dict)
    }
    found: list[Inbound | str] = []
    for message in value.get("messages") or []:
        if not isinstance(message, dict):
            continue
        wamid, sender = _text(message.get("id")), _text(message.get("from"))
        content = _content(message)
        if content is None:
            found.append(f"{wamid or 'a message'}: type {message.get('type')!r} not stored")
            continue
        if not sender or not wamid:
            found.append(f"{wamid or 'a message'}: no sender's number or no id")
            continue
        text, media, button = content
        found.append(
            Inbound(
                provider=PROVIDER,
                channel="whatsapp",
                from_number=sender,
                to=f"+{display}" if display else "",
                provider_ref=str(metadata.get("phone_number_id") or ""),
                provider_message_id=wamid,
                text=text,
                media=media,
                button=button,
                profile_name=names.get(sender) or "",
                received_at=_timestamp(message.get("timestamp")),
                raw=message,
            )
        )
    return found


def _inbound(change: Change, accounts: frozenset | None = None) -> tuple[int, list[str]]:
    """Store the change's inbound messages: (how many were stored, what happened to the rest)."""
    stored, notes = 0, []
    for item in inbound_messages(change):
        if isinstance(item, str):
            notes.append(item)
            continue
        result = inbound_receive(replace(item, accounts=accounts))
        if result.outcome == "stored":
            stored += 1
        else:
            notes.append(f"{item.provider_message_id}: {result.outcome}: {result.detail}")
    return stored, notes


def _payload(body: str | bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


def webhook_read(body: bytes) -> tuple[str, list[str]]:
    """(the kind of record a webhook makes — status, inbound, template_status, … or webhook
    when mixed —, the WABA ids its entries name: whose app secret signs it)."""
    payload = _payload(body)
    changes = _changes(payload)
    waba_ids = sorted({change.waba_id for change in changes})
    if not waba_ids and isinstance(payload, dict):
        waba_ids = [str(e.get("id")) for e in payload.get("entry") or [] if isinstance(e, dict)]
    return _kind(changes), waba_ids


def callback_read(record: ProviderCallback) -> Applying:
    """A recorded webhook, read back: its statuses as receipts; the rest (inbound messages,
    template verdicts) applied by `finish`, which also says what happened to the statuses."""
    changes = _changes(_payload(record.body))
    accounts = _signers(record, {change.waba_id for change in changes})
    receipts = [
        replace(receipt, accounts=accounts)
        for change in changes
        if change.field == "messages"
        for status in change.value.get("statuses") or []
        if isinstance(status, dict) and (receipt := status_receipt(status)) is not None
    ]

    def finish(outcomes: list[str]) -> tuple[str, str]:
        details, changed = [], False
        for change in changes:
            if change.field == "messages":
                if change.value.get("messages"):
                    stored, notes = _inbound(change, accounts)
                    changed |= bool(stored)
                    details += [f"inbound: {stored} stored", *notes]
            elif change.field == "message_template_status_update":
                did, detail = template_status_apply(change.value, accounts=accounts)
                changed |= did
                details.append(detail)
            else:
                details.append(f"field {change.field}: not handled")
        if receipts:
            applied, recorded = outcomes.count("applied"), outcomes.count("recorded")
            changed |= bool(applied or recorded)
            details.insert(
                0,
                f"statuses: {applied} applied, {recorded} recorded, "
                f"{outcomes.count('unknown')} of unknown messages",
            )
        if not details:
            details.append("nothing for us in it")
        outcome = CallbackOutcome.APPLIED if changed else CallbackOutcome.IGNORED
        return outcome, "; ".join(details)

    statuses_only = all(
        change.field == "messages" and not change.value.get("messages") for change in changes
    )
    return Applying(finish=finish, receipts=receipts, writes=not statuses_only)


def _signers(record: ProviderCallback, waba_ids: set) -> frozenset:
    """`signed_scope` of a webhook: the account whose app secret verified it, every other
    account of the WABAs it names with that same secret (one Meta app for several WABAs), and
    the install's default route when the secret is the install's."""
    secret = (
        account_secrets(record.account).get("app_secret", "")
        if record.account_id
        else settings.WHATSAPP_APP_SECRET
    )
    also = [
        account
        for account in _cloud_accounts(account_id__in=[w for w in waba_ids if w])
        if account.pk != record.account_id and account_secrets(account).get("app_secret") == secret
    ]
    return signed_scope(
        record,
        settings.WHATSAPP_BUSINESS_ACCOUNT_ID,
        also=also,
        environment_too=bool(secret) and secret == settings.WHATSAPP_APP_SECRET,
    )


# --- verification -------------------------------------------------------------------------


def _cloud_accounts(**filters):
    return ProviderAccount.objects.filter(kind=PROVIDER, is_active=True, **filters)


def verify_tokens() -> list[str]:
    tokens = [settings.WHATSAPP_VERIFY_TOKEN]
    tokens += [account_secrets(account).get("verify_token", "") for account in _cloud_accounts()]
    return [token for token in tokens if token]


def signing_secrets(waba_ids: list[str]) -> list[tuple[ProviderAccount | None, str]]:
    """(account, app secret) to check a request naming these WABAs with: their accounts',
    else the environment's."""
    found = [
        (account, account_secrets(account).get("app_secret", ""))
        for account in _cloud_accounts(account_id__in=[w for w in waba_ids if w])
    ]
    if not found:
        found = [(None, settings.WHATSAPP_APP_SECRET)]
    return [(account, secret) for account, secret in found if secret]


def signature_check(body: bytes, header: str, secrets) -> tuple[bool, ProviderAccount | None, str]:
    """(verified, the account whose secret signed it, why not)."""
    if not header:
        return False, None, "No X-Hub-Signature-256 header"
    if not secrets:
        return False, None, "No app secret to check the signature with (WHATSAPP_APP_SECRET)"
    given = header.removeprefix("sha256=")
    for account, secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, given):
            return True, account, ""
    return False, None, "X-Hub-Signature-256 doesn't match the body"
