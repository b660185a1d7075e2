"""Channel detection: which channels can reach a number, and the default one.

- SMS: from the line type. Mobiles, "fixed line or mobile" ranges (NANPA, where the two can't
  be told apart), VoIP and personal numbers take SMS; fixed lines, toll-free, premium-rate,
  shared-cost, pagers, UAN and voicemail numbers are stored but get no channel at all.
- WhatsApp: the WhatsApp directory's lookup, for numbers that can take messages. The directory
  is the active WhatsApp provider, which the messaging app owns (a layer above this one): the
  setting `CONTACTS_WHATSAPP_DIRECTORY` names the factory that gives it (docs/architecture.md).
- Default channel: WhatsApp when available, else SMS, unless the customer chose one.
"""

from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from contacts.models import Channel, Contact

MESSAGING_LINE_TYPES = frozenset({"mobile", "fixed_line_or_mobile", "voip", "personal_number"})


class WhatsAppDirectory(Protocol):
    """Who can tell whether a number is on WhatsApp."""

    def lookup(self, e164: str) -> bool: ...


def whatsapp_directory() -> WhatsAppDirectory:
    """The directory named by `CONTACTS_WHATSAPP_DIRECTORY` (a factory's dotted path)."""
    return import_string(settings.CONTACTS_WHATSAPP_DIRECTORY)()


def can_take_messages(line_type: str) -> bool:
    return line_type in MESSAGING_LINE_TYPES


def detect_channels(
    e164: str, line_type: str, *, provider: WhatsAppDirectory | None = None
) -> tuple[bool, bool]:
    """(sms_available, whatsapp_available) for a valid number."""
    if not can_take_messages(line_type):
        return False, False
    provider = provider or whatsapp_directory()
    return True, provider.lookup(e164)


def detected_default_channel(*, sms: bool, whatsapp: bool) -> str:
    if whatsapp:
        return Channel.WHATSAPP
    return Channel.SMS if sms else ""


def apply_detection(contact: Contact, *, now: datetime, provider: WhatsAppDirectory) -> None:
    """Set channel availability (and the detected default) on an unsaved or locked contact."""
    sms, whatsapp = detect_channels(contact.format_e164, contact.line_type, provider=provider)
    contact.sms_available, contact.sms_checked_at = sms, now
    contact.whatsapp_available, contact.whatsapp_checked_at = whatsapp, now
    reset_default_channel(contact)


def reset_default_channel(contact: Contact) -> None:
    """Keep a customer-chosen default while its channel is available, else detect it again."""
    if contact.default_channel_is_custom and contact.default_channel in contact.channels:
        return
    contact.default_channel_is_custom = False
    contact.default_channel = detected_default_channel(
        sms=contact.sms_available, whatsapp=contact.whatsapp_available
    )


def whatsapp_check_is_stale(contact: Contact, *, now: datetime) -> bool:
    """True when WhatsApp availability is older than CONTACTS_CHANNEL_CHECK_MAX_AGE_DAYS."""
    if not can_take_messages(contact.line_type):
        return False
    max_age = timedelta(days=settings.CONTACTS_CHANNEL_CHECK_MAX_AGE_DAYS)
    return contact.whatsapp_checked_at is None or contact.whatsapp_checked_at < now - max_age
