"""The webhooks lane (docs/architecture.md#fairness-in-the-webhooks-lane, docs/api/webhooks.md#slow-and-dead-endpoints):
the circuit breaker, the wait budget per customer, the cap on endpoints, and — with two real
`db_worker` processes against a receiver that hangs until the attempt timeout — a second
customer's delivery going out while the first one's backlog waits, with no endpoint ever
getting more attempts at once than allowed."""

import http.server
import select
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from django.db import transaction
from django.utils import timezone

from messaging.models import (
    CircuitState,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookTenantLane,
)
from messaging.webhooks.tasks import webhook_drain, webhook_drain_request
from sent_project.models import Event
from sent_project.outbox import event_emit
from tests.messaging.test_killed_worker import ROOT, wait_for, worker_env
from tests.messaging.webhook_helpers import Reply, make_webhook
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.usefixtures("webhook_settings")


def backlog(endpoint, count: int) -> list[WebhookDelivery]:
    """`count` due deliveries to the endpoint, as the fan-out leaves them."""
    now = timezone.now()
    events = Event.objects.bulk_create(
        Event(
            customer_id=endpoint.customer_id,
            field="message",
            event="message.delivered",
            payload={"n": n},
            fanned_out_at=now,
        )
        for n in range(count)
    )
    return WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now) for event in events
    )


def drain() -> None:
    webhook_drain_request()
    run_queued_tasks()


# --- the circuit breaker -----------------------------------------------------------------


@pytest.fixture
def circuit(settings):
    settings.WEBHOOK_CIRCUIT_FAILURES = 3
    settings.WEBHOOK_CIRCUIT_PAUSE_SECONDS = 60
    settings.WEBHOOK_CIRCUIT_PAUSE_MAX_SECONDS = 600
    return settings


