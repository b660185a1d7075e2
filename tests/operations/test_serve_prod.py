"""`make serve-prod` on PostgreSQL (docs/operations.md#deploy): gunicorn, a worker per lane
and the sweep on DATABASE_URL; /readyz turns green once the workers beat, and the official
SDK's send reaches DELIVERED. Skipped when PostgreSQL isn't on 127.0.0.1:5432."""

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from django.conf import settings as django_settings

ROOT = Path(django_settings.BASE_DIR)
PG = ("127.0.0.1", 5432)

pytestmark = pytest.mark.slow


def postgres_up() -> bool:
    try:
        socket.create_connection(PG, 2).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


@pytest.fixture
def database():
    """A fresh PostgreSQL database of its own, dropped afterwards."""
    if not postgres_up():
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    import psycopg

    name = f"sent_serve_prod_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_serve_prod_runs_a_send_to_delivered_through_the_sdk(database, tmp_path):
    from sent_dm import Sent

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DEBUG": "false",
        "SECRET_KEY": "serve-prod-test-" + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SENT_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "SIMULATOR_DELAY_SCALE": "0",
        "HEALTH_HEARTBEAT_SECONDS": "1",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "0",
    }
    env.pop("SQLITE_PATH", None)
    server = subprocess.Popen(
        ["make", "-o", ".venv/.installed", "serve-prod"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def ready():
            if server.poll() is not None:
                raise AssertionError(f"serve-prod exited with {server.returncode}")
            try:
                response = httpx.get(f"{base}/readyz", timeout=5)
            except httpx.TransportError:
                return None
            return response if response.status_code == 200 else None

        report = wait_until(ready, timeout=120, what="/readyz to turn green").json()
        assert report["failing"] == []
        assert report["checks"]["worker:dispatch"]["state"] == "ok"

        made = subprocess.run(
            [
                ".venv/bin/python",
                "manage.py",
                "create_customer",
                "--name",
                "Prod",
                "--balance",
                "10",
                "--json",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        api_key = json.loads(made.stdout)["api_key"]
        sdk = Sent(api_key=api_key, base_url=base, max_retries=0)
        sent = sdk.messages.send(to=["+14155550165"], text="Hello from production")
        assert sent.success is True
        message_id = sent.data.recipients[0].message_id

        def delivered():
            status = sdk.messages.retrieve_status(message_id).data.status
            return status if status in ("DELIVERED", "READ") else None

        assert wait_until(delivered, timeout=90, what="DELIVERED") in ("DELIVERED", "READ")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
