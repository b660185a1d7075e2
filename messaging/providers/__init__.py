"""Provider adapters behind one interface (`base.py`), chosen per message by its route.

A message's route (`messaging.senders`) names the provider and the account: the customer's
own sender's, or the install's default, which `SMS_PROVIDER` / `WHATSAPP_PROVIDER` and their
credentials configure (docs/providers/README.md). Sandbox messages only ever go to the simulator.
Adapters are built once per account and kept (each holds a pooled HTTP client).
"""

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from messaging.providers.accounts import env_credentials
from messaging.providers.base import ChannelProvider, WhatsAppProvider
from messaging.providers.config import CLOUD_API, SIMULATOR, TWILIO, Credentials, Route

# (channel, provider name) → the adapter class, imported when first used.
ADAPTERS = {
    ("sms", SIMULATOR): "messaging.providers.simulator.SimulatorSms",
    ("whatsapp", SIMULATOR): "messaging.providers.simulator.SimulatorWhatsApp",
    ("mms", SIMULATOR): "messaging.providers.simulator.SimulatorMms",
    ("sms", TWILIO): "messaging.providers.twilio.TwilioSms",
    ("mms", TWILIO): "messaging.providers.twilio.TwilioMms",
    ("whatsapp", CLOUD_API): "messaging.providers.whatsapp_cloud.CloudApiWhatsApp",
}
_built: dict[tuple, ChannelProvider] = {}
_lock = threading.Lock()


def adapter(channel: str, credentials: Credentials | None, provider: str) -> ChannelProvider:
    """The adapter of `provider` for `channel` on this account (built once, then reused)."""
    key = (
        channel,
        provider,
        credentials,
        tuple(sorted((credentials.secrets or {}).items())) if credentials else (),
    )
    built = _built.get(key)
    if built is None:
        try:
            path = ADAPTERS[(channel, provider)]
        except KeyError:
            raise ImproperlyConfigured(f"No {channel} adapter for provider {provider!r}") from None
        with _lock:
            built = _built.get(key)
            if built is None:
                cls = import_string(path)
                built = cls() if provider == SIMULATOR else cls(credentials)
                _built[key] = built
    return built


def default_route(channel: str) -> Route:
    """The install's default sender for `channel`, from the environment (MMS: the SMS one's)."""
    if channel == "whatsapp":
        provider = settings.WHATSAPP_PROVIDER or SIMULATOR
        return Route(
            provider=provider,
            credentials=env_credentials(provider),
            address=settings.WHATSAPP_FROM_NUMBER,
            provider_ref=settings.WHATSAPP_PHONE_NUMBER_ID if provider == CLOUD_API else "",
        )
    provider = settings.SMS_PROVIDER or SIMULATOR
    if provider == TWILIO:
        return Route(
            provider=provider,
            credentials=env_credentials(provider),
            address=settings.TWILIO_FROM_NUMBER,
            provider_ref=settings.TWILIO_MESSAGING_SERVICE_SID,
        )
    return Route(provider=provider, address=settings.SMS_FROM_NUMBER)


def simulator_route(channel: str) -> Route:
    return Route(provider=SIMULATOR, address=default_route(channel).address)


def get_provider(channel: str, *, sandbox: bool = False, route: Route | None = None):
    """The adapter for a message on `channel` going out by `route` (default: the install's);
    a sandbox message only ever goes to the simulator."""
    if sandbox:
        return adapter(channel, None, SIMULATOR)
    route = route or default_route(channel)
    return adapter(channel, route.credentials, route.provider)


def get_sms_provider() -> ChannelProvider:
    return get_provider("sms")


def get_whatsapp_provider() -> WhatsAppProvider:
    return get_provider("whatsapp")