def test_the_circuit_opens_after_n_failures_and_the_backlog_waits_uncounted(
    account, receiver, circuit
):
    receiver.default = Reply(500)
    endpoint, _ = make_webhook(account, receiver.url)
    deliveries = backlog(endpoint, 6)
    before = timezone.now()
    drain()

    assert len(receiver.received) == 3  # then the circuit is open: nothing else went
    endpoint.refresh_from_db()
    assert endpoint.circuit_state == CircuitState.OPEN and endpoint.circuit_trips == 1
    assert endpoint.circuit_probe_at >= before + timedelta(seconds=60)
    waiting = WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries], attempts=0)
    assert waiting.count() == 3
    assert set(waiting.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert list(
        WebhookAttempt.objects.order_by("started_at", "id").values_list("outcome", "circuit")
    ) == [("failed", ""), ("failed", ""), ("failed", "opened")]


def test_a_successful_probe_closes_the_circuit_and_releases_the_backlog(account, receiver, circuit):
    receiver.default = Reply(500)
    endpoint, _ = make_webhook(account, receiver.url)
    backlog(endpoint, 5)
    drain()
    assert len(receiver.received) == 3
    run_queued_tasks()  # the pause: a drain now sends nothing
    assert len(receiver.received) == 3

    receiver.default = Reply(200)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(circuit_probe_at=timezone.now())
    run_queued_tasks(include_future=True)  # the drain asked for at the probe time

    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 5
    endpoint.refresh_from_db()
    assert (endpoint.circuit_state, endpoint.circuit_trips, endpoint.circuit_probe_at) == (
        CircuitState.CLOSED,
        0,
        None,
    )
    circuits = list(
        WebhookAttempt.objects.order_by("started_at", "id").values_list("outcome", "circuit")
    )
    assert circuits[3] == ("delivered", "closed")  # the probe, alone, then the rest
    assert len(circuits) == 3 + 5


def test_a_failed_probe_reopens_with_a_longer_pause(account, receiver, circuit):
    receiver.default = Reply(500)
    endpoint, _ = make_webhook(account, receiver.url)
    backlog(endpoint, 5)
    drain()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(circuit_probe_at=timezone.now())
    before = timezone.now()
    run_queued_tasks(include_future=True)

    assert len(receiver.received) == 4  # one probe only
    endpoint.refresh_from_db()
    assert endpoint.circuit_state == CircuitState.OPEN and endpoint.circuit_trips == 2
    assert endpoint.circuit_probe_at >= before + timedelta(seconds=120)
    assert WebhookAttempt.objects.filter(circuit="reopened").count() == 1


def test_the_circuit_state_is_on_the_api_and_the_dashboard(
    account, api_client, dashboard_client, receiver, circuit
):
    receiver.default = Reply(500)
    endpoint, _ = make_webhook(account, receiver.url)
    backlog(endpoint, 4)
    drain()
    data = api_client.get(f"/v3/webhooks/{endpoint.pk}").json()["data"]
    assert data["circuit_state"] == "open" and data["circuit_probe_at"]
    log = api_client.get(f"/v3/webhooks/{endpoint.pk}/events").json()["data"]["events"]
    assert [a["circuit"] for item in log for a in item["attempts"]].count("opened") == 1
    page = dashboard_client.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert "Paused" in page and "circuit" in page


# --- a customer's wait budget and its endpoints ------------------------------------------


def test_over_its_wait_budget_a_customers_deliveries_wait_while_others_go(
    account, other_account, receiver, other_receiver, settings
):
    settings.WEBHOOK_TIMEOUT_MAX_SECONDS = 0.5
    settings.WEBHOOK_TENANT_WAIT_BUDGET_SECONDS = 1.2
    settings.WEBHOOK_CIRCUIT_FAILURES = 100
    receiver.default = Reply(200, delay=2.0)  # answers after the timeout
    slow, _ = make_webhook(account, receiver.url)
    backlog(slow, 8)
    fast, _ = make_webhook(other_account, other_receiver.url)
    backlog(fast, 8)
    drain()

    # 0.5 s or a little more each: by the third attempt the customer is past 1.2 s; the rest
    # wait, uncounted.
    made = WebhookAttempt.objects.filter(delivery__endpoint=slow).count()
    assert 2 <= made <= 3
    assert WebhookDelivery.objects.filter(endpoint=slow, attempts=0).count() == 8 - made
    assert WebhookDelivery.objects.filter(endpoint=fast, status="delivered").count() == 8

    # A minute later the window starts again.
    WebhookTenantLane.objects.filter(pk=account.pk).update(
        window_started_at=timezone.now() - timedelta(seconds=61)
    )
    run_queued_tasks(include_future=True, max_jobs=1)
    assert 2 * 2 <= WebhookAttempt.objects.filter(delivery__endpoint=slow).count() <= 2 * 3


def test_the_endpoint_cap_answers_webhook_004(api_client, account, settings):
    settings.WEBHOOK_MAX_ENDPOINTS_PER_CUSTOMER = 2
    body = {"endpoint_url": "https://93.184.216.34/hook", "event_types": ["message"]}
    assert api_client.post("/v3/webhooks", body).status_code == 201
    assert api_client.post("/v3/webhooks", body).status_code == 201
    refused = api_client.post("/v3/webhooks", body)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "WEBHOOK_004"
    assert WebhookEndpoint.objects.filter(customer=account).count() == 2
    sandbox = api_client.post("/v3/webhooks", {**body, "sandbox": True})
    assert sandbox.json()["error"]["code"] == "WEBHOOK_004"


# --- two workers, a hanging tenant, a second tenant ---------------------------------------


class HangingReceiver:
    """Hangs on every POST until the client closes the connection (its timeout) or `delay`
    passes, counting requests in flight per path and in all."""

    def __init__(self, delay: float):
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.total = self.most_total = self.received = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.received += 1
                    now = receiver.in_flight.get(self.path, 0) + 1
                    receiver.in_flight[self.path] = now
                    receiver.most[self.path] = max(receiver.most.get(self.path, 0), now)
                    receiver.total += 1
                    receiver.most_total = max(receiver.most_total, receiver.total)
                # Hang until Sent gives up (the connection closes) or `delay` passes.
                select.select([self.connection], [], [], delay)
                with receiver.lock:
                    receiver.in_flight[self.path] -= 1
                    receiver.total -= 1
                try:
                    self.send_response(200)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


LANE_ENV = {
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "WEBHOOK_TIMEOUT_MAX_SECONDS": "0.5",
    "WEBHOOK_CIRCUIT_FAILURES": "1000",  # the worst case: slow endpoints never trip
    "WEBHOOK_TENANT_WAIT_BUDGET_SECONDS": "100000",
    "WEBHOOK_RETRY_DELAY_SCALE": "100",
    "WEBHOOK_DRAIN_THREADS": "4",
}


def start_webhook_worker(name: str, **extra) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "webhooks",
            "--interval",
            "0.05",
            "--no-reload",
            "--no-startup-delay",
            "--worker-id",
            name,
        ],
        cwd=ROOT,
        env=worker_env(**{**LANE_ENV, **extra}),
    )


