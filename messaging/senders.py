"""Senders: who a customer's messages go out from (docs/providers/README.md#senders).

A customer with active senders of its own on a channel sends from those; one with none uses
the install's default (the environment's `SMS_PROVIDER` / `WHATSAPP_PROVIDER` settings). A
send may pin its senders per channel (`channels: {"sms": [{"from": ["+1…"]}]}`): among the
customer's own, preferring the one whose area code matches the recipient's; a pinned address
that is not one of them makes the message BLOCKED with `BUSINESS_029`. MMS goes out from the
SMS senders (pinned under `channels.mms`).
"""

import re
from dataclasses import dataclass

from messaging.models import ProviderKind, Sender
from messaging.providers import default_route
from messaging.providers.accounts import account_credentials
from messaging.providers.config import SIMULATOR, Route
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
            if {choice.address for choice in candidates} != wanted:  # one isn't a sender
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
    """How a message planned with `sender` (None = the install's default) goes out. A
    sandbox message goes to the simulator, from the address it would have gone out from."""
    if sender is None:
        route = default_route(channel)
        return Route(provider=SIMULATOR, address=route.address) if sandbox else route
    if sandbox:
        return Route(provider=SIMULATOR, address=sender.address, sender_id=str(sender.pk))
    return Route(
        provider=sender.account.kind,
        credentials=account_credentials(sender.account),
        address=sender.address,
        provider_ref=sender.provider_ref,
        sender_id=str(sender.pk),
    )


# --- what a sender must be (the admin checks it: docs/providers/README.md#senders) ----------

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
# Twilio's alphanumeric sender ids: 1–11 of A–Z, a–z, 0–9 and space, at least one letter.
ALPHANUMERIC_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
PHONE_NUMBER_ID = re.compile(r"[0-9]{1,64}")
# The kind of provider account each channel's senders live on.
CHANNEL_PROVIDER = {"sms": ProviderKind.TWILIO, "whatsapp": ProviderKind.CLOUD_API}


def sender_problems(*, channel: str, account_kind: str, address: str, provider_ref: str) -> dict:
    """What is wrong with a sender, per field (empty when it can be used)."""
    problems = {}
    wanted = CHANNEL_PROVIDER.get(channel)
    if wanted is None:
        return {"channel": f"Senders are for {' or '.join(CHANNEL_PROVIDER)}."}
    if account_kind != wanted:
        problems["account"] = (
            f"{channel} senders live on a {ProviderKind(wanted).label} account, "
            f"not a {ProviderKind(account_kind).label} one."
            if account_kind in ProviderKind.values
            else f"{channel} senders live on a {ProviderKind(wanted).label} account."
        )
    if channel == "sms":
        if provider_ref and not MESSAGING_SERVICE_SID.fullmatch(provider_ref):
            problems["provider_ref"] = (
                "An SMS sender's provider reference is a Twilio Messaging Service SID: "
                "MG followed by 32 hexadecimal digits."
            )
        if address and not (E164.fullmatch(address) or ALPHANUMERIC_SENDER_ID.fullmatch(address)):
            problems["address"] = (
                "An E.164 number (+14155550100) or an alphanumeric sender id: 1 to 11 letters, "
                "digits or spaces, with at least one letter."
            )
        elif not address and not provider_ref:
            problems["address"] = (
                "Give the number or alphanumeric sender id, or a Messaging Service SID as the "
                "provider reference."
            )
    else:
        if not E164.fullmatch(address):
            problems["address"] = "The WhatsApp business phone number, in E.164 (+14155550100)."
        if not PHONE_NUMBER_ID.fullmatch(provider_ref):
            problems["provider_ref"] = (
                "The Cloud API phone number id of this number (digits, from WhatsApp Manager)."
            )
    return problems
