"""Small presentation filters of the dashboard: `{% load sent %}`."""

import json
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import phonenumbers

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()


MONEY_PLACES = 4


@register.filter
def money(value) -> str:
    """A money amount as the dashboard shows it everywhere (balances, thresholds, prices,
    totals, ledger amounts): four decimals, like the API's money strings ("100.0000",
    docs/api/conventions.md), no thousands separator; empty for no amount."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{amount:.{MONEY_PLACES}f}"


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now", "3 minutes ago", "2 days ago" (one unit: enough at a glance)."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def within(value: datetime | None) -> str:
    """ "in 4 minutes", or "now" when it is due."""
    if not value:
        return ""
    if value - timezone.now() < timedelta(minutes=1):
        return "now" if value <= timezone.now() else "in less than a minute"
    return f"in {timeuntil(value, depth=1)}"


@register.filter
def first_items(mapping: dict | None, count: int = 2) -> list[tuple]:
    """The first `count` (key, value) pairs of a dict, for a one-line summary."""
    return list((mapping or {}).items())[: int(count)]


@register.filter
def percent(part: int | None, whole: int | None) -> int:
    """`part` as a whole percentage of `whole` (0 when there is no whole)."""
    return round(100 * (part or 0) / whole) if whole else 0


CHANNEL_LABELS = {"sms": "SMS", "whatsapp": "WhatsApp", "rcs": "RCS", "mms": "MMS"}


@register.filter
def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


@register.filter
def channel_names(channels: str | list | None) -> str:
    """ "sms,whatsapp" or ["sms", "whatsapp"] → "SMS and WhatsApp"."""
    if isinstance(channels, str):
        channels = [c for c in channels.split(",") if c]
    names = [CHANNEL_LABELS.get(c, c) for c in channels or []]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@register.filter
def words(code: str | None) -> str:
    """ "fixed_line_or_mobile" → "fixed line or mobile"."""
    return (code or "").replace("_", " ")


@register.filter
def pretty_json(value) -> str:
    """A JSON value indented for reading (provider answers, payloads)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def phone(e164: str | None) -> str:
    """ "+14155550100" → "+1 415-555-0100" (as written in its country); anything else as is."""
    try:
        number = phonenumbers.parse(e164 or "", None)
    except phonenumbers.NumberParseException:
        return e164 or ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def web_url(value: str | None) -> str:
    """`value` if it is an http(s) URL, else "": a link made from someone else's data never
    runs a `javascript:` (or any other scheme's) URL."""
    text = (value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else ""


@register.filter
def seconds(value: float | None) -> str:
    """A duration in seconds, at a glance: "45 s", "3 min 20 s", "2 h 5 min"; "—" for none."""
    if value is None:
        return "—"
    total = int(round(value))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        minutes, rest = divmod(total, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(total, 3600)
    return f"{hours} h {rest // 60} min" if rest // 60 else f"{hours} h"
