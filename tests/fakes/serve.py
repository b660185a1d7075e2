"""A provider fake as a process of its own, for the benchmarks (bench/providers_bench.py):

    python -m tests.fakes.serve twilio --port 8781 --account-sid AC… --auth-token … --deliver
    python -m tests.fakes.serve graph --port 8782 --access-token … --app-secret … \\
        --waba-id … --phone-number-id … --webhook-url http://127.0.0.1:8766/providers/whatsapp/webhook \\
        --deliver --approve-templates

It answers exactly as the tests' fake (`FakeTwilio`, `FakeGraph`) and, with `--deliver`, calls
back every message it accepted `delivered`, once its answer is written and signed as the
provider signs (Twilio's StatusCallback, Meta's status webhook); `--approve-templates` posts
Meta's APPROVED status update for every template created on the WABA. Callbacks go out from a
pool of `--callback-threads` threads sharing one pooled httpx client (never one thread or one
connection per message). Quiet: one JSON line on stdout when it listens (`{"url": …}`), one
with its counters when it stops (SIGTERM / SIGINT); `GET /_fake/stats` answers the same
counters while it runs, and `POST /_fake/deliver` with `{"deliver": false}` (or true) stops
(or starts) the `delivered` callbacks of the messages it accepts from then on, and counts
`max_in_flight` anew. It keeps only the latest requests and callback answers (a benchmark
sends tens of thousands).
"""

import argparse
import json
import signal
import sys
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.fakes.server import FakeRequest, Reply
from tests.fakes.twilio import FakeTwilio
from tests.fakes.whatsapp import FakeGraph

STATS_PATH = "/_fake/stats"
DELIVER_PATH = "/_fake/deliver"  # POST {"deliver": true|false}: call back delivered, or not
KEEP = 1000  # requests and callback answers kept (the tests' fakes keep all)


class CallbackPool:
    """Callbacks run `threads` at a time on one pooled client; counted as they finish."""

    def __init__(self, threads: int):
        self.client = httpx.Client(
            timeout=10,
            limits=httpx.Limits(max_connections=threads, max_keepalive_connections=threads),
        )
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="callback")
        self.lock = threading.Lock()
        self.queued = self.done = self.failed = 0
        self.last_failure = ""

    def submit(self, call, *args) -> None:
        with self.lock:
            self.queued += 1
        self.executor.submit(self._run, call, args)

    def _run(self, call, args) -> None:
        failure = ""
        try:
            response = call(*args)
            if response.status_code >= 300:
                failure = f"HTTP {response.status_code}: {response.text[:200]}"
        except Exception as error:  # counted, and the next callback goes on
            failure = f"{type(error).__name__}: {error}"
        with self.lock:
            self.done += 1
            if failure:
                self.failed += 1
                self.last_failure = failure

    def stats(self) -> dict:
        with self.lock:
            return {
                "callbacks_queued": self.queued,
                "callbacks_done": self.done,
                "callbacks_failed": self.failed,
                "last_callback_failure": self.last_failure,
            }

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.client.close()


class Served:
    """What a served fake adds to the tests' one: callbacks at volume, bounded records, stats."""

    pool: CallbackPool
    deliver = False
    answered = 0

    def serve_with(self, pool: CallbackPool, *, deliver: bool) -> None:
        self.pool, self.deliver = pool, deliver
        self.callback_client = pool.client
        self.received = deque(maxlen=KEEP)

    def _dispatch(self, request: FakeRequest) -> Reply:
        if request.path == STATS_PATH:
            return Reply(200, self.stats())
        if request.path == DELIVER_PATH and request.method == "POST":
            self.deliver = bool(request.json().get("deliver"))
            with self.lock:  # and count the requests answered at once anew
                self.max_in_flight = self.in_flight
            return Reply(200, self.stats())
        with self.lock:
            self.answered += 1
        return super()._dispatch(request)

    def after_reply(self, reply: Reply, call, *args) -> Reply:
        """`call(*args)` on the callback pool once `reply` is written."""
        reply.after = lambda: self.pool.submit(call, *args)
        return reply

    def stats(self) -> dict:
        return {
            "deliver": self.deliver,
            "requests": self.answered,
            "max_in_flight": self.max_in_flight,
            "connections": self.connections,
            **self.pool.stats(),
        }


