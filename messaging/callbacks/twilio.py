"""Twilio's webhooks, as Sent reads them: message status callbacks
(docs/providers/twilio.md#status-callbacks) and the messages contacts send to our numbers
(docs/providers/twilio.md#inbound-messages). The endpoints, `POST /providers/twilio/status`
and `POST /providers/twilio/inbound`, are in `messaging.callbacks.views`.

Every message we send names the status URL as its `StatusCallback`, with our message id in the
query (`?message_id=…`), so a callback that arrives before Twilio's answer to our send call
still finds its message. The inbound URL is set once on each number or Messaging Service ("A
message comes in").

A request is verified before anything else, the same way on both (`signature_problem`): the
account is found by the form's `AccountSid` (a Twilio provider account with that SID, or the
install's environment account), and `X-Twilio-Signature` is checked with that account's
**auth token** over the URL Twilio called — SITE_URL + path + query, exactly — and the POST
fields. A missing or wrong signature is answered 403, recorded as rejected and never applied.

A verified request is recorded and answered at once, and applied by the callbacks job
(`messaging.callbacks.records`; `callback_read` reads a record back):

- A status becomes a `Receipt` applied by `messaging.receipts.receipts_apply_each`, the path
  the simulator's receipts take, so statuses only move forward and every callback stays in the
  message's history. The answer is an empty 204.
- An inbound message becomes an `Inbound` stored by `messaging.inbound.inbound_receive` (the
  owner of the receiving number, the conversation, keywords and their auto-replies). The answer
  is an empty TwiML `<Response/>`: our replies go out through the API like every other message
  (priced, charged, in the history, from the sender our rules pick), never as TwiML.
"""

import uuid
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

from django.conf import settings
from django.http import QueryDict

from messaging import reasons
from messaging.callbacks.records import Applying, signed_scope
from messaging.inbound import Inbound, inbound_receive
from messaging.models import CallbackOutcome, ProviderAccount, ProviderCallback, ProviderKind
from messaging.providers.accounts import account_secrets
from messaging.providers.twilio import MEDIA_ERRORS, STATUSES, delivery_error_text
from messaging.receipts import Receipt

PROVIDER = ProviderKind.TWILIO


def signing_token(account_sid: str) -> tuple[ProviderAccount | None, str]:
    """(the provider account, its auth token) that signs callbacks for `account_sid`: an
    active Twilio account with that SID, else the environment's (account None); a token of
    "" when none is known. Callbacks are signed with the auth token even when messages are
    sent with an API key."""
    if not account_sid:
        return None, ""
    account = ProviderAccount.objects.filter(
        kind=ProviderKind.TWILIO, account_id=account_sid, is_active=True
    ).first()
    if account is not None:
        return account, account_secrets(account).get("auth_token", "")
    if account_sid == settings.TWILIO_ACCOUNT_SID:
        return None, settings.TWILIO_AUTH_TOKEN
    return None, ""


def status_receipt(fields, message_id: str) -> Receipt | None:
    """Twilio's callback fields as a receipt (None for a status we don't follow)."""
    twilio_status = fields.get("MessageStatus") or fields.get("SmsStatus") or ""
    status = STATUSES.get(twilio_status)
    if status is None:
        return None
    failed = status == "FAILED"
    return Receipt(
        status=status,
        provider_message_id=fields.get("MessageSid") or fields.get("SmsSid") or "",
        message_id=message_id,
        reason_code=_reason_code(fields.get("ErrorCode")) if failed else "",
        reason=delivery_error_text(fields.get("ErrorCode")) if failed else "",
        raw={key: fields.get(key) for key in fields},
    )


def _reason_code(error_code: str | None) -> str:
    """DELIVERY_012 when Twilio says the media was the problem, else DELIVERY_008."""
    try:
        number = int(error_code or 0)
    except ValueError:
        number = 0
    return reasons.MEDIA_UNUSABLE if number in MEDIA_ERRORS else reasons.UNDELIVERED


def _our_id(value: str | None) -> str:
    try:
        return str(uuid.UUID(value)) if value else ""
    except ValueError:
        return ""


