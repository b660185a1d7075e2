"""GET /v3/messages/queue (docs/api/messages.md#queue) and one send's progress
(docs/api/messages.md#send-progress)."""

import threading
import uuid
from datetime import timedelta

import pytest

from django.conf import settings
from django.db import connection
from django.utils import timezone

from messaging.models import Message
from messaging.providers import default_route
from messaging.queue import batch_progress, queue_snapshot
from messaging.statuses import MessageStatus
from tests.factories import make_customer
from tests.messaging.factories import make_approved_template, number, send
from tests.messaging.provider_factories import make_sender, make_twilio_account
from tests.tasks import run_queued_tasks

S = MessageStatus


@pytest.fixture(autouse=True)
def templates(account, other_account):
    make_approved_template(account)
    make_approved_template(other_account)


def _set(message, **fields):
    Message.objects.filter(pk=message.pk).update(**fields)


def _row(data, *, sender_id=None, channel="sms"):
    [row] = [r for r in data["senders"] if r["sender_id"] == sender_id and r["channel"] == channel]
    return row


@pytest.fixture
def backlog(account, other_account):
    """A mixed backlog of `account` on the default SMS route and on a sender of its own."""
    now = timezone.now()
    defaults = send(account, [number(n) for n in range(10, 18)], channels=["sms"])
    own = make_sender(account, make_twilio_account(), "+14155550900")
    (old_queued, queued, stuck_processed, processed, sent_now, delivered, sent_long_ago, _) = (
        defaults
    )
    _set(
        old_queued,
        created_at=now - timedelta(seconds=400),
        next_attempt_at=now - timedelta(seconds=400),
    )
    _set(queued, created_at=now - timedelta(seconds=30))
    _set(
        stuck_processed,
        status=S.PROCESSED,
        created_at=now - timedelta(seconds=200),
        claimed_at=now - timedelta(seconds=200),
    )
    _set(processed, status=S.PROCESSED, claimed_at=now)
    _set(sent_now, status=S.SENT, sent_at=now - timedelta(seconds=10))
    _set(delivered, status=S.DELIVERED, sent_at=now - timedelta(seconds=50))
    _set(sent_long_ago, status=S.SENT, sent_at=now - timedelta(seconds=120))
    ours = send(account, [number(n) for n in range(20, 24)], channels=["sms"])
    Message.objects.filter(pk__in=[m.pk for m in ours]).update(sender=own, from_number=own.address)
    _set(ours[0], status=S.SENT, sent_at=now - timedelta(seconds=5))
    # Another customer's backlog: never counted.
    theirs = send(other_account, [number(n) for n in range(30, 35)], channels=["sms"])
    _set(theirs[0], status=S.SENT, sent_at=now)
    return {"own": own, "defaults": defaults, "ours": ours}


def test_the_queue_of_a_mixed_backlog(api_client, backlog):
    response = api_client.get("/v3/messages/queue")
    assert response.status_code == 200
    data = response.json()["data"]

    # Default route: 3 QUEUED (the old one, one 30 s old, one untouched), 2 PROCESSED.
    default = _row(data)
    assert default["default_route"] is True
    assert default["address"] == default_route("sms").address
    assert (default["queued"], default["processed"], default["waiting"]) == (3, 2, 5)
    assert (default["stuck_queued"], default["stuck_processed"]) == (1, 1)
    assert 399 <= default["oldest_waiting_seconds"] <= 420
    # SENT 10 s and 50 s ago count (the one 120 s ago does not): 2 in 60 s.
    assert default["sent_last_minute"] == 2
    assert default["drain_per_second"] == pytest.approx(2 / 60, abs=0.001)
    assert default["eta_seconds"] == pytest.approx(5 / round(2 / 60, 3), abs=0.5)

    own = _row(data, sender_id=str(backlog["own"].pk))
    assert (own["address"], own["default_route"]) == ("+14155550900", False)
    assert (own["queued"], own["processed"], own["sent_last_minute"]) == (3, 0, 1)
    assert (own["stuck_queued"], own["stuck_processed"]) == (0, 0)

    # Totals: both senders, nothing of the other customer's.
    assert (data["waiting"], data["queued"], data["processed"]) == (8, 6, 2)
    assert (data["sent_last_minute"], data["stuck_queued"], data["stuck_processed"]) == (3, 1, 1)
    assert data["oldest_waiting_seconds"] == default["oldest_waiting_seconds"]
    assert data["stuck_after_seconds"] == {
        "queued": settings.MESSAGE_STUCK_QUEUED_SECONDS,
        "processed": settings.MESSAGE_STUCK_PROCESSED_SECONDS,
    }
    assert data["window_seconds"] == 60
    # The biggest backlog first.
    assert data["senders"][0]["sender_id"] is None


