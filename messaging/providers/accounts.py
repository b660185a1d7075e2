"""Provider accounts: their secrets (encrypted at rest, shown only masked, rotatable) and
the install's default account read from the environment (docs/providers/README.md).

The only module that writes `ProviderAccount.secrets_encrypted`; everything else reads an
account through `account_credentials` (plain `Credentials`, which never print a secret).
"""

import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from messaging.models import ProviderAccount, ProviderKind
from messaging.providers.config import CLOUD_API, ENV_KEY, SIMULATOR, TWILIO, Credentials
from messaging.webhooks.signing import secret_decrypt, secret_encrypt

# The secrets each kind of account holds, by name.
SECRET_NAMES = {
    ProviderKind.TWILIO: ("auth_token", "api_key_sid", "api_key_secret"),
    ProviderKind.CLOUD_API: ("access_token", "app_secret", "verify_token"),
}
SMS_PROVIDERS = (SIMULATOR, TWILIO)
WHATSAPP_PROVIDERS = (SIMULATOR, CLOUD_API)


def secret_mask(value: str) -> str:
    """How a secret is shown back: its last four characters at most, never the whole."""
    if not value:
        return ""
    return "••••" + (value[-4:] if len(value) >= 12 else "")


def account_secrets(account: ProviderAccount) -> dict:
    if not account.secrets_encrypted:
        return {}
    try:
        return json.loads(secret_decrypt(account.secrets_encrypted))
    except ValueError:
        raise ValueError(
            f"The secrets of provider account {account.name!r} can't be decrypted: was "
            "SECRET_KEY changed without keeping the old one in SECRET_KEY_FALLBACKS?"
        ) from None


def account_secrets_masked(account: ProviderAccount) -> dict:
    return {name: secret_mask(value) for name, value in account_secrets(account).items() if value}


def account_secrets_set(
    account: ProviderAccount, *, replace: bool = False, **secrets: str
) -> ProviderAccount:
    """Set (rotate) some of the account's secrets; a secret given as "" is removed, one not
    given is kept (`replace=True`: none is kept, the way back when the stored ones can't be
    decrypted any more). The account row must be saved by the caller or is saved here if it
    exists."""
    allowed = SECRET_NAMES[ProviderKind(account.kind)]
    unknown = set(secrets) - set(allowed)
    if unknown:
        raise ValueError(f"Unknown secrets for a {account.kind} account: {sorted(unknown)}")
    with transaction.atomic():
        current = {} if replace else account_secrets(account)
        for name, value in secrets.items():
            if value:
                current[name] = value
            else:
                current.pop(name, None)
        account.secrets_encrypted = secret_encrypt(json.dumps(current, sort_keys=True))
        account.secrets_rotated_at = timezone.now()
        if account.pk and ProviderAccount.objects.filter(pk=account.pk).exists():
            account.save(update_fields=["secrets_encrypted", "secrets_rotated_at", "updated_at"])
    return account


def account_create(*, kind: str, name: str, account_id: str, **secrets: str) -> ProviderAccount:
    account = ProviderAccount(kind=kind, name=name, account_id=account_id)
    account_secrets_set(account, **secrets)
    account.save()
    return account


# What an operator may change on an existing account besides its secrets (its kind is fixed:
# its secrets and its senders' channel follow from it).
ACCOUNT_EDITABLE = ("name", "account_id", "is_active")


