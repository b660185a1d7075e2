"""Two-factor sign-in with django-otp (docs/dashboard.md#two-factor-sign-in): a TOTP device
per user (any authenticator app) and ten one-time recovery codes; optional per user, required
for every user of an account when its admins say so (`Customer.require_two_factor`)."""

import secrets
from base64 import b32encode

from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.db import transaction

from billing import audit
from billing.models import Customer
from billing.roles import Actor, require

RECOVERY_CODES = 10


def has_two_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def totp_pending(user) -> TOTPDevice:
    """The device being set up (not confirmed yet): its secret goes into the app."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def secret_for_app(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed (base32)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def totp_confirm(user, *, token: str) -> list[str] | None:
    """Check a code from the device being set up; on success it is the user's second factor
    and the new recovery codes are returned (shown once), else None."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(token.strip().replace(" ", "")):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_reset(user)
        membership = getattr(user, "membership", None)
        if membership is not None:
            membership.two_factor = True
            membership.save(update_fields=["two_factor", "updated_at"])
            audit.record(
                membership.customer_id,
                audit.TWO_FACTOR_ENABLED,
                target=user.email or user.get_username(),
            )
    return codes


def recovery_codes_reset(user) -> list[str]:
    """Ten new recovery codes (each works once); the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_disable(user) -> bool:
    """Turn the second factor off — refused (False) when the account requires it."""
    membership = getattr(user, "membership", None)
    if membership is not None and membership.customer.require_two_factor:
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        if membership is not None:
            membership.two_factor = False
            membership.save(update_fields=["two_factor", "updated_at"])
            audit.record(
                membership.customer_id,
                audit.TWO_FACTOR_DISABLED,
                target=user.email or user.get_username(),
            )
    return True


def verify(user, token: str):
    """The device a sign-in code (TOTP or recovery) belongs to, or None. A recovery code is
    used up."""
    token = (token or "").strip().replace(" ", "")
    return match_token(user, token) if token else None


def two_factor_require(customer: Customer, actor: Actor | None, *, required: bool) -> None:
    require(actor, "users")
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(require_two_factor=required)
        customer.require_two_factor = required
        audit.record(
            customer, audit.TWO_FACTOR_ENFORCED, detail={"required": required}, actor=actor
        )
