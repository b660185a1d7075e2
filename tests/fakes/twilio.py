"""A local Twilio Programmable Messaging API (docs/providers/twilio.md), on 127.0.0.1.

Answers like Twilio's 2010-04-01 REST API: `POST /2010-04-01/Accounts/{sid}/Messages.json`
(form-encoded, HTTP basic auth with the account SID + auth token or an API key SID + secret)
→ 201 with the Message resource; `GET …/Messages/{sid}.json`; `GET …/Messages.json?To=&From=`
(newest first); errors in Twilio's body `{"code", "message", "more_info", "status"}`.

It keeps its own store of messages and calls each message's `StatusCallback` back, on the
test's command, with the form fields Twilio posts, signed with `X-Twilio-Signature` exactly as
Twilio computes it (the official `twilio` package's `RequestValidator.compute_signature`):

    fake = FakeTwilio().start()
    fake.invalid.add("+14155550100")        # 21211
    fake.unsubscribed.add("+14155550101")   # 21610
    fake.landlines.add("+14155550102")      # 21614
    fake.slow_numbers["+14155550103"] = 1.5  # its create answers 1.5 s late
    fake.callbacks_before_reply = ["sent"]  # post these callbacks, then answer the POST
    fake.deliver(sid)                       # sent, then delivered
    fake.callback(sid, "undelivered", error_code=30003)
    fake.throttle(retry_after=2)            # the next request: 429 with Retry-After
    fake.outage(503)                        # every request: 503 (Twilio's 20503 body)

And it delivers what contacts send to our numbers, as Twilio's "A message comes in" webhook
does: a form-encoded POST to `inbound_url`, signed the same way:

    fake.inbound_url = live_server.url + "/providers/twilio/inbound"
    fake.inbound("+14155550112", "+15005550006", "Is my order on its way?")
    fake.inbound("+14155550112", "+15005550006", "", media=["image/jpeg"])   # an MMS
    fake.opt_out_handling = True  # Twilio's own STOP handling: later sends to them → 21610
"""

import base64
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
from twilio.request_validator import RequestValidator

from tests.fakes.server import FakeProvider, FakeRequest, Reply

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$")
DOCS = "https://www.twilio.com/docs/errors/{}"
OUTAGES = {500: (20500, "Internal Server Error"), 503: (20503, "Service Unavailable")}
# Twilio's default opt-out keywords (the whole body, case-insensitive) → its `OptOutType`.
OPT_OUT_TYPES = {
    **dict.fromkeys(
        ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"], "STOP"
    ),
    **dict.fromkeys(["START", "UNSTOP", "YES", "OPTIN"], "START"),
    **dict.fromkeys(["HELP", "INFO"], "HELP"),
}


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC))  # "Thu, 24 Aug 2023 05:01:45 +0000"


def twilio_error(code: int, message: str, status: int) -> Reply:
    return Reply(
        status,
        {"code": code, "message": message, "more_info": DOCS.format(code), "status": status},
    )


