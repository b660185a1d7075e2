"""Liveness and readiness (docs/operations.md#health): /healthz, /readyz, manage.py doctor."""

from datetime import timedelta
from io import StringIO

import pytest
from django_tasks_db.models import DBTaskResult

from django.core.management import call_command
from django.db.models import F
from django.test import Client

from messaging.models import PeriodicJob
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def let_time_pass(seconds: float) -> None:
    """As if `seconds` went by with no worker running: every booked and recorded moment of
    the periodic jobs, and every job's enqueue and due time, moves that far into the past."""
    delta = timedelta(seconds=seconds)
    PeriodicJob.objects.update(
        last_run_at=F("last_run_at") - delta, next_run_at=F("next_run_at") - delta
    )
    DBTaskResult.objects.update(enqueued_at=F("enqueued_at") - delta)
    DBTaskResult.objects.exclude(run_after__year=9999).update(run_after=F("run_after") - delta)


def readyz():
    response = Client().get("/readyz")
    return response.status_code, response.json()


def test_healthz_answers_without_asking_anything_else():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_red_before_any_worker_ran():
    status, body = readyz()
    assert status == 503
    assert body["status"] == "failing"
    assert "worker:dispatch" in body["failing"] and "reconciler" in body["failing"]
    assert body["checks"]["database"]["state"] == "ok"
    assert body["checks"]["migrations"]["state"] == "ok"
    assert "never seen" in body["checks"]["worker:bulk"]["detail"]


def test_readyz_goes_red_when_workers_stop_and_green_when_one_runs_again():
    call_command("schedule_jobs", verbosity=0)
    run_queued_tasks()
    status, body = readyz()
    assert (status, body["failing"]) == (200, [])
    assert set(body["checks"]) >= {
        f"worker:{lane}" for lane in ("dispatch", "receipts", "webhooks", "bulk", "default")
    }

    let_time_pass(90)  # no worker ran for a minute and a half
    status, body = readyz()
    assert status == 503
    assert body["failing"] == [
        "worker:dispatch",
        "worker:receipts",
        "worker:webhooks",
        "worker:bulk",
        "worker:default",
    ]
    assert "seen within 60 s" in body["checks"]["worker:dispatch"]["detail"]

    run_queued_tasks()  # the workers are back: their heartbeats run
    status, body = readyz()
    assert (status, body["failing"]) == (200, [])


def test_a_due_job_waiting_too_long_turns_its_lane_red(settings):
    call_command("schedule_jobs", verbosity=0)
    run_queued_tasks()
    # Nothing runs the dispatch lane's jobs for ten minutes while its heartbeat is fine.
    from messaging.tasks import message_dispatch

    waiting = message_dispatch.enqueue(message_ids=[])
    DBTaskResult.objects.filter(pk=waiting.id).update(
        enqueued_at=F("enqueued_at") - timedelta(seconds=600)
    )
    status, body = readyz()
    assert status == 503 and body["failing"] == ["queue:dispatch"]
    assert body["checks"]["queue:dispatch"]["depth"] == 1
    assert body["checks"]["queue:dispatch"]["oldest_seconds"] >= 600


def test_doctor_prints_each_check_and_exits_1_when_not_ready():
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("doctor", stdout=out)
    assert exit_.value.code == 1
    text = out.getvalue()
    assert "ok   database" in text and "FAIL worker:dispatch" in text
    assert "NOT READY: failing" in text

    call_command("schedule_jobs", verbosity=0)
    run_queued_tasks()
    out = StringIO()
    call_command("doctor", stdout=out)
    assert out.getvalue().strip().endswith("ready")
