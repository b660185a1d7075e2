"""Messages contacts send to our WhatsApp numbers, end to end: the fake Graph API posts Meta's
signed `messages` webhook to the live server; each message is in the owner's conversations
through the official SDK and opens the 24-hour window in which free text goes out through
Meta (docs/providers/whatsapp.md#inbound-messages)."""

from datetime import UTC, datetime, timedelta

from contacts.models import Contact
from messaging.models import CallbackOutcome, Message, ProviderCallback
from messaging.webhooks.signing import webhook_time
from sent_project.models import Event
from tests.messaging.factories import number
from tests.messaging.provider_factories import make_cloud_account, make_sender
from tests.messaging.providers.whatsapp_helpers import order_update, send
from tests.tasks import run_queued_tasks

ANA = number(12)
BEN = number(13)


def records() -> list[tuple[str, str, str]]:
    return list(ProviderCallback.objects.order_by("id").values_list("kind", "outcome", "detail"))


def acme_number(customer, graph):
    """The customer's own WhatsApp number on its own Meta account (the fake's WABA)."""
    account = make_cloud_account(
        "Acme on WhatsApp",
        account_id=graph.waba_id,
        access_token=graph.access_token,
        app_secret=graph.app_secret,
    )
    return make_sender(
        customer, account, "+" + graph.display_phone_number, provider_ref=graph.phone_number_id
    )


def test_a_reply_to_a_template_opens_the_window_and_free_text_goes_out_through_meta(
    sdk, live_account, cloud_api
):
    order_update(live_account, cloud_api)
    template = send(sdk, ANA)  # the install's number: Acme wrote to Ana last
    blocked = sdk.messages.send(to=[ANA], text="Anything else?", channel=["whatsapp"])
    assert blocked.data.recipients[0].status == "BLOCKED"  # no window yet

    sent_at = int(datetime.now(UTC).timestamp()) - 60
    response = cloud_api.inbound(ANA, "Can I change the address?", name="Ana", timestamp=sent_at)

    assert response.status_code == 200
    [inbound, refused, outbound] = sdk.conversations.list().data.messages
    assert (inbound.direction, inbound.status, inbound.channel) == (
        "INBOUND",
        "RECEIVED",
        "whatsapp",
    )
    assert inbound.message_body.content == "Can I change the address?"
    assert (refused.status, outbound.id) == ("BLOCKED", str(template.pk))
    stored = Message.objects.get(pk=inbound.id)
    assert stored.content["profile_name"] == "Ana"
    assert stored.from_number == "+" + cloud_api.display_phone_number
    assert stored.provider_message_id.startswith("wamid.")
    contact = Contact.objects.get(customer=live_account, format_e164=ANA)
    opened_until = datetime.fromtimestamp(sent_at, tz=UTC) + timedelta(hours=24)
    assert contact.whatsapp_window_expires_at == opened_until
    [received] = Event.objects.filter(event="message.received")
    assert received.payload["received_at"] == webhook_time(datetime.fromtimestamp(sent_at, UTC))

    reply = sdk.messages.send(to=[ANA], text="Sure, which one?", channel=["whatsapp"])
    [recipient] = reply.data.recipients
    assert (recipient.status, recipient.channel) == ("QUEUED", "whatsapp")
    run_queued_tasks()
    free_form = cloud_api.accepted(ANA)[-1]["body"]
    assert (free_form["type"], free_form["text"]) == (
        "text",
        {"preview_url": False, "body": "Sure, which one?"},
    )
    assert Message.objects.get(pk=recipient.message_id).status == "SENT"
    assert records()[-1][:2] == ("inbound", CallbackOutcome.APPLIED)


