"""The official SDK's `client.webhooks.*` against a live server."""

import pytest
import sent_dm
from standardwebhooks import Webhook

from django.db import transaction

from sent_project.outbox import event_emit
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.usefixtures("webhook_settings")


def test_the_sdk_drives_every_webhook_method(sdk, other_sdk, live_account, receiver):
    created = sdk.webhooks.create(
        display_name="Orders",
        endpoint_url=receiver.url,
        event_types=["message", "contact"],
        event_filters={"message": ["delivered"]},
        timeout_seconds=10,
    ).data
    assert created.signing_secret.startswith("whsec_") and created.is_active is True
    assert created.customer_id == str(live_account.pk)

    listed = list(sdk.webhooks.list(page_size=1))
    assert [w.id for w in listed] == [created.id]
    assert list(sdk.webhooks.list(is_active=False)) == []
    assert sdk.webhooks.retrieve(created.id).data.signing_secret is None

    updated = sdk.webhooks.update(created.id, display_name="Orders v2").data
    assert (updated.display_name, updated.event_types) == ("Orders v2", ["message", "contact"])

    result = sdk.webhooks.test(created.id, event_type="message.delivered").data
    assert result.success is True, result.message
    Webhook(created.signing_secret).verify(receiver.received[0].body, receiver.received[0].headers)

    with transaction.atomic():
        event_emit(live_account, field="contact", event="contact.created", payload={"x": 1})
    run_queued_tasks()
    assert len(receiver.received) == 2

    events = list(sdk.webhooks.list_events(created.id))
    assert [e.event_type for e in events] == ["contact.created", "message.delivered"]
    assert events[0].delivery_status == "delivered" and events[0].delivery_attempts == 1
    assert events[0].event_data.field == "contact"

    types = sdk.webhooks.list_event_types().data.event_types
    assert "message.read" in [sub.name for sub in types[0].sub_types]

    new_secret = sdk.webhooks.rotate_secret(created.id).data.signing_secret
    assert new_secret.startswith("whsec_") and new_secret != created.signing_secret

    assert sdk.webhooks.toggle_status(created.id, is_active=False).data.is_active is False

    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.webhooks.retrieve(created.id)
    with pytest.raises(sent_dm.BadRequestError) as refused:
        sdk.webhooks.create(endpoint_url="http://169.254.169.254/", event_types=["message"])
    assert refused.value.body["error"]["code"] == "WEBHOOK_001"

    assert sdk.webhooks.delete(created.id) is None
    with pytest.raises(sent_dm.NotFoundError):
        sdk.webhooks.retrieve(created.id)
