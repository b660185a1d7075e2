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
from django.utils import timezone

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


def _no_flush_wait() -> None:
    """The simulator stands in for a remote provider: its bookkeeping commits without waiting
    for the disk flush (PostgreSQL's synchronous_commit off, this transaction only), so a
    benchmark at zero delay measures Sent, not the simulator's own fsyncs. A database crash
    could forget its last few attempts; a killed worker can't."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _SimulatorBase(ChannelProvider):
    name = "simulator"

    def refusal(self, message: OutboundMessage, attempt: int) -> ProviderError | None:
        """What the table says about this attempt: an error, or None (accepted)."""
        raise NotImplementedError

    def receipts(self, to: str) -> tuple[tuple[str, float, str], ...]:
        """The status callbacks the simulator makes for an accepted message to `to`."""
        raise NotImplementedError

    def send(self, message: OutboundMessage) -> ProviderResult:
        """One attempt, recorded by message id with a single write; a repeat of an accepted
        message answers the first result and sends nothing (no callbacks either)."""
        error = self.refusal(message, 1)
        provider_message_id = "" if error else f"sim_{uuid.uuid4().hex}"
        try:
            with transaction.atomic():
                _no_flush_wait()
                SimulatorSend.objects.create(
                    message_id=message.message_id,
                    channel=self.channel,
                    to=message.to,
                    attempts=1,
                    provider_message_id=provider_message_id,
                )
        except IntegrityError:  # not the first attempt for this message id
            return self._send_again(message)
        if error:
            raise error
        return self._result(provider_message_id, 1, self.receipts(message.to))

    batched = True

    def send_many(self, messages: list[OutboundMessage]) -> list[ProviderResult | ProviderError]:
        """`send` for a group, its bookkeeping in one transaction: one INSERT … ON CONFLICT DO
        NOTHING records every first attempt; a message it already knew (a retry, a repeat)
        goes on as `send` does with it."""
        if len(messages) == 1:
            return super().send_many(messages)
        refusals = [self.refusal(message, 1) for message in messages]
        provider_ids = ["" if error else f"sim_{uuid.uuid4().hex}" for error in refusals]
        with transaction.atomic():
            _no_flush_wait()
            first = _insert_first_attempts(self.channel, messages, provider_ids)
        answers: list[ProviderResult | ProviderError] = []
        for message, error, provider_message_id in zip(
            messages, refusals, provider_ids, strict=True
        ):
            if uuid.UUID(message.message_id) not in first:
                try:
                    answers.append(self._send_again(message))
                except ProviderError as again:
                    answers.append(again)
            elif error:
                answers.append(error)
            else:
                answers.append(self._result(provider_message_id, 1, self.receipts(message.to)))
        return answers

    def _send_again(self, message: OutboundMessage) -> ProviderResult:
        records = SimulatorSend.objects.filter(message_id=message.message_id, channel=self.channel)
        record = records.get()
        if record.provider_message_id:  # already accepted: the first answer, nothing sent
            records.update(attempts=F("attempts") + 1)
            return self._result(record.provider_message_id, record.attempts + 1, ())
        attempt = record.attempts + 1
        error = self.refusal(message, attempt)
        provider_message_id = "" if error else f"sim_{uuid.uuid4().hex}"
        if not records.filter(attempts=record.attempts).update(
            attempts=attempt, provider_message_id=provider_message_id
        ):
            return self._send_again(message)  # another attempt at the same time: go again
        if error:
            raise error
        return self._result(provider_message_id, attempt, self.receipts(message.to))

    def _result(self, provider_message_id: str, attempt: int, receipts) -> ProviderResult:
        return ProviderResult(
            provider_message_id=provider_message_id,
            raw={"provider": "simulator", "channel": self.channel, "attempt": attempt},
            scheduled_receipts=receipts,
        )

    def fetch(self, message_id: str, **known) -> ProviderResult | None:
        """The accepted message with its planned callbacks (the reconciler schedules them:
        the worker that should have died before it could)."""
        record = (
            SimulatorSend.objects.filter(message_id=message_id, channel=self.channel)
            .exclude(provider_message_id="")
            .first()
        )
        if record is None:
            return None
        return ProviderResult(
            provider_message_id=record.provider_message_id,
            raw={"provider": "simulator", "fetched": True},
            scheduled_receipts=self.receipts(record.to),
        )


def _insert_first_attempts(channel: str, messages: list[OutboundMessage], provider_ids) -> set:
    """Record a first attempt for each message the simulator doesn't know yet, in one
    statement; the ids of those it recorded (PostgreSQL, and SQLite ≥ 3.35: RETURNING)."""
    meta = SimulatorSend._meta
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    names = ["message_id", "channel", "to", "attempts", "provider_message_id", "created_at"]
    fields = [meta.get_field(name) for name in names]
    now = timezone.now()
    params = []
    for message, provider_message_id in zip(messages, provider_ids, strict=True):
        values = [uuid.UUID(message.message_id), channel, message.to, 1, provider_message_id, now]
        params += [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    row = f"({', '.join(['%s'] * len(names))})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * len(messages))} "
        f"ON CONFLICT ({quote('message_id')}, {quote('channel')}) DO NOTHING "
        f"RETURNING {quote('message_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {uuid.UUID(str(found)) for (found,) in cursor.fetchall()}


class SimulatorSms(_SimulatorBase):
    channel = "sms"

    def refusal(self, message: OutboundMessage, attempt: int) -> ProviderError | None:
        digits = last_two_digits(message.to)
        if 90 <= digits <= 94:
            return ProviderError(
                "Carrier rejected the message: unreachable handset",
                permanent=True,
                code="DELIVERY_004",
            )
        if digits >= 95 and attempt == 1:
            return ProviderError("Provider temporarily unavailable (503)", code="DELIVERY_005")
        return None

    def receipts(self, to: str) -> tuple[tuple[str, float, str], ...]:
        return (("DELIVERED", delay("delivered"), ""),)


class SimulatorMms(SimulatorSms):
    """MMS: the SMS table's outcomes (the media are not fetched)."""

    channel = "mms"


class SimulatorWhatsApp(_SimulatorBase, WhatsAppProvider):
    channel = "whatsapp"

    def lookup(self, e164: str) -> bool:
        return whatsapp_available(e164)

    def refusal(self, message: OutboundMessage, attempt: int) -> ProviderError | None:
        digits = last_two_digits(message.to)
        if not whatsapp_available(message.to) or 80 <= digits <= 89:
            return ProviderError(
                "Recipient is not reachable on WhatsApp", not_reachable=True, code="DELIVERY_007"
            )
        if 90 <= digits <= 94:
            return ProviderError("Message undeliverable", permanent=True, code="DELIVERY_004")
        return None

    def receipts(self, to: str) -> tuple[tuple[str, float, str], ...]:
        return (
            ("DELIVERED", delay("delivered"), ""),
            ("READ", delay("delivered") + delay("read"), ""),
        )
