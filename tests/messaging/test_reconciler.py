"""The reconciler: lost jobs, dead workers (asking the provider before any re-send),
orphaned job rows, and its own schedule. In-process; the real killed worker is in
test_killed_worker.py."""

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone

from billing.models import LedgerEntry
from messaging.dispatch import claim, hand_off
from messaging.models import Message, PeriodicJob
from messaging.reconciler import reconcile, reconcile_schedule_ensure
from messaging.tasks import SCHEDULER, messages_reconcile
from tests.messaging.factories import make_approved_template, number, provider_calls, send
from tests.tasks import queued_tasks, run_queued_tasks

DISPATCH = "messaging.tasks.message_dispatch"


@pytest.fixture(autouse=True)
def no_waiting(settings):
    settings.MESSAGE_STUCK_QUEUED_SECONDS = 0
    settings.MESSAGE_STUCK_PROCESSED_SECONDS = 0
    settings.MESSAGE_ORPHANED_TASK_SECONDS = 0


@pytest.fixture
def template(account):
    return make_approved_template(account)


def later() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=1)


def test_a_queued_message_whose_job_was_lost_is_dispatched_again(account, template):
    [message] = send(account, number(60))
    queued_tasks(DISPATCH).delete()  # the job is lost

    outcome = reconcile(scheduler=SCHEDULER, now=later())

    assert outcome["requeued"] == 1
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert message.status == "DELIVERED" and provider_calls(message) == 1
    assert message.activities.filter(kind="reconciled").exists()


def test_a_queued_message_behind_a_waiting_job_is_left_alone(account, template):
    send(account, number(60))  # its job is still there, just not run yet
    assert reconcile(scheduler=SCHEDULER, now=later())["requeued"] == 0
    assert queued_tasks(DISPATCH).count() == 1


def test_a_claimed_message_the_provider_never_got_is_dispatched_again(account, template):
    [message] = send(account, number(60))
    claim([str(message.pk)])  # the worker dies right after its claim
    queued_tasks(DISPATCH).delete()

    outcome = reconcile(scheduler=SCHEDULER, now=later())

    assert outcome["redispatched"] == 1 and outcome["found_at_provider"] == 0
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    assert provider_calls(message) == 1
    assert message.attempts == 2


def test_a_claimed_message_the_provider_took_is_recorded_sent_not_resent(account, template):
    [message] = send(account, number(12))
    [claimed] = claim([str(message.pk)])
    hand_off(claimed)  # the provider accepts; the worker dies before writing SENT
    queued_tasks(DISPATCH).delete()

    outcome = reconcile(scheduler=SCHEDULER, now=later())

    assert outcome["found_at_provider"] == 1
    message.refresh_from_db()
    assert message.status == "SENT" and message.provider_message_id.startswith("sim_")
    run_queued_tasks(include_future=True)  # the provider's callbacks follow as usual
    message.refresh_from_db()
    assert message.status == "READ"
    assert provider_calls(message) == 1
    assert LedgerEntry.objects.filter(message_id=message.pk).count() == 1


def test_a_message_whose_workers_keep_dying_fails_and_is_refunded(account, template, settings):
    settings.MESSAGE_MAX_ATTEMPTS = 1
    [message] = send(account, number(60))
    claim([str(message.pk)])

    assert reconcile(scheduler=SCHEDULER, now=later())["failed"] == 1
    message.refresh_from_db()
    assert (message.status, message.reason_code) == ("FAILED", "DELIVERY_003")
    assert LedgerEntry.objects.filter(message_id=message.pk, kind="refund").count() == 1


def test_a_fresh_claim_is_not_touched(account, template, settings):
    settings.MESSAGE_STUCK_PROCESSED_SECONDS = 120
    [message] = send(account, number(60))
    claim([str(message.pk)])
    assert reconcile(scheduler=SCHEDULER)["redispatched"] == 0
    message.refresh_from_db()
    assert message.status == "PROCESSED"


def test_job_rows_left_running_by_a_dead_worker_are_marked_failed(account, template):
    send(account, number(60))
    job = queued_tasks(DISPATCH).get()
    job.claim("dead-worker")  # RUNNING, and its worker is gone

    assert reconcile(scheduler=SCHEDULER, now=later())["orphaned_jobs"] == 1
    job.refresh_from_db()
    assert job.status == TaskResultStatus.FAILED
    assert job.exception_class_path == "messaging.reconciler.WorkerLost"


def test_the_periodic_job_books_one_next_run_at_a_time(db, settings):
    settings.MESSAGE_RECONCILE_EVERY_SECONDS = 30
    enqueue = lambda run_at: messages_reconcile.using(run_after=run_at).enqueue()  # noqa: E731
    assert reconcile_schedule_ensure(enqueue=enqueue)
    assert not reconcile_schedule_ensure(enqueue=enqueue)  # already booked
    [first] = queued_tasks("messaging.tasks.messages_reconcile")

    run_queued_tasks()  # runs the booked run, which books the next one (30 s ahead)

    pending = queued_tasks("messaging.tasks.messages_reconcile")
    assert pending.count() == 1 and pending.get().run_after > timezone.now()
    job = PeriodicJob.objects.get()
    assert job.last_run_at is not None and "requeued" in job.last_outcome
    # A second chain started by mistake stops at its first run.
    messages_reconcile.enqueue()
    run_queued_tasks()
    assert queued_tasks("messaging.tasks.messages_reconcile").count() == 1
    assert DBTaskResult.objects.get(pk=first.pk).status == TaskResultStatus.SUCCESSFUL


def test_the_command_runs_a_pass_and_can_start_the_schedule(account, template, capsys):
    [message] = send(account, number(60))
    queued_tasks(DISPATCH).delete()
    call_command("reconcile_messages")
    assert "requeued 1" in capsys.readouterr().out
    call_command("reconcile_messages", "--schedule")
    assert queued_tasks("messaging.tasks.messages_reconcile").count() == 1
    assert Message.objects.get(pk=message.pk).status == "QUEUED"
