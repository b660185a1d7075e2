"""Request id: one per request, in the envelope's meta, the X-Request-Id header and every log line."""

import contextvars
import logging
import time
import uuid

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def current_request_id() -> str:
    """The id of the request being served (a fresh one outside a request, e.g. in a task)."""
    value = _request_id.get()
    return new_request_id() if value == "-" else value


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Outermost middleware: sets the request id, adds X-Request-Id (and, under /v3, the API
    version and response time; the rate-limit headers come with the view's response)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        token = _request_id.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-Id"] = request_id
        if request.path.startswith("/v3"):
            response["X-API-Version"] = "v3"
            response["X-Response-Time"] = f"{(time.perf_counter() - started) * 1000:.1f}ms"
        return response
