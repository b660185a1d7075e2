"""`make bench`: the HTTP benchmarks, on PostgreSQL, with gunicorn and wrk on this machine.

It builds its own database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
sent_bench — dropped and re-created), starts gunicorn with the reference endpoint mounted
(bench/urls.py), runs every scenario BENCH_RUNS times (default 3) for BENCH_SECONDS each
(default 10) and prints the median requests/s with its spread and the ratio to the reference.
Results also go to var/bench/http.json. Other benchmarks (bench/*_bench.py) run after it,
each on its own database (BENCH_OTHERS: all, none or some, e.g. "dispatch,contacts"): among
them bench/dispatch_bench.py, the dispatch path's cost per message (msg/s, SQL statements
and CPU ms per message of workers, PostgreSQL and web), and
bench/memory_bench.py, the workers' resident memory over 100,000 messages and the peak of a
100,000-row contact import, each beside its goal.

Needs `wrk` (Debian package) and a PostgreSQL server; without them it says so and exits 0.
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sent_bench")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
OUT = ROOT / "var" / "bench"
# Which of the other benchmarks (bench/<name>_bench.py) run after these: "all", "none", or
# names separated by commas ("dispatch,contacts").
OTHERS = os.environ.get("BENCH_OTHERS", "all")


def bench_env() -> dict:
    return {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "*",
        "API_RATE_LIMIT": "100000000/min",
        "ROOT_URLCONF": "bench.urls",
        "SIMULATOR_DELAY_SCALE": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), 2).close()
        return True
    except OSError:
        return False


def recreate_database() -> None:
    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args: str, env: dict | None = None) -> str:
    """`manage.py *args` with the benchmarks' environment (or `env`); its stdout."""
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env or bench_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def setup() -> dict:
    recreate_database()
    manage("migrate", "--noinput")
    account = json.loads(
        manage("create_customer", "--name", "Bench", "--balance", "1000000", "--json")
    )
    manage(
        "shell",
        "-c",
        "from django.db import connection\nfrom bench.urls import CREATE_TABLE\n"
        "connection.cursor().execute(CREATE_TABLE)",
    )
    for hook in SETUP_HOOKS:
        account.update(hook(account) or {})
    return account


