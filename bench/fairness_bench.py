"""Noisy neighbours (docs/architecture.md#fairness-between-tenants), run by `make bench` or
alone: `.venv/bin/python bench/fairness_bench.py`.

Tenant A registers 10 webhook endpoints that hang until the attempt times out and sends
enough messages to leave ~10,000 deliveries waiting on the `webhooks` lane; in the second
scenario A also holds FAIRNESS_BACKLOG (100,000) queued messages of its own. Tenant B then
sends 100 single-recipient messages, one every 50 ms. Reported: B's accepted → SENT latency
(p50, p99, max) with 2 dispatch workers (plus one worker each for receipts, webhooks and
bulk/default, as `make run` starts them), and pacing accuracy: a sender limited to 10 msg/s
hands off how many in 60 s while another sender runs unthrottled; and FAIRNESS_SCHEDULED
(100,000) messages due at the same minute against the same number sent at once.

Needs PostgreSQL (BENCH_DATABASE_URL); without it, says so and exits 0.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run as harness  # noqa: E402
from bench.messages import CREATE_TEMPLATE, PARAMETERS, TEMPLATE, numbers  # noqa: E402
from sent_project import lanes  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sent_fairness")
BACKLOG = int(os.environ.get("FAIRNESS_BACKLOG", "100000"))
PACING_SECONDS = int(os.environ.get("FAIRNESS_PACING_SECONDS", "60"))
B_SENDS = 100
LOGS = harness.OUT / "fairness"


class Hang(BaseHTTPRequestHandler):
    """An endpoint that never answers: the attempt waits for its timeout."""

    def do_POST(self):  # noqa: N802
        time.sleep(60)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(port: int, **extra) -> dict:
    return {
        **harness.bench_env(),
        "DATABASE_URL": DB_URL,
        "ROOT_URLCONF": "sent_project.urls",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "SITE_URL": f"http://127.0.0.1:{port}",
        **{k: str(v) for k, v in extra.items()},
    }


def manage(environment: dict, *args: str) -> str:
    return subprocess.run(
        [harness.PYTHON, "manage.py", *args],
        cwd=harness.ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@contextmanager
def web_alone(environment: dict, port: int):
    """gunicorn (4 workers) and no task worker: what is sent meanwhile stays queued."""
    web = subprocess.Popen(
        [harness.PYTHON, "-m", "gunicorn", "sent_project.wsgi", "--workers", "4"]
        + ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=harness.ROOT,
        env=environment,
    )
    try:
        time.sleep(3)
        yield
    finally:
        web.terminate()
        web.wait(timeout=20)


class Stack:
    """gunicorn and a worker per lane (two for dispatch)."""

    def __init__(self, environment: dict, port: int):
        self.env, self.port, self.processes = environment, port, []

    def __enter__(self):
        log = (LOGS / "stack.log").open("a")
        self.processes.append(
            subprocess.Popen(
                [harness.PYTHON, "-m", "gunicorn", "sent_project.wsgi", "--workers", "4"]
                + ["--bind", f"127.0.0.1:{self.port}", "--log-level", "warning"],
                cwd=harness.ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        )
        for queues in lanes.worker_queues(dispatch_workers=2):
            self.processes.append(
                subprocess.Popen(
                    [harness.PYTHON, "manage.py", "db_worker", "--queue-name", queues]
                    + ["--interval", "0.05", "--no-reload", "--no-startup-delay"],
                    cwd=harness.ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def customer(environment: dict, name: str) -> dict:
    account = json.loads(
        manage(environment, "create_customer", "--name", name, "--balance", "100000000", "--json")
    )
    manage(
        environment,
        "shell",
        "-c",
        CREATE_TEMPLATE.format(customer_id=account["customer_id"], name=TEMPLATE),
    )
    return account


def body(to: list[str]) -> dict:
    return {"to": to, "template": {"name": TEMPLATE, "parameters": PARAMETERS}}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def b_latencies(client: httpx.Client, conn, start_block: int) -> dict:
    ids = []
    for to in numbers(start_block, B_SENDS, endings=range(50, 80)):
        response = client.post("/v3/messages", json=body([to]))
        assert response.status_code == 202, response.text[:300]
        ids.append(response.json()["data"]["recipients"][0]["message_id"])
        time.sleep(0.05)
    deadline = time.monotonic() + 300
    while True:
        rows = conn.execute(
            "SELECT EXTRACT(EPOCH FROM (sent_at - created_at)) FROM messaging_message "
            "WHERE id = ANY(%s) AND sent_at IS NOT NULL",
            [ids],
        ).fetchall()
        if len(rows) == len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    seconds = [float(row[0]) for row in rows]
    return {
        "sent": len(seconds),
        "of": len(ids),
        "p50_s": round(statistics.median(seconds), 3) if seconds else None,
        "p99_s": round(percentile(seconds, 0.99), 3) if seconds else None,
        "max_s": round(max(seconds), 3) if seconds else None,
    }


def waiting(conn, customer_id: str) -> dict:
    messages = conn.execute(
        "SELECT count(*) FROM messaging_message WHERE customer_id = %s AND status IN "
        "('QUEUED', 'PROCESSED')",
        [customer_id],
    ).fetchone()[0]
    deliveries = conn.execute(
        "SELECT count(*) FROM messaging_webhookdelivery d JOIN messaging_webhookendpoint e "
        "ON e.id = d.endpoint_id WHERE e.customer_id = %s AND d.status IN ('pending', 'retrying')",
        [customer_id],
    ).fetchone()[0]
    return {"queued_messages": messages, "pending_deliveries": deliveries}


def scenario(name: str, backlog: int, hang_url: str) -> dict:
    harness.DB_URL = DB_URL
    harness.recreate_database()
    port = free_port()
    environment = env(port)
    manage(environment, "migrate", "--noinput")
    a, b = customer(environment, "Tenant A"), customer(environment, "Tenant B")
    base = f"http://127.0.0.1:{port}"

    def a_sends(ac: httpx.Client) -> float:
        """A's endpoints, ~10,000 deliveries' worth of messages, then its backlog; seconds
        the backlog took to accept."""
        for i in range(10):
            response = ac.post(
                "/v3/webhooks",
                json={"endpoint_url": f"{hang_url}/a{i}", "event_types": ["message"]},
            )
            assert response.status_code == 201, response.text[:300]
        # ~10,000 deliveries: each message's queued/sent/delivered events × 10 endpoints.
        for block in range(0, 350, 50):
            response = ac.post("/v3/messages", json=body(numbers(block, 50, endings=range(50, 80))))
            assert response.status_code == 202, response.text[:300]
        started = time.monotonic()
        for block in range(0, backlog, 1000):
            to = numbers(100_000 + block, min(1000, backlog - block), endings=range(50, 80))
            response = ac.post("/v3/messages", json=body(to))
            assert response.status_code == 202, response.text[:300]
        return time.monotonic() - started

    accepted_in = 0.0
    if backlog:
        # The backlog is accepted by the web server alone, so that it is all still queued
        # when the workers start and B sends (with the workers running, they drain most of it
        # while it is being accepted).
        with (
            web_alone(environment, port),
            httpx.Client(base_url=base, timeout=120, headers={"x-api-key": a["api_key"]}) as ac,
        ):
            accepted_in = a_sends(ac)
    with (
        Stack(environment, port),
        psycopg.connect(DB_URL, autocommit=True) as conn,
        httpx.Client(base_url=base, timeout=120, headers={"x-api-key": a["api_key"]}) as ac,
        httpx.Client(base_url=base, timeout=120, headers={"x-api-key": b["api_key"]}) as bc,
    ):
        if not backlog:
            accepted_in = a_sends(ac)
        before = waiting(conn, a["customer_id"])
        result = b_latencies(bc, conn, 900_000)
        after = waiting(conn, a["customer_id"])
    return {
        "scenario": name,
        "a_backlog_accepted_in_s": round(accepted_in, 1),
        "a_waiting_when_b_started": before,
        "a_waiting_when_b_done": after,
        "b_accepted_to_sent": result,
    }


def pacing(hang_url: str) -> dict:
    """A sender limited to 10 msg/s (the default SMS route) next to the unthrottled
    simulator (sandbox sends): how many it hands off in PACING_SECONDS."""
    harness.DB_URL = DB_URL
    harness.recreate_database()
    port = free_port()
    environment = env(port, PACING_DEFAULT_ROUTE_RATES=json.dumps({"sms": 10}))
    manage(environment, "migrate", "--noinput")
    a = customer(environment, "Paced")
    base = f"http://127.0.0.1:{port}"
    with (
        Stack(environment, port),
        psycopg.connect(DB_URL, autocommit=True) as conn,
        httpx.Client(base_url=base, timeout=120, headers={"x-api-key": a["api_key"]}) as client,
    ):
        paced = numbers(0, 2000, endings=range(50, 80))
        for start in range(0, len(paced), 1000):
            response = client.post("/v3/messages", json=body(paced[start : start + 1000]))
            assert response.status_code == 202
        began = time.monotonic()
        stop = threading.Event()
        unpaced = []

        def flood():  # sandbox sends: the simulator's own bucket
            block = 50_000
            while not stop.is_set():
                to = numbers(block, 200, endings=range(50, 80))
                block += 10
                r = client.post("/v3/messages", json={**body(to), "sandbox": True})
                unpaced.append(r.status_code)

        thread = threading.Thread(target=flood)
        thread.start()
        time.sleep(PACING_SECONDS)
        stop.set()
        thread.join()
        # Hand-offs in the PACING_SECONDS from the sender's first one.
        handed, elapsed = conn.execute(
            "WITH paced AS (SELECT claimed_at FROM messaging_message WHERE customer_id = %s "
            "AND NOT sandbox AND claimed_at IS NOT NULL) SELECT count(*) FILTER (WHERE "
            "claimed_at < (SELECT min(claimed_at) FROM paced) + make_interval(secs => %s)), "
            "%s::float FROM paced",
            [a["customer_id"], PACING_SECONDS, PACING_SECONDS],
        ).fetchone()
        sandbox_sent = conn.execute(
            "SELECT count(*) FROM messaging_message WHERE customer_id = %s AND sandbox "
            "AND sent_at IS NOT NULL",
            [a["customer_id"]],
        ).fetchone()[0]
        del began
    expected = 10 * elapsed  # the rate over the window (the full bucket at start: +10)
    return {
        "scenario": "pacing: a 10 msg/s sender beside an unthrottled one",
        "seconds": round(elapsed, 1),
        "paced_handed_off": handed,
        "expected": round(expected),
        "error_pct": round(100 * (handed - expected) / expected, 2),
        "unthrottled_sent": sandbox_sent,
    }


def _drain_seconds(conn, customer_id: str, since_sql: str) -> tuple[float, int]:
    """Seconds from `since_sql` to the last hand-off of the customer's messages, and how many."""
    while True:
        left = conn.execute(
            "SELECT count(*) FROM messaging_message WHERE customer_id = %s AND sent_at IS NULL",
            [customer_id],
        ).fetchone()[0]
        if not left:
            break
        time.sleep(0.5)
    row = conn.execute(
        f"SELECT EXTRACT(EPOCH FROM (max(sent_at) - {since_sql})), count(*) "
        "FROM messaging_message WHERE customer_id = %s",
        [customer_id],
    ).fetchone()
    return float(row[0]), int(row[1])


