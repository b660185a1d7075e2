"""How each provider's recorded callbacks are read back to be applied
(`messaging.callbacks.records.callbacks_apply_pending`): one reader per provider kind."""

from messaging.callbacks import twilio, whatsapp
from messaging.callbacks.records import Reader
from messaging.models import ProviderKind

CALLBACK_READERS: dict[str, Reader] = {
    ProviderKind.TWILIO: twilio.callback_read,
    ProviderKind.CLOUD_API: whatsapp.callback_read,
}
