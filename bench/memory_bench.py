"""Memory of the workers over a long run, and of a big contact import
(docs/operations.md#memory-of-workers-and-imports), run by `make bench` or alone:
`.venv/bin/python bench/memory_bench.py`.

On its own PostgreSQL database (BENCH_DATABASE_URL, default `sent_memory_bench`, dropped and
re-created), with gunicorn (2 workers, MEMORY_BENCH_PORT) and the harness of
bench/dispatch_bench.py:

1. Worker RSS. 2 `db_worker` processes on every lane (`--queue-name *`); MEMORY_BENCH_MESSAGES
   (default 100,000) messages go through `POST /v3/messages` in sends of 1,000 new recipients
   (the simulator at zero delay), paced: a send goes as soon as at most
   MEMORY_BENCH_AHEAD − 1 sends' worth (default 2 × 1,000) of messages is unfinished, so the
   workers are never idle and the backlog stays bounded. Each worker's VmRSS
   (/proc/<pid>/status) is sampled every second. Reported: RSS after warm-up (the first sample
   once MEMORY_BENCH_WARMUP, default 10,000, messages are final), at the end (every message
   final), the maximum, and the growth from warm-up to the end (goal: within ±10 %).
2. Import peak. For MEMORY_BENCH_IMPORT_ROWS (default 100,000) rows and a tenth of that, a
   fresh `db_worker` and gunicorn; a CSV of new numbers (bench/contacts_bench.py's file) is
   uploaded to `POST /v3/contacts/import` and run by the worker's task. Reported: the peak
   RSS (VmHWM) of the task process, of each import writer process it started (its
   descendants), and of the web process that took the upload (goal: the task process within
   IMPORT_BOUND_MB for 100,000 rows).

Prints a summary table; results also go to var/bench/memory.json. Needs PostgreSQL; without
it, says so and exits 0.
"""

import json
import os
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dispatch_bench as dispatch  # noqa: E402
from bench import run as harness  # noqa: E402
from bench.contacts_bench import import_csv  # noqa: E402
from bench.messages import CREATE_TEMPLATE, TEMPLATE, numbers, send_body  # noqa: E402

DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sent_memory_bench"
)
PORT = int(os.environ.get("MEMORY_BENCH_PORT", str(harness.PORT + 9)))
MESSAGES = int(os.environ.get("MEMORY_BENCH_MESSAGES", "100000"))
WARMUP = int(os.environ.get("MEMORY_BENCH_WARMUP", "10000"))
AHEAD = int(os.environ.get("MEMORY_BENCH_AHEAD", "3"))
# "true": the workers run with DEBUG on, as `make run`'s local ones do (Django's query log).
WORKER_DEBUG = os.environ.get("MEMORY_BENCH_WORKER_DEBUG", "false")
IMPORT_ROWS = int(os.environ.get("MEMORY_BENCH_IMPORT_ROWS", "100000"))
WORKERS = 2
PER_SEND = 1000
GROWTH_GOAL_PERCENT = 10
# The documented bound of an import's task process (docs/api/contacts.md#bulk-import).
IMPORT_BOUND_MB = 150
FINAL = dispatch.FINAL
LOGS = harness.OUT / "memory"


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process in MB, or {} once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return {
        key: round(int(fields[key].split()[0]) / 1024, 1)
        for key in ("VmRSS", "VmHWM")
        if key in fields
    }


def children(pid: int) -> list[int]:
    """The processes `pid` started (from any of its threads)."""
    found = []
    with suppress(OSError):
        for thread in Path(f"/proc/{pid}/task").iterdir():
            with suppress(OSError):
                found += [int(child) for child in (thread / "children").read_text().split()]
    return found


def below_task(pid: int) -> dict[str, list[float]]:
    """Peak RSS (MB) of the processes below an import's task, by kind: multiprocessing's
    forkserver and resource tracker (the task's children), and the import writers (forked by
    the forkserver, whose command line they inherit)."""
    kinds: dict[str, list[float]] = {}
    for child in children(pid):
        with suppress(OSError):
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            kind = next((k for k in (b"forkserver", b"resource_tracker") if k in command), b"other")
            kinds.setdefault(kind.decode(), []).append(memory_mb(child).get("VmHWM", 0))
            for grandchild in children(child):
                kinds.setdefault("writer", []).append(memory_mb(grandchild).get("VmHWM", 0))
    return kinds


def progress(conn) -> tuple[int, int]:
    """(messages in the database, how many of them are final)."""
    return conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = ANY(%s)) FROM messaging_message",
        [list(FINAL)],
    ).fetchone()


