"""Inbound messages through the simulator (docs/api/inbound.md): stored once, in the
conversations, keywords acting on consent with their events and replies, the WhatsApp
customer-service window, and an opt-out reaching messages already queued."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sent_dm

from billing.models import LedgerEntry
from contacts.models import ConsentEvent, Contact
from messaging.inbound import Inbound, inbound_receive
from messaging.keywords import keyword_normalise, keyword_set
from messaging.models import Conversation, Message
from sent_project.models import Event
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

ANA = number(12)  # on WhatsApp in the simulator
BEN = number(60)  # SMS only


def inbound(sdk, frm, text, **extra):
    """POST /v3/simulator/inbound through the SDK's raw client (the SDK has no method)."""
    return sdk.post(
        "/v3/simulator/inbound",
        cast_to=object,
        body={"from": frm, "text": text, **extra},
    )


def events(customer, name):
    return list(Event.objects.filter(customer=customer, event=name).order_by("id"))


def test_an_inbound_sms_is_in_the_conversations(sdk, live_account, other_sdk):
    data = inbound(sdk, BEN, "Is my order on its way? 📦")["data"]
    assert (data["direction"], data["status"], data["channel"]) == ("INBOUND", "RECEIVED", "sms")
    assert data["message_body"]["content"] == "Is my order on its way? 📦"

    page = sdk.conversations.list()
    assert [m.id for m in page.data.messages] == [data["id"]]
    contact = Contact.objects.get(customer=live_account, format_e164=BEN)
    thread = sdk.conversations.list_messages(str(contact.pk))
    assert [(m.id, m.direction, m.status) for m in thread.data.messages] == [
        (data["id"], "INBOUND", "RECEIVED")
    ]
    [received] = events(live_account, "message.received")
    assert received.payload["inbound_number"] == BEN
    assert received.payload["text"] == "Is my order on its way? 📦"
    assert received.payload["outbound_number"] == "+15005550006"  # the install's SMS number
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.unread_count == 1 and conversation.last_text.startswith("Is my order")

    with pytest.raises(sent_dm.NotFoundError):  # another tenant's conversation
        other_sdk.conversations.list_messages(str(contact.pk))
    assert other_sdk.conversations.list().data.messages == []


def test_the_same_provider_message_is_stored_once(live_account):
    message = dict(
        provider="simulator", channel="sms", from_number=BEN, text="hi",
        provider_message_id="SMabc", customer=live_account,
    )  # fmt: skip
    first = inbound_receive(Inbound(**message))
    again = inbound_receive(Inbound(**message))
    assert (first.outcome, again.outcome) == ("stored", "duplicate")
    assert Message.objects.filter(direction="INBOUND").count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_a_message_to_a_number_nobody_owns_is_not_attached(live_account):
    result = inbound_receive(
        Inbound(provider="twilio", channel="sms", from_number=BEN, to="+14155550999", text="hi")
    )
    assert result.outcome == "unknown_number" and "+14155550999" in result.detail
    assert not Message.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop. ", "UNSUBSCRIBE!", "quit", "Cancel"])
def test_stop_in_any_form_is_the_opt_out_keyword(text):
    assert keyword_normalise(text) in {"STOP", "UNSUBSCRIBE", "QUIT", "CANCEL"}


@pytest.mark.parametrize("text", ["please stop texting me", "", None, "STOP" * 40])
def test_a_sentence_is_not_a_keyword(text):
    assert keyword_normalise(text) not in {"STOP", "STOPSTOP"}


def test_stop_opts_out_answers_and_start_opts_back_in(sdk, live_account):
    make_approved_template(live_account)
    inbound(sdk, BEN, "Stop.")
    contact = Contact.objects.get(customer=live_account, format_e164=BEN)
    assert contact.opt_out is True
    ledger = ConsentEvent.objects.get(contact=contact)
    assert (ledger.source, ledger.opt_out, ledger.note) == ("keyword", True, "STOP")
    [opt_out] = events(live_account, "contact.opt_out")
    assert opt_out.payload["source"] == "INBOUND_KEYWORD" and opt_out.payload["from"] == BEN
    # The confirmation goes back on SMS although the contact has just opted out ...
    reply = Message.objects.get(direction="OUTBOUND", contact=contact)
    assert reply.keyword_reply and "unsubscribed" in reply.body and reply.status == "QUEUED"
    run_queued_tasks(include_future=True)
    reply.refresh_from_db()
    assert reply.status == "DELIVERED"
    # ... and nothing else does: alone, 422; among others, FILTERED.
    with pytest.raises(sent_dm.UnprocessableEntityError) as refused:
        sdk.messages.send(to=[BEN], text="Sale today")
    assert refused.value.body["error"]["code"] == "BUSINESS_004"
    several = sdk.messages.send(to=[BEN, number(61)], text="Sale today").data.recipients
    assert [r.status for r in several] == ["FILTERED", "QUEUED"]

    inbound(sdk, BEN, "START")
    contact.refresh_from_db()
    assert contact.opt_out is False
    assert events(live_account, "contact.opt_in")[0].payload["opt_out"] is False
    assert sdk.messages.send(to=[BEN], text="Welcome back").data.recipients[0].status == "QUEUED"


