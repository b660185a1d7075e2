"""Small presentation filters of the dashboard: `{% load sent %}`."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()


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