def test_another_customers_queue_is_invisible(other_api_client, backlog):
    data = other_api_client.get("/v3/messages/queue").json()["data"]
    assert [row["sender_id"] for row in data["senders"]] == [None]
    assert (data["waiting"], data["sent_last_minute"]) == (4, 1)


def test_nothing_drains_no_eta(api_client, account):
    send(account, [number(40), number(41)])
    data = api_client.get("/v3/messages/queue").json()["data"]
    assert (data["waiting"], data["drain_per_second"], data["eta_seconds"]) == (2, 0, None)
    assert data["oldest_waiting_seconds"] is not None


def test_an_empty_queue(api_client, account):
    data = api_client.get("/v3/messages/queue").json()["data"]
    assert data["senders"] == []
    assert (data["waiting"], data["oldest_waiting_seconds"], data["eta_seconds"]) == (0, None, None)


@pytest.mark.skipif("SCHEDULED" not in S.values, reason="no SCHEDULED status in this build")
def test_scheduled_messages_split_into_due_and_later(api_client, account):
    now = timezone.now()
    due, later, _ = send(account, [number(50), number(51), number(52)], channels=["sms"])
    _set(due, status="SCHEDULED", next_attempt_at=now - timedelta(seconds=20))
    _set(later, status="SCHEDULED", next_attempt_at=now + timedelta(hours=3))
    row = _row(api_client.get("/v3/messages/queue").json()["data"])
    assert (row["queued"], row["scheduled_due"], row["scheduled_later"]) == (1, 1, 1)
    assert row["waiting"] == 2


def test_the_queue_takes_a_fixed_number_of_queries(
    account, backlog, django_assert_num_queries, api_client
):
    # The waiting aggregate, the drain rate, the addresses of the customer's own senders.
    with django_assert_num_queries(3):
        queue_snapshot(account)
    send(account, [number(n, series=1) for n in range(60, 90)])
    with django_assert_num_queries(3):
        queue_snapshot(account)


# --- one send's progress -------------------------------------------------------------------


def test_a_sends_progress_follows_its_messages(api_client, account):
    response = api_client.post(
        "/v3/messages",
        {
            "to": [number(n) for n in range(70, 74)],
            "template": {"name": "order_shipped", "parameters": {"name": "A", "order_id": "1"}},
        },
        format="json",
    )
    assert response.status_code == 202
    batch_id = response.json()["data"]["batch_id"]
    ids = {r["message_id"] for r in response.json()["data"]["recipients"]}
    assert (
        set(map(str, Message.objects.filter(batch_id=batch_id).values_list("pk", flat=True))) == ids
    )

    progress = api_client.get(f"/v3/messages/queue?batch={batch_id}").json()["data"]
    assert progress["batch_id"] == batch_id
    assert (progress["total"], progress["waiting"], progress["finished"]) == (4, 4, 0)
    assert (progress["percent"], progress["done"], progress["counts"]) == (0, False, {"QUEUED": 4})

    run_queued_tasks(include_future=True)
    progress = api_client.get(f"/v3/messages/queue?batch={batch_id}").json()["data"]
    assert (progress["waiting"], progress["percent"], progress["done"]) == (0, 100, True)
    assert sum(progress["counts"].values()) == 4
    assert "QUEUED" not in progress["counts"]


