"""The routing engine: which channel a message goes on, and what it falls back to.

Pure: it takes plain facts about the recipient, the content, the prices and the
customer's preferences, and returns a decision with a readable reason. No database, no
provider calls; `messaging.services` gathers the facts and records the decision.

Order of the rules:
1. Only channels that can carry the content and reach the contact are candidates
   (WhatsApp needs template content approved for it: free-form text cannot open a
   WhatsApp conversation; SMS needs a mobile-capable line).
2. A channel that keeps failing for this contact (success rate below the threshold
   over its recent messages) is demoted behind the others.
3. A default channel set by the customer on the contact wins when it is a healthy candidate.
4. Otherwise the customer's strategy orders the rest:
   - "prefer_whatsapp" (the default): the country's preference from the regional table
     (settings.ROUTING_REGIONAL_PREFERENCE), else WhatsApp first, then SMS;
   - "cheapest_reliable": the lowest price for this recipient among healthy channels.
The first channel is used; the others, in order, are the fallbacks for "not reachable".

MMS (docs/api/messages.md#mms) is a candidate only for a message with media to a recipient
whose market carries MMS (US, Canada) on a line SMS reaches; it then takes SMS's place (an
SMS would lose the media): preferred, defaulted and ordered as SMS is.
"""

from dataclasses import dataclass, field
from decimal import Decimal

CHANNELS = ("whatsapp", "mms", "sms")
# Where a channel reaches the contact: MMS goes to the phone line SMS reaches. Routing
# preferences, a contact's default channel and its delivery statistics are the line's.
LINE = {"mms": "sms"}
LINES = ("whatsapp", "sms")
MMS_COUNTRIES = frozenset({"US", "CA"})
PREFER_WHATSAPP = "prefer_whatsapp"
CHEAPEST_RELIABLE = "cheapest_reliable"


@dataclass(frozen=True)
class ChannelHistory:
    attempts: int = 0
    delivered: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.delivered / self.attempts if self.attempts else None


@dataclass(frozen=True)
class RoutingFacts:
    region_code: str
    reachable: frozenset[str]  # channels the contact can be reached on
    content_channels: frozenset[str]  # channels the content can be rendered for and sent on
    contact_default: str | None = None  # set explicitly by the customer, else None
    history: dict[str, ChannelHistory] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)
    strategy: str = PREFER_WHATSAPP
    regional_preference: dict[str, list[str]] = field(default_factory=dict)
    min_success_rate: float = 0.5
    min_history: int = 5


@dataclass(frozen=True)
class RouteDecision:
    channel: str | None  # None: no channel can carry this message to this contact
    fallbacks: tuple[str, ...]
    reason: str


def _describe(channel: str, facts: RoutingFacts, why: str) -> str:
    history = facts.history.get(channel, ChannelHistory())
    parts = [f"{channel}: {why}"]
    if history.attempts:
        parts.append(f"{history.success_rate:.0%} delivered in last {history.attempts}")
    if channel in facts.prices:
        parts.append(f"{facts.prices[channel]} USD")
    return ", ".join(parts)


def _is_failing(channel: str, facts: RoutingFacts) -> bool:
    history = facts.history.get(channel, ChannelHistory())
    rate = history.success_rate
    return (
        history.attempts >= facts.min_history and rate is not None and rate < facts.min_success_rate
    )


def line(channel: str) -> str:
    """The channel whose line `channel` uses ("mms" → "sms")."""
    return LINE.get(channel, channel)


def route(facts: RoutingFacts) -> RouteDecision:
    candidates = [c for c in CHANNELS if c in facts.reachable and c in facts.content_channels]
    if "mms" in candidates:  # the message has media: an SMS would lose it
        candidates = [c for c in candidates if c != "sms"]
    if not candidates:
        missing = []
        if not facts.reachable:
            missing.append("the number can't receive messages on any channel")
        else:
            missing.append(
                f"reachable on {', '.join(sorted(facts.reachable)) or 'nothing'} but the content "
                f"can go on {', '.join(sorted(facts.content_channels)) or 'nothing'}"
            )
        return RouteDecision(channel=None, fallbacks=(), reason="; ".join(missing))

    healthy = [c for c in candidates if not _is_failing(c, facts)]
    failing = [c for c in candidates if c not in healthy]

    default = next((c for c in healthy if line(c) == facts.contact_default), None)
    if default is not None:
        why = "contact's default channel"
        ordered = [default] + [c for c in healthy if c != default]
    elif facts.strategy == CHEAPEST_RELIABLE and all(c in facts.prices for c in healthy):
        ordered = sorted(healthy, key=lambda c: (facts.prices[c], CHANNELS.index(c)))
        why = "cheapest reliable" if len(ordered) > 1 else "only reliable channel"
    else:
        preference = facts.regional_preference.get(facts.region_code.upper())
        if preference:
            preferred = list(dict.fromkeys(line(c) for c in preference if c in CHANNELS))
            order = preferred + [c for c in LINES if c not in preferred]
            why = f"preferred in {facts.region_code.upper()}"
        else:
            order = list(LINES)
            if "whatsapp" in healthy:
                why = "available"
            elif "whatsapp" in failing:
                why = "more reliable lately"
            else:
                why = "whatsapp unavailable"
        ordered = sorted(healthy, key=lambda c: order.index(line(c)))
    ordered += failing  # demoted, but still a last resort
    if not healthy:
        why = "every channel is failing lately; trying anyway"

    reason = _describe(ordered[0], facts, why)
    for demoted in failing:
        reason += f"; {_describe(demoted, facts, 'demoted')}"
    return RouteDecision(channel=ordered[0], fallbacks=tuple(ordered[1:]), reason=reason)
