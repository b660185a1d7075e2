"""One tenant's backlog never delays another's messages (docs/architecture.md#lanes,
docs/architecture.md#fairness-between-tenants), with real `db_worker` processes: tenant A has
endpoints that hang and thousands of waiting deliveries, and 2,000 queued messages of its
own; tenant B's message, sent after all of that, is SENT in the dispatch workers' first
round, while A's backlog is still there. (The figures: bench/fairness_bench.py.)"""

import subprocess
import sys

import pytest
from django_tasks_db.models import DBTaskResult

from messaging.models import Message
from tests.messaging.factories import make_approved_template, number, send
from tests.messaging.test_killed_worker import ROOT, kill, wait_for, worker_env
from tests.messaging.webhook_helpers import Reply, make_webhook

pytestmark = pytest.mark.slow


def start_worker(queues: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name", queues]
        + ["--interval", "0.05", "--no-reload", "--no-startup-delay"],
        cwd=ROOT,
        env=worker_env(WEBHOOK_ALLOW_PRIVATE_TARGETS="true"),
    )


def test_a_tenants_webhook_flood_and_backlog_do_not_delay_anothers_first_message(
    live_account, live_other_account, receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    tenant_a, tenant_b = live_account, live_other_account
    for customer in (tenant_a, tenant_b):
        make_approved_template(customer)
    receiver.default = Reply(delay=30)  # every attempt hangs until its timeout
    for i in range(5):
        make_webhook(tenant_a, f"{receiver.url}/a{i}", event_types=["message"])
    # A: 2,000 queued messages (their queued events make the deliveries), B: one message.
    for series in range(20):
        send(tenant_a, [number(50 + i % 30, series=series * 4 + i // 30) for i in range(100)])
    [first] = send(tenant_b, number(60, series=99))

    workers = [start_worker("webhooks"), start_worker("dispatch"), start_worker("dispatch")]
    try:
        wait_for(lambda: Message.objects.filter(pk=first.pk, status="SENT").exists(), timeout=60)
        a_waiting = Message.objects.filter(customer=tenant_a, status="QUEUED").count()
        webhook_work = DBTaskResult.objects.filter(
            queue_name="webhooks", status__in=["READY", "RUNNING"]
        ).count()
    finally:
        for worker in workers:
            kill(worker)

    # B went out in the first rounds: most of A's backlog was still waiting behind it.
    assert a_waiting > 1000
    assert webhook_work > 0  # and A's webhook work still waited on its own lane
