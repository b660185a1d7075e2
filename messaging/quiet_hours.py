"""Quiet hours: when a marketing message may reach a recipient (docs/api/messages.md#quiet-hours).

A customer may set a daily window (e.g. 21:00 → 08:00) in the recipient's local time during
which MARKETING messages are not handed off; a message that would land in it is held
SCHEDULED until the next allowed minute. The recipient's time zones come from the number
(the `phonenumbers` time-zone data): a number whose prefix spans several zones is held while
it is quiet in ANY of them (the most conservative reading); a number the data doesn't place
gets its country's zones. All arithmetic is on aware datetimes with `zoneinfo`, so the window
follows each zone's daylight-saving changes.

Pure functions: no database, no settings. `messaging.services.message_send` applies them.
"""

import functools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezone

# Which template categories quiet hours hold (docs/api/decisions.md#messages): marketing
# only. AUTHENTICATION (one-time codes) and UTILITY (order, delivery, account notices) are
# expected when they happen; free-form text (no template) is a reply in a conversation.
HELD_CATEGORIES = frozenset({"MARKETING"})
OVERRIDES = ("respect", "skip")
# How far ahead the next allowed minute is looked for: a window never lasts longer.
LOOKAHEAD = timedelta(hours=48)


@functools.lru_cache(maxsize=4096)
def zones_for_number(e164: str) -> tuple[ZoneInfo, ...]:
    """The recipient's possible time zones: the number's own, else its country's; () when
    the number says nothing (then quiet hours can't apply)."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return ()
    names = phone_timezone.time_zones_for_number(number)
    if not names or names == (phone_timezone.UNKNOWN_TIMEZONE,):
        # e.g. a UK mobile or an unassigned US prefix: the zones of its country
        names = phone_timezone.time_zones_for_geographical_number(number)
    zones = []
    for name in names:
        if name == phone_timezone.UNKNOWN_TIMEZONE:
            continue
        try:
            zones.append(ZoneInfo(name))
        except (KeyError, ValueError):  # a name the system's tz database lacks
            continue
    return tuple(zones)


def is_quiet_local(local: time, start: time, end: time) -> bool:
    """Is the wall-clock time `local` inside [start, end)? start > end spans midnight;
    start == end is an empty window."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def is_quiet(at: datetime, zones: tuple[ZoneInfo, ...], start: time, end: time) -> bool:
    """Is `at` (aware) quiet in any of the zones?"""
    return any(is_quiet_local(at.astimezone(zone).time(), start, end) for zone in zones)


def _window_ends(at: datetime, zone: ZoneInfo, end: time) -> list[datetime]:
    """The instants, around `at`, at which the window ends in `zone` (local `end` on the day
    before through two days after, in UTC)."""
    local_day = at.astimezone(zone).date()
    ends = []
    for offset in range(-1, 3):
        day = local_day + timedelta(days=offset)
        # A local time in a spring-forward gap resolves forwards (fold=0 reads it with the
        # offset before the change, which is the later instant after normalising to UTC).
        ends.append(datetime.combine(day, end, tzinfo=zone).astimezone(UTC))
    return ends


def _ceil_minute(at: datetime) -> datetime:
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(minutes=1)


def next_allowed(
    at: datetime, zones: tuple[ZoneInfo, ...], start: time, end: time
) -> datetime | None:
    """The first minute at or after `at` that is quiet in none of the zones, or None when
    `at` itself is allowed (nothing to hold).

    The answer is always the end of some zone's window, so only those instants are tried.
    When the zones' windows together cover the whole day (a toll-free number spanning Guam
    to Hawaii), no instant is allowed everywhere: the message is then held until every zone
    quiet at `at` has reached the end of its window (the latest of those zones' next ends).
    """
    if not zones or not is_quiet(at, zones, start, end):
        return None
    candidates = sorted(
        {
            _ceil_minute(moment)
            for zone in zones
            for moment in _window_ends(at, zone, end)
            if at < moment <= at + LOOKAHEAD
        }
    )
    for moment in candidates:
        if not is_quiet(moment, zones, start, end):
            return moment
    quiet_zones = [z for z in zones if is_quiet_local(at.astimezone(z).time(), start, end)]
    return max(
        _ceil_minute(min(m for m in _window_ends(at, zone, end) if m > at)) for zone in quiet_zones
    )


def applies(category: str, *, enabled: bool, override: str | None) -> bool:
    """Do the customer's quiet hours hold a message of this template category? `override`
    is the send's `quiet_hours` ("respect": even when the setting is off — with the
    customer's window; "skip": never). AUTHENTICATION is never held, whatever is asked."""
    if category not in HELD_CATEGORIES:
        return False
    if override == "skip":
        return False
    return enabled or override == "respect"
