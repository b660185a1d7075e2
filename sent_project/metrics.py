"""Prometheus metrics (docs/operations.md#metrics), with `prometheus-client`.

Two kinds of series:
- counted as things happen, in the process where they happen: HTTP requests and their
  latency (`MetricsMiddleware`), provider errors by code, balance low-water crossings. Under
  gunicorn (and for the workers) set PROMETHEUS_MULTIPROC_DIR to one directory shared by every
  process of the host: the library's multiprocess mode then sums them at each scrape;
- read from the database at scrape time, by the functions METRICS_COLLECTORS names (each app
  reports its own tables: messages by status and channel, webhook deliveries, queue depth and
  oldest due job per lane), cached METRICS_DB_CACHE_SECONDS.

/metrics answers only a request carrying METRICS_TOKEN (`Authorization: Bearer …`) or coming
from an address in METRICS_ALLOWED_IPS; with neither set it answers 404.
"""

import hmac
import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

REQUESTS = Counter(
    "sent_http_requests",
    "HTTP requests answered, by route (the URL pattern), method and status code",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "sent_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PROVIDER_ERRORS = Counter(
    "sent_provider_errors",
    "Hand-offs a provider refused, by provider and our reason code",
    ["provider", "code"],
)
BALANCE_LOW = Counter(
    "sent_balance_low_events",
    "Debits that took an account's balance below its low-balance threshold",
)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + (match.route or match.view_name or "unknown")


class MetricsMiddleware:
    """Counts every answered request and its latency, by route pattern (not the path: ids
    stay out of label values)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        if route != "/metrics":
            REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
        return response


class DatabaseCollector:
    """The series METRICS_COLLECTORS report from the database: each function returns
    (name, help, label names, [(label values, value), …])."""

    def collect(self):
        families = cache.get("sent_metrics_db")
        if families is None:
            families = []
            for path in settings.METRICS_COLLECTORS:
                families.extend(import_string(path)())
            cache.set("sent_metrics_db", families, settings.METRICS_DB_CACHE_SECONDS)
        for name, documentation, labels, samples in families:
            family = GaugeMetricFamily(name, documentation, labels=labels)
            for values, value in samples:
                family.add_metric(list(values), value)
            yield family


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (REQUESTS, LATENCY, PROVIDER_ERRORS, BALANCE_LOW):
            registry.register(metric)
    registry.register(DatabaseCollector())
    return registry


def _allowed(request: HttpRequest) -> bool | None:
    """True: may scrape; False: refused; None: /metrics is not configured."""
    token = settings.METRICS_TOKEN
    allowed_ips = settings.METRICS_ALLOWED_IPS
    if not token and not allowed_ips:
        return None
    if token:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
            return True
    return request.META.get("REMOTE_ADDR", "") in allowed_ips


def metrics_view(request: HttpRequest) -> HttpResponse:
    allowed = _allowed(request)
    if allowed is None:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    if not allowed:
        return HttpResponse(
            "Forbidden: send METRICS_TOKEN as a bearer token", status=403, content_type="text/plain"
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
