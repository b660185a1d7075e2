"""Senders: who a customer's messages go out from (docs/providers/README.md#senders).

A customer with active senders of its own on a channel sends from those; one with none uses
the install's default (the environment's `SMS_PROVIDER` / `WHATSAPP_PROVIDER` settings). A
send may pin its senders per channel (`channels: {"sms": [{"from": ["+1…"]}]}`): among the
customer's own, preferring the one whose area code matches the recipient's; a pinned address
that is not one of them makes the message BLOCKED with `BUSINESS_029`. MMS goes out from the
SMS senders (pinned under `channels.mms`).
"""

from dataclasses import dataclass

from messaging.models import Sender
from messaging.providers import default_route, simulator_route
from messaging.providers.accounts import account_credentials
from messaging.providers.config import Route
from messaging.routing import line


@dataclass(frozen=True)
class SenderChoice:
    """The sender a message was planned with: a row of the customer's, or None for the
    install's default; `address` is what the message shows as its `from`."""

    sender: Sender | None
    address: str


class CustomerSenders:
    """A customer's active senders per channel, read once per send."""

    def __init__(self, customer_id, senders: list[Sender]):
        self.customer_id = customer_id
        self.by_channel: dict[str, list[Sender]] = {}
        for sender in senders:
            self.by_channel.setdefault(sender.channel, []).append(sender)

    @classmethod
    def load(cls, customer) -> "CustomerSenders":
        rows = Sender.objects.filter(
            customer=customer, is_active=True, account__is_active=True
        ).select_related("account")
        return cls(customer.pk, list(rows.order_by("created_at", "pk")))

    def candidates(self, channel: str) -> list[SenderChoice]:
        own = self.by_channel.get(line(channel), [])  # MMS sends from the SMS senders
        if own:
            return [SenderChoice(sender, sender.address) for sender in own]
        return [SenderChoice(None, default_route(channel).address)]

    def choose(self, channel: str, to: str, pinned: list[str] | None) -> SenderChoice | None:
        """The sender for a message to `to` (E.164) on `channel`; None when `pinned` names
        addresses none of which is the customer's sender (the message is BLOCKED)."""
        candidates = self.candidates(channel)
        if pinned:
            wanted = set(pinned)
            candidates = [choice for choice in candidates if choice.address in wanted]
            if len(candidates) < len(wanted):
                return None
        return _nearest(candidates, to) if candidates else None


def _nearest(candidates: list[SenderChoice], to: str) -> SenderChoice:
    """The candidate sharing the longest prefix with the recipient (same country, then the
    same area code); the first on a tie."""

    def shared(address: str) -> int:
        length = 0
        for a, b in zip(address, to, strict=False):
            if a != b:
                break
            length += 1
        return length if address.startswith("+") else 0

    return max(candidates, key=lambda choice: shared(choice.address))


def sender_route(sender: Sender | None, channel: str, *, sandbox: bool = False) -> Route:
    """How a message planned with `sender` (None = the install's default) goes out."""
    if sandbox:
        return simulator_route(channel)
    if sender is None:
        return default_route(channel)
    return Route(
        provider=sender.account.kind,
        credentials=account_credentials(sender.account),
        address=sender.address,
        provider_ref=sender.provider_ref,
        sender_id=str(sender.pk),
    )
