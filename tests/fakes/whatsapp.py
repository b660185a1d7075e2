"""A local Meta Graph API for the WhatsApp Cloud API: `FakeGraph`.

It answers like Graph does — the `messages` send (`{"messaging_product", "contacts":
[{"input", "wa_id"}], "messages": [{"id": "wamid.…"}]}`), the `message_templates` create,
list and edit, and errors as `{"error": {"message", "type", "code", "error_subcode",
"error_data", "fbtrace_id"}}` with Meta's HTTP statuses — checks the bearer token (190 /
401), keeps the templates created on its WABA and validates them like Meta for the obvious
(name pattern, duplicate name and language: 100 / 2388024, examples for variables), and
calls our webhook back, signed `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with
the app secret>`, in Meta's envelope, when a test says so: statuses (`sent`, `delivered`,
`read`, `failed`, with `pricing`, `conversation` and `errors`), template status updates, and
the messages contacts send (`inbound`, `inbound_button`, `inbound_media`; each also opens that
contact's customer-service window at the fake, as Meta does).

A test tells it which numbers are not on WhatsApp (131026 at send), which numbers have an
open customer-service window (free text outside one: 131047), what to answer next
(`fail_next(graph_error(...))`), to hang (`hang_next`) and what to do while a send is being
answered (`on_send`, e.g. a status webhook that outruns the send's reply).
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable

import httpx

from tests.fakes.server import FakeProvider, FakeRequest, Reply

NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
PLACEHOLDER_RE = re.compile(r"\{\{(\d+)\}\}")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


def graph_error(
    code: int,
    message: str,
    *,
    status: int = 400,
    subcode: int | None = None,
    type: str = "OAuthException",
    details: str | None = None,
    title: str | None = None,
    user_message: str | None = None,
    transient: bool | None = None,
) -> Reply:
    """A Graph error answer, as Meta writes them."""
    error: dict = {"message": message, "type": type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    if title is not None:
        error["error_user_title"] = title
    if user_message is not None:
        error["error_user_msg"] = user_message
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = secrets.token_urlsafe(15)
    return Reply(status, {"error": error})


# The errors tests ask for most, as Meta answers them.
def undeliverable() -> Reply:
    return graph_error(131026, "(#131026) Message Undeliverable.", details="Message Undeliverable.")


def throttled() -> Reply:
    return graph_error(
        130429,
        "(#130429) Rate limit hit",
        details="Cloud API message throughput has been reached.",
        status=429,
    )


def server_error() -> Reply:
    return graph_error(
        2,
        "An unexpected error has occurred. Please retry your request later.",
        status=500,
        type="OAuthException",
        transient=True,
    )


def template_missing(name: str = "order_shipped", language: str = "en_US") -> Reply:
    return graph_error(
        132001,
        "(#132001) Template name does not exist in the translation",
        status=404,
        details=f"template name ({name}) does not exist in {language}",
    )


class FakeGraph(FakeProvider):
    def __init__(
        self,
        *,
        access_token: str = "EAAGfakeAccessToken0123456789",
        app_secret: str = "fake-app-secret-0123456789abcdef",
        waba_id: str = "102290129340398",
        phone_number_id: str = "106540352242922",
        display_phone_number: str = "15550000001",
        version: str = "v23.0",
    ):
        super().__init__()
        self.access_token = access_token
        self.app_secret = app_secret
        self.waba_id = waba_id
        self.phone_number_id = phone_number_id
        self.display_phone_number = display_phone_number
        self.version = version
        self.webhook_url = ""  # our webhook, which the test sets
        self.sends: list[dict] = []  # the messages requests it accepted, in order
        self.by_wamid: dict[str, dict] = {}
        self.not_on_whatsapp: set[str] = set()  # numbers answered 131026
        self.open_windows: set[str] = set()  # numbers that wrote to us in the last 24 h
        self.templates: dict[str, dict] = {}  # Meta id → the template as Meta keeps it
        self.check_templates = True  # a send names an APPROVED template of the WABA
        # Called with (wamid, request body) after a send is accepted, before it is answered.
        self.on_send: Callable[[str, dict], None] | None = None
        self.webhook_replies: list[httpx.Response] = []
        # The client webhooks go out on (None: a connection of their own each; a process
        # serving the fake at volume shares a pooled one: tests/fakes/serve.py).
        self.callback_client: httpx.Client | None = None
        # Run after each callback this fake posts, once answered (a test's stand-in for the
        # worker that applies recorded callbacks: tests/messaging/providers/conftest.py).
        self.after_callback: Callable[[], object] | None = None
        self._hangs: list[float] = []

    # --- what a test tells the fake ---------------------------------------------------------

    def hang_next(self, seconds: float, count: int = 1) -> None:
        """The next `count` requests get no answer for `seconds` and are then dropped: the
        client gave up, and Meta never processed them."""
        with self.lock:
            self._hangs.extend([seconds] * count)

    def add_template(
        self, name: str, *, language: str = "en_US", status: str = "APPROVED", **fields
    ) -> dict:
        """A template the WABA already has (created in WhatsApp Manager, say)."""
        template = {
            "id": str(secrets.randbelow(9 * 10**14) + 10**14),
            "name": name,
            "language": language,
            "status": status,
            "category": fields.pop("category", "UTILITY"),
            "components": fields.pop("components", []),
            **fields,
        }
        self.templates[template["id"]] = template
        return template

    def template_named(self, name: str, language: str = "en_US") -> dict | None:
        return next(
            (t for t in self.templates.values() if (t["name"], t["language"]) == (name, language)),
            None,
        )

    def accepted(self, to: str | None = None) -> list[dict]:
        """The sends it accepted (to one number)."""
        return [s for s in self.sends if to is None or s["to"] == to]

    # --- webhooks --------------------------------------------------------------------------

    def sign(self, raw: bytes, secret: str | None = None) -> str:
        key = (secret or self.app_secret).encode()
        return "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()

    def post_webhook(
        self, payload: dict | bytes, *, signature: str | None = None, secret: str | None = None
    ) -> httpx.Response:
        """POST a webhook to `webhook_url`, signed with the app secret (or `secret`), or with
        the `signature` given ("" sends none)."""
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"content-type": "application/json", "user-agent": "facebookexternalua"}
        signature = self.sign(raw, secret) if signature is None else signature
        if signature:
            headers["x-hub-signature-256"] = signature
        post = self.callback_client.post if self.callback_client else httpx.post
        response = post(self.webhook_url, content=raw, headers=headers, timeout=10)
        self.webhook_replies.append(response)
        if self.after_callback is not None:
            self.after_callback()
        return response

    def envelope(self, field: str, value: dict) -> dict:
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "time": int(time.time()),
                    "changes": [{"field": field, "value": value}],
                }
            ],
        }

    def status_payload(
        self,
        wamid: str,
        status: str,
        *,
        errors: list[dict] | None = None,
        category: str = "utility",
        timestamp: int | None = None,
        biz_opaque_callback_data: str | None = None,
    ) -> dict:
        sent = self.by_wamid.get(wamid, {})
        item = {
            "id": wamid,
            "status": status,
            "timestamp": str(timestamp or int(time.time())),
            "recipient_id": sent.get("to", "").lstrip("+"),
        }
        opaque = biz_opaque_callback_data or sent.get("biz_opaque_callback_data")
        if opaque:
            item["biz_opaque_callback_data"] = opaque
        if status in ("sent", "delivered", "read"):
            conversation = sent.setdefault("conversation", secrets.token_hex(16))
            item["conversation"] = {"id": conversation, "origin": {"type": category}}
            item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": category}
        if errors:
            item["errors"] = errors
        return self.envelope(
            "messages",
            {
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": self.display_phone_number,
                    "phone_number_id": self.phone_number_id,
                },
                "statuses": [item],
            },
        )

    def status(self, wamid: str, status: str, **options) -> httpx.Response:
        return self.post_webhook(self.status_payload(wamid, status, **options))

    def sent(self, wamid: str, **options) -> httpx.Response:
        return self.status(wamid, "sent", **options)

    def deliver(self, wamid: str, **options) -> httpx.Response:
        return self.status(wamid, "delivered", **options)

    def read(self, wamid: str, **options) -> httpx.Response:
        return self.status(wamid, "read", **options)

    def fail(self, wamid: str, code: int = 131026, title: str = "Message undeliverable"):
        error = {
            "code": code,
            "title": title,
            "message": title,
            "error_data": {"details": f"{title}."},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
        return self.status(wamid, "failed", errors=[error])

    # --- inbound messages: what contacts send to the business number ---------------------

    def inbound_item(
        self,
        from_: str,
        kind: str,
        body: dict,
        *,
        wamid: str | None = None,
        timestamp: int | None = None,
        context: dict | None = None,
    ) -> dict:
        """One `messages[]` item of type `kind` with its `body` (`{"body": …}` for text)."""
        item = {
            "from": from_.lstrip("+"),
            "id": wamid or "wamid." + base64.b64encode(secrets.token_bytes(27)).decode(),
            "timestamp": str(timestamp or int(time.time())),
            "type": kind,
            kind: body,
        }
        if context:
            item = {"context": context, **item}
        return item

    def inbound_payload(
        self, *items: dict, names: dict | None = None, statuses: list[dict] | None = None
    ) -> dict:
        """A `messages` webhook carrying `items` (and `statuses` items too, if given), with a
        `contacts[]` entry per sender (`names`: E.164 or wa_id → profile name)."""
        names = {key.lstrip("+"): name for key, name in (names or {}).items()}
        senders = dict.fromkeys(item["from"] for item in items)
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
            "contacts": [
                {"profile": {"name": names.get(wa_id, "")}, "wa_id": wa_id} for wa_id in senders
            ],
            "messages": list(items),
        }
        if statuses:
            value["statuses"] = statuses
        with self.lock:
            self.open_windows.update("+" + wa_id for wa_id in senders)
        return self.envelope("messages", value)

    def post_inbound(self, *items: dict, name: str = "", **options) -> httpx.Response:
        names = {item["from"]: name for item in items} if name else None
        return self.post_webhook(self.inbound_payload(*items, names=names, **options))

    def inbound(self, from_: str, text: str, *, name: str = "", **options) -> httpx.Response:
        """A text message from `from_` (E.164), with the contact's profile `name`."""
        return self.post_inbound(
            self.inbound_item(from_, "text", {"body": text}, **options), name=name
        )

    def inbound_button(
        self,
        from_: str,
        text: str,
        payload: str | None = None,
        *,
        kind: str = "button",
        description: str | None = None,
        name: str = "",
        **options,
    ) -> httpx.Response:
        """A button pressed: a template's quick reply (`kind="button"`: text and payload), or
        an interactive message's reply button or list row (`"button_reply"`, `"list_reply"`:
        title and id)."""
        if kind == "button":
            item = self.inbound_item(
                from_, "button", {"payload": payload or text, "text": text}, **options
            )
        else:
            reply = {"id": payload or text, "title": text}
            if description is not None:
                reply["description"] = description
            item = self.inbound_item(from_, "interactive", {"type": kind, kind: reply}, **options)
        return self.post_inbound(item, name=name)

    def inbound_media(
        self,
        from_: str,
        kind: str = "image",
        *,
        mime_type: str = "image/jpeg",
        caption: str | None = None,
        filename: str | None = None,
        name: str = "",
        **options,
    ) -> httpx.Response:
        """An image, audio, video, document or sticker: Meta sends a media id (fetched with the
        access token), its type and SHA-256, and the caption."""
        media = {
            "mime_type": mime_type,
            "sha256": base64.b64encode(secrets.token_bytes(32)).decode(),
            "id": str(secrets.randbelow(9 * 10**15) + 10**15),
        }
        if caption is not None:
            media["caption"] = caption
        if filename is not None:
            media["filename"] = filename
        if kind == "audio":
            media["voice"] = False
        if kind == "sticker":
            media["animated"] = False
        return self.post_inbound(self.inbound_item(from_, kind, media, **options), name=name)

    def template_status(
        self, template: dict, event: str, *, reason: str = "NONE", **extra
    ) -> httpx.Response:
        template["status"] = event
        value = {
            "event": event,
            "message_template_id": int(template["id"]),
            "message_template_name": template["name"],
            "message_template_language": template["language"],
            "reason": reason,
            **extra,
        }
        return self.post_webhook(self.envelope("message_template_status_update", value))

    def approve(self, name: str, language: str = "en_US") -> httpx.Response:
        return self.template_status(self.template_named(name, language), "APPROVED")

    def reject(
        self, name: str, *, reason: str = "INVALID_FORMAT", explanation: str = "", language="en_US"
    ) -> httpx.Response:
        extra = {"rejection_info": {"reason": explanation}} if explanation else {}
        return self.template_status(
            self.template_named(name, language), "REJECTED", reason=reason, **extra
        )

    # --- the Graph API -------------------------------------------------------------------

    def _answer(self, request: FakeRequest) -> Reply:
        with self.lock:
            hang = self._hangs.pop(0) if self._hangs else 0
        if hang:
            with self.lock:
                self.received.append(request)
            time.sleep(hang)
            return Reply(504, {"error": {"message": "Gateway timeout", "code": 2}})
        return super()._answer(request)

    def handle(self, request: FakeRequest) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return graph_error(
                190, "Invalid OAuth access token - Cannot parse access token", status=401
            )
        parts = request.path.strip("/").split("/")
        if not parts or parts[0] != self.version:
            return graph_error(2500, "Unknown path components", type="OAuthException")
        path = parts[1:]
        if request.method == "POST" and len(path) == 2 and path[1] == "messages":
            if path[0] != self.phone_number_id:
                return self._no_object(path[0])
            return self._send(request)
        if len(path) == 2 and path[1] == "message_templates":
            if path[0] != self.waba_id:
                return self._no_object(path[0])
            if request.method == "POST":
                return self._create_template(request)
            return self._list_templates(request)
        if request.method == "POST" and len(path) == 1 and path[0] in self.templates:
            return self._edit_template(path[0], request)
        return self._no_object("/".join(path))

    def _no_object(self, name: str) -> Reply:
        return graph_error(
            100,
            f"Unsupported post request. Object with ID '{name}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            subcode=33,
            type="GraphMethodException",
        )

    def _send(self, request: FakeRequest) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return graph_error(100, "(#100) Invalid JSON")
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return graph_error(100, "(#100) The parameter messaging_product is required.")
        to = str(body.get("to") or "")
        if not to:
            return graph_error(100, "(#100) The parameter to is required.")
        if to in self.not_on_whatsapp:
            return undeliverable()
        kind = body.get("type", "text")
        if kind == "template":
            refusal = self._template_refusal(body.get("template") or {})
            if refusal is not None:
                return refusal
        elif kind == "text":
            if not (body.get("text") or {}).get("body"):
                return graph_error(100, "(#100) The parameter text['body'] is required.")
            if to not in self.open_windows:
                return graph_error(
                    131047,
                    "(#131047) Re-engagement message",
                    details="Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number.",
                )
        else:
            return graph_error(100, f"(#100) Unsupported message type {kind}")
        wamid = "wamid." + base64.b64encode(secrets.token_bytes(27)).decode()
        sent = {
            "wamid": wamid,
            "to": to,
            "biz_opaque_callback_data": body.get("biz_opaque_callback_data", ""),
            "body": body,
        }
        with self.lock:
            self.sends.append(sent)
            self.by_wamid[wamid] = sent
        if self.on_send is not None:
            self.on_send(wamid, body)
        message = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        return Reply(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": re.sub(r"\D", "", to)}],
                "messages": [message],
            },
        )

    def _template_refusal(self, template: dict) -> Reply | None:
        name = template.get("name")
        language = (template.get("language") or {}).get("code")
        if not name or not language:
            return graph_error(100, "(#100) The parameter template['name'] is required.")
        if not self.check_templates:
            return None
        known = self.template_named(name, language)
        if known is None or known["status"] in ("PENDING", "REJECTED"):
            return template_missing(name, language)
        if known["status"] == "PAUSED":
            return graph_error(132015, "(#132015) Template is paused", details="Template paused")
        if known["status"] == "DISABLED":
            return graph_error(132016, "(#132016) Template is disabled", details="Disabled")
        expected = {
            component["type"]: len(set(PLACEHOLDER_RE.findall(component.get("text") or "")))
            for component in known["components"]
            if component["type"] in ("HEADER", "BODY")
        }
        given = {
            component["type"].upper(): len(component.get("parameters") or [])
            for component in template.get("components") or []
            if component.get("type", "").upper() in ("HEADER", "BODY")
        }
        for kind, count in expected.items():
            if count and given.get(kind, 0) != count:
                return graph_error(
                    132000,
                    "(#132000) Number of parameters does not match the expected number of params",
                    details=f"{kind.lower()}: number of localizable_params "
                    f"({given.get(kind, 0)}) does not match the expected number of params "
                    f"({count})",
                )
        return None

    def _invalid(self, user_message: str, *, subcode: int = 2388043) -> Reply:
        return graph_error(
            100, "Invalid parameter", subcode=subcode, user_message=user_message, transient=False
        )

    def _template_problem(self, body: dict) -> Reply | None:
        name, language, category = body.get("name"), body.get("language"), body.get("category")
        if not isinstance(name, str) or not NAME_RE.match(name):
            return self._invalid(
                "Template names can only contain lowercase letters, numbers and underscores."
            )
        if not language:
            return self._invalid("The parameter language is required.")
        if category not in CATEGORIES:
            return self._invalid(f"Category must be one of {', '.join(CATEGORIES)}.")
        components = body.get("components")
        if not isinstance(components, list) or not any(
            isinstance(c, dict) and c.get("type") == "BODY" for c in components
        ):
            return self._invalid("A template needs a BODY component.")
        for component in components:
            kind = component.get("type")
            if kind in ("HEADER", "BODY") and component.get("text"):
                count = len(set(PLACEHOLDER_RE.findall(component["text"])))
                example = (component.get("example") or {}).get(
                    "header_text" if kind == "HEADER" else "body_text"
                )
                given = example if kind == "HEADER" else (example or [[]])[0]
                if count and len(given or []) != count:
                    return self._invalid(
                        f"The {kind.lower()} has {count} variables and its example "
                        f"{len(given or [])} values."
                    )
            if kind == "BUTTONS":
                for button in component.get("buttons") or []:
                    dynamic = button.get("type") == "URL" and "{{" in button.get("url", "")
                    if dynamic and not button.get("example"):
                        return self._invalid("A URL button with a variable needs an example.")
        return None

    def _create_template(self, request: FakeRequest) -> Reply:
        try:
            body = request.json()
        except ValueError:
            return graph_error(100, "(#100) Invalid JSON")
        problem = self._template_problem(body if isinstance(body, dict) else {})
        if problem is not None:
            return problem
        if self.template_named(body["name"], body["language"]) is not None:
            return graph_error(
                100,
                "Invalid parameter",
                subcode=2388024,
                transient=False,
                title="Message template already exists",
                user_message="There is already English (US) content for this template. You can "
                "create a new template and try again.",
            )
        with self.lock:
            template = self.add_template(
                body["name"],
                language=body["language"],
                status="PENDING",
                category=body["category"],
                components=body["components"],
            )
        return Reply(
            200, {"id": template["id"], "status": "PENDING", "category": template["category"]}
        )

    def _list_templates(self, request: FakeRequest) -> Reply:
        wanted = request.query.get("name")
        data = [
            {k: t[k] for k in ("id", "name", "language", "status", "category", "components")}
            for t in self.templates.values()
            if wanted is None or t["name"] == wanted
        ]
        return Reply(
            200, {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}}
        )

    def _edit_template(self, template_id: str, request: FakeRequest) -> Reply:
        template = self.templates[template_id]
        if template["status"] == "PENDING":
            return self._invalid("A template in review can't be edited.", subcode=2388040)
        body = request.json() or {}
        probe = {**template, **{k: v for k, v in body.items() if k in ("category", "components")}}
        problem = self._template_problem(probe)
        if problem is not None:
            return problem
        template.update(probe, status="PENDING")
        return Reply(200, {"success": True})
