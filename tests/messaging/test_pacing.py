"""Dispatch is fair between tenants and paced per sender (docs/architecture.md#fairness-between-tenants,
docs/providers/README.md#pacing): one customer's backlog doesn't hold up another's first
message, no sender goes faster than its rate however many workers claim, a slow sender
doesn't hold up the others, and a provider's rate limit slows its sender down."""

import threading
import time
from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from django.db import connection
from django.utils import timezone

from messaging.dispatch import claim_due
from messaging.models import Message, SenderPace
from messaging.reconciler import reconcile
from messaging.tasks import SCHEDULER, message_dispatch
from tests.factories import make_customer
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import queued_tasks, run_queued_tasks

DISPATCH = "messaging.tasks.message_dispatch"


@pytest.fixture
def acme(account):
    make_approved_template(account)
    return account


@pytest.fixture
def globex(other_account):
    make_approved_template(other_account)
    return other_account


def numbers(count: int, series: int = 0) -> list[str]:
    """`count` numbers the simulator reaches by SMS only (endings 50–79), from `series` on."""
    return [number(50 + i % 30, series=series + i // 30) for i in range(count)]


def statuses(customer) -> dict:
    found = {}
    for status in Message.objects.filter(customer=customer).values_list("status", flat=True):
        found[status] = found.get(status, 0) + 1
    return found


def test_a_tenants_first_message_is_in_the_next_claim_behind_anothers_backlog(
    acme, globex, settings
):
    settings.MESSAGE_DISPATCH_BATCH_SIZE = 20
    send(acme, numbers(300, series=10))
    [first] = send(globex, number(60))

    claimed = claim_due().messages

    assert first.pk in {m.pk for m in claimed}
    by_customer = {m.customer_id for m in claimed}
    assert by_customer == {acme.pk, globex.pk}
    assert sum(1 for m in claimed if m.customer_id == acme.pk) <= 10  # one share of 20


def test_one_dispatch_round_sends_the_small_tenant_and_a_share_of_the_big_one(
    acme, globex, settings
):
    settings.MESSAGE_DISPATCH_BATCH_SIZE = 20
    settings.MESSAGE_DISPATCH_JOB_SECONDS = 0  # one round, then a successor job
    send(acme, numbers(200, series=10))
    send(globex, [number(60), number(61)])
    queued_tasks(DISPATCH).delete()

    message_dispatch.enqueue(message_ids=[])
    job = queued_tasks(DISPATCH).get()
    run_one(job)

    assert statuses(globex).get("QUEUED", 0) == 0
    assert statuses(acme)["QUEUED"] == 200 - 10  # one share of 20 between two lanes
    assert queued_tasks(DISPATCH).count() == 1  # the successor drains the rest
    run_queued_tasks()
    assert statuses(acme).get("QUEUED", 0) == 0


def run_one(job) -> None:
    from tests.tasks import _worker

    job.claim("tests")
    _worker().run_task(job)


def test_a_send_makes_one_wake_up_and_one_job_drains_many_sends(acme, settings):
    for to in numbers(30, series=2):
        send(acme, to)
    # A send enqueues a wake-up only when none waits to run: 30 sends, one job.
    assert queued_tasks(DISPATCH).count() == 1
    for _ in range(9):  # the wake-ups sends at the same moment leave (each its own)
        message_dispatch.enqueue(message_ids=[])

    run_queued_tasks()

    # The first job did the others' work: they are marked done without running.
    jobs = DBTaskResult.objects.filter(task_path=DISPATCH)
    assert jobs.filter(return_value__coalesced=True).count() == 9
    assert statuses(acme) == {"DELIVERED": 30}


def slow_bucket(settings, *, holds: int) -> float:
    """The default SMS route paced so slowly that nothing accrues while a test runs, with a
    bucket of `holds` tokens; returns the rate."""
    settings.PACING_BURST_SECONDS = 1000.0
    rate = holds / 1000.0
    settings.PACING_DEFAULT_ROUTE_RATES = {"sms": rate}
    return rate


def test_a_paced_sender_hands_off_its_bucket_and_books_a_wake_up(acme, settings):
    rate = slow_bucket(settings, holds=5)
    send(acme, numbers(12, series=3))
    before = timezone.now()

    run_queued_tasks()

    assert statuses(acme).get("QUEUED") == 12 - 5  # what the bucket held
    [wake] = queued_tasks(DISPATCH)  # when it holds a token again
    assert before < wake.run_after <= timezone.now() + timedelta(seconds=1 / rate)
    assert SenderPace.objects.get(key="default:sms").tokens < 1


def test_sms_pays_its_segments(acme, settings):
    slow_bucket(settings, holds=6)
    long_text = "Your order has shipped and will arrive soon. " * 5  # > 160 chars: 2 segments
    send(acme, numbers(6, series=4), template_name=None, text=long_text)

    run_queued_tasks()

    sent = Message.objects.filter(customer=acme).exclude(status="QUEUED")
    assert all(m.content["segments"] == 2 for m in sent)
    assert sent.count() == 3  # six tokens: three messages of two segments


def test_a_slow_sender_does_not_hold_up_the_others(acme, globex, settings):
    slow_bucket(settings, holds=1)
    send(acme, numbers(20, series=5))  # the default SMS route: one token
    send(globex, numbers(20, series=6), sandbox=True)  # the simulator's own pace

    run_queued_tasks()

    assert statuses(globex) == {"DELIVERED": 20}
    assert statuses(acme).get("QUEUED") == 19


def test_the_reconciler_leaves_paced_messages_alone(acme, settings):
    settings.PACING_DEFAULT_ROUTE_RATES = {"sms": 1.0}
    send(acme, numbers(5, series=7))
    run_queued_tasks()
    assert queued_tasks(DISPATCH).count() == 1  # the wake-up for the next token

    outcome = reconcile(scheduler=SCHEDULER, now=timezone.now() + timedelta(minutes=10))

    assert outcome["requeued"] == 0


def test_a_rate_limit_halves_the_pace_pauses_it_and_it_recovers(acme, settings):
    from django.db import transaction

    from messaging.pacing import buckets_lock, pace_throttled

    now = timezone.now()
    with transaction.atomic():
        buckets_lock({"default:sms"}, now=now)
    pace_throttled({"default:sms": 3.0}, now=now)
    pace = SenderPace.objects.get(key="default:sms")
    assert (pace.factor, pace.throttles) == (0.5, 1)
    assert pace.throttled_until == now + timedelta(seconds=3)

    with transaction.atomic():
        paused = buckets_lock({"default:sms"}, now=now + timedelta(seconds=1))["default:sms"]
    assert paused.available() == 0 and paused.ready_at() == now + timedelta(seconds=3)

    settings.PACING_RECOVERY_SECONDS = 10
    with transaction.atomic():
        later = buckets_lock({"default:sms"}, now=now + timedelta(seconds=8))["default:sms"]
    assert later.pace.factor == pytest.approx(1.0)  # 5 s after the pause, recovery is 10 s/1.0
    assert later.available() >= 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_take_more_than_the_bucket(settings):
    """Four workers (threads with their own connections) claim at once: together they take
    what one bucket holds, not four times that."""
    settings.PACING_DEFAULT_ROUTE_RATES = {"sms": 10.0}
    customer = make_customer("Acme")
    make_approved_template(customer)
    send(customer, numbers(80, series=30))
    start = threading.Barrier(4)
    taken = []

    def worker():
        try:
            start.wait()
            taken.append(len(claim_due(budget=80).messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    elapsed = time.monotonic() - started
    # A full bucket (10) plus what accrues while the claims run — not 4 × 10.
    assert 10 <= sum(taken) <= 10 + 10 * elapsed + 1
    assert Message.objects.filter(status="PROCESSED").count() == sum(taken)
