"""Meta's WhatsApp Cloud API: the Graph client, its errors, and the WhatsApp adapter
(docs/providers/whatsapp.md).

`CloudApiWhatsApp(credentials)` sends `POST {WHATSAPP_GRAPH_URL}/{WHATSAPP_GRAPH_VERSION}/
{phone-number-id}/messages` with the account's bearer token: an approved template (its
components were computed at acceptance into `Message.provider_payload`,
`messaging.providers.whatsapp_components`) or, inside an open customer-service window, free
text. Our message id goes as `biz_opaque_callback_data`, which Meta echoes in every status
webhook, so a status that arrives before the send's reply still finds its message.

Graph errors map to `ProviderError` (docs/providers/whatsapp.md#errors): 131026 (not a
WhatsApp user, undeliverable) is `not_reachable` (the SMS fallback); throttling, 5xx,
timeouts and bad tokens are transient (retried); template and policy errors are permanent
with Meta's message as the reason.
"""

import logging
from dataclasses import dataclass, field

import httpx

from django.conf import settings

from messaging import reasons
from messaging.http import http_client
from messaging.providers.base import (
    OutboundMessage,
    ProviderError,
    ProviderResult,
    WhatsAppProvider,
)
from messaging.providers.config import Credentials

logger = logging.getLogger(__name__)

NOT_REACHABLE_CODES = frozenset({131026})  # message undeliverable: not a WhatsApp user
REENGAGEMENT_CODE = 131047  # more than 24 hours since the user last wrote
# Throttling, Meta's own trouble: try again later.
TRANSIENT_CODES = frozenset(
    {
        1,  # API unknown (possibly a server error)
        2,  # API service: temporary downtime or overload
        4,  # the app's call-rate limit
        17,  # the user's call-rate limit
        341,  # the application's limit
        80007,  # the WhatsApp Business Account's rate limit
        130429,  # Cloud API throughput reached
        131000,  # something went wrong
        131016,  # service unavailable
        131048,  # spam rate limit on this number
        131056,  # too many messages to the same recipient in a short time
        131057,  # business account in maintenance mode
    }
)
# Of those, the ones that say this sender goes faster than Meta allows: dispatch slows it.
THROUGHPUT_CODES = frozenset({4, 80007, 130429})
# A bad or expired token, a missing permission: an operator has to act, but messages must not
# be lost meanwhile, so they are retried (and logged loudly) until MESSAGE_MAX_ATTEMPTS.
AUTH_CODES = frozenset({0, 3, 10, 190, *range(200, 300)})
TEMPLATE_CODES = range(132000, 133000)


@dataclass
class GraphError(Exception):
    """A Graph API call that failed: Meta's error object, or the network's failure."""

    message: str
    http_status: int | None = None  # None: no answer (timeout, connection refused)
    code: int | None = None
    subcode: int | None = None
    type: str = ""
    title: str = ""  # error_user_title
    user_message: str = ""  # error_user_msg: Meta's explanation for people
    details: str = ""  # error_data.details
    is_transient: bool | None = None
    fbtrace_id: str = ""
    raw: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(self.message)

    @property
    def auth_failure(self) -> bool:
        return self.code in AUTH_CODES or self.http_status in (401, 403) and self.code is None

    @property
    def retryable(self) -> bool:
        """Worth trying again later, unchanged."""
        if self.http_status is None or self.auth_failure:
            return True
        if self.code in NOT_REACHABLE_CODES or self.code == REENGAGEMENT_CODE:
            return False
        if self.code in TEMPLATE_CODES:
            return False
        if self.code in TRANSIENT_CODES or self.is_transient:
            return True
        return self.http_status == 429 or self.http_status >= 500

    def describe(self) -> str:
        """Meta's message, its explanation and details, once each."""
        parts = [self.message]
        for extra in (self.user_message, self.details):
            if extra and all(extra not in part for part in parts):
                parts.append(extra)
        return ": ".join(part for part in parts if part)


