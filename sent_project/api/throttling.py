"""The per-API-key rate limit (API_RATE_LIMIT, e.g. "1200/min"), with X-RateLimit-* headers.

The count is the shared atomic counter of sent_project.ratelimit, so the limit holds across
every process (docs/api/conventions.md#rate-limits).
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from sent_project.ratelimit import RateLimit, rate_hit


class ApiKeyRateThrottle(BaseThrottle):
    """Counts the request against its API key and leaves the result on the view
    (`view.rate_limit`), whose response carries it (sent_project.api.views.CustomerAPIView)."""

    def allow_request(self, request, view) -> bool:
        api_key = getattr(request.user, "api_key", None)
        if api_key is None:
            return True
        # The setting is read every time so tests and operators can change it at run time.
        self.rate_limit: RateLimit = rate_hit(f"key:{api_key.pk}", settings.API_RATE_LIMIT)
        view.rate_limit = self.rate_limit
        return self.rate_limit.allowed

    def wait(self) -> float | None:
        rate_limit = getattr(self, "rate_limit", None)
        return None if rate_limit is None else float(rate_limit.retry_after())
