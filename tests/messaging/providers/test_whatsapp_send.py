"""WhatsApp through Meta's Cloud API, end to end with settings only: the SDK sends, a worker
hands the message to the fake Graph API, the fake's signed status webhooks move it
(docs/providers/whatsapp.md)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from django.utils import timezone

from billing.models import LedgerEntry
from contacts.models import Contact
from messaging.dispatch import claim, hand_off
from messaging.models import CallbackOutcome, Message, ProviderCallback
from messaging.providers import get_provider
from messaging.providers.base import OutboundMessage, ProviderError
from messaging.providers.whatsapp_cloud import CloudApiWhatsApp
from messaging.reconciler import reconcile
from messaging.tasks import SCHEDULER
from templates_app.models import Template
from tests.fakes.server import Reply
from tests.fakes.whatsapp import graph_error, server_error, throttled
from tests.messaging.factories import number, provider_calls
from tests.messaging.providers.whatsapp_helpers import (
    PARAMETERS,
    SEND_COMPONENTS,
    order_update,
    send,
    statuses,
)
from tests.tasks import run_queued_tasks


@pytest.fixture
def template(live_account, cloud_api):
    return order_update(live_account, cloud_api)


def charges(message) -> list[Decimal]:
    return list(LedgerEntry.objects.filter(message_id=message.pk).values_list("amount", flat=True))


def test_a_template_goes_to_meta_with_its_components_and_its_statuses_make_it_read(
    sdk, live_account, cloud_api, template
):
    to = number(12)
    message = send(sdk, to)

    [sent] = cloud_api.accepted(to)
    assert sent["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "biz_opaque_callback_data": str(message.pk),
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": SEND_COMPONENTS,
        },
    }
    request = cloud_api.received[0]
    assert request.path == f"/v23.0/{cloud_api.phone_number_id}/messages"
    assert request.headers["authorization"] == f"Bearer {cloud_api.access_token}"
    assert (message.status, message.channel, message.provider) == ("SENT", "whatsapp", "cloud_api")
    assert message.provider_message_id == sent["wamid"]
    assert message.from_number == "+15550000001"

    assert cloud_api.sent(sent["wamid"]).status_code == 200
    assert cloud_api.deliver(sent["wamid"]).status_code == 200
    assert cloud_api.read(sent["wamid"]).status_code == 200

    retrieved = sdk.messages.retrieve_status(str(message.pk)).data
    assert retrieved.status == "READ"
    assert [e.status for e in retrieved.events] == [
        "QUEUED",
        "PROCESSED",
        "SENT",
        "SENT",  # Meta's own "sent": recorded, nothing changes
        "DELIVERED",
        "READ",
    ]
    message.refresh_from_db()
    assert message.pricing_category == "utility"
    assert message.conversation_id == cloud_api.by_wamid[sent["wamid"]]["conversation"]
    assert len(charges(message)) == 1  # billed once, at acceptance
    assert (
        list(ProviderCallback.objects.values_list("kind", "outcome"))
        == [("status", CallbackOutcome.APPLIED)] * 3
    )
    assert Contact.objects.get(pk=message.contact_id).channel_stats("whatsapp")["delivered"] == 1


def test_the_components_are_the_template_s_as_it_was_when_the_message_was_accepted(
    sdk, cloud_api, template
):
    response = sdk.messages.send(
        to=[number(19)], template={"name": "order_update", "parameters": PARAMETERS}
    )
    edited = dict(template.definition, buttons=[], header=None)
    Template.objects.filter(pk=template.pk).update(definition=edited)

    run_queued_tasks(include_future=True)

    [sent] = cloud_api.accepted()
    assert str(sent["biz_opaque_callback_data"]) == response.data.recipients[0].message_id
    assert sent["body"]["template"]["components"] == SEND_COMPONENTS


def test_a_number_not_on_whatsapp_falls_back_to_sms_and_the_contact_learns_it(
    sdk, live_account, cloud_api, template
):
    to = number(12, series=1)
    cloud_api.not_on_whatsapp.add(to)
    balance = live_account.balance

    message = send(sdk, to)

    assert len(cloud_api.received) == 1 and cloud_api.accepted() == []  # tried once, refused
    assert (message.status, message.channel) == ("DELIVERED", "sms")
    assert message.routing_reason == "sms: fallback, whatsapp not reachable"
    assert message.provider_payload == {}
    fallback = message.activities.get(kind="fallback")
    assert "131026" in fallback.description and fallback.reason_code == "DELIVERY_007"
    contact = Contact.objects.get(pk=message.contact_id)
    assert contact.whatsapp_available is False and contact.channels == ["sms"]
    live_account.refresh_from_db()
    assert live_account.balance == balance - message.price  # one charge, one adjustment

    again = send(sdk, to)  # the next send goes straight to SMS
    assert again.channel == "sms" and again.routing_reason.startswith("sms: ")
    assert len(cloud_api.received) == 1


def test_a_late_whatsapp_delivered_after_the_fallback_is_recorded_not_billed_not_resent(
    sdk, live_account, cloud_api, template
):
    to = number(13, series=1)
    cloud_api.not_on_whatsapp.add(to)
    message = send(sdk, to)
    assert message.channel == "sms"
    live_account.refresh_from_db()
    balance, sms_calls, history = live_account.balance, provider_calls(message), statuses(message)

    late = cloud_api.status_payload(
        "wamid.HBgLMTQxNTU1NTAxMTMVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
        "delivered",
        biz_opaque_callback_data=str(message.pk),
    )
    assert cloud_api.post_webhook(late).status_code == 200

    message.refresh_from_db()
    assert (message.status, message.channel) == ("DELIVERED", "sms")
    assert statuses(message) == history + ["DELIVERED"]
    receipt = message.activities.filter(kind="receipt").latest("id")
    assert receipt.description.startswith("Late whatsapp receipt DELIVERED after the fallback")
    assert message.pricing_category == ""  # Meta's pricing of another channel's attempt
    live_account.refresh_from_db()
    assert live_account.balance == balance
    assert provider_calls(message) == sms_calls and len(cloud_api.received) == 1


def test_statuses_out_of_order_twice_and_before_the_send_returned_are_monotone(
    sdk, live_account, cloud_api, template
):
    # Meta's "sent" outruns the send's reply: it finds the message by biz_opaque_callback_data.
    early = []
    cloud_api.on_send = lambda wamid, body: early.append(cloud_api.sent(wamid).status_code)
    message = send(sdk, number(14))
    assert early == [200]
    [sent] = cloud_api.accepted()
    wamid = sent["wamid"]
    assert (message.status, message.provider_message_id, message.provider) == (
        "SENT",
        wamid,
        "cloud_api",
    )

    cloud_api.read(wamid, timestamp=1_700_000_003)  # before delivered
    cloud_api.deliver(wamid, timestamp=1_700_000_002)  # late: recorded only
    cloud_api.deliver(wamid, timestamp=1_700_000_004)  # twice
    payload = cloud_api.status_payload(wamid, "read", timestamp=1_700_000_005)
    cloud_api.post_webhook(payload)
    cloud_api.post_webhook(payload)  # the very same request again: a duplicate

    message.refresh_from_db()
    assert message.status == "READ"
    assert statuses(message) == [
        "QUEUED",
        "PROCESSED",
        "SENT",  # Meta's early "sent"
        "SENT",  # the send's reply: recorded, the status stays
        "READ",
        "DELIVERED",
        "DELIVERED",
        "READ",
    ]
    assert len(charges(message)) == 1
    outcomes = list(ProviderCallback.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["applied"] * 5 + ["duplicate"]
    stats = Contact.objects.get(pk=message.contact_id).channel_stats("whatsapp")
    assert (stats["attempts"], stats["delivered"]) == (1, 1)  # the outcome counted once


@pytest.mark.parametrize(
    "trouble",
    ["outage", "hang", "throttled", "server error", "bad token"],
)
def test_transient_trouble_is_retried_and_the_message_goes_out_exactly_once(
    sdk, settings, cloud_api, template, trouble, caplog
):
    settings.PROVIDER_TIMEOUT = 0.5
    if trouble == "outage":
        cloud_api.fail_next(Reply(503, "Service Unavailable"), Reply(502, "Bad Gateway"))
    elif trouble == "hang":
        cloud_api.hang_next(1.5)
    elif trouble == "throttled":
        cloud_api.fail_next(throttled(), graph_error(80007, "(#80007) Rate limit issues"))
    elif trouble == "server error":
        cloud_api.fail_next(server_error())
    else:
        cloud_api.fail_next(
            graph_error(190, "Error validating access token: Session has expired", status=401)
        )

    message = send(sdk, number(15))

    assert len(cloud_api.accepted()) == 1  # Meta's record: sent once
    assert message.status == "SENT"
    assert message.provider_message_id == cloud_api.accepted()[0]["wamid"]
    retries = message.activities.filter(kind="provider_error")
    assert retries.count() == len(cloud_api.received) - 1 >= 1
    assert not any(error.data["permanent"] for error in retries)
    if trouble == "bad token":
        assert "refused the access token" in caplog.text  # loud, for the operator
        assert cloud_api.access_token not in caplog.text


def test_a_template_error_fails_the_message_permanently_with_meta_s_reason(
    sdk, live_account, cloud_api, template
):
    cloud_api.templates.clear()  # the WABA doesn't have it (deleted in WhatsApp Manager)
    balance = live_account.balance

    message = send(sdk, number(16))

    assert len(cloud_api.received) == 1  # not retried
    assert (message.status, message.reason_code) == ("FAILED", "DELIVERY_003")
    assert message.reason.startswith("(#132001) Template name does not exist in the translation")
    assert "order_update" in message.reason
    live_account.refresh_from_db()
    assert live_account.balance == balance  # refunded: it never reached a handset


def test_a_failed_status_after_meta_accepted_marks_the_message_failed_with_meta_s_error(
    sdk, live_account, cloud_api, template
):
    message = send(sdk, number(17))
    wamid = cloud_api.accepted()[0]["wamid"]

    cloud_api.fail(wamid, code=131026, title="Message undeliverable")

    message.refresh_from_db()
    assert (message.status, message.reason_code) == ("FAILED", "DELIVERY_007")
    assert message.reason == "Message undeliverable (Meta 131026): Message undeliverable."
    assert Contact.objects.get(pk=message.contact_id).whatsapp_available is False


def test_a_worker_that_dies_after_meta_took_the_message_never_makes_it_go_twice(
    sdk, cloud_api, template
):
    """Graph can't be asked about a sent message; Meta's status webhook finds it by our id
    instead, so the reconciler has nothing left to re-send (docs/providers/whatsapp.md#what-the-reconciler-can-know)."""
    response = sdk.messages.send(
        to=[number(18)], template={"name": "order_update", "parameters": PARAMETERS}
    )
    message_id = response.data.recipients[0].message_id
    [claimed] = claim([message_id])
    hand_off(claimed)  # Meta takes it; the worker dies before recording the outcome
    wamid = cloud_api.accepted()[0]["wamid"]
    assert Message.objects.get(pk=message_id).status == "PROCESSED"

    cloud_api.sent(wamid)

    message = Message.objects.get(pk=message_id)
    assert (message.status, message.provider_message_id) == ("SENT", wamid)
    later = timezone.now() + timedelta(hours=1)
    outcome = reconcile(scheduler=SCHEDULER, now=later)
    assert (outcome["found_at_provider"], outcome["redispatched"]) == (0, 0)
    run_queued_tasks(include_future=True)
    assert len(cloud_api.accepted()) == 1
    assert CloudApiWhatsApp.fetch(None, message_id) is None  # all Graph itself could tell


def test_free_text_goes_out_inside_a_customer_service_window_only(cloud_api):
    """The adapter sends a message without a template as text (the planner never routes free
    text to WhatsApp on its own: an inbound message has to open the window first)."""
    provider = get_provider("whatsapp")
    text = OutboundMessage(
        message_id="0190f5b5-0000-7000-8000-000000000001",
        channel="whatsapp",
        to=number(20),
        body="Your table is ready",
        sender_ref=cloud_api.phone_number_id,
    )
    with pytest.raises(ProviderError) as refused:
        provider.send(text)
    assert refused.value.permanent and not refused.value.not_reachable
    assert refused.value.message.startswith("Outside the customer-service window")
    assert "131047" in refused.value.message

    cloud_api.open_windows.add(text.to)
    result = provider.send(text)

    [sent] = cloud_api.accepted()
    assert result.provider_message_id == sent["wamid"]
    assert sent["body"]["type"] == "text"
    assert sent["body"]["text"] == {"preview_url": False, "body": "Your table is ready"}
