"""Messages contacts send to our Twilio numbers, end to end: the fake Twilio posts its signed
"A message comes in" webhook to the live server, the message is in the owner's conversations
through the official SDK, keywords act and their auto-replies go back out through Twilio
(docs/providers/twilio.md#inbound-messages)."""

import httpx
import pytest
import sent_dm

from django.urls import reverse

from billing.models import LedgerEntry
from contacts.models import ConsentEvent, Contact
from messaging.models import CallbackOutcome, Message, ProviderCallback
from sent_project.models import Event
from tests.fakes.twilio import new_sid
from tests.messaging.factories import number
from tests.messaging.provider_factories import make_sender, make_twilio_account
from tests.messaging.providers.conftest import FROM, OURS
from tests.tasks import run_queued_tasks

BEN = number(60)
CARA = number(61)


def records() -> list[tuple[str, str, str]]:
    return list(ProviderCallback.objects.order_by("id").values_list("kind", "outcome", "detail"))


def events(customer, name: str) -> list[Event]:
    return list(Event.objects.filter(customer=customer, event=name).order_by("id"))


def test_the_route_is_named_for_reversing():
    assert reverse("twilio-inbound") == "/providers/twilio/inbound"


def test_an_inbound_sms_is_in_the_conversations_of_the_number_s_owner(
    sdk, other_sdk, live_account, fake_twilio, acme_number
):
    response = fake_twilio.inbound(BEN, OURS, "Is my order on its way? 📦")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    [message] = sdk.conversations.list().data.messages
    assert (message.direction, message.status, message.channel) == ("INBOUND", "RECEIVED", "sms")
    assert message.message_body.content == "Is my order on its way? 📦"
    assert message.phone == BEN and message.price == 0
    thread = sdk.conversations.list_messages(message.contact_id).data.messages
    assert [(m.id, m.direction, m.status) for m in thread] == [(message.id, "INBOUND", "RECEIVED")]

    stored = Message.objects.get(pk=message.id)
    form, _ = fake_twilio.inbounds_sent[0]
    assert (stored.provider, stored.provider_message_id) == ("twilio", form["MessageSid"])
    assert (stored.sender, stored.from_number) == (acme_number, OURS)
    assert stored.channel_response["AccountSid"] == fake_twilio.account_sid  # Twilio's form
    [received] = events(live_account, "message.received")
    assert (received.payload["inbound_number"], received.payload["outbound_number"]) == (
        BEN,
        OURS,
    )
    [(kind, outcome, detail)] = records()
    assert (kind, outcome) == ("inbound", CallbackOutcome.APPLIED)
    assert detail == f"Stored as message {message.id}"
    assert ProviderCallback.objects.get().account == acme_number.account
    assert not LedgerEntry.objects.filter(message_id=message.id).exists()  # never charged

    assert other_sdk.conversations.list().data.messages == []
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.conversations.list_messages(message.contact_id)


def test_an_env_only_install_gives_it_to_the_customer_that_last_wrote_from_the_default_number(
    sdk, other_sdk, live_account, live_other_account, twilio
):
    for client in (sdk, other_sdk):
        client.messages.send(to=[BEN], text="Your table is ready")
        run_queued_tasks()

    assert twilio.inbound(BEN, FROM, "Thanks, on my way").status_code == 200
    assert sdk.conversations.list().data.messages[0].direction == "OUTBOUND"
    [reply, _sent] = other_sdk.conversations.list().data.messages  # Globex wrote last
    assert (reply.direction, reply.message_body.content) == ("INBOUND", "Thanks, on my way")

    sdk.messages.send(to=[BEN], text="We kept your table")
    run_queued_tasks()
    twilio.inbound(BEN, FROM, "See you soon")
    latest = sdk.conversations.list().data.messages[0]
    assert (latest.direction, latest.message_body.content) == ("INBOUND", "See you soon")
    contact = Contact.objects.get(customer=live_account, format_e164=BEN)
    assert [
        m.direction for m in sdk.conversations.list_messages(str(contact.pk)).data.messages
    ] == [
        "INBOUND",
        "OUTBOUND",
        "OUTBOUND",
    ]