def signature_problem(url: str, fields, signature: str) -> tuple[str, ProviderAccount | None]:
    """(why the request isn't Twilio's — "" when it is —, the account whose auth token signed
    it) for a POST of `fields` to `url` with that `X-Twilio-Signature`."""
    account, token = signing_token(fields.get("AccountSid", ""))
    if not token:
        return (
            f"No Twilio account with an auth token for AccountSid {fields.get('AccountSid')!r}",
            None,
        )
    if not signature:
        return "No X-Twilio-Signature header", None
    if not RequestValidator(token).validate(url, fields, signature):
        return "X-Twilio-Signature does not match (is SITE_URL the URL Twilio calls?)", None
    return "", account


def _status_read(fields, url: str, accounts: frozenset) -> Applying:
    message_id = (parse_qs(urlsplit(url).query).get("message_id") or [""])[0]
    receipt = status_receipt(fields, _our_id(message_id))
    if receipt is not None:
        receipt = replace(receipt, accounts=accounts)
    if receipt is None:
        detail = f"Status {fields.get('MessageStatus')!r}: not followed"
        return Applying(finish=lambda _: (CallbackOutcome.IGNORED, detail), writes=False)

    def finish(outcomes: list[str]) -> tuple[str, str]:
        if outcomes == ["unknown"]:
            return CallbackOutcome.IGNORED, "No message of ours has this MessageSid or id"
        if outcomes == ["recorded"]:
            return CallbackOutcome.APPLIED, f"{receipt.status}: recorded, the status stays"
        return CallbackOutcome.APPLIED, ""

    return Applying(finish=finish, receipts=[receipt], writes=False)


def callback_read(record: ProviderCallback) -> Applying:
    """A recorded Twilio request (a status callback or an inbound message), read back."""
    fields = QueryDict(record.body)
    accounts = signed_scope(record, settings.TWILIO_ACCOUNT_SID)
    if record.kind == "inbound":
        return Applying(finish=lambda _: inbound_apply(fields, accounts=accounts))
    return _status_read(fields, record.url, accounts)


# --- inbound messages (docs/providers/twilio.md#inbound-messages) ---------------------------

MAX_MEDIA = 10  # Twilio delivers at most 10 media per message


def inbound_message(fields) -> Inbound:
    """Twilio's inbound webhook fields as an `Inbound`: `MediaUrl{n}` / `MediaContentType{n}`
    for n below `NumMedia` (an MMS when there is one), `MessagingServiceSid` when the number
    is in a Messaging Service. The whole form is kept as the message's provider payload."""
    try:
        count = min(int(fields.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    media = tuple(
        {"url": url, "mime_type": fields.get(f"MediaContentType{n}") or None}
        for n in range(count)
        if (url := fields.get(f"MediaUrl{n}"))
    )
    return Inbound(
        provider=PROVIDER,
        channel="mms" if media else "sms",
        from_number=fields.get("From", ""),
        to=fields.get("To", ""),
        provider_ref=fields.get("MessagingServiceSid", ""),
        provider_message_id=fields.get("MessageSid") or fields.get("SmsMessageSid") or "",
        text=fields.get("Body") or None,
        media=media,
        profile_name=fields.get("ProfileName", ""),
        raw={key: fields.get(key) for key in fields},
    )


def inbound_apply(fields, *, accounts: frozenset | None = None) -> tuple[str, str]:
    """Store the message (or say why not): (outcome, detail) for its callback record."""
    sender = fields.get("From", "")
    if ":" in sender:  # whatsapp:+1…, messenger:…, rcs:… — channels we don't take from Twilio
        kind = sender.split(":", 1)[0]
        return CallbackOutcome.IGNORED, f"A {kind} message through Twilio: not a channel we take"
    if not fields.get("MessageSid") and not fields.get("SmsMessageSid"):
        return CallbackOutcome.IGNORED, "No MessageSid: not an inbound message"
    result = inbound_receive(replace(inbound_message(fields), accounts=accounts))
    if result.outcome == "stored":
        keyword = f", keyword {result.keyword.word}" if result.keyword else ""
        return CallbackOutcome.APPLIED, f"Stored as message {result.message.pk}{keyword}"
    if result.outcome == "duplicate":
        return CallbackOutcome.DUPLICATE, result.detail
    return CallbackOutcome.IGNORED, result.detail
