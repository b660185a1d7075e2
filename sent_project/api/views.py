"""The base of every /v3 view: the caller's customer, the sandbox flag, the rate-limit headers.

class ThingListView(CustomerAPIView):
    def get(self, request):
        query = validated_query(ThingListQuerySerializer, request.query_params)
        return paginate(request, self, things_for(self.customer, **query), ThingSerializer)
"""

from rest_framework.views import APIView

from sent_project.ratelimit import RateLimit


class CustomerAPIView(APIView):
    # An API view answering for the customer of the request's API key. (A comment, not a
    # docstring: drf-spectacular would make a docstring every operation's description.)
    # - `self.customer`: the caller's customer (the authenticated principal's `customer`;
    #   the default permission guarantees one before any handler runs).
    # - `self.sandbox`: `"sandbox": true` in the JSON body (see sent_project.sandbox).
    # - Every response it gives once the throttle has counted the request — the handler's,
    #   an error's, the throttle's own 429 — carries X-RateLimit-Limit/-Remaining/-Reset.

    # Set by the throttle (sent_project.api.throttling.ApiKeyRateThrottle) when it counts.
    rate_limit: RateLimit | None = None

    @property
    def customer(self):
        return self.request.user.customer

    @property
    def sandbox(self) -> bool:
        data = self.request.data
        return isinstance(data, dict) and data.get("sandbox") is True

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.rate_limit is not None:
            for name, value in self.rate_limit.headers().items():
                response[name] = value
        return response
