"""The webhooks lane under a noisy neighbour (docs/architecture.md#fairness-in-the-webhooks-lane).

    python bench/webhooks_bench.py          (also run by `make bench`, after bench/run.py)

Tenant A has 10 endpoints that hang until the attempt timeout (BENCH_WEBHOOK_TIMEOUT seconds,
default 15, the install's maximum) and BENCH_WEBHOOK_BACKLOG deliveries (default 10,000)
waiting; 2 `db_worker --queue-name webhooks` processes serve the lane. Tenant B then emits
BENCH_WEBHOOK_EVENTS events (default 100), one every 0.2 s, to one endpoint that answers at once;
the figure is B's latency from the event's commit to its arrival at B's receiver: p50, p99, max.

Two scenarios: the defaults (A's circuits open after 5 timeouts each, its wait budget applies),
and "limits off" — circuit breaker and wait budget disabled, so only the round-robin between
customers and the concurrency caps stand between A's backlog and B. Also reported: A's
attempts during the run and the most attempts in flight at once per endpoint and for A (at the
hanging receiver). Results: var/bench/webhooks.json.

Its own database: BENCH_WEBHOOKS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
sent_webhooks_bench), dropped and re-created per scenario. Without PostgreSQL it says so and
exits 0.
"""

import http.server
import json
import os
import select
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the `bench` package importable
from bench import run as harness  # noqa: E402

DB_URL = os.environ.get(
    "BENCH_WEBHOOKS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sent_webhooks_bench"
)
TIMEOUT = float(os.environ.get("BENCH_WEBHOOK_TIMEOUT", "15"))
BACKLOG = int(os.environ.get("BENCH_WEBHOOK_BACKLOG", "10000"))
EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "100"))
WORKERS = 2
SCENARIOS = {
    "defaults": {},
    "limits off": {
        "WEBHOOK_CIRCUIT_FAILURES": "100000000",
        "WEBHOOK_TENANT_WAIT_BUDGET_SECONDS": "100000000",
    },
}


def env(extra: dict) -> dict:
    return {
        **harness.bench_env(),
        "DATABASE_URL": DB_URL,
        "DB_CONN_MAX_AGE": "0",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_TIMEOUT_MAX_SECONDS": str(TIMEOUT),
        **extra,
    }


class Receivers:
    """A: hangs until the client gives up, counting in flight per path; B: answers 200 at
    once and notes when each `webhook-id` arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.total = self.most_total = 0
        self.arrived: dict[str, float] = {}
        receivers = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path.startswith("/b"):
                    receivers.arrived.setdefault(self.headers["webhook-id"], time.time())
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                with receivers.lock:
                    now = receivers.in_flight.get(self.path, 0) + 1
                    receivers.in_flight[self.path] = now
                    receivers.most[self.path] = max(receivers.most.get(self.path, 0), now)
                    receivers.total += 1
                    receivers.most_total = max(receivers.most_total, receivers.total)
                select.select([self.connection], [], [], TIMEOUT + 30)
                with receivers.lock:
                    receivers.in_flight[self.path] -= 1
                    receivers.total -= 1
                self.close_connection = True

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def scenario(name: str, extra: dict) -> dict:
    harness.DB_URL = DB_URL
    harness.recreate_database()
    subprocess.run(
        [harness.PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env(extra),
        check=True,
        capture_output=True,
    )
    os.environ.update(env(extra))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sent_project.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from billing.models import Customer
    from messaging.models import WebhookAttempt, WebhookDelivery
    from messaging.webhooks.services import webhook_endpoint_create
    from messaging.webhooks.tasks import webhook_drain_request
    from sent_project.models import Event
    from sent_project.outbox import event_emit

    connection.close()
    receivers = Receivers()
    a = Customer.objects.create(name="Tenant A")
    b = Customer.objects.create(name="Tenant B")
    timeout = max(1, min(120, round(TIMEOUT)))
    hooks = [
        webhook_endpoint_create(
            a,
            endpoint_url=receivers.url(f"a{n}"),
            event_types=["message"],
            timeout_seconds=timeout,
        )[0]
        for n in range(10)
    ]
    webhook_endpoint_create(
        b, endpoint_url=receivers.url("b"), event_types=["message"], timeout_seconds=timeout
    )
    now = timezone.now()
    for start in range(0, BACKLOG, 1000):
        events = Event.objects.bulk_create(
            Event(
                customer=a,
                field="message",
                event="message.sent",
                payload={"n": n},
                fanned_out_at=now,
            )
            for n in range(start, min(BACKLOG, start + 1000))
        )
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=e, endpoint=hooks[i % 10], next_attempt_at=now)
            for i, e in enumerate(events)
        )
    webhook_drain_request()
    logs = harness.OUT / "webhooks"
    logs.mkdir(parents=True, exist_ok=True)
    workers = [
        subprocess.Popen(
            [
                harness.PYTHON,
                "manage.py",
                "db_worker",
                "--queue-name",
                "webhooks",
                "--interval",
                "0.05",
                "--no-reload",
                "--worker-id",
                f"bench-{n}",
            ],
            cwd=ROOT,
            env=env(extra),
            stdout=(logs / f"{name.replace(' ', '_')}-worker-{n}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for n in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 120
        while receivers.most_total < 4 and time.monotonic() < deadline:
            time.sleep(0.1)  # A's backlog is being worked on
        a_attempts = WebhookAttempt.objects.filter(delivery__endpoint__customer=a).count()
        sent: dict[str, float] = {}
        for n in range(EVENTS):
            with transaction.atomic():
                event = event_emit(b, field="message", event="message.sent", payload={"n": n})
            sent[str(event.pk)] = time.time()
            time.sleep(0.2)
        deadline = time.monotonic() + TIMEOUT * 4 + 60
        while len(receivers.arrived) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.1)
        a_attempts = (
            WebhookAttempt.objects.filter(delivery__endpoint__customer=a).count() - a_attempts
        )
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=30)
        receivers.server.shutdown()
    latencies = [
        (receivers.arrived[k] - t) * 1000 for k, t in sent.items() if k in receivers.arrived
    ]
    result = {
        "scenario": f"webhooks: tenant B beside A's {BACKLOG} hanging deliveries ({name})",
        "b_events": EVENTS,
        "b_delivered": len(latencies),
        "b_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "b_p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "b_max_ms": round(max(latencies), 1) if latencies else None,
        "a_attempts_meanwhile": a_attempts,
        "a_waiting_at_end": WebhookDelivery.objects.filter(
            endpoint__customer=a, attempts=0
        ).count(),
        "most_in_flight_per_endpoint": max(receivers.most.values(), default=0),
        "most_in_flight_tenant_a": receivers.most_total,
        "attempt_timeout_s": TIMEOUT,
        "workers": WORKERS,
    }
    connection.close()
    return result


def main() -> int:
    if not harness.reachable(DB_URL):
        print(f"webhooks bench needs PostgreSQL at {DB_URL}: skipped")
        return 0
    only = os.environ.get("BENCH_WEBHOOK_SCENARIO")
    results = []
    for name in SCENARIOS:
        if only and only != name:
            continue
        # Each scenario in its own process: settings are read once, at start-up.
        output = subprocess.run(
            [harness.PYTHON, __file__, "--one", name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ},
        )
        if output.returncode:
            print(output.stdout, output.stderr)
            continue
        result = json.loads(output.stdout.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result), flush=True)
    harness.OUT.mkdir(parents=True, exist_ok=True)
    (harness.OUT / "webhooks.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(scenario(sys.argv[2], SCENARIOS[sys.argv[2]])))
        sys.exit(0)
    sys.exit(main())
