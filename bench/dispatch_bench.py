"""The dispatch path's cost per message (docs/operations.md#dispatch-cost-per-message), run by
`make bench` or alone: `.venv/bin/python bench/dispatch_bench.py`.

On its own PostgreSQL database (BENCH_DATABASE_URL, default `sent_dispatch_bench`, dropped and
re-created), for 1 then 2 `db_worker` processes (all lanes, `--queue-name *`;
DISPATCH_BENCH_WORKERS=1,2): gunicorn (2 workers) and the workers are started and left to
settle (their start-up is not counted), then DISPATCH_BENCH_SENDS (default 10) sends of 1,000
recipients go through `POST /v3/messages` (numbers ending 00–79: WhatsApp read, SMS
delivered; the simulator at zero delay), timed from the first send until every message has
its final status (DELIVERED / READ).

Printed per run: messages/s end to end; SQL statements per message the workers ran (counted
by a wrapper on their connections, bench/dispatch_worker.py, idle polling included) and
transactions per message (the database's commit counter, every client); CPU ms per message
of each kind of process — the workers, the PostgreSQL backends serving this database (their
pids from pg_stat_activity, sampled every 0.2 s; CPU from /proc/<pid>/stat) and the web
processes. Results also go to var/bench/dispatch.json.

Needs PostgreSQL on this machine (its backends' /proc); without it, says so and exits 0.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run as harness  # noqa: E402
from bench.messages import CREATE_TEMPLATE, TEMPLATE, numbers, send_body  # noqa: E402

DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sent_dispatch_bench"
)
SENDS = int(os.environ.get("DISPATCH_BENCH_SENDS", "10"))
WORKERS = [int(n) for n in os.environ.get("DISPATCH_BENCH_WORKERS", "1,2").split(",")]
FINAL = ("DELIVERED", "READ", "FAILED")
TICK = os.sysconf("SC_CLK_TCK")
LOGS = harness.OUT / "dispatch"


def env(port: int, db_url: str = DB_URL) -> dict:
    return {
        **harness.bench_env(),
        "DATABASE_URL": db_url,
        "ROOT_URLCONF": "sent_project.urls",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }


def manage(environment: dict, *args: str) -> str:
    return harness.manage(*args, env=environment)


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (and of its waited-for children), or None once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICK


def family(pid: int) -> list[int]:
    """The process and its children (gunicorn's master and workers)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *(int(child) for child in children)]


class Backends:
    """CPU of the PostgreSQL backends serving the database, sampled from pg_stat_activity
    every 0.2 s: the last reading of each backend counts (one that exits between two
    samples loses at most 0.2 s of its CPU)."""

    def __init__(self, conn):
        self.conn, self.first, self.last = conn, {}, {}
        self.own = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        self.stop = threading.Event()
        self.sample()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        name = urlparse(DB_URL).path.lstrip("/")
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            [name, self.own],
        ).fetchall()
        for (pid,) in rows:
            seconds = cpu_seconds(pid)
            if seconds is not None:
                self.first.setdefault(pid, seconds)
                self.last[pid] = seconds

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def total(self) -> float:
        self.stop.set()
        self.thread.join()
        self.sample()
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def commits(conn) -> int:
    name = urlparse(DB_URL).path.lstrip("/")
    return conn.execute(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [name]
    ).fetchone()[0]


def unfinished(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM messaging_message WHERE status <> ALL(%s)", [list(FINAL)]
    ).fetchone()[0]


def start_web(environment: dict, port: int, log) -> subprocess.Popen:
    web = subprocess.Popen(
        [harness.PYTHON, "-m", "gunicorn", "sent_project.wsgi", "--workers", "2", "--preload"]
        + ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=harness.ROOT,
        env=environment,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return web
        except OSError:
            if time.monotonic() > deadline:
                web.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.1)


