"""docs/reliability.md#8-recovery-after-a-killed-worker with a real `manage.py db_worker` killed by
SIGKILL: right after its claim commits, and between the provider's acceptance and the SENT write.
The reconciler recovers both: provider count 1, DELIVERED in the end, no job row left RUNNING."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from django.conf import settings as django_settings
from django.db import connection
from django.tasks import TaskResultStatus
from django.utils import timezone

from messaging.models import Message, SimulatorSend
from messaging.reconciler import reconcile
from messaging.tasks import SCHEDULER
from tests.messaging.factories import make_approved_template, number, provider_calls, send
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.slow
ROOT = Path(django_settings.BASE_DIR)


def worker_env(**extra) -> dict:
    """The worker subprocess's environment: the test database, no simulator delays."""
    env = {
        **os.environ,
        "SIMULATOR_DELAY_SCALE": "0",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "0",
        **{k: str(v) for k, v in extra.items()},
    }
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
    return env


def start_worker(**extra) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "*",
            "--interval",
            "0.05",
            "--no-reload",
            "--no-startup-delay",
            "--worker-id",
            "doomed",
        ],
        cwd=ROOT,
        env=worker_env(**extra),
    )


def wait_for(condition, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.05)


def kill(worker: subprocess.Popen) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.fixture
def queued(live_account, settings):
    settings.MESSAGE_STUCK_PROCESSED_SECONDS = 0
    settings.MESSAGE_ORPHANED_TASK_SECONDS = 0
    make_approved_template(live_account)
    return live_account


def finish_and_check(message: Message) -> None:
    """Run what the reconciler queued (in this process), then the scenario's promises."""
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    assert provider_calls(message) == 1
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()


def test_a_worker_killed_right_after_its_claim(queued):
    [message] = send(queued, number(60))
    worker = start_worker(MESSAGE_TEST_PAUSE_AFTER_CLAIM=60)
    try:
        wait_for(lambda: Message.objects.filter(pk=message.pk, status="PROCESSED").exists())
    finally:
        kill(worker)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count() == 1
    assert provider_calls(message) == 0

    outcome = reconcile(scheduler=SCHEDULER)

    assert outcome == {
        "orphaned_jobs": 1,
        "requeued": 0,
        "found_at_provider": 0,
        "redispatched": 1,
        "failed": 0,
        "callbacks_woken": 0,
    }
    finish_and_check(message)


def test_a_worker_killed_between_the_provider_and_the_sent_write(queued):
    [message] = send(queued, number(60))
    worker = start_worker(MESSAGE_TEST_PAUSE_AFTER_PROVIDER=60)
    try:
        wait_for(
            lambda: (
                SimulatorSend.objects.filter(message_id=message.pk)
                .exclude(provider_message_id="")
                .exists()
            )
        )
    finally:
        kill(worker)
    message.refresh_from_db()
    assert message.status == "PROCESSED" and message.provider_message_id == ""

    outcome = reconcile(scheduler=SCHEDULER)

    assert outcome["found_at_provider"] == 1 and outcome["orphaned_jobs"] == 1
    message.refresh_from_db()
    assert message.status == "SENT"
    finish_and_check(message)


def test_a_scheduled_message_survives_a_worker_killed_at_its_due_time(queued):
    """docs/reliability.md#25-scheduled-messages-go-out-at-their-time-once: the worker claims it at its time and dies;
    the reconciler hands it off once."""
    due = timezone.now() + timedelta(seconds=2)
    [message] = send(queued, number(60), scheduled_at=due)
    assert message.status == "SCHEDULED"
    worker = start_worker(MESSAGE_TEST_PAUSE_AFTER_CLAIM=60)
    try:
        wait_for(lambda: Message.objects.filter(pk=message.pk, status="PROCESSED").exists())
    finally:
        kill(worker)
    message.refresh_from_db()
    assert message.claimed_at >= due  # not a moment before its time
    assert provider_calls(message) == 0

    outcome = reconcile(scheduler=SCHEDULER)

    assert outcome["redispatched"] == 1 and outcome["orphaned_jobs"] == 1
    finish_and_check(message)
