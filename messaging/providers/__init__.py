"""Channel provider adapters, chosen by settings (SMS_PROVIDER, WHATSAPP_PROVIDER).

A leaf package: it imports no app models. `get_whatsapp_provider()` is the one way to get
the active WhatsApp adapter.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from messaging.providers.base import WhatsAppProvider
from messaging.providers.simulator import SimulatorWhatsAppProvider

WHATSAPP_PROVIDERS: dict[str, type[WhatsAppProvider]] = {
    SimulatorWhatsAppProvider.name: SimulatorWhatsAppProvider,
}


def get_whatsapp_provider() -> WhatsAppProvider:
    """The adapter named by settings.WHATSAPP_PROVIDER ("simulator" by default)."""
    name = settings.WHATSAPP_PROVIDER or "simulator"
    try:
        return WHATSAPP_PROVIDERS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"WHATSAPP_PROVIDER={name!r} is not one of {sorted(WHATSAPP_PROVIDERS)}"
        ) from None
