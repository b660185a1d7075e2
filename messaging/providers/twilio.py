"""Twilio Programmable Messaging: SMS and MMS (docs/providers/twilio.md).

One adapter per Twilio account (`Credentials`: the account SID, and its auth token or an API
key SID + secret), built once and shared by every worker thread: it holds one pooled
`httpx.Client`. Base URL and timeouts are read from settings on every call.

- `send`: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP basic
  auth, with `StatusCallback` = SITE_URL + /providers/twilio/status?message_id=<our id>, so a
  callback that arrives before Twilio's answer still finds its message. Twilio's error body
  (`{"code", "message", "more_info", "status"}`) becomes a `ProviderError`: permanent for the
  refusals retrying can't fix, transient (retried with backoff) for throttling, 5xx,
  timeouts and connection errors (docs/providers/twilio.md#error-codes).
- Twilio has no idempotency key for messages, so a message is never sent twice this way: a
  retry (attempt 2 and later) first looks for an earlier attempt's message at Twilio (same
  recipient, sender and body, created since the message was accepted) and answers with it
  if there is one (docs/providers/twilio.md#retries-and-never-sending-twice).
- `fetch` (the reconciler): by Twilio's SID when a callback brought it, else the messages to
  the recipient created since the lost attempt's claim.

A leaf module: plain data in, plain data out; it never touches our models.
"""

import logging
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import httpx

from django.conf import settings
from django.urls import reverse

from messaging import reasons
from messaging.http import http_client
from messaging.providers.base import (
    ChannelProvider,
    OutboundMessage,
    ProviderError,
    ProviderResult,
)
from messaging.providers.config import Credentials

logger = logging.getLogger(__name__)
API_VERSION = "2010-04-01"
# Twilio's message statuses → ours. Twilio's `queued`/`accepted`/`sending` already mean it
# has the message: our SENT ("the provider accepted it").
STATUSES = {
    "accepted": "SENT",
    "scheduled": "SENT",
    "queued": "SENT",
    "sending": "SENT",
    "sent": "SENT",
    "delivered": "DELIVERED",
    "read": "READ",
    "undelivered": "FAILED",
    "failed": "FAILED",
    "canceled": "FAILED",
}
# Twilio's API error codes that retrying can't fix → (our reason code, what it means).
PERMANENT = {
    21211: (reasons.INVALID_NUMBER, "Invalid 'To' phone number"),
    21610: (reasons.UNSUBSCRIBED, "The recipient unsubscribed (replied STOP) from this sender"),
    21614: (reasons.NOT_MOBILE, "'To' number is not a valid mobile number"),
    21612: (reasons.REJECTED, "The 'To' number can't be reached from this 'From' number"),
    21408: (reasons.PROVIDER_ERROR, "Sending to this region is not enabled on the account"),
    21606: (reasons.PROVIDER_ERROR, "The 'From' number can't send messages on this account"),
    21659: (reasons.PROVIDER_ERROR, "The 'From' number is not a Twilio number of the account"),
    21602: (reasons.PROVIDER_ERROR, "Message body is required"),
    21617: (reasons.PROVIDER_ERROR, "The message body exceeds 1,600 characters"),
    21619: (reasons.PROVIDER_ERROR, "A text body or media URL is required"),
    21620: (reasons.MEDIA_UNUSABLE, "Invalid media URL"),
    21623: (reasons.MEDIA_UNUSABLE, "Too many media URLs"),
    21703: (reasons.PROVIDER_ERROR, "The Messaging Service has no phone number to send from"),
    20003: (reasons.PROVIDER_ERROR, "Twilio refused the account's credentials"),
    20404: (reasons.PROVIDER_ERROR, "Twilio has no such account or resource"),
}
# Codes Twilio answers that say "later": throttling and queue overflow.
TRANSIENT = {20429, 21611, 20500, 20503}
# Twilio's `ErrorCode` of an undelivered/failed message (status callbacks), for its reason.
DELIVERY_ERRORS = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered by the carrier",
    30008: "Unknown error",
    30009: "Missing segment",
    30010: "Message price exceeds max price",
    30019: "Content size exceeds the carrier limit",
    30032: "Toll-free number not verified",
    30034: "Message from an unregistered number (A2P 10DLC)",
    11200: "Twilio couldn't fetch the media URL",
    12300: "The media's content type is not accepted",
    11751: "The media is too large",
}
# Delivery errors about the message's media, reported as DELIVERY_012.
MEDIA_ERRORS = {11200, 12300, 11751, 30019}
# How far Twilio's clock (its `date_created`) may be from ours when looking for a message.
CLOCK_SKEW = timedelta(seconds=60)
LIST_PAGE_SIZE = 100
RESOURCE_FIELDS = (
    "sid",
    "account_sid",
    "messaging_service_sid",
    "to",
    "from",
    "status",
    "direction",
    "num_segments",
    "num_media",
    "price",
    "price_unit",
    "error_code",
    "error_message",
    "date_created",
    "date_sent",
    "date_updated",
    "api_version",
    "uri",
)


