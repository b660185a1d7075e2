"""The callback endpoints Twilio and Meta call (docs/providers/README.md#callbacks): each checks
the request's signature, records it (`messaging.callbacks.records`) and answers at once, as
the provider expects; the callbacks job applies what was recorded. How each provider's requests
are read: `messaging.callbacks.twilio`, `messaging.callbacks.whatsapp`."""

import hmac

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from messaging.callbacks import twilio, whatsapp
from messaging.callbacks.records import callback_record, callback_rejected, public_url
from messaging.models import CallbackOutcome
from messaging.tasks import SCHEDULER

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _record(request, *, provider: str, kind: str, problem: str, account) -> int | None:
    """Record the request — rejected when there is a `problem` with its signature (403) or
    its body is over PROVIDER_CALLBACK_MAX_BYTES (413), else pending (or a duplicate) — and
    give the status to refuse it with (None: recorded to be applied)."""
    record = dict(
        provider=provider,
        kind=kind,
        url=public_url(request),
        body=request.body,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    if problem:
        callback_rejected(**record, detail=problem)
        return 403
    outcome = callback_record(**record, account=account, scheduler=SCHEDULER)
    return 413 if outcome == CallbackOutcome.REJECTED else None


def _twilio(request, kind: str) -> int | None:
    request.body  # first: reading the form would consume it  # noqa: B018
    problem, account = twilio.signature_problem(
        public_url(request), request.POST, request.headers.get("X-Twilio-Signature", "")
    )
    return _record(request, provider=twilio.PROVIDER, kind=kind, problem=problem, account=account)


@csrf_exempt
@require_POST
def twilio_status(request):
    """Twilio's status callback: an empty 204 once recorded."""
    refused = _twilio(request, "status")
    return HttpResponse(status=refused or 204)


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """A message to one of our numbers: an empty TwiML answer whatever happens to it (Twilio
    retrying can't change it; our replies go out through the API, not as TwiML)."""
    refused = _twilio(request, "inbound")
    if refused:
        return HttpResponse(status=refused)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _handshake(request) -> HttpResponse:
    token = request.GET.get("hub.verify_token", "")
    if request.GET.get("hub.mode") == "subscribe" and any(
        hmac.compare_digest(token.encode(), known.encode()) for known in whatsapp.verify_tokens()
    ):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponse("Verification failed", status=403, content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request) -> HttpResponse:
    """Meta's verification handshake (GET), or a webhook (POST): "OK" once recorded."""
    if request.method == "GET":
        return _handshake(request)
    body = request.body
    kind, waba_ids = whatsapp.webhook_read(body)
    verified, account, problem = whatsapp.signature_check(
        body, request.headers.get("X-Hub-Signature-256", ""), whatsapp.signing_secrets(waba_ids)
    )
    refused = _record(
        request, provider=whatsapp.PROVIDER, kind=kind, problem=problem, account=account
    )
    if refused == 403:
        return HttpResponse("Invalid signature", status=403, content_type="text/plain")
    if refused:
        return HttpResponse("Too large", status=refused, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain")
