"""`POST /providers/twilio/status`: Twilio's message status callbacks
(docs/providers/twilio.md#status-callbacks).

Every message we send names this URL as its `StatusCallback`, with our message id in the
query (`?message_id=…`), so a callback that arrives before Twilio's answer to our send call
still finds its message. A request is verified before anything else: the account is found
by the form's `AccountSid` (a Twilio provider account with that SID, or the install's
environment account), and `X-Twilio-Signature` is checked with that account's **auth token**
over the URL Twilio called — SITE_URL + path + query, exactly — and the POST fields. A
missing or wrong signature is answered 403, recorded as rejected and never applied.

A verified request is recorded and applied once (`messaging.callbacks.records`): Twilio's
status becomes a `Receipt` applied by `messaging.receipts.receipts_apply`, the path the
simulator's receipts take, so statuses only move forward and every callback stays in the
message's history. The answer is an empty 204.
"""

import uuid

from twilio.request_validator import RequestValidator

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging import reasons
from messaging.callbacks.records import callback_apply, callback_rejected, public_url
from messaging.models import CallbackOutcome, ProviderAccount, ProviderKind
from messaging.providers.accounts import account_secrets
from messaging.providers.twilio import MEDIA_ERRORS, STATUSES, delivery_error_text
from messaging.receipts import Receipt, receipts_apply

PROVIDER = ProviderKind.TWILIO
KIND = "status"


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


@csrf_exempt
@require_POST
def status(request):
    url = public_url(request)
    body = request.body
    remote_addr = request.META.get("REMOTE_ADDR")
    fields = request.POST
    account, token = signing_token(fields.get("AccountSid", ""))
    signature = request.headers.get("X-Twilio-Signature", "")
    problem = ""
    if not token:
        problem = (
            f"No Twilio account with an auth token for AccountSid {fields.get('AccountSid')!r}"
        )
    elif not signature:
        problem = "No X-Twilio-Signature header"
    elif not RequestValidator(token).validate(url, fields, signature):
        problem = "X-Twilio-Signature does not match (is SITE_URL the URL Twilio calls?)"
    if problem:
        callback_rejected(
            provider=PROVIDER,
            kind=KIND,
            url=url,
            body=body,
            remote_addr=remote_addr,
            detail=problem,
        )
        return HttpResponse(status=403)
    receipt = status_receipt(fields, _our_id(request.GET.get("message_id")))

    def apply() -> tuple[str, str]:
        if receipt is None:
            return CallbackOutcome.IGNORED, f"Status {fields.get('MessageStatus')!r}: not followed"
        counts = receipts_apply([receipt])
        if counts["unknown"]:
            return CallbackOutcome.IGNORED, "No message of ours has this MessageSid or id"
        if counts["recorded"]:
            return CallbackOutcome.APPLIED, f"{receipt.status}: recorded, the status stays"
        return CallbackOutcome.APPLIED, ""

    callback_apply(
        provider=PROVIDER,
        kind=KIND,
        url=url,
        body=body,
        remote_addr=remote_addr,
        account=account,
        apply=apply,
    )
    return HttpResponse(status=204)
