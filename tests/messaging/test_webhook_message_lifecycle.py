"""The end-to-end promise of docs/reliability.md#13-failed-deliveries-are-retried-to-success: a
real receiver gets a message's whole lifecycle, in order, every delivery verifying with
`standardwebhooks`, each event exactly once despite failures."""

import json

from standardwebhooks import Webhook

from django.db import transaction

from messaging.models import Message
from tests.messaging.factories import make_approved_template, number, send
from tests.messaging.webhook_helpers import Reply, make_webhook
from tests.tasks import run_queued_tasks


def test_a_receiver_gets_the_whole_lifecycle_in_order_once_each_despite_failures(
    account, receiver, webhook_settings, django_capture_on_commit_callbacks
):
    make_approved_template(account)
    _endpoint, secret = make_webhook(account, receiver.url, event_types=["message"])
    receiver.replies = [Reply(status=500), Reply(status=500), Reply(status=500)]

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        [message] = send(account, [number(12)])  # 00–49: WhatsApp, delivered, then read
    for _ in range(20):  # dispatch, receipts, fan-outs and webhook retries, until all is done
        with django_capture_on_commit_callbacks(execute=True):
            if not run_queued_tasks(include_future=True):
                break

    message.refresh_from_db()
    assert message.status == "READ"
    verifier = Webhook(secret)
    delivered = {}
    for received in receiver.received:
        headers = {name: value for name, value in received.headers.items()}
        payload = verifier.verify(received.body, headers)  # raises if the signature is wrong
        if received.headers["webhook-id"] not in delivered:
            delivered[received.headers["webhook-id"]] = payload
    assert len(receiver.received) == len(delivered) + 3  # three failed attempts, then one each
    bodies = sorted(delivered.values(), key=lambda body: body["sequence"])
    assert [b["event"] for b in bodies] == [
        "message.queued",
        "message.sent",
        "message.delivered",
        "message.read",
    ]
    assert [b["sequence"] for b in bodies] == [1, 2, 3, 4]
    assert {b["payload"]["message_id"] for b in bodies} == {str(message.pk)}
    assert bodies[-1]["payload"]["message"]["status"] == "READ"
    # Retried deliveries keep their webhook-id: the three failures were re-sent, not duplicated.
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert sorted(set(ids)) == sorted(delivered)
    assert json.loads(receiver.received[-1].body)["field"] == "message"
    assert Message.objects.filter(customer=account).count() == 1
