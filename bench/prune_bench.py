"""The retention prune on PostgreSQL while sends run (docs/operations.md#retention).

Builds its own database (PRUNE_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
sent_prune_bench — dropped and re-created), fills it with PRUNE_BENCH_ROWS (default 1,000,000)
finished task results 400 days old, starts gunicorn, then measures the latency of
`POST /v3/messages` sent one after another: first PRUNE_BENCH_SECONDS (default 20) without
the prune, then while `manage.py prune --only task_results` deletes every old row in batches
of RETENTION_BATCH_SIZE. Prints p50 / p99 of both phases, the prune's duration and rows per
second; results also go to var/bench/prune.json. Without PostgreSQL it says so and exits 0.
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


def build_database() -> None:
    name = urlparse(DB_URL).path.lstrip("/")
    with admin_connection() as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env(), check=True)
    import psycopg

    started = time.monotonic()
    with psycopg.connect(DB_URL.replace("postgres://", "postgresql://"), autocommit=True) as db:
        db.execute(
            """
            INSERT INTO django_tasks_database_dbtaskresult
                (id, status, enqueued_at, started_at, finished_at, args_kwargs, priority,
                 task_path, worker_ids, queue_name, backend_name, run_after, return_value,
                 exception_class_path, traceback)
            SELECT gen_random_uuid(), 'SUCCESSFUL', t, t, t, '{"args": [], "kwargs": {}}', 0,
                   'messaging.tasks.message_dispatch', '["bench"]', 'dispatch', 'default',
                   t, '{}', '', ''
            FROM (SELECT now() - interval '400 days' - n * interval '1 second' AS t
                  FROM generate_series(1, %s) AS n) AS rows
            """,
            [ROWS],
        )
        db.execute("ANALYZE django_tasks_database_dbtaskresult")
    print(f"{ROWS:,} old task results written in {time.monotonic() - started:.1f} s")


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
    key = json.loads(made.stdout)["api_key"]
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
            [PYTHON, "manage.py", "prune", "--only", "task_results"],
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
        "rows": ROWS,
        "batch_size": int(env().get("RETENTION_BATCH_SIZE", "5000")),
        "prune_seconds": round(prune_seconds, 1),
        "rows_per_second": round(ROWS / prune_seconds),
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