@pytest.mark.slow
def test_a_hanging_tenants_backlog_does_not_hold_up_another_tenants_delivery(
    live_account, live_other_account, receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    hanging = HangingReceiver(delay=3.0)
    workers = []
    try:
        endpoints = [make_webhook(live_account, hanging.url(f"a{n}"))[0] for n in range(10)]
        for endpoint in endpoints:
            backlog(endpoint, 30)
        make_webhook(live_other_account, receiver.url)
        webhook_drain.enqueue()  # one drain per worker
        webhook_drain.enqueue()
        workers = [start_webhook_worker("lane-1"), start_webhook_worker("lane-2")]
        wait_for(lambda: hanging.most_total >= 4, timeout=120)  # tenant A saturates its share

        with transaction.atomic():
            event = event_emit(
                live_other_account, field="message", event="message.sent", payload={"n": 1}
            )
        attempts_before = WebhookAttempt.objects.filter(delivery__endpoint__in=endpoints).count()
        wait_for(
            lambda: WebhookDelivery.objects.filter(event=event, status="delivered").exists(),
            timeout=120,
        )
        attempts_after = WebhookAttempt.objects.filter(delivery__endpoint__in=endpoints).count()
    finally:
        for worker in workers:
            worker.kill()  # mid-drain: what it leaves SENDING is the sweep's to recover
        for worker in workers:
            worker.wait(timeout=30)
        hanging.stop()

    # B's delivery went out while A's backlog was still there, behind a bounded number of A's
    # attempts (a few rounds of its 4 in flight), not behind the 300 queued before it.
    assert len(receiver.received) == 1
    assert attempts_after - attempts_before <= 16
    assert WebhookDelivery.objects.filter(endpoint__in=endpoints, attempts=0).count() >= 250
    # Limits held across both workers: 2 per endpoint, 4 for the customer.
    assert max(hanging.most.values()) <= 2
    assert hanging.most_total <= 4


@pytest.mark.slow
def test_two_workers_never_send_more_than_the_endpoint_limit_at_once(live_account, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    hanging = HangingReceiver(delay=3.0)
    workers = []
    try:
        endpoint, _ = make_webhook(live_account, hanging.url("one"))
        backlog(endpoint, 8)
        webhook_drain.enqueue()  # two drains, one per worker, competing for the endpoint
        webhook_drain.enqueue()
        # The customer's own cap out of the way: 2 workers × 4 threads could send 8 at once.
        workers = [
            start_webhook_worker(f"limit-{n}", WEBHOOK_TENANT_CONCURRENCY="16") for n in (1, 2)
        ]
        wait_for(lambda: hanging.received >= 8, timeout=120)
    finally:
        for worker in workers:
            worker.kill()
        for worker in workers:
            worker.wait(timeout=30)
        hanging.stop()
    assert hanging.most["/one"] == 2  # reached, never passed