class ServedTwilio(Served, FakeTwilio):
    def serve_with(self, pool, *, deliver):
        super().serve_with(pool, deliver=deliver)
        self.callbacks_sent = deque(maxlen=KEEP)

    def _create(self, request: FakeRequest) -> Reply:
        reply = super()._create(request)
        if self.deliver and reply.status == 201 and request.form.get("StatusCallback"):
            self.after_reply(reply, self.callback, reply.body["sid"], "delivered")
        return reply


class ServedGraph(Served, FakeGraph):
    approve_templates = False

    def serve_with(self, pool, *, deliver):
        super().serve_with(pool, deliver=deliver)
        self.sends = deque(maxlen=KEEP)
        self.webhook_replies = deque(maxlen=KEEP)

    def _send(self, request: FakeRequest) -> Reply:
        reply = super()._send(request)
        if self.deliver and reply.status == 200 and self.webhook_url:
            self.after_reply(reply, self.deliver_message, reply.body["messages"][0]["id"])
        return reply

    def deliver_message(self, wamid: str) -> httpx.Response:
        response = self.status(wamid, "delivered")
        self.by_wamid.pop(wamid, None)  # delivered is the last status it sends
        return response

    def _create_template(self, request: FakeRequest) -> Reply:
        reply = super()._create_template(request)
        if self.approve_templates and reply.status == 200 and self.webhook_url:
            body = request.json()
            self.after_reply(reply, self.approve, body["name"], body["language"])
        return reply


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.serve", description=__doc__)
    kinds = parser.add_subparsers(dest="kind", required=True)
    twilio = kinds.add_parser("twilio", help="Twilio's Programmable Messaging API")
    twilio.add_argument("--account-sid", required=True)
    twilio.add_argument("--auth-token", required=True)
    graph = kinds.add_parser("graph", help="Meta's Graph API (WhatsApp Cloud API)")
    graph.add_argument("--access-token", required=True)
    graph.add_argument("--app-secret", required=True)
    graph.add_argument("--waba-id", required=True)
    graph.add_argument("--phone-number-id", required=True)
    graph.add_argument("--display-phone-number", default="15550000001")
    graph.add_argument("--version", default="v23.0")
    graph.add_argument("--webhook-url", default="", help="our webhook, for its callbacks")
    graph.add_argument("--approve-templates", action="store_true")
    for kind in (twilio, graph):
        kind.add_argument("--port", type=int, default=0, help="0: any free port")
        kind.add_argument("--deliver", action="store_true", help="call back `delivered`")
        kind.add_argument("--callback-threads", type=int, default=8)
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> Served:
    if args.kind == "twilio":
        fake = ServedTwilio(account_sid=args.account_sid, auth_token=args.auth_token)
    else:
        fake = ServedGraph(
            access_token=args.access_token,
            app_secret=args.app_secret,
            waba_id=args.waba_id,
            phone_number_id=args.phone_number_id,
            display_phone_number=args.display_phone_number,
            version=args.version,
        )
        fake.webhook_url = args.webhook_url
        fake.approve_templates = args.approve_templates
    fake.serve_with(CallbackPool(args.callback_threads), deliver=args.deliver)
    return fake


def main(argv=None) -> int:
    args = arguments(argv)
    fake = build(args)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    fake.start(args.port)
    print(json.dumps({"url": fake.url}), flush=True)
    while not stop.wait(0.5):
        pass
    fake.stop()
    fake.pool.close()
    print(json.dumps(fake.stats()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