def start_gunicorn() -> subprocess.Popen:
    workers = os.environ.get("BENCH_GUNICORN_WORKERS", "4")
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "sent_project.wsgi",
            "--workers",
            workers,
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=bench_env(),
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def wrk(
    path: str,
    *,
    api_key: str,
    method: str = "GET",
    body: str | None = None,
    connections: int = 16,
    url: str | None = None,
) -> dict:
    """wrk against `path` on our server (or a whole `url`, another server's: no headers of
    ours, which would change its request — a JSON content type makes Jasmin parse the body)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{method}"\n')
        if url is None:
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
            script.write(f'wrk.headers["x-api-key"] = "{api_key}"\n')
        if body is not None:
            script.write(f"wrk.body = {json.dumps(body)}\n")
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{SECONDS}s",
            "--latency",
            "-s",
            script.name,
            url or f"http://127.0.0.1:{PORT}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", output)

    def ms(match):
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": rps,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "p50_ms": ms(p50),
        "p99_ms": ms(p99),
    }


def summarise(
    name: str, runs: list[dict], reference: float | None, floor: float | None = None
) -> dict:
    rates = [run["rps"] for run in runs]
    median = statistics.median(rates)
    result = {
        "scenario": name,
        "median_rps": round(median, 1),
        "min_rps": round(min(rates), 1),
        "max_rps": round(max(rates), 1),
        "median_p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "median_p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "non_2xx": sum(r["non_2xx"] for r in runs),
    }
    if reference:
        result["ratio_to_reference"] = round(median / reference, 2)
    if floor:
        result["ratio_to_floor"] = round(median / floor, 2)
    if name in GOALS:
        result["goal"] = GOALS[name]
    return result


# The framework floor, the anchor of what our own stack can do per request: the reference's
# work (a key lookup and two inserts) done by a DRF view with our middleware (bench/urls.py).
FLOOR = "framework floor: the same as a DRF view of ours"
# A peer measured in the same run when BENCH_PEER_URL names its send URL (a GET that accepts
# one message, e.g. the Jasmin SMS gateway's HTTP API `/send?username=…&to=…&content=…`,
# docs/operations.md#benchmarks); its median is the anchor of the 1,000-recipient send.
PEER_URL = os.environ.get("BENCH_PEER_URL", "")
PEER = "peer: " + os.environ.get("BENCH_PEER_NAME", "Jasmin HTTP /send (1 message)")
# Scenarios: (name, function(account) -> kwargs for wrk). Later issues append theirs.
SCENARIOS = [
    (
        "reference: key lookup + 2 inserts",
        lambda a: {
            "path": "/bench/reference",
            "method": "POST",
            "body": '{"to": ["+14155550100"]}',
        },
    ),
    (
        FLOOR,
        lambda a: {
            "path": "/bench/framework-floor",
            "method": "POST",
            "body": '{"to": ["+14155550100"]}',
        },
    ),
    ("GET /v3/me", lambda a: {"path": "/v3/me"}),
]
# Goals by scenario, printed beside its figures (docs/operations.md#benchmarks).
GOALS = {"POST /v3/messages (1 recipient)": "ratio_to_floor ≥ 0.5"}
# Functions(account) -> extra account facts, run after the database is built.
SETUP_HOOKS: list = []
# Extra measurements that are not wrk runs: function(account, base_url) -> list of result dicts.
EXTRA_MEASUREMENTS: list = []

# Messages (bench/messages.py): the real single-recipient send against the reference, then
# the 1,000-recipient send and the end-to-end throughput.
sys.path.insert(0, str(ROOT))  # run as a script: make the `bench` package importable
from bench import messages as _messages  # noqa: E402

_messages.harness = sys.modules[__name__]  # manage(), bench_env(), DB_URL: this module's
SCENARIOS.append(("POST /v3/messages (1 recipient)", _messages.single_send))
SETUP_HOOKS.append(_messages.setup_messaging)
EXTRA_MEASUREMENTS += [
    _messages.statements_per_send,
    _messages.thousand_recipients,
    _messages.end_to_end,
]


def main() -> int:
    if not shutil.which("wrk"):
        print("make bench needs wrk (apt-get install wrk): skipped")
        return 0
    if not reachable(DB_URL):
        print(f"make bench needs PostgreSQL at {DB_URL}: skipped")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    account = setup()
    results = []
    if PEER_URL:
        # The peer first, alone on the machine as our scenarios are after it.
        runs = [wrk("", api_key="", url=PEER_URL) for _ in range(RUNS)]
        peer = summarise(PEER, runs, None)
        if peer["non_2xx"]:
            print(f"the peer refused {peer['non_2xx']} requests: not used as the anchor")
        else:
            account["peer_msg_per_s"] = peer["median_rps"]
        results.append(peer)
        print(json.dumps(peer))
    server = start_gunicorn()
    try:
        reference = floor = None
        for name, make_request in SCENARIOS:
            runs = [wrk(api_key=account["api_key"], **make_request(account)) for _ in range(RUNS)]
            summary = summarise(name, runs, reference, floor)
            if reference is None:
                reference = summary["median_rps"]
            if name == FLOOR:
                floor = summary["median_rps"]
            results.append(summary)
            print(json.dumps(summary))
        for measure in EXTRA_MEASUREMENTS:
            for summary in measure(account, f"http://127.0.0.1:{PORT}"):
                results.append(summary)
                print(json.dumps(summary))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    (OUT / "http.json").write_text(json.dumps(results, indent=2))
    print(
        f"\n{'scenario':48} {'median req/s':>12} {'spread':>17} {'÷ ref':>6} {'÷ floor':>7} "
        f"{'p50 ms':>7}  goal"
    )
    for r in results:
        if "median_rps" in r:
            spread = f"{r['min_rps']:.0f}–{r['max_rps']:.0f}"
            to_floor = f"{r['ratio_to_floor']:.2f}" if "ratio_to_floor" in r else ""
            to_reference = f"{r['ratio_to_reference']:.2f}" if "ratio_to_reference" in r else ""
            print(
                f"{r['scenario']:48} {r['median_rps']:12.1f} {spread:>17} "
                f"{to_reference:>6} {to_floor:>7} {r['median_p50_ms']:7.2f}"
                f"  {r.get('goal', '')}"
            )
        else:
            print(
                f"{r['scenario']:48} {json.dumps({k: v for k, v in r.items() if k != 'scenario'})}"
            )
    for other in sorted(Path(__file__).parent.glob("*_bench.py")):
        picked = {name.strip() for name in OTHERS.split(",")}
        if OTHERS != "all" and other.name.removesuffix("_bench.py") not in picked:
            continue
        print(f"\n== {other.name} ==", flush=True)
        subprocess.run([PYTHON, str(other)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
