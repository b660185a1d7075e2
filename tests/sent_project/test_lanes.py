"""Each kind of background work has its own lane (queue), and the workers `make run` starts
cover every lane (docs/architecture.md#lanes)."""

from django.conf import settings

from contacts.tasks import contact_import_run
from messaging.tasks import message_dispatch, message_receipts, messages_reconcile
from messaging.webhooks.tasks import webhook_deliver, webhook_event_fan_out
from sent_project import lanes


def test_each_kind_of_work_runs_on_its_own_lane():
    assert message_dispatch.queue_name == "dispatch"
    assert message_receipts.queue_name == "receipts"
    assert webhook_deliver.queue_name == webhook_event_fan_out.queue_name == "webhooks"
    assert contact_import_run.queue_name == "bulk"
    assert messages_reconcile.queue_name == "default"


def test_the_backend_accepts_every_lane_and_the_started_workers_serve_them_all():
    assert set(settings.TASKS["default"]["QUEUES"]) == set(lanes.ALL)
    served = {q for queues in lanes.worker_queues(dispatch_workers=2) for q in queues.split(",")}
    assert served == set(lanes.ALL)
    assert lanes.worker_queues(dispatch_workers=2).count("dispatch") == 2


def test_a_job_enqueued_on_a_lane_is_stored_on_it(db):
    from tests.tasks import queued_tasks

    webhook_deliver.enqueue(delivery_id="00000000-0000-0000-0000-000000000000")
    job = queued_tasks("messaging.webhooks.tasks.webhook_deliver").get()
    assert job.queue_name == "webhooks"