def account_update(account: ProviderAccount, **fields) -> ProviderAccount:
    """Change the account's name, identifier or active state (secrets: `account_secrets_set`).
    An inactive account's senders are not used for new sends (docs/providers/README.md#senders)."""
    unknown = set(fields) - set(ACCOUNT_EDITABLE)
    if unknown:
        raise ValueError(f"Not editable on a provider account: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(account, name, value)
    account.save(update_fields=[*fields, "updated_at"])
    return account


def account_credentials(account: ProviderAccount) -> Credentials:
    return Credentials(
        provider=account.kind,
        key=str(account.pk),
        account_id=account.account_id,
        secrets=account_secrets(account),
    )


def account_problems(kind: str, account_id: str, secrets: dict) -> list[str]:
    """What a usable account of `kind` lacks (names of the missing fields)."""
    missing = []
    if not account_id:
        missing.append("account_id")
    if kind == ProviderKind.TWILIO:
        # Twilio signs status callbacks with the auth token, even for an account that sends
        # with an API key (docs/providers/twilio.md#api-keys): without it no callback verifies.
        if not secrets.get("auth_token"):
            missing.append("auth_token")
        if bool(secrets.get("api_key_sid")) != bool(secrets.get("api_key_secret")):
            missing.append("api_key_sid and api_key_secret (both, or neither)")
    elif kind == ProviderKind.CLOUD_API:
        missing += [name for name in ("access_token", "app_secret") if not secrets.get(name)]
    return missing


# --- the install's default, from the environment ---------------------------------------


def env_credentials(provider: str) -> Credentials | None:
    """The default account of `provider` as the environment configures it (None for the
    simulator)."""
    if provider == TWILIO:
        return Credentials(
            provider=TWILIO,
            key=ENV_KEY,
            account_id=settings.TWILIO_ACCOUNT_SID,
            secrets={
                "auth_token": settings.TWILIO_AUTH_TOKEN,
                "api_key_sid": settings.TWILIO_API_KEY_SID,
                "api_key_secret": settings.TWILIO_API_KEY_SECRET,
            },
        )
    if provider == CLOUD_API:
        return Credentials(
            provider=CLOUD_API,
            key=ENV_KEY,
            account_id=settings.WHATSAPP_BUSINESS_ACCOUNT_ID,
            secrets={
                "access_token": settings.WHATSAPP_ACCESS_TOKEN,
                "app_secret": settings.WHATSAPP_APP_SECRET,
                "verify_token": settings.WHATSAPP_VERIFY_TOKEN,
            },
        )
    return None


def environment_problems() -> list[str]:
    """Why the environment's provider settings can't work, each naming its setting."""
    problems = []
    if settings.SMS_PROVIDER not in (*SMS_PROVIDERS, ""):
        problems.append(
            f"SMS_PROVIDER={settings.SMS_PROVIDER!r} is not a provider: use one of "
            f"{', '.join(SMS_PROVIDERS)}"
        )
    elif settings.SMS_PROVIDER == TWILIO:
        if not settings.TWILIO_ACCOUNT_SID:
            problems.append("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID")
        if not settings.TWILIO_AUTH_TOKEN:
            problems.append(
                "SMS_PROVIDER=twilio needs TWILIO_AUTH_TOKEN: Twilio signs its status "
                "callbacks with it, even when messages are sent with TWILIO_API_KEY_SID and "
                "TWILIO_API_KEY_SECRET"
            )
        if bool(settings.TWILIO_API_KEY_SID) != bool(settings.TWILIO_API_KEY_SECRET):
            problems.append(
                "SMS_PROVIDER=twilio with an API key needs both TWILIO_API_KEY_SID and "
                "TWILIO_API_KEY_SECRET"
            )
        if not settings.TWILIO_FROM_NUMBER and not settings.TWILIO_MESSAGING_SERVICE_SID:
            problems.append(
                "SMS_PROVIDER=twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
            )
    if settings.WHATSAPP_PROVIDER not in (*WHATSAPP_PROVIDERS, ""):
        problems.append(
            f"WHATSAPP_PROVIDER={settings.WHATSAPP_PROVIDER!r} is not a provider: use one of "
            f"{', '.join(WHATSAPP_PROVIDERS)}"
        )
    elif settings.WHATSAPP_PROVIDER == CLOUD_API:
        for name in (
            "WHATSAPP_ACCESS_TOKEN",
            "WHATSAPP_PHONE_NUMBER_ID",
            "WHATSAPP_BUSINESS_ACCOUNT_ID",
            "WHATSAPP_APP_SECRET",
            "WHATSAPP_VERIFY_TOKEN",
        ):
            if not getattr(settings, name):
                problems.append(f"WHATSAPP_PROVIDER=cloud_api needs {name}")
    return problems


def environment_check() -> None:
    """Stop start-up when the provider settings can't work (MessagingConfig.ready): one line
    per problem, each naming its setting, under the traceback's last line."""
    problems = environment_problems()
    if problems:
        raise ImproperlyConfigured(
            "The provider settings can't work (docs/providers/README.md):\n"
            + "".join(f"  - {problem}\n" for problem in problems)
            + "Unset SMS_PROVIDER / WHATSAPP_PROVIDER to use the built-in simulator."
        )