def graph_error(response: httpx.Response) -> GraphError:
    """The GraphError of a failed Graph answer (`{"error": {message, type, code,
    error_subcode, error_data, fbtrace_id, …}}`), or of an answer that isn't one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GraphError(
            f"HTTP {response.status_code} from the Graph API", http_status=response.status_code
        )
    error_data = error.get("error_data")
    details = error_data.get("details", "") if isinstance(error_data, dict) else error_data or ""

    def number(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    return GraphError(
        str(error.get("message") or f"HTTP {response.status_code} from the Graph API"),
        http_status=response.status_code,
        code=number(error.get("code")),
        subcode=number(error.get("error_subcode")),
        type=str(error.get("type") or ""),
        title=str(error.get("error_user_title") or ""),
        user_message=str(error.get("error_user_msg") or ""),
        details=str(details),
        is_transient=error.get("is_transient"),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
        raw=body,
    )


class Graph:
    """One account's Graph API client: the bearer token, one pooled `httpx.Client`
    (thread-safe, shared by every worker thread), the base URL and timeouts read from
    settings on every call."""

    def __init__(self, credentials: Credentials):
        self.credentials = credentials
        self.client = http_client(timeout=settings.PROVIDER_TIMEOUT)

    def url(self, path: str) -> str:
        return f"{settings.WHATSAPP_GRAPH_URL}/{settings.WHATSAPP_GRAPH_VERSION}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, json: dict | None = None, params=None) -> dict:
        """The JSON answer of a successful call; GraphError otherwise."""
        token = self.credentials.secret("access_token")
        try:
            response = self.client.request(
                method,
                self.url(path),
                json=json,
                params=params,
                headers={"authorization": f"Bearer {token}"},
                timeout=httpx.Timeout(
                    settings.PROVIDER_TIMEOUT, connect=settings.PROVIDER_CONNECT_TIMEOUT
                ),
            )
        except httpx.TimeoutException as error:
            raise GraphError(
                f"The Graph API did not answer in time ({type(error).__name__})"
            ) from None
        except httpx.HTTPError as error:
            raise GraphError(
                f"Could not reach the Graph API ({type(error).__name__}: {error})"
            ) from None
        if response.status_code >= 400:
            error = graph_error(response)
            if error.auth_failure:
                logger.error(
                    "WhatsApp Cloud API refused the access token of account %s (%s %s): %s — "
                    "fix the token; messages are retried meanwhile",
                    self.credentials.key,
                    error.code,
                    error.type,
                    error.message,
                )
            raise error
        try:
            return response.json()
        except ValueError:
            raise GraphError(
                f"HTTP {response.status_code} from the Graph API with a body that isn't JSON",
                http_status=502,
            ) from None


def send_error(error: GraphError) -> ProviderError:
    """What a failed send means for the message (docs/providers/whatsapp.md#errors)."""
    raw = error.raw or {"message": error.message}
    if error.code in NOT_REACHABLE_CODES:
        return ProviderError(
            f"Not reachable on WhatsApp: {error.describe()}",
            not_reachable=True,
            code=reasons.NOT_REACHABLE,
            raw=raw,
        )
    if error.code == REENGAGEMENT_CODE:
        return ProviderError(
            "Outside the customer-service window: more than 24 hours have passed since the "
            "recipient last wrote, so only an approved template can be sent (Meta 131047)",
            permanent=True,
            code=reasons.PROVIDER_ERROR,
            raw=raw,
        )
    if error.retryable:
        return ProviderError(
            f"WhatsApp Cloud API: {error.describe()}",
            raw=raw,
            rate_limited=error.http_status == 429 or error.code in THROUGHPUT_CODES,
        )
    return ProviderError(error.describe(), permanent=True, code=reasons.PROVIDER_ERROR, raw=raw)


def message_body(message: OutboundMessage) -> dict:
    """The Graph `messages` request for our message."""
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to,
        "biz_opaque_callback_data": message.message_id,
    }
    template = (message.payload or {}).get("template")
    if template is None and message.template_name:
        # Planned before acceptance computed the components: the body's values in order.
        template = {
            "name": message.template_name,
            "language": {"code": message.language or "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": str(value)}
                        for value in (message.parameters or {}).values()
                    ],
                }
            ]
            if message.parameters
            else [],
        }
    if template is not None:
        body.update(type="template", template=template)
    else:  # free text: only inside a customer-service window the contact opened
        body.update(type="text", text={"preview_url": False, "body": message.body})
    return body


class CloudApiWhatsApp(WhatsAppProvider):
    """WhatsApp through Meta's Cloud API, for one account (its WABA and access token); the
    sender's phone number id comes with each message (`sender_ref`)."""

    name = "cloud_api"
    concurrent = True  # a pooled, thread-safe HTTP client and no database access

    def __init__(self, credentials: Credentials):
        self.credentials = credentials
        self.graph = Graph(credentials)

    def send(self, message: OutboundMessage) -> ProviderResult:
        if not message.sender_ref:
            raise ProviderError(
                "No WhatsApp phone number id for this sender: set WHATSAPP_PHONE_NUMBER_ID or "
                "the sender's provider reference",
                permanent=True,
            )
        try:
            answer = self.graph.request(
                "POST", f"{message.sender_ref}/messages", json=message_body(message)
            )
        except GraphError as error:
            raise send_error(error) from None
        try:
            wamid = answer["messages"][0]["id"]
        except (KeyError, IndexError, TypeError):
            raise ProviderError(
                "The Graph API accepted the request but returned no message id", raw=answer
            ) from None
        return ProviderResult(provider_message_id=wamid, raw=answer)

    def fetch(self, message_id: str, *, provider_message_id: str = "", **known):
        """The Graph API has no endpoint to read a sent message back: all we can know is what
        a status webhook told us. With its wamid (a status webhook found the message by our
        id before the send's reply was recorded), the message is at Meta; without, we can't
        tell (None: the reconciler sends again, which may duplicate a message Meta took
        but never reported; docs/providers/whatsapp.md#what-the-reconciler-can-know)."""
        if provider_message_id:
            return ProviderResult(
                provider_message_id=provider_message_id, raw={"known_from": "status webhook"}
            )
        return None

    def lookup(self, e164: str) -> bool:
        """The Cloud API has no contact lookup: every number counts as on WhatsApp until a
        send says otherwise (131026 → SMS fallback, and the contact is marked not on
        WhatsApp; docs/providers/whatsapp.md#fallback-to-sms)."""
        return True