def test_button_replies_and_media_are_stored(sdk, live_account, graph, cloud_api):
    acme_number(live_account, graph)

    graph.inbound_button(ANA, "Track order", "track-A-1001", name="Ana")
    graph.inbound_button(ANA, "Tomorrow", "slot-2", kind="button_reply")
    graph.inbound_button(ANA, "Evening", "slot-eve", kind="list_reply", description="18-21h")
    graph.inbound_media(ANA, "image", mime_type="image/jpeg", caption="The parcel")
    graph.inbound_media(ANA, "document", mime_type="application/pdf", filename="invoice.pdf")

    messages = list(reversed(sdk.conversations.list().data.messages))
    assert [m.message_body.content for m in messages] == [
        "Track order",
        "Tomorrow",
        "Evening",
        "The parcel",
        None,
    ]
    buttons = [
        (b.type, b.text, b.postback_data, b.value)
        for m in messages[:3]
        for b in m.message_body.buttons
    ]
    assert buttons == [
        ("QUICK_REPLY", "Track order", "track-A-1001", None),
        ("BUTTON_REPLY", "Tomorrow", "slot-2", None),
        ("LIST_REPLY", "Evening", "slot-eve", "18-21h"),
    ]
    image_item = Message.objects.get(pk=messages[3].id).channel_response  # Meta's message
    [image] = messages[3].message_body.media
    assert image.url is None  # a reference: Meta's file needs the access token to fetch
    assert (image.media_type, image.mime_type) == ("image", "image/jpeg")
    assert image.id == image_item["image"]["id"]  # the media id, to fetch it with
    assert image.source_hash_sha256 == image_item["image"]["sha256"]
    [document] = messages[4].message_body.media
    assert (document.media_type, document.mime_type) == ("document", "application/pdf")
    assert Message.objects.get(pk=messages[4].id).content["media"][0]["filename"] == "invoice.pdf"
    assert all(m.direction == "INBOUND" and m.status == "RECEIVED" for m in messages)
    assert Message.objects.get(pk=messages[0].id).content["profile_name"] == "Ana"
    assert [outcome for _, outcome, _ in records()] == [CallbackOutcome.APPLIED] * 5


def test_several_messages_and_a_status_in_one_webhook_are_all_applied(sdk, live_account, cloud_api):
    order_update(live_account, cloud_api)
    template = send(sdk, ANA)
    send(sdk, BEN)
    [sent] = cloud_api.accepted(ANA)
    payload = cloud_api.inbound_payload(
        cloud_api.inbound_item(ANA, "text", {"body": "Thanks!"}),
        cloud_api.inbound_item(ANA, "text", {"body": "And another thing"}),
        cloud_api.inbound_item(BEN, "text", {"body": "Who is this?"}),
        names={ANA: "Ana", BEN: "Ben"},
        statuses=cloud_api.status_payload(sent["wamid"], "read")["entry"][0]["changes"][0]["value"][
            "statuses"
        ],
    )

    assert cloud_api.post_webhook(payload).status_code == 200

    inbound = Message.objects.filter(direction="INBOUND").order_by("created_at")
    assert [(m.phone, m.text, m.content["profile_name"]) for m in inbound] == [
        (ANA, "Thanks!", "Ana"),
        (ANA, "And another thing", "Ana"),
        (BEN, "Who is this?", "Ben"),
    ]
    template.refresh_from_db()
    assert template.status == "READ"
    [(kind, outcome, detail)] = records()[-1:]
    assert (kind, outcome) == ("webhook", CallbackOutcome.APPLIED)
    assert detail == "statuses: 1 applied, 0 recorded, 0 of unknown messages; inbound: 3 stored"

    assert cloud_api.post_webhook(payload).status_code == 200  # Meta delivering it again
    assert Message.objects.filter(direction="INBOUND").count() == 3
    assert records()[-1][1] == CallbackOutcome.DUPLICATE


def test_a_message_to_a_phone_number_id_nobody_has_is_recorded_and_ignored(live_account, cloud_api):
    payload = cloud_api.inbound_payload(cloud_api.inbound_item(ANA, "text", {"body": "Hi"}))
    payload["entry"][0]["changes"][0]["value"]["metadata"] = {
        "display_phone_number": "15550000999",
        "phone_number_id": "999999999999999",
    }

    assert cloud_api.post_webhook(payload).status_code == 200

    [(kind, outcome, detail)] = records()
    assert (kind, outcome) == ("inbound", CallbackOutcome.IGNORED)
    assert "unknown_number: No customer receives on +15550000999 (cloud_api whatsapp)" in detail
    assert not Message.objects.exists() and not Contact.objects.exists()


def test_types_we_don_t_store_are_recorded_and_ignored(live_account, graph, cloud_api):
    acme_number(live_account, graph)
    reaction = graph.inbound_item(ANA, "reaction", {"message_id": "wamid.X", "emoji": "👍"})

    assert graph.post_inbound(reaction).status_code == 200

    [(_, outcome, detail)] = records()
    assert outcome == CallbackOutcome.IGNORED
    assert detail == f"inbound: 0 stored; {reaction['id']}: type 'reaction' not stored"
    assert not Message.objects.exists()


def test_stop_on_whatsapp_opts_out_and_is_answered_in_the_window(live_account, graph, cloud_api):
    acme_number(live_account, graph)

    graph.inbound(ANA, "STOP")
    run_queued_tasks()

    assert Contact.objects.get(customer=live_account, format_e164=ANA).opt_out is True
    [answer] = graph.accepted(ANA)
    assert answer["body"]["type"] == "text" and "unsubscribed" in answer["body"]["text"]["body"]