class Sampler:
    """Every second: the final-message count and each worker's VmRSS."""

    def __init__(self, pids: list[int]):
        self.pids, self.samples = pids, []
        self.stop = threading.Event()
        self.conn = psycopg.connect(DB_URL, autocommit=True)
        self.started = time.monotonic()
        self.sample()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self) -> dict:
        _, final = progress(self.conn)
        rss = [memory_mb(pid).get("VmRSS") for pid in self.pids]
        self.samples.append(
            {"s": round(time.monotonic() - self.started, 1), "final": final, "rss_mb": rss}
        )
        return self.samples[-1]

    def run(self) -> None:
        while not self.stop.wait(1):
            self.sample()

    def finish(self) -> dict:
        self.stop.set()
        self.thread.join()
        last = self.sample()
        self.conn.close()
        return last


def worker_rss(environment: dict, account: dict) -> dict:
    """RSS of 2 workers while MESSAGES messages are sent, paced, and dispatched."""
    log_path = LOGS / "workers.log"
    log_path.write_text("")
    sends = MESSAGES // PER_SEND
    warmup = min(WARMUP, MESSAGES // 2)
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        web = dispatch.start_web(environment, PORT, log_path.open("a"))
        workers = []
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{PORT}",
                timeout=120,
                headers={"x-api-key": account["api_key"]},
            ) as client:
                for _ in range(8):
                    client.get("/v3/me")
                workers = dispatch.start_workers(
                    {**environment, "DEBUG": WORKER_DEBUG}, WORKERS, None, log_path
                )
                pids = [worker.pid for worker in workers]
                idle = [memory_mb(pid)["VmRSS"] for pid in pids]
                sampler = Sampler(pids)
                started = time.perf_counter()
                for i in range(sends):
                    deadline = time.monotonic() + 600
                    while (lambda total, final: total - final)(*progress(conn)) > (
                        AHEAD - 1
                    ) * PER_SEND:
                        if time.monotonic() > deadline:
                            raise RuntimeError("memory benchmark: the workers stopped")
                        time.sleep(0.1)
                    to = numbers(10_000 + i * 20, PER_SEND, endings=range(80))
                    response = client.post("/v3/messages", json=send_body(to))
                    assert response.status_code == 202, response.text[:500]
                    if (i + 1) % 10 == 0:
                        rss = sampler.samples[-1]["rss_mb"]
                        print(f"  sent {(i + 1) * PER_SEND:,}: RSS {rss} MB", flush=True)
            deadline = time.monotonic() + 1200
            while dispatch.unfinished(conn):
                if time.monotonic() > deadline:
                    raise RuntimeError("memory benchmark: timed out")
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            end = sampler.finish()
            statuses = dict(
                conn.execute(
                    "SELECT status, count(*) FROM messaging_message GROUP BY status"
                ).fetchall()
            )
        finally:
            for process in [*workers, web]:
                process.terminate()
            for process in [*workers, web]:
                process.wait(timeout=60)
    samples = sampler.samples
    warm = next(s for s in samples if s["final"] >= warmup)
    peak = [max(s["rss_mb"][n] or 0 for s in samples) for n in range(WORKERS)]
    growth = [
        round((end["rss_mb"][n] - warm["rss_mb"][n]) * 100 / warm["rss_mb"][n], 1)
        for n in range(WORKERS)
    ]
    worst = max(growth, key=abs)
    # RSS at each tenth of the run, per worker: the shape of any growth.
    tenths = {}
    for tenth in range(1, 11):
        at = next((s for s in samples if s["final"] >= MESSAGES * tenth // 10), end)
        tenths[MESSAGES * tenth // 10] = at["rss_mb"]
    return {
        "scenario": f"worker RSS: {MESSAGES:,} messages, {WORKERS} workers, paced"
        + (", DEBUG on" if WORKER_DEBUG == "true" else ""),
        "messages": MESSAGES,
        "statuses": statuses,
        "msg_per_s": round(MESSAGES / seconds, 1),
        "idle_rss_mb": idle,
        f"rss_mb_after_{warmup}": warm["rss_mb"],
        "rss_mb_at_end": end["rss_mb"],
        "max_rss_mb": peak,
        "growth_percent": growth,
        "rss_mb_by_final_messages": tenths,
        "goal": f"within ±{GROWTH_GOAL_PERCENT} %",
        "met": abs(worst) <= GROWTH_GOAL_PERCENT,
        "figure": f"{' / '.join(f'{g:+.1f} %' for g in growth)} (MB: warm "
        f"{', '.join(map(str, warm['rss_mb']))} → end {', '.join(map(str, end['rss_mb']))}; "
        f"max {max(peak)})",
        "load": [round(x, 2) for x in os.getloadavg()],
        "samples": samples,
    }


def import_peak(environment: dict, account: dict, rows: int, offset: int) -> dict:
    """Peak RSS of a fresh worker's task process (and its writers) running a `rows`-row import."""
    log_path = LOGS / f"import-{rows}.log"
    log_path.write_text("")
    body = import_csv(rows, offset)
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        web = dispatch.start_web(environment, PORT, log_path.open("a"))
        workers = []
        try:
            workers = dispatch.start_workers(environment, 1, None, log_path)
            task = workers[0].pid
            web_pids = dispatch.family(web.pid)[1:]
            before = {"task": memory_mb(task), "web": [memory_mb(pid) for pid in web_pids]}
            started = time.perf_counter()
            with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=300) as client:
                response = client.post(
                    "/v3/contacts/import",
                    files={"file": ("bench.csv", body, "text/csv")},
                    headers={"x-api-key": account["api_key"]},
                )
            assert response.status_code == 202, response.text[:500]
            import_id = response.json()["data"]["id"]
            deadline = time.monotonic() + 900
            while True:
                status, created, invalid = conn.execute(
                    "SELECT status, created_count, invalid_count FROM contacts_contactimport "
                    "WHERE id = %s",
                    [import_id],
                ).fetchone()
                if status in ("completed", "failed"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("memory benchmark: the import timed out")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            assert status == "completed", f"the import {status}"
            task_peak = memory_mb(task)["VmHWM"]
            below = below_task(task)
            writers = below.pop("writer", [])
            web_peak = max(memory_mb(pid).get("VmHWM", 0) for pid in web_pids)
        finally:
            for process in [*workers, web]:
                process.terminate()
            for process in [*workers, web]:
                process.wait(timeout=60)
    return {
        "scenario": f"contact import: {rows:,} new numbers (CSV, {len(body) / 1e6:.1f} MB)",
        "rows": rows,
        "created": created,
        "invalid": invalid,
        "seconds": round(seconds, 2),
        "task_rss_mb_before": before["task"].get("VmRSS"),
        "task_peak_mb": task_peak,
        "writer_peaks_mb": writers,
        "helper_peaks_mb": below,  # multiprocessing's forkserver and resource tracker
        "web_rss_mb_before": max(m.get("VmRSS", 0) for m in before["web"]),
        "web_peak_mb": web_peak,
        "figure": f"task {task_peak:.0f} MB (idle {before['task'].get('VmRSS', 0):.0f}), "
        f"writers {', '.join(f'{mb:.0f}' for mb in writers) or '—'}, web {web_peak:.0f} MB "
        f"({seconds:.1f} s)",
        "load": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    if not harness.reachable(DB_URL):
        print(f"the memory benchmark needs PostgreSQL at {DB_URL}: skipped")
        return 0
    LOGS.mkdir(parents=True, exist_ok=True)
    environment = dispatch.env(PORT, DB_URL)
    harness.DB_URL = DB_URL
    harness.recreate_database()
    harness.manage("migrate", "--noinput", env=environment)
    account = json.loads(
        harness.manage(
            "create_customer",
            "--name",
            "Bench",
            "--balance",
            "100000000",
            "--json",
            env=environment,
        )
    )
    harness.manage(
        "shell",
        "-c",
        CREATE_TEMPLATE.format(customer_id=account["customer_id"], name=TEMPLATE),
        env=environment,
    )
    results = []
    if MESSAGES:
        print(f"worker RSS over {MESSAGES:,} messages ({WORKERS} workers, paced)", flush=True)
        results.append(worker_rss(environment, account))
        print(json.dumps({k: v for k, v in results[-1].items() if k != "samples"}), flush=True)
    sizes = sorted({max(1, IMPORT_ROWS // 10), IMPORT_ROWS}) if IMPORT_ROWS else []
    for n, rows in enumerate(sizes):
        results.append(import_peak(environment, account, rows, 20_000_000 + n * 1_000_000))
        print(json.dumps(results[-1]), flush=True)
    if sizes:
        biggest = results[-1]
        biggest["goal"] = f"task process ≤ {IMPORT_BOUND_MB} MB for 100,000 rows"
        biggest["met"] = biggest["task_peak_mb"] <= IMPORT_BOUND_MB
    (harness.OUT / "memory.json").write_text(json.dumps(results, indent=2))
    print(f"\n{'memory':54} {'figure':64} goal")
    for result in results:
        goal = (
            f"{result['goal']}: {'met' if result['met'] else 'NOT met'}" if "goal" in result else ""
        )
        print(f"{result['scenario']:54} {result['figure']:64} {goal}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
