"""The retention prune on PostgreSQL while sends run (docs/operations.md#retention).

Builds its own database (PRUNE_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
sent_prune_bench — dropped and re-created) and fills it with PRUNE_BENCH_ROWS (default
1,000,000) old rows of every kind the retention job prunes, in equal shares (PRUNE_BENCH_KINDS,
comma-separated, picks some): finished task results, idempotency records, outbox events with a
finished webhook delivery and its attempt each, simulator records, provider callbacks and the
row results of finished contact imports, all 400 days old. It starts gunicorn, then measures the
latency of `POST /v3/messages` sent one after another: first PRUNE_BENCH_SECONDS (default 20)
without the prune, then while `manage.py prune` deletes every old row in batches of
RETENTION_BATCH_SIZE. Prints p50 / p99 of both phases, the prune's duration, rows per second and
what each pruner removed; results also go to var/bench/prune.json. Without PostgreSQL it says so
and exits 0.
"""

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_URL = os.environ.get(
    "PRUNE_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sent_prune_bench"
)
ROWS = int(os.environ.get("PRUNE_BENCH_ROWS", "1000000"))
SECONDS = float(os.environ.get("PRUNE_BENCH_SECONDS", "20"))
PORT = int(os.environ.get("PRUNE_BENCH_PORT", "8766"))
OUT = ROOT / "var" / "bench"


def env() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "*",
        "API_RATE_LIMIT": "100000000/min",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "60",
    }


def admin_connection():
    import psycopg

    parsed = urlparse(DB_URL)
    return psycopg.connect(
        f"postgresql://{parsed.username or 'postgres'}@{parsed.hostname}:{parsed.port or 5432}/postgres",
        autocommit=True,
    )


KINDS = ("task_results", "idempotency", "events", "simulator", "provider_callbacks", "import_rows")
WANTED = [k for k in os.environ.get("PRUNE_BENCH_KINDS", ",".join(KINDS)).split(",") if k]

# What fills each kind, `%(n)s` rows `t` 400 days old (`rows` yields n and t). `events` also
# gives each event a finished webhook delivery and one attempt (pruned first, by
# `webhook_deliveries`); `import_rows` hangs the rows on finished imports of 10,000 rows.
ROWS_CTE = (
    "WITH rows AS (SELECT n, now() - interval '400 days' - n * interval '1 second' AS t "
    "FROM generate_series(1, %(n)s) AS n) "
)
FILL = {
    "task_results": [
        """INSERT INTO django_tasks_database_dbtaskresult
               (id, status, enqueued_at, started_at, finished_at, args_kwargs, priority,
                task_path, worker_ids, queue_name, backend_name, run_after, return_value,
                exception_class_path, traceback)
           SELECT gen_random_uuid(), 'SUCCESSFUL', t, t, t, '{"args": [], "kwargs": {}}', 0,
                  'messaging.tasks.message_dispatch', '["bench"]', 'dispatch', 'default',
                  t, '{}', '', ''
           FROM rows"""
    ],
    "idempotency": [
        """INSERT INTO sent_project_idempotencyrecord
               (customer_id, key, fingerprint, state, request_id, response_status,
                response_headers, response_body, created_at, locked_at)
           SELECT %(customer)s, 'old-' || n, 'x', 'completed', 'req_old', 202, '{}', NULL, t, t
           FROM rows"""
    ],
    "events": [
        """INSERT INTO messaging_event
               (id, customer_id, field, event, subject_id, sequence, payload, request_id,
                created_at, fanned_out_at)
           SELECT gen_random_uuid(), %(customer)s, 'message', 'message.status', NULL, n,
                  '{}', 'req_old', t, t
           FROM rows""",
        """INSERT INTO messaging_webhookdelivery
               (id, event_id, endpoint_id, status, is_test, attempts, round_failures,
                next_attempt_at, claimed_at, http_status_code, error_message, response_body,
                processing_started_at, processing_completed_at, created_at)
           SELECT gen_random_uuid(), id, %(endpoint)s, 'delivered', false, 1, 0, NULL, NULL,
                  200, '', 'ok', created_at, created_at, created_at
           FROM messaging_event WHERE customer_id = %(customer)s""",
        """INSERT INTO messaging_webhookattempt
               (delivery_id, number, started_at, latency_ms, http_status_code, outcome,
                response_body, error, circuit)
           SELECT id, 1, created_at, 12, 200, 'delivered', 'ok', '', ''
           FROM messaging_webhookdelivery WHERE endpoint_id = %(endpoint)s""",
    ],
    "simulator": [
        """INSERT INTO messaging_simulatorsend
               (message_id, channel, "to", attempts, provider_message_id, created_at)
           SELECT gen_random_uuid(), 'sms', '+14155550100', 1, 'sim_old_' || n, t FROM rows"""
    ],
    "provider_callbacks": [
        """INSERT INTO messaging_providercallback
               (provider, kind, account_id, outcome, detail, url, remote_addr, body, digest,
                received_at)
           SELECT 'twilio', 'status', NULL, 'applied', '', '', NULL, '', NULL, t FROM rows"""
    ],
    "import_rows": [
        """INSERT INTO contacts_contactimport
               (id, customer_id, status, source_format, filename, payload, total_rows,
                processed_rows, created_count, existing_count, invalid_count, opted_out_count,
                error, created_at, started_at, finished_at)
           SELECT gen_random_uuid(), %(customer)s, 'completed', 'csv', 'old.csv', '', 10000,
                  10000, 10000, 0, 0, 0, '', t, t, t
           FROM rows WHERE n %% 10000 = 1""",
        """INSERT INTO contacts_contactimportrow
               (contact_import_id, row_number, phone_number, status, contact_id, reason)
           SELECT i.id, r.k, '+14155550100', 'created', NULL, ''
           FROM contacts_contactimport AS i,
                generate_series(1, 10000) AS r(k)
           WHERE i.customer_id = %(customer)s""",
    ],
}
TABLES = {
    "task_results": ["django_tasks_database_dbtaskresult"],
    "idempotency": ["sent_project_idempotencyrecord"],
    "events": ["messaging_event", "messaging_webhookdelivery", "messaging_webhookattempt"],
    "simulator": ["messaging_simulatorsend"],
    "provider_callbacks": ["messaging_providercallback"],
    "import_rows": ["contacts_contactimport", "contacts_contactimportrow"],
}


