"""/metrics (docs/operations.md#metrics): Prometheus text behind a token or an allow-list,
summed over gunicorn's workers by prometheus-client's multiprocess mode."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from django.conf import settings as django_settings
from django.test import Client

from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

ROOT = Path(django_settings.BASE_DIR)
TOKEN = "scrape-token-for-tests"


def samples(text: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


@pytest.mark.django_db
def test_metrics_is_closed_until_configured_then_needs_the_token(settings):
    assert Client().get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert Client().get("/metrics").status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_an_allowed_address_scrapes_without_a_token(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 403


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """gunicorn with 4 workers on the test database, in multiprocess mode."""
    from django.db import connection

    port = free_port()
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "METRICS_TOKEN": TOKEN,
        "METRICS_DB_CACHE_SECONDS": "0",
        "DB_CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
    }
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "sent_project.wsgi",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # four workers booting on a loaded machine
    while True:
        try:
            if httpx.get(f"{base}/login/", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError("gunicorn did not start")
        time.sleep(0.1)
    yield base, multiproc
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.slow
def test_gunicorn_with_four_workers_exposes_every_series(gunicorn, account, instant_lifecycle):
    base, multiproc = gunicorn
    make_approved_template(account)
    send(account, [number(10, series=1), number(10, series=2)])
    run_queued_tasks(include_future=True)
    send(account, number(10, series=3))  # one still queued: a lane with depth 1

    # Many requests, new connections each: gunicorn spreads them over its workers.
    for _ in range(40):
        assert httpx.get(f"{base}/healthz").status_code == 200
    for _ in range(10):
        response = httpx.get(f"{base}/v3/me", headers={"x-api-key": account.raw_api_key})
        assert response.status_code == 200

    assert httpx.get(f"{base}/metrics").status_code == 403
    response = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    found = samples(response.text)

    requests = {
        (s.labels["route"], s.labels["status"]): s.value for s in found["sent_http_requests_total"]
    }
    assert requests[("/healthz", "200")] == 40  # summed over the workers
    assert requests[("/v3/me", "200")] == 10
    assert any(s.labels["le"] == "+Inf" for s in found["sent_http_request_duration_seconds_bucket"])
    # More than one worker answered (each writes its own file).
    assert len(list(multiproc.glob("counter_*.db"))) >= 2

    messages = {(s.labels["status"], s.labels["channel"]): s.value for s in found["sent_messages"]}
    assert sum(messages.values()) == 3
    assert sum(n for (status, _), n in messages.items() if status == "QUEUED") == 1
    depth = {s.labels["lane"]: s.value for s in found["sent_queue_depth"]}
    assert depth["dispatch"] == 1
    assert "sent_queue_oldest_seconds" in found
    # The dispatch queue per sender, as GET /v3/messages/queue reports it.
    queued = [s for s in found["sent_dispatch_waiting"] if s.labels["status"] == "QUEUED"]
    assert sum(s.value for s in queued) == 1
    assert {"sent_dispatch_oldest_waiting_seconds", "sent_dispatch_drain_per_second"} <= set(found)
    assert "sent_webhook_deliveries" in {
        f.name for f in text_string_to_metric_families(response.text)
    }
