"""Webhook test kit: a real HTTP receiver on 127.0.0.1, builders, and emitting events the
way apps do (inside a transaction, then running the queued tasks)."""

import http.server
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from django.db import transaction

from messaging.models import WebhookDelivery
from messaging.webhooks.services import webhook_endpoint_create
from sent_project.models import Event
from sent_project.outbox import event_emit
from tests.tasks import run_queued_tasks


@dataclass
class Received:
    path: str
    headers: httpx.Headers  # case-insensitive, as HTTP headers are
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """A real HTTP server in a thread. `replies` are used in order (then `default`)."""

    def __init__(self):
        self.received: list[Received] = []
        self.replies: list[Reply] = []
        self.default = Reply()
        self.connections = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.received.append(
                    Received(
                        self.path, httpx.Headers(list(self.headers.items())), body, time.time()
                    )
                )
                reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                receiver.connections += 1
                return super().get_request()

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_settings(settings):
    """Loopback targets allowed, retries immediate and without jitter."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_RETRY_DELAY_SCALE = 0
    settings.WEBHOOK_RETRY_JITTER = 0
    return settings


def _receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


receiver = pytest.fixture(_receiver)
other_receiver = pytest.fixture(_receiver)


def make_webhook(customer, url: str, **overrides):
    """An endpoint subscribed to every family by default; returns (endpoint, secret)."""
    fields = {"endpoint_url": url, "event_types": ["message", "templates", "contact", "balance"]}
    return webhook_endpoint_create(customer, **{**fields, **overrides})


def emit(
    customer,
    event: str = "message.delivered",
    *,
    payload: dict | None = None,
    subject_id=None,
    capture=None,
    run: bool = True,
):
    """Emit like an app does (in a transaction); with `capture` (pytest-django's
    django_capture_on_commit_callbacks) the on_commit enqueue runs, then the tasks do."""
    field = event.split(".")[0]
    with capture(execute=True), transaction.atomic():
        recorded = event_emit(
            customer,
            field=field,
            event=event,
            payload=payload or {"n": 1},
            subject_id=subject_id,
        )
    if run:
        run_queued_tasks()
    return recorded


def webhook_path_ids(customer) -> dict[str, str]:
    """Path ids for the BOLA sweep: a webhook of `customer` and one finished delivery."""
    endpoint, _ = make_webhook(customer, "https://93.184.216.34/bola")
    event = Event.objects.create(
        customer=customer, field="message", event="message.sent", payload={}
    )
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, status="failed")
    return {"id": str(endpoint.pk), "event_id": str(delivery.pk)}