class FakeTwilio(FakeProvider):
    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        api_key_sid: str | None = None,
        api_key_secret: str | None = None,
    ):
        super().__init__()
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.api_key_sid = api_key_sid or new_sid("SK")
        self.api_key_secret = api_key_secret or secrets.token_hex(16)
        self.messaging_services: set[str] = set()
        self.invalid: set[str] = set()
        self.unsubscribed: set[str] = set()
        self.landlines: set[str] = set()
        # To → seconds a create waits before Twilio takes the message and answers (past the
        # client's timeout: Twilio has it, the client never heard).
        self.slow_numbers: dict[str, float] = {}
        # Statuses to call back, in order, BEFORE answering a create (as when Twilio is quick
        # and our answer slow); [] = answer first.
        self.callbacks_before_reply: list[str] = []
        self.messages: dict[str, dict] = {}  # sid → the Message resource
        self.callback_urls: dict[str, str] = {}  # sid → its StatusCallback
        self.callbacks_sent: list[tuple[str, dict, int]] = []  # (url, form, our answer)
        self._dlr_done: dict[str, str] = {}  # sid → the carrier's done date (YYMMDDhhmm)
        # The client callbacks go out on (None: a connection of their own each; a process
        # serving the fake at volume shares a pooled one: tests/fakes/serve.py).
        self.callback_client: httpx.Client | None = None
        # Run after each callback this fake posts, once answered (a test's stand-in for the
        # worker that applies recorded callbacks: tests/messaging/providers/conftest.py).
        self.after_callback: Callable[[], object] | None = None
        self._store_lock = threading.Lock()
        self.inbound_url = ""  # our inbound webhook ("A message comes in"), set by the test
        self.inbounds_sent: list[tuple[dict, int]] = []  # (form, our answer)
        # Twilio's own STOP handling (on for every number unless the account turned it off):
        # STOP from a contact blocks our sends to them from that number (21610); START lifts it.
        self.opt_out_handling = False
        self.stopped: set[tuple[str, str]] = set()  # (our number or service, the contact)

    # --- what a test tells the fake --------------------------------------------------

    def throttle(self, *, retry_after: int = 1) -> None:
        """The next request is refused with 429 (20429) and a Retry-After header."""
        reply = twilio_error(20429, "Too Many Requests", 429)
        reply.headers["Retry-After"] = str(retry_after)
        self.fail_next(reply)

    def creates(self, to: str | None = None) -> list[FakeRequest]:
        """The create (POST) requests received, optionally those to `to`."""
        return [
            r
            for r in list(self.received)
            if r.method == "POST"
            and r.path.endswith("/Messages.json")
            and (to is None or r.form.get("To", [""])[0] == to)
        ]

    def messages_to(self, to: str) -> list[dict]:
        return [m for m in self.messages.values() if m["to"] == to]

    def sid_for(self, message_id: str) -> str:
        """The SID of the message created with our `message_id` in its StatusCallback."""
        [sid] = [
            sid for sid, url in self.callback_urls.items() if f"message_id={message_id}" in url
        ]
        return sid

    def callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        signature: str | None = None,
        sign: bool = True,
        token: str | None = None,
    ) -> httpx.Response:
        """POST Twilio's status callback for message `sid` to its StatusCallback URL.

        Signed with the account's auth token (or `token`); `signature=` sends that header
        instead, `sign=False` none at all. The message's status in the store follows.
        """
        with self._store_lock:
            message = self.messages[sid]
            message["status"] = status
            if status in ("undelivered", "failed"):
                message["error_code"] = error_code or 30008
            message["date_updated"] = rfc2822(datetime.now(UTC))
            if status in ("sent", "delivered") and message["date_sent"] is None:
                message["date_sent"] = message["date_updated"]
        form = {
            "ApiVersion": "2010-04-01",
            "AccountSid": self.account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": message["to"],
            "From": message["from"] or "+15005550006",
        }
        if message["messaging_service_sid"]:
            form["MessagingServiceSid"] = message["messaging_service_sid"]
        if status in ("undelivered", "failed"):
            form["ErrorCode"] = str(message["error_code"])
        if status == "delivered":
            form["RawDlrDoneDate"] = self._dlr_done.setdefault(
                sid, datetime.now(UTC).strftime("%y%m%d%H%M")
            )
        url = self.callback_urls[sid]
        headers = {}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        elif sign:
            validator = RequestValidator(token or self.auth_token)
            headers["X-Twilio-Signature"] = validator.compute_signature(url, form)
        post = self.callback_client.post if self.callback_client else httpx.post
        response = post(url, data=form, headers=headers, timeout=10)
        self.callbacks_sent.append((url, form, response.status_code))
        if self.after_callback is not None:
            self.after_callback()
        return response

    def deliver(self, sid: str) -> None:
        """Twilio's usual sequence after a create: sent, then delivered."""
        self.callback(sid, "sent")
        self.callback(sid, "delivered")

    def signature(self, url: str, form: dict, *, token: str | None = None) -> str:
        """`X-Twilio-Signature` of a POST of `form` to `url`, as Twilio computes it."""
        return RequestValidator(token or self.auth_token).compute_signature(url, form)

    def inbound_form(
        self,
        from_: str,
        to: str,
        body: str = "",
        *,
        media: list | None = None,
        messaging_service_sid: str | None = None,
        sid: str | None = None,
    ) -> dict:
        """The fields of Twilio's inbound webhook for a message `from_` a contact `to` our
        number. `media`: content types (Twilio hosts the files) or (url, content type) pairs."""
        media = list(media or [])
        sid = sid or new_sid("MM" if media else "SM")
        form = {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            "ToCity": "",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "CA",
            "SmsStatus": "received",
            "FromCity": "SAN FRANCISCO",
            "Body": body,
            "FromCountry": "US",
            "To": to,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "ApiVersion": "2010-04-01",
        }
        if messaging_service_sid:
            form["MessagingServiceSid"] = messaging_service_sid
        for n, item in enumerate(media):
            url, content_type = (
                item
                if isinstance(item, tuple)
                else (
                    "https://api.twilio.com/2010-04-01/Accounts/"
                    f"{self.account_sid}/Messages/{sid}/Media/{new_sid('ME')}",
                    item,
                )
            )
            form[f"MediaContentType{n}"] = content_type
            form[f"MediaUrl{n}"] = url
        word = unicodedata.normalize("NFKC", body).strip().upper()
        if self.opt_out_handling:
            kind = OPT_OUT_TYPES.get(word, "")
            if kind:
                form["OptOutType"] = kind  # as Advanced Opt-Out adds it
            with self._store_lock:
                if kind == "STOP":
                    self.stopped.add((messaging_service_sid or to, from_))
                elif kind == "START":
                    self.stopped.discard((messaging_service_sid or to, from_))
        return form

    def post_inbound(
        self,
        form: dict,
        *,
        signature: str | None = None,
        sign: bool = True,
        token: str | None = None,
        client: httpx.Client | None = None,
    ) -> httpx.Response:
        """POST an inbound webhook `form` to `inbound_url`, form-encoded, signed with the
        account's auth token (or `token`); `signature=` sends that header instead, `sign=False`
        none at all."""
        headers = {
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": form["MessageSid"],
        }
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        elif sign:
            headers["X-Twilio-Signature"] = self.signature(self.inbound_url, form, token=token)
        post = client.post if client is not None else httpx.post
        response = post(self.inbound_url, data=form, headers=headers, timeout=30)
        with self._store_lock:
            self.inbounds_sent.append((form, response.status_code))
        if self.after_callback is not None:
            self.after_callback()
        return response

    def inbound(self, from_: str, to: str, body: str = "", **options) -> httpx.Response:
        """A contact's message `from_` their number `to` ours, delivered to `inbound_url`
        (options: those of `inbound_form` and `post_inbound`)."""
        form_options = {
            key: options.pop(key)
            for key in ("media", "messaging_service_sid", "sid")
            if key in options
        }
        return self.post_inbound(self.inbound_form(from_, to, body, **form_options), **options)

    # --- the API ---------------------------------------------------------------------

    def outage_reply(self, status: int) -> Reply:
        code, text = OUTAGES.get(status, (20500, "Internal Server Error"))
        return twilio_error(code, text, status)

    def _authorised(self, request: FakeRequest) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return (user, password) in {
            (self.account_sid, self.auth_token),
            (self.api_key_sid, self.api_key_secret),
        }

    def handle(self, request: FakeRequest) -> Reply:
        match = PATH.match(request.path)
        if match is None:
            return twilio_error(20404, f"The requested resource {request.path} was not found", 404)
        if not self._authorised(request):
            return twilio_error(20003, "Authenticate", 401)
        if match["account"] != self.account_sid:
            return twilio_error(20404, f"The requested resource {request.path} was not found", 404)
        if request.method == "POST" and match["sid"] is None:
            return self._create(request)
        if request.method == "GET" and match["sid"] is not None:
            message = self.messages.get(match["sid"])
            if message is None:
                return twilio_error(
                    20404, f"The requested resource {request.path} was not found", 404
                )
            return Reply(200, dict(message))
        if request.method == "GET":
            return self._list(request)
        return twilio_error(20004, "Method not allowed", 405)

    def _create(self, request: FakeRequest) -> Reply:
        form = {key: values for key, values in request.form.items()}
        to = (form.get("To") or [""])[0]
        sender = (form.get("From") or [""])[0]
        service = (form.get("MessagingServiceSid") or [""])[0]
        body = (form.get("Body") or [""])[0]
        media = form.get("MediaUrl") or []
        if not to:
            return twilio_error(21604, "A 'To' phone number is required.", 400)
        if not E164.match(to) or to in self.invalid:
            return twilio_error(21211, f"Invalid 'To' Phone Number: {to}", 400)
        if not sender and not service:
            return twilio_error(21603, "A 'From' phone number is required.", 400)
        if service and service not in self.messaging_services:
            return twilio_error(21701, "The Messaging Service Sid is invalid.", 400)
        if not body and not media:
            return twilio_error(21602, "Message body is required.", 400)
        if len(body) > 1600:
            return twilio_error(
                21617, "The concatenated message body exceeds the 1600 character limit.", 400
            )
        if to in self.unsubscribed or (service or sender, to) in self.stopped:
            return twilio_error(21610, "Attempt to send to unsubscribed recipient", 400)
        if to in self.landlines:
            return twilio_error(21614, "'To' number is not a valid mobile number", 400)
        if to in self.slow_numbers:
            time.sleep(self.slow_numbers[to])
        sid = new_sid("MM" if media else "SM")
        now = rfc2822(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "num_media": str(len(media)),
            "num_segments": "0" if service else "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
        }
        with self._store_lock:
            self.messages[sid] = message
            callback_url = (form.get("StatusCallback") or [""])[0]
            if callback_url:
                self.callback_urls[sid] = callback_url
        for status in self.callbacks_before_reply:
            self.callback(sid, status)
        return Reply(201, dict(self.messages[sid]))

    def _list(self, request: FakeRequest) -> Reply:
        to, sender = request.query.get("To"), request.query.get("From")
        size = int(request.query.get("PageSize", 50))
        found = [
            m
            for m in self.messages.values()
            if (to is None or m["to"] == to) and (sender is None or m["from"] == sender)
        ]
        found.reverse()  # newest first
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return Reply(
            200,
            {
                "messages": [dict(m) for m in found[:size]],
                "end": min(len(found), size) - 1,
                "first_page_uri": f"{uri}?PageSize={size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={size}&Page=0",
            },
        )
