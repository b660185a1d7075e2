"""Provider adapters behind one interface (`base.py`); chosen by settings."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from messaging.providers.base import ChannelProvider, WhatsAppProvider
from messaging.providers.simulator import SimulatorSms, SimulatorWhatsApp

SMS_PROVIDERS: dict[str, type[ChannelProvider]] = {"simulator": SimulatorSms}
WHATSAPP_PROVIDERS: dict[str, type[WhatsAppProvider]] = {"simulator": SimulatorWhatsApp}


def get_sms_provider() -> ChannelProvider:
    try:
        return SMS_PROVIDERS[settings.SMS_PROVIDER]()
    except KeyError:
        raise ImproperlyConfigured(f"Unknown SMS_PROVIDER {settings.SMS_PROVIDER!r}") from None


def get_whatsapp_provider() -> WhatsAppProvider:
    try:
        return WHATSAPP_PROVIDERS[settings.WHATSAPP_PROVIDER]()
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown WHATSAPP_PROVIDER {settings.WHATSAPP_PROVIDER!r}"
        ) from None


def get_provider(channel: str) -> ChannelProvider:
    return get_whatsapp_provider() if channel == "whatsapp" else get_sms_provider()