def test_stop_opts_out_and_is_answered_through_twilio_and_start_opts_back_in(
    sdk, live_account, fake_twilio, acme_number
):
    assert fake_twilio.inbound(BEN, OURS, "Stop").status_code == 200

    contact = Contact.objects.get(customer=live_account, format_e164=BEN)
    assert contact.opt_out is True
    [consent] = ConsentEvent.objects.filter(contact=contact)
    assert (consent.opt_out, consent.source, consent.note) == (True, "keyword", "STOP")
    [opt_out] = events(live_account, "contact.opt_out")
    assert (opt_out.payload["from"], opt_out.payload["to"]) == (BEN, OURS)
    assert records()[0][2].endswith(", keyword STOP")

    run_queued_tasks()
    [confirmation] = fake_twilio.creates(BEN)  # the auto-reply, out through Twilio's API
    form = {key: values[0] for key, values in confirmation.form.items()}
    assert form["From"] == OURS and "unsubscribed" in form["Body"]
    reply = Message.objects.get(direction="OUTBOUND", contact=contact)
    assert (reply.keyword_reply, reply.status, reply.provider) == (True, "SENT", "twilio")

    with pytest.raises(sent_dm.UnprocessableEntityError) as refused:
        sdk.messages.send(to=[BEN], text="Sale today")
    assert refused.value.body["error"]["code"] == "BUSINESS_004"

    fake_twilio.inbound(BEN, OURS, "START")
    contact.refresh_from_db()
    assert contact.opt_out is False
    assert [e.opt_out for e in ConsentEvent.objects.filter(contact=contact).order_by("id")] == [
        True,
        False,
    ]
    run_queued_tasks()
    assert "subscribed" in fake_twilio.creates(BEN)[-1].form["Body"][0]
    assert sdk.messages.send(to=[BEN], text="Welcome back").data.recipients[0].status == "QUEUED"


def test_with_twilio_answering_stop_itself_no_auto_reply_goes_out(
    sdk, live_account, settings, fake_twilio, acme_number
):
    """Twilio's own opt-out handling answers STOP and blocks the number (21610): with
    INBOUND_KEYWORD_REPLIES off, Sent records the opt-out and sends nothing."""
    settings.INBOUND_KEYWORD_REPLIES = False
    fake_twilio.opt_out_handling = True

    fake_twilio.inbound(BEN, OURS, "STOP")
    run_queued_tasks()

    assert Contact.objects.get(customer=live_account, format_e164=BEN).opt_out is True
    assert fake_twilio.creates() == []
    assert fake_twilio.inbounds_sent[0][0]["OptOutType"] == "STOP"
    fake_twilio.inbound(BEN, OURS, "START")  # lifts Twilio's block too
    [recipient] = sdk.messages.send(to=[BEN], text="Welcome back").data.recipients
    run_queued_tasks()
    assert Message.objects.get(pk=recipient.message_id).status == "SENT"


def test_with_both_answering_stop_twilio_refuses_our_reply_and_it_is_refunded(
    live_account, fake_twilio, acme_number
):
    fake_twilio.opt_out_handling = True

    fake_twilio.inbound(BEN, OURS, "STOP")
    run_queued_tasks(include_future=True)

    reply = Message.objects.get(direction="OUTBOUND", keyword_reply=True)
    assert (reply.status, reply.reason_code) == ("FAILED", "DELIVERY_010")  # Twilio's 21610
    amounts = LedgerEntry.objects.filter(message_id=reply.pk).values_list("amount", flat=True)
    assert sum(amounts) == 0
    assert Contact.objects.get(pk=reply.contact_id).opt_out is True


def test_an_mms_keeps_its_media_urls_and_types(sdk, live_account, fake_twilio, acme_number):
    hosted = ("https://cdn.example.com/parcel.png", "image/png")
    fake_twilio.inbound(CARA, OURS, "The box was open", media=["image/jpeg", hosted])

    [message] = sdk.conversations.list().data.messages
    form, _ = fake_twilio.inbounds_sent[0]
    assert (message.channel, message.message_body.content) == ("mms", "The box was open")
    assert [(m.url, m.mime_type) for m in message.message_body.media] == [
        (form["MediaUrl0"], "image/jpeg"),
        hosted,
    ]
    assert form["MediaUrl0"].startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
    [received] = events(live_account, "message.received")
    assert [item["url"] for item in received.payload["media"]] == [form["MediaUrl0"], hosted[0]]

    fake_twilio.inbound(CARA, OURS, "", media=["image/gif"])  # media only
    latest = sdk.conversations.list().data.messages[0]
    assert latest.message_body.content is None and len(latest.message_body.media) == 1


