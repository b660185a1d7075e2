"""Sender pacing: how fast dispatch may hand messages to a provider from each sender.

Every sender has a rate (SMS: segments per second, as Twilio counts them; WhatsApp: messages
per second): its own `Sender.max_rate`, else the provider's documented default for that kind
of sender (below; docs/providers/README.md#pacing). The install's default route and the
simulator have one too (settings). The rate is a token bucket per *pace key*, one
`SenderPace` row shared by every worker on every machine: the dispatcher locks the rows of
the keys it claims for, takes what they hold, and writes them back in the claim's
transaction, so the rate holds however many workers run. Tokens may go slightly negative (a
claim counts messages, then pays their segments): the debt is paid before the next claim,
so the long-run rate is exact.

A provider's rate-limit answer (HTTP 429, Twilio 20429, Meta 130429/80007/4) halves the
key's `factor` and pauses it for the provider's Retry-After (or a second); the factor grows
back to 1 linearly over PACING_RECOVERY_SECONDS without another one (additive increase,
multiplicative decrease).

A message's *lane* is its pace key and its customer: the dispatcher claims round-robin over
lanes (messaging.dispatch.claim_due); `Message.pace_key` and
`Message.dispatch_lane` name them, so one customer's backlog on a sender doesn't hold up
another's first message, and one slow sender doesn't hold up any other.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from messaging.models import Sender, SenderPace
from messaging.providers import default_route
from messaging.providers.config import SIMULATOR

SEGMENTS, MESSAGES = "segments", "messages"

# US/Canada toll-free prefixes (NANP 8XX).
TOLL_FREE = re.compile(r"\+18(00|33|44|55|66|77|88)\d{7}")
SHORT_CODE = re.compile(r"\d{3,8}")


@dataclass(frozen=True)
class Rate:
    per_second: float
    unit: str  # SEGMENTS or MESSAGES

    @property
    def burst(self) -> float:
        """What the bucket holds when full: PACING_BURST_SECONDS of the rate, at least one."""
        return max(1.0, self.per_second * settings.PACING_BURST_SECONDS)


def lane_pace_key(lane: str) -> str:
    return lane.split("|", 1)[0]


def provider_default_rate(provider: str, channel: str, address: str, provider_ref: str) -> Rate:
    """The provider's documented default throughput for this kind of sender."""
    if provider == SIMULATOR:  # counted as the provider it stands in for would
        return Rate(settings.PACING_SIMULATOR_RATE, SEGMENTS if channel == "sms" else MESSAGES)
    if channel == "whatsapp":
        # Cloud API: 80 messages/s per business phone number by default (higher tiers on
        # request, up to 1,000): set the sender's rate when Meta raised yours.
        return Rate(80.0, MESSAGES)
    if SHORT_CODE.fullmatch(address or ""):
        return Rate(100.0, SEGMENTS)  # a US short code
    if TOLL_FREE.fullmatch(address or ""):
        return Rate(3.0, SEGMENTS)  # a verified toll-free number
    if (address or "").startswith("+1"):
        return Rate(1.0, SEGMENTS)  # a US/Canada long code (10DLC: per campaign, often more)
    # Numbers elsewhere, alphanumeric ids and Messaging Services without a number: Twilio's
    # account-level default queue rate.
    return Rate(10.0, SEGMENTS)


def rates_for(keys: set[str]) -> dict[str, Rate]:
    """Each pace key's rate now (senders read in one query)."""
    sender_ids = [key.split(":", 1)[1] for key in keys if key.startswith("sender:")]
    senders = {
        str(sender.pk): sender
        for sender in Sender.objects.filter(pk__in=sender_ids).select_related("account")
    }
    rates = {}
    for key in keys:
        kind, _, rest = key.partition(":")
        if kind == SIMULATOR:
            rates[key] = provider_default_rate(SIMULATOR, rest, "", "")
        elif kind == "default":
            route = default_route(rest)
            override = settings.PACING_DEFAULT_ROUTE_RATES.get(rest)
            rate = provider_default_rate(route.provider, rest, route.address, route.provider_ref)
            rates[key] = Rate(override, rate.unit) if override else rate
        else:
            sender = senders.get(rest)
            if sender is None:  # deleted since: the most careful of the SMS defaults
                rates[key] = Rate(1.0, SEGMENTS)
                continue
            rate = provider_default_rate(
                sender.account.kind, sender.channel, sender.address, sender.provider_ref
            )
            rates[key] = Rate(sender.max_rate, rate.unit) if sender.max_rate else rate
    return rates


