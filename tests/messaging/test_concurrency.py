"""docs/reliability.md#1-exact-balance-under-concurrency and
docs/reliability.md#2-a-request-is-all-or-nothing through the real HTTP path: a live server,
real threads, each request on its own connection, racing for one balance."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from django.db import connection

from billing.models import LedgerEntry
from billing.selectors import ledger_problems
from messaging.models import Message
from tests.factories import make_customer
from tests.messaging.factories import make_approved_template, number, send_body
from tests.tasks import queued_tasks

SMS_US = Decimal("0.0083")
WHATSAPP_US = Decimal("0.0084")
# PostgreSQL's max_connections is shared with other test runs on this machine.
WORKERS = 30 if connection.vendor == "postgresql" else 20


def post_concurrently(url: str, key: str, bodies: list[dict]) -> list[int]:
    def call(body):
        with httpx.Client(timeout=60) as client:
            return client.post(f"{url}/v3/messages", json=body, headers={"x-api-key": key})

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        responses = list(pool.map(call, bodies))
    for response in responses:
        if response.status_code == 402:
            assert response.json()["error"]["code"] == "BUSINESS_003"
            assert response.headers["x-should-retry"] == "false"
    return [response.status_code for response in responses]


def test_100_concurrent_sends_against_a_balance_for_37_succeed_exactly_37_times(
    live_server, transactional_db
):
    customer = make_customer(balance=SMS_US * 37)
    make_approved_template(customer)
    bodies = [send_body(number(50 + i % 30, series=i // 30)) for i in range(100)]

    statuses = post_concurrently(live_server.url, customer.raw_api_key, bodies)

    assert Counter(statuses) == {202: 37, 402: 63}  # and zero 5xx, on SQLite too
    customer.refresh_from_db()
    assert customer.balance == Decimal("0")
    assert LedgerEntry.objects.filter(customer=customer, kind="charge").count() == 37
    assert ledger_problems([customer.pk])[2] == []
    assert Message.objects.count() == 37
    # Wake-ups of the accepted sends only (a send enqueues one unless one waits already).
    assert 1 <= queued_tasks("messaging.tasks.message_dispatch").count() <= 37


def test_a_request_the_balance_covers_only_partly_writes_nothing(live_server, transactional_db):
    customer = make_customer(balance=WHATSAPP_US * Decimal("9.5"))
    make_approved_template(customer)
    body = send_body([number(i) for i in range(10, 20)])  # ten WhatsApp messages

    [status] = post_concurrently(live_server.url, customer.raw_api_key, [body])

    assert status == 402
    customer.refresh_from_db()
    assert customer.balance == Decimal("0.0798")
    assert Message.objects.count() == 0
    assert LedgerEntry.objects.filter(customer=customer).exclude(kind="top_up").count() == 0
    assert queued_tasks().count() == 0


@pytest.mark.parametrize("count", [20])
def test_concurrent_sends_to_the_same_new_number_make_one_contact(
    live_server, transactional_db, count
):
    customer = make_customer()
    make_approved_template(customer)
    statuses = post_concurrently(
        live_server.url, customer.raw_api_key, [send_body(number(60))] * count
    )
    assert statuses == [202] * count
    assert customer.contacts.count() == 1
    assert Message.objects.filter(contact__customer=customer).count() == count