def test_a_half_done_send(api_client, account):
    messages = send(account, [number(n) for n in range(75, 79)])
    _set(messages[0], status=S.SENT)
    _set(messages[1], status=S.FAILED)
    _set(messages[2], status=S.PROCESSED)
    batch_id = messages[0].batch_id
    progress = api_client.get(f"/v3/messages/queue?batch={batch_id}").json()["data"]
    assert progress["counts"] == {"QUEUED": 1, "PROCESSED": 1, "SENT": 1, "FAILED": 1}
    assert (progress["finished"], progress["percent"], progress["done"]) == (2, 50, False)


@pytest.mark.parametrize("batch", ["theirs", "missing", "not-an-id"])
def test_a_wrong_batch_is_404(api_client, other_account, batch):
    theirs = send(other_account, [number(80)])[0].batch_id
    value = {"theirs": theirs, "missing": uuid.uuid4(), "not-an-id": "batch-1"}[batch]
    response = api_client.get(f"/v3/messages/queue?batch={value}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_012"


def test_a_sends_progress_takes_two_queries(account, django_assert_num_queries):
    batch_id = send(account, [number(n) for n in range(81, 86)])[0].batch_id
    with django_assert_num_queries(2):
        assert batch_progress(account, batch_id=batch_id).total == 5


def test_the_queue_needs_an_api_key(client):
    assert client.get("/v3/messages/queue").status_code == 401


def _drain(results: list) -> None:
    try:
        results.append(run_queued_tasks(include_future=True))
    finally:
        connection.close()


def test_two_workers_drain_a_send_and_the_queue_follows(transactional_db, settings):
    settings.MESSAGE_DISPATCH_BATCH_SIZE = 5
    settings.SIMULATOR_DELAY_SCALE = 0
    customer = make_customer(balance="10")
    make_approved_template(customer)
    messages = send(customer, [number(n, series=5) for n in range(10, 50)], channels=["sms"])
    assert queue_snapshot(customer).totals.waiting == 40

    results: list = []
    workers = [threading.Thread(target=_drain, args=(results,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert len(results) == 2

    totals = queue_snapshot(customer).totals
    assert (totals.waiting, totals.stuck_queued, totals.stuck_processed) == (0, 0, 0)
    assert totals.sent_last_window == 40  # all 40 handed off within the last minute
    progress = batch_progress(customer, batch_id=messages[0].batch_id)
    assert (progress.done, progress.finished, progress.percent) == (True, 40, 100)


def _post(api_client, to: list[str], **extra):
    body = {
        "to": to,
        "template": {"name": "order_shipped", "parameters": {"name": "A", "order_id": "1"}},
        **extra,
    }
    return api_client.post("/v3/messages", body, format="json")


def test_a_campaign_of_several_requests_is_followed_as_one_send(api_client, account):
    first = _post(api_client, [number(n) for n in range(10, 13)]).json()["data"]
    batch_id = first["batch_id"]
    for start in (20, 30):
        joined = _post(api_client, [number(start), number(start + 1)], batch_id=batch_id)
        assert joined.status_code == 202
        assert joined.json()["data"]["batch_id"] == batch_id

    progress = api_client.get(f"/v3/messages/queue?batch={batch_id}").json()["data"]
    assert (progress["total"], progress["waiting"], progress["percent"]) == (7, 7, 0)
    run_queued_tasks(include_future=True)
    progress = api_client.get(f"/v3/messages/queue?batch={batch_id}").json()["data"]
    assert (progress["total"], progress["done"], progress["percent"]) == (7, True, 100)


@pytest.mark.parametrize("whose", ["theirs", "missing"])
def test_joining_a_wrong_batch_is_404_and_sends_nothing(api_client, account, other_account, whose):
    batch_id = send(other_account, [number(40)])[0].batch_id if whose == "theirs" else uuid.uuid4()
    before = (Message.objects.count(), account.balance)
    response = _post(api_client, [number(41), number(42)], batch_id=str(batch_id))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_012"
    account.refresh_from_db()
    assert (Message.objects.count(), account.balance) == before


def test_the_whole_installs_queue_for_an_operator(account, other_account, backlog):
    everyone = queue_snapshot(None).totals
    ours, theirs = queue_snapshot(account).totals, queue_snapshot(other_account).totals
    assert everyone.waiting == ours.waiting + theirs.waiting == 12
    assert everyone.sent_last_window == ours.sent_last_window + theirs.sent_last_window == 4