@dataclass
class Bucket:
    """A locked `SenderPace` row, refilled to `now`, with what a claim may take."""

    pace: SenderPace
    rate: Rate
    now: datetime

    @property
    def effective_rate(self) -> float:
        return self.rate.per_second * self.pace.factor

    @property
    def paused(self) -> bool:
        until = self.pace.throttled_until
        return until is not None and until > self.now

    def available(self) -> int:
        """Whole messages the bucket allows now (each counted as one unit until paid)."""
        if self.paused:
            return 0
        return max(0, int(self.pace.tokens))

    def spend(self, cost: float) -> None:
        self.pace.tokens -= cost

    def ready_at(self) -> datetime:
        """When the bucket next holds a whole token."""
        if self.paused:
            return self.pace.throttled_until
        missing = 1.0 - self.pace.tokens
        if missing <= 0:
            return self.now
        return self.now + timedelta(seconds=missing / max(self.effective_rate, 1e-6))


def buckets_lock(keys: set[str], *, now: datetime) -> dict[str, Bucket]:
    """The keys' buckets, locked until the caller's transaction ends and refilled to `now`
    (missing rows are created full). Call inside a transaction."""
    rates = rates_for(keys)
    SenderPace.objects.bulk_create(
        [SenderPace(key=key, tokens=rates[key].burst, refilled_at=now) for key in sorted(keys)],
        ignore_conflicts=True,
    )
    paces = SenderPace.objects.select_for_update().filter(key__in=keys).order_by("key")
    buckets = {}
    recovery = max(settings.PACING_RECOVERY_SECONDS, 0.001)
    for pace in paces:
        rate = rates[pace.key]
        elapsed = max(0.0, (now - pace.refilled_at).total_seconds())
        if pace.throttled_until and pace.throttled_until > now:
            elapsed = 0.0  # paused: nothing accrues until the provider's wait is over
        elif pace.throttled_until:
            elapsed = max(0.0, (now - max(pace.refilled_at, pace.throttled_until)).total_seconds())
        pace.factor = min(1.0, pace.factor + elapsed / recovery)
        pace.tokens = min(rate.burst, pace.tokens + elapsed * rate.per_second * pace.factor)
        pace.refilled_at = now
        buckets[pace.key] = Bucket(pace, rate, now)
    return buckets


def buckets_save(buckets: dict[str, Bucket]) -> None:
    if buckets:
        SenderPace.objects.bulk_update(
            [bucket.pace for bucket in buckets.values()], ["tokens", "factor", "refilled_at"]
        )


def message_cost(message, rate: Rate) -> float:
    """What a hand-off takes from its bucket: SMS segments, or one message."""
    if rate.unit == SEGMENTS:
        return float(max(1, int((message.content or {}).get("segments") or 1)))
    return 1.0


def pace_throttled(keys: dict[str, float | None], *, now: datetime) -> None:
    """The provider signalled rate limits for these keys (each with its Retry-After, or
    None): halve their factor (down to PACING_MIN_FACTOR) and pause them that long."""
    for key, retry_after in keys.items():
        pace, _ = SenderPace.objects.select_for_update().get_or_create(
            key=key, defaults={"refilled_at": now}
        )
        pace.factor = max(settings.PACING_MIN_FACTOR, pace.factor / 2)
        pause = timedelta(seconds=min(retry_after or 1.0, settings.MESSAGE_RETRY_MAX_SECONDS))
        pace.throttled_until = max(pace.throttled_until or now, now + pause)
        pace.tokens = min(pace.tokens, 0.0)
        pace.throttles += 1
        pace.save(update_fields=["factor", "throttled_until", "tokens", "throttles"])
