"""The real provider adapters against their fakes, next to the simulator, in one run.

    python bench/providers_bench.py          (also run by `make bench`, after bench/run.py)

Each scenario is an install configured as an operator would, through the environment, with
gunicorn (BENCH_GUNICORN_WORKERS, default 4) and 2 `db_worker` processes started for it. Per
channel (SMS: numbers ending 50–79, which the simulator's table puts on SMS; WhatsApp: 00–49):

- the simulator, accepted → SENT and → DELIVERED (its receipts: jobs the workers run);
- the simulator to SENT only (SIMULATOR_DELAY_SCALE huge: its receipts never come due);
- the adapter to SENT only (SMS_PROVIDER=twilio, TWILIO_API_URL at a fake Twilio; or
  WHATSAPP_PROVIDER=cloud_api, WHATSAPP_GRAPH_URL at a fake Graph API, whose lookup says
  every number is on WhatsApp), the fake calling nothing back: its ratio is to the
  simulator's to-SENT figure;
- the adapter with callbacks: the fake calls each message back `delivered`, signed as the
  provider signs, to SITE_URL (this gunicorn): its ratios are to the simulator's full run.

The fakes (`python -m tests.fakes.serve`) are processes of their own, started once; the
template is created and submitted through the services with the Cloud API configured, so a
worker creates it on the fake WABA and Meta's APPROVED webhook approves it.

A scenario run sends BENCH_PROVIDER_SENDS (default 10) × 1,000 new recipients, one request
after the other, after a warm-up, and measures from the first request: accepted → handed off
(no message QUEUED or PROCESSED any more) and accepted → DELIVERED (none SENT any more), in
messages/s. Each run goes through every scenario of a channel together (each run reverses
their order), BENCH_RUNS times (default 3): medians with their spread, each adapter's ratio to
its simulator figure (goal ≥ 0.8) per run and of the medians, the CPU seconds per 1,000
messages of each kind of process (from /proc: the workers, gunicorn's workers, the fake, the
PostgreSQL backends of this database, this client), the fake's connections and requests in
flight, and the machine's load and CPU use (steal included). Results: var/bench/providers.json,
the processes' logs: var/bench/providers/.

Its own database: BENCH_PROVIDERS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
sent_providers_bench), dropped and re-created. BENCH_PROVIDER_CALLBACKS=0 runs the to-SENT
scenarios only. Without PostgreSQL it says so and exits 0.
"""

import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the `bench` package importable
from bench import run as harness  # noqa: E402
from bench.messages import numbers  # noqa: E402

DB_URL = os.environ.get(
    "BENCH_PROVIDERS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sent_providers_bench"
)
RUNS = harness.RUNS
SENDS = int(os.environ.get("BENCH_PROVIDER_SENDS", "10"))  # 1,000-recipient sends per run
RECIPIENTS = 1000
WORKERS = 2
GUNICORN_WORKERS = os.environ.get("BENCH_GUNICORN_WORKERS", "4")
TIMEOUT = 900  # seconds a scenario run may take
POLL = 0.1
GOAL = 0.8
TEMPLATE = "bench_shipping"
PARAMETERS = {"name": "Ana", "order_id": "A-1001"}
LOGS = harness.OUT / "providers"

TWILIO = {"account_sid": "AC" + "b3" * 16, "auth_token": "bench-twilio-auth-token-0123456789"}
GRAPH = {
    "access_token": "EAAGbenchAccessToken0123456789",
    "app_secret": "bench-app-secret-0123456789abcdef",
    "waba_id": "102290129340398",
    "phone_number_id": "106540352242922",
}
FROM_SMS, FROM_WHATSAPP = "+15005550006", "+15550000001"