def test_help_and_custom_keywords_emit_their_events(sdk, live_account):
    inbound(sdk, BEN, "help")
    [help_event] = events(live_account, "contact.help")
    assert help_event.payload["text"] == "help"
    assert Message.objects.filter(direction="OUTBOUND", keyword_reply=True).count() == 1
    keyword_set(live_account, word="hours", action="OTHER", reply="We open 9-17.")
    inbound(sdk, BEN, "Hours?")
    [custom] = events(live_account, "contact.custom_keyword")
    assert custom.payload["opt_out"] is False
    replies = Message.objects.filter(direction="OUTBOUND", keyword_reply=True)
    assert sorted(m.body for m in replies)[-1] == "We open 9-17."


def test_an_opt_out_reaches_messages_queued_before_it(live_account, transactional_db):
    make_approved_template(live_account)
    [queued] = send(live_account, [BEN])
    balance_after_send = LedgerEntry.objects.filter(customer=live_account).count()
    inbound_receive(
        Inbound(provider="simulator", channel="sms", from_number=BEN, text="STOP",
                customer=live_account, sandbox=True)
    )  # fmt: skip
    run_queued_tasks(include_future=True)
    queued.refresh_from_db()
    assert (queued.status, queued.reason_code) == ("FILTERED", "BUSINESS_010")
    refund = LedgerEntry.objects.filter(customer=live_account).order_by("-id").first()
    assert LedgerEntry.objects.filter(customer=live_account).count() == balance_after_send + 1
    assert refund.kind == "refund" and refund.amount == queued.original_price > Decimal(0)


def test_a_whatsapp_message_opens_the_window_for_free_form_replies(sdk, live_account):
    blocked = sdk.messages.send(to=[ANA], text="Hello", channel=["whatsapp"]).data.recipients
    assert (blocked[0].status,) == ("BLOCKED",)

    inbound(sdk, ANA, "Hi, can I change my order?", channel="whatsapp", profile_name="Ana")
    contact = Contact.objects.get(customer=live_account, format_e164=ANA)
    assert contact.whatsapp_window_expires_at > contact.updated_at + timedelta(hours=23)
    reply = sdk.messages.send(to=[ANA], text="Sure, which one?", channel=["whatsapp"])
    [recipient] = reply.data.recipients
    assert (recipient.status, recipient.channel) == ("QUEUED", "whatsapp")
    run_queued_tasks(include_future=True)
    assert sdk.messages.retrieve_status(recipient.message_id).data.status == "READ"
    # Routed automatically, free text now goes on WhatsApp too.
    auto = sdk.messages.send(to=[ANA], text="Anything else?").data.recipients[0]
    assert auto.channel == "whatsapp"


def test_an_approved_auto_reply_template_answers_its_keyword(sdk, live_account):
    created = sdk.post(
        "/v3/templates",
        cast_to=object,
        body={
            "name": "stop_reply",
            "definition": {"body": {"multiChannel": {"template": "Acme: you're out. Text START."}}},
            "auto_reply_action": "OPT_OUT",
            "submit_for_review": True,
        },
    )["data"]
    assert created["auto_reply_action"] == "OPT_OUT"
    run_queued_tasks(include_future=True)  # the (simulated) review approves it
    assert sdk.templates.retrieve(created["id"]).data.auto_reply_action == "OPT_OUT"
    inbound(sdk, BEN, "STOP")
    reply = Message.objects.get(direction="OUTBOUND", keyword_reply=True)
    assert reply.body == "Acme: you're out. Text START."
    [opt_out] = events(live_account, "contact.opt_out")
    assert opt_out.payload["template_id"] == created["id"]
    # Cleared: an ordinary template again, and the key is gone.
    cleared = sdk.put(
        f"/v3/templates/{created['id']}", cast_to=object, body={"auto_reply_action": ""}
    )["data"]
    assert "auto_reply_action" not in cleared


def test_simulate_inbound_from_the_command_line(live_account):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("simulate_inbound", customer="Acme", from_number=BEN, text="HELP", stdout=out)
    assert "Keyword HELP: HELP" in out.getvalue()
    assert Message.objects.filter(direction="INBOUND", text="HELP").exists()
