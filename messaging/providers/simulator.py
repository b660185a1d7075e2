"""The simulator provider: deterministic by the last two digits of the national number.

| last two digits | WhatsApp lookup |
|---|---|
| 00–49 | available |
| 50–79 | not available |
| 80–89 | available (sending then fails as not reachable: the messaging issue) |
| 90–94 | available (every channel then fails: the messaging issue) |
| 95–99 | not available |

The national significant number is the tail of the E.164 form (E.164 = "+" + calling code +
national significant number), so its last two digits are the E.164 string's last two.
"""

from messaging.providers.base import WhatsAppProvider

# Inclusive ranges of the last two digits for which the lookup says "on WhatsApp".
WHATSAPP_AVAILABLE_RANGES = ((0, 49), (80, 89), (90, 94))


def last_two_digits(e164: str) -> int:
    tail = e164[-2:]
    if tail.isascii() and tail.isdigit():
        return int(tail)
    digits = "".join(ch for ch in e164 if ch.isdigit())
    if len(digits) < 2:
        raise ValueError(f"not a phone number: {e164!r}")
    return int(digits[-2:])


class SimulatorWhatsAppProvider(WhatsAppProvider):
    name = "simulator"

    def lookup(self, e164: str) -> bool:
        tail = last_two_digits(e164)
        return any(low <= tail <= high for low, high in WHATSAPP_AVAILABLE_RANGES)
