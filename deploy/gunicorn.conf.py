"""gunicorn's production configuration: `gunicorn -c deploy/gunicorn.conf.py sent_project.wsgi`.

Threaded workers (gthread): a client that sends its request slowly holds one thread of one
worker, not a whole worker, so a handful of slow or idle connections can't stop the site from
answering (/healthz included). Put a buffering reverse proxy in front all the same
(docs/operations.md#web-server): it reads each request whole before gunicorn sees it.
Deploying: docs/operations.md#deploy.
Every value can be changed from the environment (the names below, documented in the
settings table of docs/operations.md#configuration).
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 4))
# Threads per worker: requests served side by side (and slow clients held) per worker. Each
# thread that has served a request keeps a database connection: PostgreSQL's max_connections
# must cover workers × threads plus the task workers.
threads = _int("GUNICORN_THREADS", 16)
# A worker silent for this long (a request stuck in a thread does not count) is restarted.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle kept-alive connection stays open (behind a proxy that reuses connections,
# keep this above the proxy's own idle timeout).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Request line and header limits, above what our clients send and what Django answers itself:
# a longer line or header gets gunicorn's own 414/431 page, not the JSON envelope
# (docs/api/errors.md#responses-from-the-web-server).
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
limit_request_fields = _int("GUNICORN_LIMIT_REQUEST_FIELDS", 100)
limit_request_field_size = _int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190)
# Restart each worker after about this many requests (0 = never), to bound slow leaks.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10
# The proxy's X-Forwarded-* headers are trusted from these addresses only.
forwarded_allow_ips = (
    os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS")
    or os.environ.get("FORWARDED_ALLOW_IPS")
    or "127.0.0.1,::1"
)
# Load the app once in the arbiter, then fork: workers start at once and share its memory.
# (A code change then needs a restart, not a HUP.)
preload_app = (os.environ.get("GUNICORN_PRELOAD") or "true").lower() in {"1", "true", "yes", "on"}
# Requests are counted by the app's metrics; gunicorn's own access log is off unless asked for.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"


def when_ready(server):
    """With preload_app, import every view once in the arbiter before it forks the workers, so
    no worker's first requests wait for the imports (about a second on a small machine)."""
    if preload_app:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - the lazy import is the point


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: a dead worker's live gauges are dropped (its
    counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
