"""A threaded HTTP server on 127.0.0.1 for the provider fakes.

A fake subclasses `FakeProvider` and implements `handle(request) -> Reply`; the server
records every request (`received`), can be told to fail (`fail_next`, `outage`) or to hang
past the client's timeout (`hang_seconds`), counts the requests it answers at once
(`max_in_flight`) and the connections it accepted (`connections`), and stops with the test. `tests/fakes/serve.py` runs one as a process of
its own (the benchmarks).
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def form(self) -> dict:
        """A form-encoded body: each field's values (Twilio repeats `MediaUrl`)."""
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=dict)  # dict/list → JSON; bytes/str as is
    headers: dict = field(default_factory=dict)
    # Run once the reply is written (a fake's callback that must not outrun its answer).
    after: Callable[[], None] | None = None


class FakeProvider:
    """Start with `start()` (returns self), stop with `stop()`; `url` is its base URL."""

    def __init__(self):
        self.received: list[FakeRequest] = []
        self.lock = threading.Lock()
        self.outage_status: int | None = None  # every request answered with this status
        self.failures: list[Reply] = []  # the next requests' replies, in order
        self.hang_seconds = 0.0
        self.in_flight = 0  # requests being answered now, and the most there ever were
        self.max_in_flight = 0
        self.connections = 0  # TCP connections accepted (a pooled client reuses a few)
        self.server: ThreadingHTTPServer | None = None

    # what a test tells the fake
    def fail_next(self, *replies: Reply) -> None:
        with self.lock:
            self.failures.extend(replies)

    def outage(self, status: int | None) -> None:
        self.outage_status = status

    # what a fake implements
    def handle(self, request: FakeRequest) -> Reply:
        raise NotImplementedError

    # plumbing
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, port: int = 0) -> "FakeProvider":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
            # The headers and the body go out in two writes: without TCP_NODELAY the body
            # waits for the client's delayed ACK (40 ms a reply), which no real API costs.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def setup(self):
                super().setup()
                with fake.lock:
                    fake.connections += 1

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = fake._dispatch(request)
                body = reply.body
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                    reply.headers.setdefault("Content-Type", "application/json")
                elif isinstance(body, str):
                    body = body.encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if reply.after is not None:
                    reply.after()

            do_GET = do_POST = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def _dispatch(self, request: FakeRequest) -> Reply:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._answer(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, request: FakeRequest) -> Reply:
        if self.hang_seconds:
            time.sleep(self.hang_seconds)
        with self.lock:
            self.received.append(request)
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            return failure
        if self.outage_status is not None:
            return self.outage_reply(self.outage_status)
        return self.handle(request)

    def outage_reply(self, status: int) -> Reply:
        """The answer to every request during an outage (a fake gives its provider's body)."""
        return Reply(status, {"message": "Service unavailable"})

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