def build_database() -> None:
    name = urlparse(DB_URL).path.lstrip("/")
    with admin_connection() as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env(), check=True)


def manage_py(*args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env(), capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stdout + done.stderr)
    return done.stdout


def fill(customer_id: str) -> int:
    """PRUNE_BENCH_ROWS old rows shared between the WANTED kinds; returns the rows written
    (an event counts with its delivery and attempt, as the prune deletes all three)."""
    import psycopg

    endpoint = manage_py(
        "shell",
        "--no-imports",
        "-c",
        "from messaging.models import WebhookEndpoint; "
        f"e = WebhookEndpoint.objects.create(customer_id='{customer_id}', "
        "endpoint_url='http://127.0.0.1:9/old', signing_secret_encrypted='x'); print(e.pk)",
    ).split()[-1]
    share = ROWS // len(WANTED)
    written = 0
    with psycopg.connect(DB_URL.replace("postgres://", "postgresql://"), autocommit=True) as db:
        for kind in WANTED:
            started = time.monotonic()
            n = share // 3 if kind == "events" else share
            params = {"n": n, "customer": customer_id, "endpoint": endpoint}
            for statement in FILL[kind]:
                sql = statement if "FROM rows" not in statement else ROWS_CTE + statement
                db.execute(sql, params)
            for table in TABLES[kind]:
                db.execute(f"ANALYZE {table}")
            rows = n * 3 if kind == "events" else n
            written += rows
            print(f"{kind}: {rows:,} old rows in {time.monotonic() - started:.1f} s", flush=True)
    return written


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def sends_while(client: httpx.Client, key: str, keep_going) -> list[float]:
    latencies = []
    n = 0
    while keep_going():
        n += 1
        body = {"to": [f"+1415555{n % 10000:04d}"], "text": "bench"}
        started = time.perf_counter()
        response = client.post("/v3/messages", json=body, headers={"x-api-key": key})
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 202, response.text
    return latencies


def summary(latencies: list[float]) -> dict:
    return {
        "sends": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


def main() -> int:
    host = urlparse(DB_URL)
    try:
        socket.create_connection((host.hostname, host.port or 5432), 2).close()
    except OSError:
        print("prune bench: PostgreSQL not reachable, skipped")
        return 0
    build_database()
    made = subprocess.run(
        [
            PYTHON,
            "manage.py",
            "create_customer",
            "--name",
            "Bench",
            "--balance",
            "1000000",
            "--json",
        ],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        check=True,
    )
    account = json.loads(made.stdout)
    key = account["api_key"]
    written = fill(account["customer_id"])
    web = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "sent_project.wsgi",
        ],
        cwd=ROOT,
        env=env(),
        start_new_session=True,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
        warm = time.monotonic() + 3
        sends_while(client, key, lambda: time.monotonic() < warm)
        end = time.monotonic() + SECONDS
        baseline = sends_while(client, key, lambda: time.monotonic() < end)
        started = time.monotonic()
        prune = subprocess.Popen(
            [PYTHON, "manage.py", "prune"],
            cwd=ROOT,
            env=env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        during = sends_while(client, key, lambda: prune.poll() is None)
        prune_seconds = time.monotonic() - started
        output = prune.stdout.read().strip()
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    result = {
        "rows": written,
        "kinds": WANTED,
        "batch_size": int(env().get("RETENTION_BATCH_SIZE", "5000")),
        "prune_seconds": round(prune_seconds, 1),
        "rows_per_second": round(written / prune_seconds),
        "prune_output": output,
        "without_prune": summary(baseline),
        "during_prune": summary(during),
    }
    result["p99_ratio"] = round(
        result["during_prune"]["p99_ms"] / result["without_prune"]["p99_ms"], 2
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "prune.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