@pytest.mark.parametrize(
    "options,detail",
    [
        ({"sign": False}, "No X-Twilio-Signature header"),
        ({"signature": "bm90IGEgc2lnbmF0dXJl"}, "X-Twilio-Signature does not match"),
        ({"token": "another-account-s-token"}, "X-Twilio-Signature does not match"),
    ],
)
def test_an_unsigned_or_badly_signed_message_is_refused_and_recorded(
    live_account, fake_twilio, acme_number, options, detail
):
    response = fake_twilio.inbound(BEN, OURS, "STOP", **options)

    assert response.status_code == 403
    [(kind, outcome, recorded)] = records()
    assert (kind, outcome) == ("inbound", CallbackOutcome.REJECTED) and recorded.startswith(detail)
    assert not Message.objects.exists() and not Contact.objects.exists()


def test_a_message_for_an_unknown_account_is_refused(live_server, fake_twilio, acme_number):
    form = fake_twilio.inbound_form(BEN, OURS, "hi")
    form["AccountSid"] = new_sid("AC")
    response = fake_twilio.post_inbound(form)
    assert response.status_code == 403
    assert records()[0][1:] == (
        CallbackOutcome.REJECTED,
        f"No Twilio account with an auth token for AccountSid {form['AccountSid']!r}",
    )


def test_a_replayed_message_is_stored_once(sdk, live_account, fake_twilio, acme_number):
    form = fake_twilio.inbound_form(BEN, OURS, "STOP")
    first, replay = fake_twilio.post_inbound(form), fake_twilio.post_inbound(form)
    # Twilio again with the same MessageSid, in another request (another parameter).
    again = fake_twilio.post_inbound({**form, "NumSegments": "2"})

    assert [r.status_code for r in (first, replay, again)] == [200, 200, 200]
    assert len(sdk.conversations.list().data.messages) == 2  # the message and one auto-reply
    assert Message.objects.filter(direction="INBOUND").count() == 1
    assert ConsentEvent.objects.count() == 1 and len(events(live_account, "contact.opt_out")) == 1
    assert [outcome for _, outcome, _ in records()] == [
        CallbackOutcome.APPLIED,
        CallbackOutcome.DUPLICATE,
        CallbackOutcome.DUPLICATE,
    ]


def test_a_message_to_a_number_nobody_owns_is_recorded_and_ignored(
    live_account, fake_twilio, acme_number
):
    response = fake_twilio.inbound(BEN, "+14155550777", "Hello?")

    assert response.status_code == 200  # Twilio retrying wouldn't help
    [(kind, outcome, detail)] = records()
    assert (kind, outcome) == ("inbound", CallbackOutcome.IGNORED)
    assert detail.startswith("No customer receives on +14155550777 (twilio sms)")
    assert not Message.objects.exists() and not Contact.objects.exists()


def test_channels_we_don_t_take_from_twilio_are_recorded_and_ignored(
    live_account, fake_twilio, acme_number
):
    form = fake_twilio.inbound_form("whatsapp:" + BEN, "whatsapp:" + OURS, "Hi")
    assert fake_twilio.post_inbound(form).status_code == 200
    assert records()[0][1:] == (
        CallbackOutcome.IGNORED,
        "A whatsapp message through Twilio: not a channel we take",
    )
    assert not Message.objects.exists()


def test_a_get_is_not_allowed(live_server, acme_number):
    assert httpx.get(live_server.url + reverse("twilio-inbound")).status_code == 405


def test_a_messaging_service_s_number_receives_and_the_reply_goes_out_through_the_service(
    settings, live_server, live_account, fake_twilio
):
    """A sender that is a Messaging Service (no address of its own): the message is found by
    `MessagingServiceSid`, and the auto-reply goes out through the service."""
    service = new_sid("MG")
    fake_twilio.messaging_services.add(service)
    account = make_twilio_account(
        "Acme's Twilio", account_id=fake_twilio.account_sid, auth_token=fake_twilio.auth_token
    )
    make_sender(live_account, account, "", provider_ref=service)
    settings.TWILIO_API_URL, settings.SITE_URL = fake_twilio.url, live_server.url
    fake_twilio.inbound_url = live_server.url + reverse("twilio-inbound")

    fake_twilio.inbound(BEN, "+14155550123", "HELP", messaging_service_sid=service)
    run_queued_tasks()

    inbound = Message.objects.get(direction="INBOUND")
    assert (inbound.customer, inbound.from_number) == (live_account, "+14155550123")
    [answer] = fake_twilio.creates(BEN)
    assert answer.form["MessagingServiceSid"] == [service] and "From" not in answer.form
    assert "reply STOP to unsubscribe" in answer.form["Body"][0]
