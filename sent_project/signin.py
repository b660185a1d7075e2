"""Signing in to the dashboard: Django's login, throttled (docs/operations.md#sign-in-throttling).

After LOGIN_MAX_FAILURES failed attempts for one username, or from one address, further
attempts are refused for LOGIN_LOCKOUT_SECONDS, even with the right password. The counters
are in the cache and are kept for a username whether or not it exists, and the refusal reads
the same for both, so the form tells nobody which usernames are real.
"""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

LOCKED_MESSAGE = "Too many failed sign-ins. Wait {minutes} minutes, then try again."


def _keys(request, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "") if request else ""
    return [f"signin:user:{username.strip().lower()[:150]}", f"signin:ip:{address}"]


def _locked(keys: list[str]) -> bool:
    return any(cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES for key in keys)


def _failed(keys: list[str]) -> None:
    for key in keys:
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        keys = _keys(self.request, self.data.get("username", ""))
        if _locked(keys):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            raise ValidationError(LOCKED_MESSAGE.format(minutes=minutes), code="locked")
        try:
            cleaned = super().clean()
        except ValidationError:
            _failed(keys)
            raise
        cache.delete(keys[0])  # a success clears the username's count, not the address's
        return cleaned