def status_callback_url(message_id: str) -> str:
    """The StatusCallback of a message: SITE_URL + the callback's path + our id (what Twilio
    calls, and signs, for each of its status changes)."""
    return f"{settings.SITE_URL}{reverse('twilio-status')}?message_id={message_id}"


def delivery_error_text(code) -> str:
    """Twilio's ErrorCode of a failed delivery, as the reason a message shows."""
    try:
        number = int(code)
    except (TypeError, ValueError):
        return "Twilio reported the message undelivered"
    return f"Twilio {number}: {DELIVERY_ERRORS.get(number, 'undelivered')}"


def twilio_time(value: str | None) -> datetime | None:
    """Twilio's RFC 2822 timestamps ("Thu, 24 Aug 2023 05:01:45 +0000")."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _resource(body: dict) -> dict:
    """What we keep of a Message resource: its fields, no links (never a secret in it)."""
    return {name: body.get(name) for name in RESOURCE_FIELDS if name in body}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        when = twilio_time(value)  # an HTTP date
        if when is None:
            return None
        return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


class TwilioSms(ChannelProvider):
    name = "twilio"
    channel = "sms"
    concurrent = True  # a pooled, thread-safe HTTP client and no database access

    def __init__(self, credentials: Credentials):
        if credentials is None or not credentials.account_id:
            raise ValueError("A Twilio adapter needs the account SID")
        self.account_sid = credentials.account_id
        api_key, api_secret = (
            credentials.secret("api_key_sid"),
            credentials.secret("api_key_secret"),
        )
        if api_key and api_secret:  # an API key: the account SID stays in the URL
            self._auth = (api_key, api_secret)
        else:
            self._auth = (self.account_sid, credentials.secret("auth_token"))
        self.client = http_client(timeout=settings.PROVIDER_TIMEOUT)

    # --- HTTP -------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{settings.TWILIO_API_URL}/{API_VERSION}/Accounts/{self.account_sid}/{path}"

    def _call(self, method: str, path: str, *, headers=None, **kwargs) -> httpx.Response:
        """One request; network failures become transient `ProviderError`s."""
        timeout = httpx.Timeout(
            settings.PROVIDER_TIMEOUT, connect=settings.PROVIDER_CONNECT_TIMEOUT
        )
        try:
            return self.client.request(
                method,
                self._url(path),
                auth=self._auth,
                timeout=timeout,
                headers={"Accept": "application/json", **(headers or {})},
                **kwargs,
            )
        except httpx.ConnectError as error:
            raise ProviderError(
                f"Twilio could not be reached: {error}", code=reasons.RETRIES_EXHAUSTED
            ) from error
        except httpx.TimeoutException as error:
            raise ProviderError(
                f"Twilio did not answer in time ({type(error).__name__})",
                code=reasons.RETRIES_EXHAUSTED,
            ) from error
        except httpx.HTTPError as error:
            raise ProviderError(
                f"Twilio request failed: {type(error).__name__}: {error}",
                code=reasons.PROVIDER_ERROR,
            ) from error

    @staticmethod
    def _body(response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            return {"status": response.status_code, "message": response.text[:300]}
        return body if isinstance(body, dict) else {"status": response.status_code}

    def _error(self, response: httpx.Response) -> ProviderError:
        """Twilio's answer to a refused request as a ProviderError."""
        body = self._body(response)
        code = body.get("code")
        text = body.get("message") or f"HTTP {response.status_code}"
        raw = {
            name: body.get(name)
            for name in ("code", "message", "more_info", "status")
            if name in body
        }
        raw.setdefault("status", response.status_code)
        label = f"Twilio {code}: {text}" if code else f"Twilio HTTP {response.status_code}: {text}"
        if response.status_code == 429 or response.status_code >= 500 or code in TRANSIENT:
            return ProviderError(
                label,
                code=reasons.RETRIES_EXHAUSTED,
                raw=raw,
                retry_after=_retry_after(response),
                rate_limited=response.status_code == 429 or code == 20429,
            )
        reason, meaning = PERMANENT.get(code, (reasons.PROVIDER_ERROR, text))
        return ProviderError(
            f"Twilio {code}: {meaning}" if code in PERMANENT else label,
            permanent=True,
            code=reason,
            raw=raw,
            opt_out=code == 21610,
        )

    def _result(self, body: dict, **extra) -> ProviderResult:
        return ProviderResult(
            provider_message_id=body.get("sid", ""),
            status=STATUSES.get(body.get("status", ""), "SENT"),
            raw={"provider": self.name, **_resource(body), **extra},
        )

    # --- sending ----------------------------------------------------------------------

    def form(self, message: OutboundMessage) -> list[tuple[str, str]]:
        """The form Twilio is sent for `message` (`MediaUrl` repeated)."""
        fields = [("To", message.to)]
        if message.sender_ref.startswith("MG"):
            fields.append(("MessagingServiceSid", message.sender_ref))
        else:
            fields.append(("From", message.from_number))
        if message.body:
            fields.append(("Body", message.body))
        fields.append(("StatusCallback", status_callback_url(message.message_id)))
        return fields

    def send(self, message: OutboundMessage) -> ProviderResult:
        if message.attempt > 1:
            earlier = self._earlier_attempt(message)
            if earlier is not None:
                return earlier
        response = self._call(
            "POST",
            "Messages.json",
            content=urlencode(self.form(message)),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status_code in (200, 201):
            return self._result(self._body(response))
        raise self._error(response)

    def _list(self, to: str, since: datetime, *, from_number: str = "") -> list[dict]:
        """Twilio's outbound messages to `to` (from `from_number`) created since `since`,
        oldest first. Not filtered by `DateSent`: Twilio leaves it empty while a message is
        still queued, and a queued message is exactly what we look for. One page: the
        recipient's latest LIST_PAGE_SIZE messages."""
        params = {"To": to, "PageSize": LIST_PAGE_SIZE}
        if from_number:
            params["From"] = from_number
        response = self._call("GET", "Messages.json", params=params)
        if response.status_code != 200:
            raise self._error(response)
        found = []
        for item in self._body(response).get("messages") or []:
            created = twilio_time(item.get("date_created"))
            outbound = str(item.get("direction", "")).startswith("outbound")
            if outbound and created is not None and created >= since - CLOCK_SKEW:
                found.append(item)
        return sorted(found, key=lambda item: twilio_time(item["date_created"]))

    def _earlier_attempt(self, message: OutboundMessage) -> ProviderResult | None:
        """Before a retry: the message an earlier attempt left at Twilio, if any (an attempt
        whose answer was lost: a timeout after Twilio took it). A failed look-up is a
        transient error: better later than twice."""
        since = message.accepted_at or datetime.now().astimezone() - timedelta(days=1)
        try:
            candidates = self._list(
                message.to,
                since,
                from_number="" if message.sender_ref.startswith("MG") else message.from_number,
            )
        except ProviderError as error:
            raise ProviderError(
                f"Could not check whether an earlier attempt reached Twilio: {error.message}",
                code=error.code,
                raw=error.raw,
                retry_after=error.retry_after,
            ) from error
        for item in candidates:
            same_sender = (
                item.get("messaging_service_sid") == message.sender_ref
                if message.sender_ref.startswith("MG")
                else item.get("from") == message.from_number
            )
            if same_sender and (item.get("body") or "") == message.body:
                return self._result(item, found_before_retry=True)
        return None

    # --- what Twilio knows --------------------------------------------------------------

    def fetch(
        self,
        message_id: str,
        *,
        provider_message_id: str = "",
        to: str = "",
        claimed_at: datetime | None = None,
    ) -> ProviderResult | None:
        """Twilio's message for our `message_id`, or None when Twilio has nothing that could
        be it (the reconciler then sends it again).

        With the SID (a status callback brought it): that message. Without, Twilio can't be
        asked by our id — its Message resource doesn't echo the StatusCallback URL that
        carries it — so the candidates are its outbound messages to `to` created since the
        lost attempt's claim: none → None; one → that message; several → SENT without a
        SID (not sent again; the message's callbacks, which carry our id, fill it in).
        Errors propagate: the reconciler asks again on its next pass.
        """
        if provider_message_id:
            response = self._call("GET", f"Messages/{provider_message_id}.json")
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise self._error(response)
            return self._result(self._body(response), fetched=True)
        if not to or claimed_at is None:
            raise ProviderError("Twilio can't be asked about a message without its recipient")
        candidates = self._list(to, claimed_at)
        if not candidates:
            return None
        if len(candidates) == 1:
            return self._result(candidates[0], fetched=True)
        return ProviderResult(
            provider_message_id="",
            status="SENT",
            raw={
                "provider": self.name,
                "fetched": True,
                "candidates": [item.get("sid") for item in candidates],
            },
        )


class TwilioMms(TwilioSms):
    """MMS through the same account and senders: the SMS form plus `MediaUrl`, repeated.
    Twilio has no subject field: the subject stays in the message's provider payload."""

    channel = "mms"

    def form(self, message: OutboundMessage) -> list[tuple[str, str]]:
        fields = super().form(message)
        fields += [("MediaUrl", url) for url in message.payload.get("media_urls") or []]
        return fields
