"""Builders of provider accounts and senders, through `messaging.providers.accounts`."""

from messaging.models import ProviderKind, Sender
from messaging.providers.accounts import account_create

AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
ACCESS_TOKEN = "EAAG-meta-access-token-0123456789"
APP_SECRET = "meta-app-secret-0123456789abcdef"


def make_twilio_account(name: str = "Twilio main", account_id: str = "AC" + "1" * 32, **secrets):
    secrets.setdefault("auth_token", AUTH_TOKEN)
    return account_create(kind=ProviderKind.TWILIO, name=name, account_id=account_id, **secrets)


def make_cloud_account(name: str = "Meta WABA", account_id: str = "102290129340398", **secrets):
    secrets.setdefault("access_token", ACCESS_TOKEN)
    secrets.setdefault("app_secret", APP_SECRET)
    secrets.setdefault("verify_token", "verify-me")
    return account_create(kind=ProviderKind.CLOUD_API, name=name, account_id=account_id, **secrets)


def make_sender(customer, account, address: str, *, channel: str = "", **fields) -> Sender:
    """A sender of `customer` on `account` (SMS on a Twilio account, WhatsApp on Meta's)."""
    channel = channel or ("sms" if account.kind == ProviderKind.TWILIO else "whatsapp")
    if channel == "whatsapp":
        fields.setdefault("provider_ref", "10" + address.lstrip("+"))
    # Unpaced unless a test says so (tests/messaging/test_pacing.py): a US long code's
    # default is 1 segment/s.
    fields.setdefault("max_rate", 1000.0)
    return Sender.objects.create(
        customer=customer, account=account, channel=channel, address=address, **fields
    )
