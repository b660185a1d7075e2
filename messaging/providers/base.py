"""The one interface every channel provider adapter implements.

Adapters are leaf modules: they take plain data (`OutboundMessage`) and return plain data
(`ProviderResult`), or raise `ProviderError`. They never touch our models, so the dispatch
code, the tests and the reconciler can drive any of them the same way.
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class OutboundMessage:
    message_id: str  # our id; adapters pass it to the provider as the idempotency key
    channel: str  # "sms" | "mms" | "whatsapp"
    to: str  # E.164
    body: str
    from_number: str = ""  # the sender's address (E.164 or alphanumeric id)
    # The sender's provider reference: a Twilio Messaging Service SID, a WhatsApp phone
    # number id ("" when the address is all the provider needs).
    sender_ref: str = ""
    template_name: str | None = None  # approved WhatsApp template, when there is one
    language: str | None = None
    parameters: dict = field(default_factory=dict)
    # What the provider needs beyond the body (Message.provider_payload): WhatsApp template
    # components and language, MMS media URLs and subject.
    payload: dict = field(default_factory=dict)
    # The hand-off attempt (1 = the first) and when the message was accepted: a provider
    # without idempotency keys (Twilio) looks for an earlier attempt's message before it
    # sends again (docs/providers/twilio.md#retries-and-never-sending-twice).
    attempt: int = 1
    accepted_at: datetime | None = None


@dataclass(frozen=True)
class ProviderResult:
    """The provider accepted the message (SENT), or, from `fetch`, what it knows of it."""

    provider_message_id: str
    status: str = "SENT"  # our wire status the provider's answer maps to
    raw: dict = field(default_factory=dict)
    # Only the simulator fills this: the receipts it will "call back" with, as
    # (status, delay in seconds, reason code or ""). Dispatch schedules them through the same
    # receipt path a real provider's HTTP callback uses. Real providers leave it empty.
    scheduled_receipts: tuple[tuple[str, float, str], ...] = ()


class ProviderError(Exception):
    """A send the provider refused or that failed on the way.

    `permanent=False` is transient (timeouts, 5xx, throttling): retried with backoff.
    `not_reachable=True` means the number can't be reached on this channel (e.g. not on
    WhatsApp): the message falls back to the next channel and the contact is updated.
    `retry_after` (seconds) is the provider's own wait before a retry (HTTP Retry-After):
    the retry waits at least that long. `opt_out=True` says the recipient opted out at the
    provider (Twilio 21610): dispatch records the opt-out in the contact's consent ledger.
    `rate_limited=True` says the sender went faster than the provider allows (HTTP 429 and
    the providers' throughput codes): dispatch slows the sender down (messaging.pacing).
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        not_reachable: bool = False,
        code: str = "DELIVERY_003",
        raw: dict | None = None,
        retry_after: float | None = None,
        opt_out: bool = False,
        rate_limited: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent or not_reachable
        self.not_reachable = not_reachable
        self.code = code
        self.raw = raw or {}
        self.retry_after = retry_after
        self.opt_out = opt_out
        self.rate_limited = rate_limited


class ChannelProvider:
    name = "base"
    channel = ""
    # True when `send` may be called from several threads at once (it touches no database
    # connection): dispatch then makes up to PROVIDER_CONCURRENCY calls side by side.
    concurrent = False

    # True when `send_many` does a group's bookkeeping at once (the simulator): dispatch then
    # hands a group to it in one call instead of one `send` per message.
    batched = False

    def send(self, message: OutboundMessage) -> ProviderResult:
        raise NotImplementedError

    def send_many(self, messages: list[OutboundMessage]) -> list[ProviderResult | ProviderError]:
        """`send` for each message, in order: its result, or the ProviderError it raised."""
        answers: list[ProviderResult | ProviderError] = []
        for message in messages:
            try:
                answers.append(self.send(message))
            except ProviderError as error:
                answers.append(error)
        return answers

    def fetch(
        self,
        message_id: str,
        *,
        provider_message_id: str = "",
        to: str = "",
        claimed_at: datetime | None = None,
    ) -> ProviderResult | None:
        """What the provider knows of our message id (None if it never accepted it).

        The reconciler asks this before ever re-sending a message whose worker died; it
        passes what it knows: the provider's id if a callback brought it, the recipient and
        when the lost attempt began.
        """
        raise NotImplementedError


class WhatsAppProvider(ChannelProvider):
    channel = "whatsapp"

    def lookup(self, e164: str) -> bool:
        """Is this number on WhatsApp?"""
        raise NotImplementedError
