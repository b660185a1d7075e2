"""The built-in simulator: the default provider for SMS and WhatsApp.

Deterministic by the last two digits of the recipient's national number:

| digits | WhatsApp lookup | outcome |
|--------|-----------------|---------|
| 00–49  | available       | WhatsApp: SENT → DELIVERED → READ; SMS: SENT → DELIVERED |
| 50–79  | not available   | SMS: SENT → DELIVERED |
| 80–89  | available       | WhatsApp fails permanently as not reachable → SMS fallback → DELIVERED |
| 90–94  | available       | every channel fails permanently |
| 95–99  | not available   | SMS: the first attempt gets a transient error, the retry is DELIVERED |

Delays between steps come from settings.SIMULATOR_DELAYS, multiplied by
SIMULATOR_DELAY_SCALE (0 = instant). Each send is recorded by message id, so a second send
of the same message is answered like a real provider answers a repeated idempotency key:
with the first result, and nothing is sent again.
"""

import uuid

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from messaging.models import SimulatorSend
from messaging.providers.base import (
    ChannelProvider,
    OutboundMessage,
    ProviderError,
    ProviderResult,
    WhatsAppProvider,
)


def last_two_digits(e164: str) -> int:
    # E.164 is "+" + calling code + national significant number, so its last two digits are
    # the national number's: no parse needed (imports look up 100,000 numbers at a time).
    tail = e164[-2:]
    if len(e164) > 2 and tail.isascii() and tail.isdigit():
        return int(tail)
    try:
        national = str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        national = "".join(ch for ch in e164 if ch.isdigit())
    return int(national[-2:] or 0)


def whatsapp_available(e164: str) -> bool:
    digits = last_two_digits(e164)
    return digits < 50 or 80 <= digits <= 94


def delay(step: str) -> float:
    return settings.SIMULATOR_DELAYS[step] * settings.SIMULATOR_DELAY_SCALE


class _SimulatorBase(ChannelProvider):
    name = "simulator"

    def _record_attempt(self, message: OutboundMessage) -> SimulatorSend:
        """Count this attempt for the message id (the provider-side idempotency record)."""
        try:
            with transaction.atomic():
                return SimulatorSend.objects.create(
                    message_id=message.message_id, channel=self.channel, to=message.to, attempts=1
                )
        except IntegrityError:
            SimulatorSend.objects.filter(message_id=message.message_id, channel=self.channel).update(
                attempts=F("attempts") + 1
            )
            return SimulatorSend.objects.get(message_id=message.message_id, channel=self.channel)

    def _accept(self, record: SimulatorSend, receipts) -> ProviderResult:
        if not record.provider_message_id:
            record.provider_message_id = f"sim_{uuid.uuid4().hex}"
            record.save(update_fields=["provider_message_id"])
        return ProviderResult(
            provider_message_id=record.provider_message_id,
            raw={"provider": "simulator", "channel": self.channel, "attempt": record.attempts},
            scheduled_receipts=receipts,
        )

    def fetch(self, message_id: str) -> ProviderResult | None:
        record = SimulatorSend.objects.filter(
            message_id=message_id, channel=self.channel
        ).exclude(provider_message_id="").first()
        if record is None:
            return None
        return ProviderResult(provider_message_id=record.provider_message_id,
                              raw={"provider": "simulator", "fetched": True})


class SimulatorSms(_SimulatorBase):
    channel = "sms"

    def send(self, message: OutboundMessage) -> ProviderResult:
        record = self._record_attempt(message)
        if record.provider_message_id:
            return self._accept(record, ())  # a repeated send: same answer, nothing sent again
        digits = last_two_digits(message.to)
        if 90 <= digits <= 94:
            raise ProviderError("Carrier rejected the message: unreachable handset",
                                permanent=True, code="DELIVERY_004")
        if 95 <= digits and record.attempts == 1:
            raise ProviderError("Provider temporarily unavailable (503)", code="DELIVERY_005")
        return self._accept(record, (("DELIVERED", delay("delivered"), ""),))


class SimulatorWhatsApp(_SimulatorBase, WhatsAppProvider):
    channel = "whatsapp"

    def lookup(self, e164: str) -> bool:
        return whatsapp_available(e164)

    def send(self, message: OutboundMessage) -> ProviderResult:
        record = self._record_attempt(message)
        if record.provider_message_id:
            return self._accept(record, ())
        digits = last_two_digits(message.to)
        if not whatsapp_available(message.to) or 80 <= digits <= 89:
            raise ProviderError("Recipient is not reachable on WhatsApp", not_reachable=True,
                                code="DELIVERY_007")
        if 90 <= digits <= 94:
            raise ProviderError("Message undeliverable", permanent=True, code="DELIVERY_004")
        return self._accept(record, (
            ("DELIVERED", delay("delivered"), ""),
            ("READ", delay("delivered") + delay("read"), ""),
        ))
