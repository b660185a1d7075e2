"""Plain data the adapters are built from: an account's credentials and a message's route.

Adapters never read our models (`base.py`): `messaging.providers.accounts` turns a
`ProviderAccount` (or the environment, for the install's default) into `Credentials`, and
`messaging.senders` turns a message's sender into a `Route`.
"""

from dataclasses import dataclass, field

SIMULATOR = "simulator"
TWILIO = "twilio"
CLOUD_API = "cloud_api"
ENV_KEY = "env"  # the `key` of the install's default account, configured by the environment


@dataclass(frozen=True)
class Credentials:
    """One provider account. `key` identifies it ("env" or the account's id: pooled HTTP
    clients are kept per key); `account_id` is Twilio's account SID or Meta's WABA id."""

    provider: str
    key: str
    account_id: str = ""
    secrets: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def secret(self, name: str) -> str:
        return self.secrets.get(name, "")

    def __repr__(self) -> str:  # never a secret in a log line or a traceback
        return f"Credentials(provider={self.provider!r}, key={self.key!r})"


@dataclass(frozen=True)
class Route:
    """Who a message goes out from: the provider, its account, and the sender's address (an
    E.164 number or alphanumeric id; WhatsApp's business number) and provider reference (a
    Twilio Messaging Service SID, a WhatsApp phone number id)."""

    provider: str
    credentials: Credentials | None = None
    address: str = ""
    provider_ref: str = ""
    sender_id: str | None = None  # the Sender row; None for the install's default