def start_workers(environment: dict, workers: int, counters: Path | None, log_path: Path) -> list:
    """`workers` db_worker processes on every lane, imported and polling when this returns;
    with `counters`, each counts its SQL statements into counters/N.json
    (bench/dispatch_worker.py), else a plain `manage.py db_worker`."""
    log = log_path.open("a")
    options = ["--queue-name", "*", "--interval", "0.05", "--no-reload", "--no-startup-delay"]

    def command(n: int) -> list[str]:
        if counters is None:
            return [harness.PYTHON, "manage.py", "db_worker", *options]
        return [harness.PYTHON, "bench/dispatch_worker.py", str(counters / f"{n}.json"), *options]

    processes = [
        subprocess.Popen(
            command(n),
            cwd=harness.ROOT,
            env=environment,
            stdout=log,
            stderr=log,
        )
        for n in range(workers)
    ]
    deadline = time.monotonic() + 60
    while log_path.read_text().count("Starting worker") < workers:  # imported and polling
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start")
        time.sleep(0.1)
    time.sleep(0.5)
    return processes


def one_run(environment: dict, account: dict, port: int, workers: int, start_block: int) -> dict:
    """Workers and web up and idle first (their start-up is not counted), then the sends;
    timed from the first send to the last message's final status."""
    log_path = LOGS / f"workers-{workers}.log"
    log_path.write_text("")
    counters = Path(tempfile.mkdtemp(prefix="dispatch-bench-"))
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        web = start_web(environment, port, log_path.open("a"))
        processes = []
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=120,
                headers={"x-api-key": account["api_key"]},
            ) as client:
                for _ in range(8):  # warm both web workers up (first-request set-up)
                    client.get("/v3/me")
                processes = start_workers(environment, workers, counters, log_path)
                pids = {"web": family(web.pid), "workers": [p.pid for p in processes]}
                before = {pid: cpu_seconds(pid) or 0 for kind in pids.values() for pid in kind}
                cpu = dict(before)
                backends = Backends(conn)
                commits_before = commits(conn)
                started = time.perf_counter()
                for i in range(SENDS):
                    to = numbers(start_block + i * 20, 1000, endings=range(80))
                    response = client.post("/v3/messages", json=send_body(to))
                    assert response.status_code == 202, response.text[:500]
                accept_seconds = time.perf_counter() - started
            messages = SENDS * 1000
            deadline = time.monotonic() + 1200
            while True:
                for pid in cpu:
                    cpu[pid] = cpu_seconds(pid) or cpu[pid]
                if not unfinished(conn):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("dispatch benchmark: timed out")
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            transactions = commits(conn) - commits_before
            backend_cpu = backends.total()
        finally:
            for process in [*processes, web]:
                process.terminate()
            for process in [*processes, web]:
                process.wait(timeout=60)
    statements = sum(json.loads(path.read_text())["statements"] for path in counters.glob("*.json"))

    def ms(kind: str) -> float:
        return round(sum(cpu[pid] - before[pid] for pid in pids[kind]) * 1000 / messages, 3)

    spent = {"workers": ms("workers"), "postgres": round(backend_cpu * 1000 / messages, 3)}
    spent["web"] = ms("web")
    return {
        "scenario": f"dispatch: {SENDS}×1,000 recipients, {workers} worker(s)",
        "messages": messages,
        "msg_per_s": round(messages / seconds, 1),
        "accept_s": round(accept_seconds, 2),
        "worker_sql_per_msg": round(statements / messages, 2),
        "transactions_per_msg": round(transactions / messages, 2),
        "cpu_ms_per_msg": spent,
        "cpu_ms_per_msg_total": round(sum(spent.values()), 3),
        "load": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    if not harness.reachable(DB_URL):
        print(f"the dispatch benchmark needs PostgreSQL at {DB_URL}: skipped")
        return 0
    LOGS.mkdir(parents=True, exist_ok=True)
    port = harness.PORT + 7
    environment = env(port)
    harness.DB_URL = DB_URL
    harness.recreate_database()
    manage(environment, "migrate", "--noinput")
    account = json.loads(
        manage(environment, "create_customer", "--name", "Bench", "--balance", "1000000", "--json")
    )
    manage(
        environment,
        "shell",
        "-c",
        CREATE_TEMPLATE.format(customer_id=account["customer_id"], name=TEMPLATE),
    )
    results = []
    for index, workers in enumerate(WORKERS):
        results.append(one_run(environment, account, port, workers, 10_000 + index * 20 * SENDS))
        print(json.dumps(results[-1]), flush=True)
    (harness.OUT / "dispatch.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