def scheduled(backlog: int) -> dict:
    """`backlog` messages due at the same minute, against the same number sent at once, both
    drained by 2 dispatch workers: msg/s from due (or from the workers' start) to the last
    hand-off."""
    from datetime import UTC, datetime, timedelta

    result = {"scenario": f"{backlog:,} scheduled for the same minute vs sent at once"}
    for kind in ("unscheduled", "scheduled"):
        harness.DB_URL = DB_URL
        harness.recreate_database()
        port = free_port()
        environment = env(port)
        manage(environment, "migrate", "--noinput")
        account = customer(environment, "Campaign")
        base = f"http://127.0.0.1:{port}"
        # Accept everything first (the web server alone), then start the workers.
        with web_alone(environment, port):
            due = datetime.now(UTC) + timedelta(seconds=backlog / 400 + 30)
            with httpx.Client(
                base_url=base, timeout=120, headers={"x-api-key": account["api_key"]}
            ) as client:
                for block in range(0, backlog, 1000):
                    to = numbers(block, min(1000, backlog - block), endings=range(50, 80))
                    extra = {"scheduled_at": due.isoformat()} if kind == "scheduled" else {}
                    response = client.post("/v3/messages", json={**body(to), **extra})
                    assert response.status_code == 202, response.text[:300]
        with Stack(environment, port), psycopg.connect(DB_URL, autocommit=True) as conn:
            if kind == "scheduled":
                assert datetime.now(UTC) < due, "accepting took longer than the lead time"
                seconds, count = _drain_seconds(conn, account["customer_id"], "min(scheduled_at)")
            else:
                # From the first hand-off: the workers' start-up isn't the drain's.
                seconds, count = _drain_seconds(conn, account["customer_id"], "min(claimed_at)")
        result[f"{kind}_msg_per_s"] = round(count / seconds, 1)
    result["ratio"] = round(result["scheduled_msg_per_s"] / result["unscheduled_msg_per_s"], 2)
    return result


def main() -> int:
    if not harness.reachable(DB_URL):
        print(f"the fairness benchmark needs PostgreSQL at {DB_URL}: skipped")
        return 0
    LOGS.mkdir(parents=True, exist_ok=True)
    hang = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    hang.daemon_threads = True
    threading.Thread(target=hang.serve_forever, daemon=True).start()
    hang_url = f"http://127.0.0.1:{hang.server_address[1]}"
    results = []
    only = os.environ.get("FAIRNESS_ONLY", "")
    if only in ("", "webhooks"):
        results.append(scenario("A: 10 hanging endpoints, ~10,000 deliveries", 0, hang_url))
        print(json.dumps(results[-1]), flush=True)
    if only in ("", "backlog"):
        results.append(scenario(f"A: the same and {BACKLOG:,} queued messages", BACKLOG, hang_url))
        print(json.dumps(results[-1]), flush=True)
    if only in ("", "scheduled"):
        results.append(scheduled(int(os.environ.get("FAIRNESS_SCHEDULED", "100000"))))
        print(json.dumps(results[-1]), flush=True)
    if only in ("", "pacing"):
        results.append(pacing(hang_url))
        print(json.dumps(results[-1]), flush=True)
    (harness.OUT / "fairness.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
