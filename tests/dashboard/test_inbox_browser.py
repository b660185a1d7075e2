"""The inbox in a real browser: a simulated WhatsApp message with a script, emoji and
right-to-left text arrives, shows in the inbox with its unread badge, the thread shows the
text literally (no script runs), a free-form WhatsApp reply goes inside the window and its
status follows live, and the contact's next message appears without a reload. Then a closed
window (WhatsApp offered but disabled, explained) and the keywords page."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from django.utils import timezone

from contacts.models import Contact
from messaging.inbound import Inbound, inbound_receive
from messaging.models import Conversation, Keyword, Message
from tests.browser import screenshot
from tests.contacts.factories import make_contact
from tests.messaging.factories import number
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.browser
ANA = number(12)  # on WhatsApp in the simulator
HOSTILE = "<script>window.__xss=1</script> 🎉 مرحبا — שלום 👋🏽"
LIVE = 10_000  # the thread polls every 3 seconds


@pytest.fixture(autouse=True)
def instant_receipts(settings):
    settings.SIMULATOR_DELAY_SCALE = 0  # receipts are due at once; the test plays the worker


def test_a_whatsapp_conversation_from_the_inbox_to_a_live_reply(signed_in_page, live_account):
    make_contact(live_account, ANA, metadata={"name": "Ana Souza"})
    page = signed_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.get_by_text("No conversations yet").wait_for()

    simulator = page.locator("#simulate-form")
    simulator.get_by_label("From").fill("+1 415 555 0012")
    simulator.get_by_label("WhatsApp").check()
    simulator.get_by_label("Text").fill(HOSTILE)
    simulator.get_by_role("button", name="Simulate").click()
    expect(simulator.locator("#simulated-notice")).to_contain_text("Simulated WhatsApp message")
    row = page.locator("#conversations tbody tr", has_text="+1 415-555-0012")
    expect(row.locator(".badge.unread")).to_have_text("1")  # the list refreshed by itself
    expect(row).to_contain_text("Ana Souza")
    expect(row).to_contain_text("<script>window.__xss=1</script>")  # as text
    expect(row).to_contain_text("open until")
    screenshot(page, "inbox")

    row.get_by_role("link", name="+1 415-555-0012").click()
    page.get_by_role("heading", name="+1 415-555-0012 Ana Souza").wait_for()
    inbound = page.locator("#thread .chat-item.inbound")
    expect(inbound).to_have_count(1)
    expect(inbound.locator(".chat-bubble")).to_have_text(HOSTILE)
    expect(inbound).to_contain_text("simulated")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert Conversation.objects.get().unread_count == 0  # opening it read it
    expect(page.locator("#window-state")).to_contain_text("WhatsApp window open")

    page.evaluate("window.notReloaded = true")
    whatsapp = page.locator("#reply-channels input[value=whatsapp]")
    expect(whatsapp).to_be_enabled()
    expect(whatsapp).to_be_checked()  # the channel Ana wrote on
    page.get_by_label("Reply", exact=True).fill("Obrigado! 🙏 Your order ships today.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#reply-sent")).to_contain_text("Reply queued on WhatsApp")
    expect(page.get_by_label("Reply", exact=True)).to_have_value("")  # a fresh box
    outbound = page.locator("#thread .chat-item.outbound")
    expect(outbound).to_have_count(1)
    expect(outbound.locator(".chat-bubble")).to_have_text("Obrigado! 🙏 Your order ships today.")
    reply = Message.objects.get(direction="OUTBOUND")
    assert (reply.channel, reply.status, reply.text) == (
        "whatsapp", "QUEUED", "Obrigado! 🙏 Your order ships today.",
    )  # fmt: skip

    run_queued_tasks(include_future=True)  # sent, delivered and read by the simulator
    expect(outbound.locator(".status")).to_have_text("Read", timeout=LIVE)

    inbound_receive(
        Inbound(provider="simulator", channel="whatsapp", from_number=ANA,
                text="Great, thanks! ✅", customer=live_account, sandbox=True)
    )  # fmt: skip
    expect(inbound).to_have_count(2, timeout=LIVE)
    expect(inbound.last.locator(".chat-bubble")).to_have_text("Great, thanks! ✅")
    assert page.evaluate("window.notReloaded") is True  # it came without a reload
    assert page.evaluate("typeof window.__xss") == "undefined"
    screenshot(page, "conversation")


def test_a_closed_window_offers_whatsapp_disabled_and_sms_replies_go(signed_in_page, live_account):
    inbound_receive(
        Inbound(provider="simulator", channel="whatsapp", from_number=ANA, text="Hello",
                customer=live_account, sandbox=True)
    )  # fmt: skip
    contact = Contact.objects.get(format_e164=ANA)
    Contact.objects.filter(pk=contact.pk).update(
        whatsapp_window_expires_at=timezone.now() - timedelta(hours=1)
    )
    page = signed_in_page
    page.goto(f"/inbox/{contact.pk}/")
    expect(page.locator("#window-state")).to_contain_text("WhatsApp window closed")
    expect(page.locator("#reply-channels input[value=whatsapp]")).to_be_disabled()
    expect(page.locator("#reply-channel-help")).to_contain_text("WhatsApp is off")
    expect(page.locator("#reply-channels input[value=sms]")).to_be_checked()
    screenshot(page, "conversation-window-closed")

    page.get_by_label("Reply", exact=True).fill("We'll text you instead.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#reply-sent")).to_contain_text("Reply queued on SMS")
    expect(page.locator("#thread .chat-item.outbound .badge.channel-sms")).to_have_count(1)


def test_keywords_add_one_with_a_mistake_then_turn_a_default_off(signed_in_page, live_account):
    page = signed_in_page
    page.goto("/inbox/")
    page.get_by_role("link", name="Keywords").click()
    expect(page.locator("#default-keywords tbody tr")).to_have_count(10)
    form = page.locator("#keyword-form")
    form.get_by_label("Keyword").fill("Hours?")
    form.get_by_label("Reply").fill("We open 9–17, Monday to Friday.")
    form.get_by_role("button", name="Save keyword").click()
    expect(form.locator("#id_word_error")).to_contain_text("is not a keyword")
    expect(form.get_by_label("Keyword")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "keywords-errors")

    page.locator("#keyword-form").get_by_label("Keyword").fill("hours")
    page.locator("#keyword-form").get_by_role("button", name="Save keyword").click()
    page.get_by_text("Keyword HOURS saved.").wait_for()
    expect(page.locator("#own-keywords")).to_contain_text("We open 9–17, Monday to Friday.")
    page.get_by_role("button", name="Turn HELP off").click()
    page.get_by_text("HELP is off").wait_for()
    expect(page.locator("#default-HELP")).to_contain_text("off")
    assert Keyword.objects.get(word="HELP").is_active is False
    screenshot(page, "keywords")
