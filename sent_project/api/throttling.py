"""Per-API-key rate limit (API_RATE_LIMIT, e.g. "1200/min"), with X-RateLimit-* headers."""

import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


@dataclass(frozen=True)
class RateLimit:
    """Where the caller stands after this request: its limit, what is left, when it resets."""

    limit: int
    remaining: int
    reset: int  # Unix time

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Counts the request against its API key and leaves the result on the view
    (`view.rate_limit`), whose response carries it (sent_project.api.views.CustomerAPIView)."""

    scope = "api_key"

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def parse_rate(self, rate):
        if rate is None:
            return (None, None)
        num, period = rate.split("/")
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0].lower()]
        return int(num), seconds

    def get_cache_key(self, request, view):
        api_key = getattr(request.user, "api_key", None)
        if api_key is None:
            return None
        return f"throttle:api_key:{api_key.pk}"

    def allow_request(self, request, view):
        # Re-read the setting every time so tests and operators can change it at run time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        allowed = super().allow_request(request, view)
        if getattr(self, "key", None) is not None and hasattr(self, "history"):
            remaining = max(0, self.num_requests - len(self.history))
            reset_in = self.duration - (self.now - self.history[-1]) if self.history else 0
            view.rate_limit = RateLimit(
                self.num_requests, remaining, int(time.time() + max(0, reset_in))
            )
        return allowed