CREATE_TEMPLATE = """
from billing.models import Customer
from templates_app.services import template_create
customer = Customer.objects.get(pk="{customer_id}")
text = "Hi {{{{0:name}}}}, your order {{{{1:order_id}}}} has shipped and arrives soon."
definition = {{"body": {{"multiChannel": {{"type": "text", "template": text, "variables": [
    {{"id": 0, "name": "name", "type": "variable", "props": {{"variableType": "text"}}}},
    {{"id": 1, "name": "order_id", "type": "variable", "props": {{"variableType": "text"}}}}]}}}}}}
template_create(customer, definition=definition, category="UTILITY", name="{name}",
                submit_for_review=True)
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    endings: range  # the numbers' last two digits: the channel the simulator's table picks
    env: dict = field(default_factory=dict)
    fake: str = ""  # "twilio" / "graph": the fake it sends to
    # Statuses after SENT come (the simulator's receipts, the fake's callbacks) and the run
    # waits for DELIVERED; False: measured to SENT only, nothing else on the machine's CPU.
    delivery: bool = True
    compared_with: str = ""  # the simulator scenario its ratio is to


SMS_NUMBERS, WHATSAPP_NUMBERS = range(50, 80), range(0, 50)  # the simulator's table
TWILIO_ENV, CLOUD_ENV = {"SMS_PROVIDER": "twilio"}, {"WHATSAPP_PROVIDER": "cloud_api"}
# The simulator's receipts far in the future: its workers only hand off.
NO_RECEIPTS = {"SIMULATOR_DELAY_SCALE": "1000000"}


def group(channel: str, numbers: range, adapter: str, env: dict, fake: str) -> list[Scenario]:
    simulator, simulator_hand_off = f"simulator, {channel}", f"simulator, {channel}, to SENT"
    return [
        Scenario(simulator, numbers),
        Scenario(simulator_hand_off, numbers, NO_RECEIPTS, delivery=False),
        Scenario(
            f"{adapter}, to SENT", numbers, env, fake, False, compared_with=simulator_hand_off
        ),
        Scenario(f"{adapter}, with callbacks", numbers, env, fake, compared_with=simulator),
    ]


# Run together, in turn (each run reverses the order): an adapter next to its simulator.
GROUPS = [
    group("SMS", SMS_NUMBERS, "Twilio", TWILIO_ENV, "twilio"),
    group("WhatsApp", WHATSAPP_NUMBERS, "Cloud API", CLOUD_ENV, "graph"),
]
if os.environ.get("BENCH_PROVIDER_CALLBACKS", "1") == "0":  # the to-SENT scenarios only
    GROUPS = [[s for s in g if not s.delivery] for g in GROUPS]
SCENARIOS = [scenario for group in GROUPS for scenario in group]


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}): see {LOGS}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on {port}")


def stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Fake:
    """A fake Twilio or Graph API (`python -m tests.fakes.serve`), a process of its own."""

    def __init__(self, kind: str, *, site_url: str):
        self.kind, self.site_url = kind, site_url
        self.process: subprocess.Popen | None = None
        self.url = ""

    def command(self) -> list[str]:
        if self.kind == "twilio":
            options = ["--account-sid", TWILIO["account_sid"], "--auth-token", TWILIO["auth_token"]]
        else:
            options = [
                "--access-token",
                GRAPH["access_token"],
                "--app-secret",
                GRAPH["app_secret"],
                "--waba-id",
                GRAPH["waba_id"],
                "--phone-number-id",
                GRAPH["phone_number_id"],
                "--display-phone-number",
                FROM_WHATSAPP.lstrip("+"),
                "--webhook-url",
                f"{self.site_url}/providers/whatsapp/webhook",
                "--approve-templates",
            ]
        threads = os.environ.get("BENCH_FAKE_CALLBACK_THREADS", "8")
        return [
            harness.PYTHON,
            "-m",
            "tests.fakes.serve",
            self.kind,
            *options,
            "--callback-threads",
            threads,
        ]

    def start(self) -> "Fake":
        log = (LOGS / f"fake-{self.kind}.log").open("a")
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True
        )
        line = self.process.stdout.readline()  # {"url": …} once it listens
        if not line:
            raise RuntimeError(f"the fake {self.kind} did not start: see {LOGS}")
        self.url = json.loads(line)["url"]
        return self

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/_fake/stats", timeout=10).json()

    def callbacks(self, on: bool) -> None:
        """Call back `delivered` for the messages it accepts from now on (or not)."""
        httpx.post(f"{self.url}/_fake/deliver", json={"deliver": on}, timeout=10)

    def stop(self) -> dict:
        """Stop it; its counters."""
        stop([self.process])
        rest = self.process.stdout.read().strip().splitlines()
        return json.loads(rest[-1]) if rest else {}


def scenario_env(scenario: Scenario | None, site_url: str, fakes: dict) -> dict:
    """The environment of the web and worker processes of a scenario: every provider's
    settings (callbacks of either verify, each adapter's base URL at its fake), the providers
    the scenario selects."""
    urls = {kind: fake.url for kind, fake in fakes.items()}
    env = harness.bench_env()
    env.update(
        {
            "DATABASE_URL": DB_URL,
            "SITE_URL": site_url,
            "SMS_FROM_NUMBER": FROM_SMS,
            "TWILIO_API_URL": urls["twilio"],
            "TWILIO_ACCOUNT_SID": TWILIO["account_sid"],
            "TWILIO_AUTH_TOKEN": TWILIO["auth_token"],
            "TWILIO_FROM_NUMBER": FROM_SMS,
            "WHATSAPP_GRAPH_URL": urls["graph"],
            "WHATSAPP_ACCESS_TOKEN": GRAPH["access_token"],
            "WHATSAPP_APP_SECRET": GRAPH["app_secret"],
            "WHATSAPP_BUSINESS_ACCOUNT_ID": GRAPH["waba_id"],
            "WHATSAPP_PHONE_NUMBER_ID": GRAPH["phone_number_id"],
            "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
            "WHATSAPP_FROM_NUMBER": FROM_WHATSAPP,
            "SMS_PROVIDER": "simulator",
            "WHATSAPP_PROVIDER": "simulator",
            # The default routes' pace raised, as an operator whose throughput the provider
            # raised would set it (Twilio's US long code is 1 segment/s by default,
            # docs/providers/README.md#pacing): this measures our cost, not the provider's limit.
            "PACING_DEFAULT_ROUTE_RATES": json.dumps({"sms": 100_000, "whatsapp": 100_000}),
        }
    )
    if scenario is not None:
        env.update(scenario.env)
    return env


class Stack:
    """gunicorn and the workers of one scenario, started with its environment."""

    def __init__(self, env: dict, port: int, label: str):
        self.env, self.port, self.label = env, port, label
        self.gunicorn: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def start(self) -> "Stack":
        log = (LOGS / f"{self.label}.log").open("a")
        self.gunicorn = subprocess.Popen(
            [
                harness.PYTHON,
                "-m",
                "gunicorn",
                "sent_project.wsgi",
                "--workers",
                GUNICORN_WORKERS,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        wait_for_port(self.port, self.gunicorn, "gunicorn")
        self.workers = [
            subprocess.Popen(
                [
                    harness.PYTHON,
                    "manage.py",
                    "db_worker",
                    "--queue-name",
                    "*",
                    "--interval",
                    "0.05",
                    "--no-reload",
                    "--no-startup-delay",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
            for _ in range(WORKERS)
        ]
        return self

    def stop(self) -> None:
        stop([*self.workers, *([self.gunicorn] if self.gunicorn else [])])


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [harness.PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


# --- CPU ----------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # from field 3 (state) on


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of the process (all its threads), in clock ticks."""
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else None


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children_of(parent: int) -> list[int]:
    found = []
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields and int(fields[1]) == parent:
            found.append(pid)
    return found


def backends_of(database: str) -> list[int]:
    """PostgreSQL's backend processes connected to `database` (their title names it)."""
    found = []
    for pid in _all_pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(pid)
    return found


def machine_cpu() -> tuple[int, int, int]:
    """(busy, steal, total) ticks of the whole machine since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = values[:8]
    return user + nice + system + irq + softirq, steal, sum(values[:8])


class CpuMeter:
    """CPU seconds per kind of process over a window, sampled from /proc every half second
    (a process that ends between samples loses at most its last half second)."""

    def __init__(self, kinds: dict):
        self.kinds = kinds  # kind → function giving its pids now
        self.base: dict[str, dict[int, int]] = {}
        self.latest: dict[str, dict[int, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self, *, first: bool = False) -> None:
        for kind, pids in self.kinds.items():
            for pid in pids():
                ticks = cpu_ticks(pid)
                if ticks is None:
                    continue
                if first:
                    self.base.setdefault(kind, {})[pid] = ticks
                self.latest.setdefault(kind, {})[pid] = ticks

    def start(self) -> "CpuMeter":
        self.machine_before = machine_cpu()
        self.load_before = os.getloadavg()[0]
        self._sample(first=True)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        self._sample()
        busy0, steal0, total0 = self.machine_before
        busy1, steal1, total1 = machine_cpu()
        elapsed = max(total1 - total0, 1)
        seconds = {
            kind: sum(
                ticks - self.base.get(kind, {}).get(pid, 0)
                for pid, ticks in self.latest.get(kind, {}).items()
            )
            / CLOCK_TICKS
            for kind in self.kinds
        }
        return {
            "cpu_seconds": {kind: round(value, 2) for kind, value in seconds.items()},
            "machine_busy": round((busy1 - busy0) / elapsed, 3),
            "machine_steal": round((steal1 - steal0) / elapsed, 3),
            "load_1min": [round(self.load_before, 2), round(os.getloadavg()[0], 2)],
        }


# --- one scenario run ---------------------------------------------------------------------


def counts(conn, customer_id: str, since: datetime) -> dict:
    """This run's messages by the statuses that aren't final yet (and FAILED)."""
    rows = conn.execute(
        "SELECT status, count(*) FROM messaging_message WHERE customer_id = %s "
        "AND status IN ('QUEUED', 'PROCESSED', 'SENT', 'FAILED') AND created_at >= %s "
        "GROUP BY status",
        [customer_id, since],
    ).fetchall()
    return dict(rows)


def send_all(client: httpx.Client, batches: list[list[str]]) -> int:
    total = 0
    for to in batches:
        response = client.post(
            "/v3/messages",
            json={"to": to, "template": {"name": TEMPLATE, "parameters": PARAMETERS}},
        )
        assert response.status_code == 202, response.text[:500]
        total += len(response.json()["data"]["recipients"])
    return total


def wait_final(
    conn, customer_id: str, since: datetime, started: float, *, delivered: bool
) -> tuple[float, float | None]:
    """(seconds until handed off, seconds until DELIVERED or None when not waited for),
    from `started`."""
    handed_off = None
    while True:
        now = counts(conn, customer_id, since)
        elapsed = time.perf_counter() - started
        if handed_off is None and not now.get("QUEUED") and not now.get("PROCESSED"):
            handed_off = elapsed
            if not delivered:
                return handed_off, None
        if handed_off is not None and not now.get("SENT"):
            return handed_off, elapsed
        if elapsed > TIMEOUT:
            raise RuntimeError(f"timed out with {now}")
        time.sleep(POLL)


def numbers_for(scenario: Scenario, slot: int, count: int, sends: int) -> list[list[str]]:
    """`sends` lists of `count` new numbers for the scenario's channel, unique per slot."""
    blocks = math.ceil(count / len(scenario.endings))
    width = sends * math.ceil(RECIPIENTS / 30) + 1  # the widest slot (30 endings)
    return [
        numbers(1000 + slot * width + i * blocks, count, endings=scenario.endings)
        for i in range(sends)
    ]


def scenario_run(scenario: Scenario, slot: int, group: int, ctx: dict) -> dict:
    """One run of the scenario: gunicorn and workers started for it, its fake told whether to
    call back, a warm-up, then SENDS × 1,000 recipients measured."""
    fake: Fake | None = ctx["fakes"][scenario.fake] if scenario.fake else None
    if fake:
        fake.callbacks(scenario.delivery)
    waits_for_delivery = scenario.delivery
    stack = Stack(
        scenario_env(scenario, ctx["site_url"], ctx["fakes"]), ctx["port"], f"stack-{slot:02d}"
    ).start()
    try:
        with (
            psycopg.connect(DB_URL, autocommit=True) as conn,
            httpx.Client(
                base_url=ctx["site_url"], timeout=120, headers={"x-api-key": ctx["api_key"]}
            ) as client,
        ):
            # Warm up (imports, pooled connections, the fake), on numbers of its own.
            warm = numbers_for(scenario, 200 + slot, 10, 4)
            since = datetime.now(UTC)
            send_all(client, warm)
            wait_final(
                conn, ctx["customer_id"], since, time.perf_counter(), delivered=waits_for_delivery
            )

            batches = numbers_for(scenario, slot, RECIPIENTS, SENDS)
            fake_before = fake.stats() if fake else {}
            meter = CpuMeter(
                {
                    "workers": lambda: [w.pid for w in stack.workers],
                    "gunicorn": lambda: children_of(stack.gunicorn.pid),
                    "fake": lambda: [fake.process.pid] if fake else [],
                    "postgres": lambda: backends_of(ctx["database"]),
                    "bench client": lambda: [os.getpid()],
                }
            ).start()
            since = datetime.now(UTC)
            started = time.perf_counter()
            sent = send_all(client, batches)
            accepted = time.perf_counter() - started
            handed_off, delivered = wait_final(
                conn, ctx["customer_id"], since, started, delivered=waits_for_delivery
            )
            usage = meter.stop()
            failed = counts(conn, ctx["customer_id"], since).get("FAILED", 0)
            fake_after = fake.stats() if fake else {}
    finally:
        stack.stop()
    result = {
        "scenario": scenario.name,
        "slot": slot,
        "group": group,
        "messages": sent,
        "failed": failed,
        "accepted_s": round(accepted, 2),
        "handed_off_msg_per_s": round(sent / handed_off, 1),
        "delivered_msg_per_s": round(sent / delivered, 1) if delivered else None,
        **usage,
    }
    if fake:
        result["fake"] = {
            "requests": fake_after["requests"] - fake_before["requests"],
            "callbacks": fake_after["callbacks_done"] - fake_before["callbacks_done"],
            "callbacks_failed": fake_after["callbacks_failed"] - fake_before["callbacks_failed"],
            "max_in_flight": fake_after["max_in_flight"],
            "connections": fake_after["connections"] - fake_before["connections"],
        }
    return result


# --- set-up, the runs, the report -----------------------------------------------------------


def setup(ctx: dict) -> None:
    harness.DB_URL = DB_URL  # recreate_database() drops and makes this one
    harness.recreate_database()
    env = scenario_env(None, ctx["site_url"], ctx["fakes"])
    manage(env, "migrate", "--noinput")
    account = json.loads(
        manage(env, "create_customer", "--name", "Bench", "--balance", "10000000", "--json")
    )
    ctx.update(api_key=account["api_key"], customer_id=account["customer_id"])
    # The template, submitted for review with the Cloud API configured: a worker creates it on
    # the (fake) WABA, whose APPROVED webhook reaches gunicorn.
    cloud = Scenario("setup", WHATSAPP_NUMBERS, CLOUD_ENV)
    stack = Stack(scenario_env(cloud, ctx["site_url"], ctx["fakes"]), ctx["port"], "setup").start()
    try:
        manage(
            stack.env,
            "shell",
            "-c",
            CREATE_TEMPLATE.format(customer_id=ctx["customer_id"], name=TEMPLATE),
        )
        with psycopg.connect(DB_URL, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while True:
                row = conn.execute(
                    "SELECT status, whatsapp_template_id FROM templates_app_template "
                    "WHERE customer_id = %s AND name = %s",
                    [ctx["customer_id"], TEMPLATE],
                ).fetchone()
                if row and row[0] == "APPROVED" and row[1]:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the template was not approved at the fake WABA: {row}")
                time.sleep(0.2)
    finally:
        stack.stop()


def spread(values: list[float]) -> dict | None:
    if not values:
        return None
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


MEASURES = ("handed_off_msg_per_s", "delivered_msg_per_s")


def summarise(results: list[dict]) -> list[dict]:
    by_name = {s.name: [r for r in results if r["scenario"] == s.name] for s in SCENARIOS}
    summaries = []
    for scenario in SCENARIOS:
        runs = by_name[scenario.name]
        summary = {
            "scenario": scenario.name,
            "runs": len(runs),
            "messages_per_run": runs[0]["messages"],
            "failed": sum(r["failed"] for r in runs),
            **{m: spread([r[m] for r in runs if r[m] is not None]) for m in MEASURES},
            "cpu_s_per_1000": {
                kind: round(
                    statistics.median(r["cpu_seconds"][kind] * 1000 / r["messages"] for r in runs),
                    2,
                )
                for kind in runs[0]["cpu_seconds"]
            },
            "machine_busy_pct": spread([100 * r["machine_busy"] for r in runs]),
            "machine_steal_pct": spread([100 * r["machine_steal"] for r in runs]),
            "load_1min": spread([x for r in runs for x in r["load_1min"]]),
        }
        if scenario.compared_with:
            # Each run against the simulator's run of the same group (run next to it).
            simulator_runs = {r["group"]: r for r in by_name[scenario.compared_with]}
            for measure in MEASURES:
                if summary[measure] is None:
                    continue
                ratios = [round(r[measure] / simulator_runs[r["group"]][measure], 2) for r in runs]
                summary[f"ratio_{measure}"] = {
                    "of_medians": round(
                        summary[measure]["median"]
                        / by_name_median(by_name[scenario.compared_with], measure),
                        2,
                    ),
                    "per_run": ratios,
                    "goal": GOAL,
                }
            summary["fake"] = {
                "callbacks_failed": sum(r["fake"]["callbacks_failed"] for r in runs),
                "max_in_flight": max(r["fake"]["max_in_flight"] for r in runs),
                "connections": max(r["fake"]["connections"] for r in runs),
                "requests_per_message": round(
                    statistics.median(r["fake"]["requests"] / r["messages"] for r in runs), 2
                ),
            }
        summaries.append(summary)
    return summaries


def by_name_median(runs: list[dict], measure: str) -> float:
    return statistics.median(r[measure] for r in runs)


def report(summaries: list[dict]) -> None:
    print(
        f"\n{f'scenario (2 workers, {SENDS} × 1,000)':30} {'handed off msg/s':>22} "
        f"{'ratio':>5} {'DELIVERED msg/s':>22} {'ratio':>5}"
    )
    for s in summaries:

        def cell(measure, s=s):
            m = s[measure]
            return f"{m['median']:7.1f} ({m['min']:.0f}–{m['max']:.0f})" if m else "—"

        def ratio(measure, s=s):
            r = s.get(f"ratio_{measure}")
            return f"{r['of_medians']:5.2f}" if r else "—"  # to its simulator row

        print(
            f"{s['scenario']:30} {cell('handed_off_msg_per_s'):>22} "
            f"{ratio('handed_off_msg_per_s'):>5} {cell('delivered_msg_per_s'):>22} "
            f"{ratio('delivered_msg_per_s'):>5}"
        )
    kinds = list(summaries[0]["cpu_s_per_1000"])
    print(f"\n{'CPU s per 1,000 messages':30} {' '.join(f'{k:>12}' for k in kinds)}")
    for s in summaries:
        row = " ".join(f"{s['cpu_s_per_1000'][k]:12.2f}" for k in kinds)
        print(f"{s['scenario']:30} {row}")
    print()
    for s in summaries:
        for measure in MEASURES:
            r = s.get(f"ratio_{measure}")
            if r:
                print(f"{s['scenario']}: {measure} ratio per run {r['per_run']} (goal ≥ {GOAL})")
        if "fake" in s:
            print(f"{s['scenario']}: fake {s['fake']}")
    print(
        "machine during the runs (median per scenario): CPU busy % "
        f"{[s['machine_busy_pct']['median'] for s in summaries]}, steal % "
        f"{[s['machine_steal_pct']['median'] for s in summaries]}, load "
        f"{[s['load_1min']['median'] for s in summaries]} on {os.cpu_count()} CPUs"
    )


def main() -> int:
    if not harness.reachable(DB_URL):
        print(f"the providers benchmark needs PostgreSQL at {DB_URL}: skipped")
        return 0
    LOGS.mkdir(parents=True, exist_ok=True)
    for old in LOGS.glob("*.log"):
        old.unlink()
    port = free_port()
    ctx = {
        "port": port,
        "site_url": f"http://127.0.0.1:{port}",
        "database": DB_URL.rsplit("/", 1)[-1],
    }
    ctx["fakes"] = {kind: Fake(kind, site_url=ctx["site_url"]) for kind in ("twilio", "graph")}
    try:
        for fake in ctx["fakes"].values():
            fake.start()
        results = run_all(ctx)
    finally:
        for fake in ctx["fakes"].values():
            if fake.process is not None:
                fake.stop()
    summaries = summarise(results)
    (harness.OUT / "providers.json").write_text(
        json.dumps({"summaries": summaries, "runs": results}, indent=2)
    )
    report(summaries)
    return 0


def run_all(ctx: dict) -> list[dict]:
    setup(ctx)
    order = []  # (scenario, group): each group's scenarios together, alternating the order
    for run in range(RUNS):
        for index, group in enumerate(GROUPS):
            group_id = run * len(GROUPS) + index
            order += [(s, group_id) for s in (group if run % 2 == 0 else group[::-1])]
    results = []
    for slot, (scenario, group) in enumerate(order):
        result = scenario_run(scenario, slot, group, ctx)
        results.append(result)
        print(json.dumps(result), flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
