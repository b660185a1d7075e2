"""The official SDK (`sent_dm`) against a live server: client.messages.send, retrieve_status
and retrieve_activities over every row of the simulator table, errors, and tenants."""

import pytest
import sent_dm

from billing.models import LedgerEntry
from messaging.models import Message
from tests.messaging.factories import PARAMETERS, make_approved_template, number, provider_calls
from tests.tasks import run_queued_tasks

TEMPLATE = {"name": "order_shipped", "parameters": PARAMETERS}


@pytest.fixture
def template(live_account):
    return make_approved_template(live_account)


def send_and_run(sdk, to: str, **options):
    response = sdk.messages.send(to=[to], template=TEMPLATE, **options)
    assert response.success is True and response.data.status == "QUEUED"
    run_queued_tasks(include_future=True)
    return response.data.recipients[0]


@pytest.mark.parametrize(
    "digits,channel,status,history",
    [
        (12, "whatsapp", "READ", ["QUEUED", "PROCESSED", "SENT", "DELIVERED", "READ"]),
        (65, "sms", "DELIVERED", ["QUEUED", "PROCESSED", "SENT", "DELIVERED"]),
        (85, "sms", "DELIVERED", ["QUEUED", "PROCESSED", "SENT", "DELIVERED"]),
        (92, "whatsapp", "FAILED", ["QUEUED", "PROCESSED", "FAILED"]),
        (
            97,
            "sms",
            "DELIVERED",
            ["QUEUED", "PROCESSED", "QUEUED", "PROCESSED", "SENT", "DELIVERED"],
        ),
    ],
)
def test_every_simulator_row_through_the_sdk(sdk, template, digits, channel, status, history):
    recipient = send_and_run(sdk, number(digits))

    message = sdk.messages.retrieve_status(recipient.message_id).data
    assert (message.status, message.channel) == (status, channel)
    assert [event.status for event in message.events] == history
    if status == "FAILED":
        assert message.reason_code == "DELIVERY_004"
    activities = sdk.messages.retrieve_activities(recipient.message_id).data
    assert activities.message_id == recipient.message_id
    assert activities.activities[0].status == status
    assert all(isinstance(a.price, str) for a in activities.activities)
    # One hand-off per channel: the retry of 95–99 and the fallback of 80–89 make two.
    calls = provider_calls(Message.objects.get(pk=recipient.message_id))
    assert calls == (2 if digits in (85, 97) else 1)


def test_the_sdk_sends_free_text_and_to_many(sdk, template):
    response = sdk.messages.send(to=[number(60), number(61)], text="Your table is ready")
    assert [r.channel for r in response.data.recipients] == ["sms", "sms"]
    assert [r.body for r in response.data.recipients] == ["Your table is ready"] * 2


def test_the_sdk_sees_a_sandbox_send(sdk, live_account, template):
    recipient = send_and_run(sdk, number(60), sandbox=True)
    assert sdk.messages.retrieve_status(recipient.message_id).data.status == "DELIVERED"
    assert not LedgerEntry.objects.filter(message_id=recipient.message_id).exists()


def test_the_sdk_raises_with_the_codes(sdk, template):
    with pytest.raises(sent_dm.BadRequestError) as error:
        sdk.messages.send(to=["12"], template=TEMPLATE)
    assert error.value.body["error"]["code"] == "VALIDATION_002"
    with pytest.raises(sent_dm.NotFoundError):
        sdk.messages.retrieve_status("5b0e4c32-59a4-4b7f-9bc5-4bd9c7b0b1a1")


def test_another_account_cant_read_the_message(sdk, other_sdk, template):
    recipient = send_and_run(sdk, number(60))
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.messages.retrieve_status(recipient.message_id)
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.messages.retrieve_activities(recipient.message_id)


def test_the_sdk_idempotency_key_sends_once(sdk, template):
    first = sdk.messages.send(to=[number(60)], template=TEMPLATE, idempotency_key="order-42")
    again = sdk.messages.send(to=[number(60)], template=TEMPLATE, idempotency_key="order-42")
    assert again.data.recipients[0].message_id == first.data.recipients[0].message_id
    assert Message.objects.count() == 1


def test_a_campaign_of_two_sends_and_its_progress_through_the_sdk(sdk, template):
    first = sdk.messages.send(to=[number(65), number(85)], template=TEMPLATE)
    batch_id = first.data.batch_id  # our addition, kept by the SDK's models
    second = sdk.messages.send(
        to=[number(65, series=1)], template=TEMPLATE, extra_body={"batch_id": batch_id}
    )
    assert second.data.batch_id == batch_id

    def progress() -> dict:
        answer = sdk.get(
            "/v3/messages/queue", cast_to=object, options={"params": {"batch": batch_id}}
        )
        return answer["data"]

    assert (progress()["total"], progress()["waiting"]) == (3, 3)
    queue = sdk.get("/v3/messages/queue", cast_to=object)["data"]
    assert queue["waiting"] == 3 and queue["senders"][0]["default_route"] is True
    run_queued_tasks(include_future=True)
    assert (progress()["done"], progress()["counts"]) == (True, {"DELIVERED": 3})


def test_the_sdk_schedules_and_cancels(sdk, live_account, template):
    """docs/api/messages.md#scheduling through the official client: `scheduled_at` → 202 with
    the messages SCHEDULED; sent when due; cancel (an extra endpoint) refunds before then."""
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from tests.tasks import queued_tasks

    when = datetime.now(UTC) + timedelta(hours=2)
    response = sdk.messages.send(to=[number(65)], template=TEMPLATE, scheduled_at=when)
    recipient = response.data.recipients[0]
    assert response.success is True
    message = sdk.messages.retrieve_status(recipient.message_id).data
    assert message.status == "SCHEDULED"
    assert message.to_dict()["scheduled_at"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")

    past = timezone.now() - timedelta(seconds=1)  # its time comes
    Message.objects.filter(pk=recipient.message_id).update(next_attempt_at=past)
    queued_tasks("messaging.tasks.message_dispatch").update(run_after=past)
    run_queued_tasks()
    assert sdk.messages.retrieve_status(recipient.message_id).data.status == "DELIVERED"

    later = sdk.messages.send(to=[number(60)], template=TEMPLATE, scheduled_at=when)
    cancelled = sdk.post(
        f"/v3/messages/{later.data.recipients[0].message_id}/cancel", cast_to=object
    )
    assert cancelled["data"]["status"] == "CANCELLED"
    assert LedgerEntry.objects.filter(
        message_id=later.data.recipients[0].message_id, kind="refund"
    ).exists()
