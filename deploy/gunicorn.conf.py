"""gunicorn's configuration for Sent (docs/operations.md#deploy): `gunicorn -c
deploy/gunicorn.conf.py sent_project.wsgi`. Every value can be overridden on the command line
or with GUNICORN_CMD_ARGS."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Requests are counted by the app's metrics; gunicorn's own access log stays off.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    """prometheus-client's multiprocess mode: a dead worker's live gauges are dropped (its
    counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
