"""Request id: one per request, in the envelope's meta, the X-Request-Id header and every log line."""

import time

from django.http import HttpRequest, HttpResponse

from sent_project.request_context import new_request_id, request_finished, request_started


class RequestIdMiddleware:
    """Outermost middleware: sets the request id, adds X-Request-Id (and, under /v3, the API
    version and response time; the rate-limit headers come with the view's response)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        token = request_started(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_finished(token)
        response["X-Request-Id"] = request_id
        if request.path.startswith("/v3"):
            response["X-API-Version"] = "v3"
            response["X-Response-Time"] = f"{(time.perf_counter() - started) * 1000:.1f}ms"
        return response
