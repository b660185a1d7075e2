"""Following messages in a real browser: the home page's traffic, the history with its
filters and the back button, a message page (timeline, activities, price) and a resend,
and the contact page's recent messages."""

import pytest
from playwright.sync_api import expect

from messaging.models import Message
from tests.browser import screenshot
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.browser


@pytest.fixture
def traffic(live_account, settings):
    """Messages run through the simulator: SMS delivered, WhatsApp read, a failure, and a
    WhatsApp number that isn't reachable there, delivered by SMS instead."""
    settings.SIMULATOR_DELAY_SCALE = 0
    settings.MESSAGE_RETRY_DELAY_SCALE = 0
    make_approved_template(live_account, display_name="Order shipped")
    messages = send(live_account, [number(60), number(12), number(90), number(85), number(61)])
    for _ in range(5):  # dispatch, receipts, the fallback's resend and its receipts
        if not run_queued_tasks(include_future=True):
            break
    return {message.phone: Message.objects.get(pk=message.pk) for message in messages}


def test_follow_messages_from_home_to_the_history_and_a_message(signed_in_page, traffic):
    failed = traffic[number(90)]
    assert failed.status == "FAILED"
    page = signed_in_page
    page.goto("/")
    assert page.locator("#messages-today").inner_text() == "5"
    page.locator("#rate-sms", has_text="100% delivered").wait_for()
    screenshot(page, "home")

    page.locator("#recent-failures").get_by_role("link", name="Every failed message").click()
    page.wait_for_url("**/messages/?status=FAILED")
    rows = page.locator("#messages tbody tr")
    expect(rows).to_have_count(1)
    page.get_by_label("Status").select_option("")  # htmx swaps the list, the URL follows
    page.locator(f"#message-{traffic[number(60)].pk}").wait_for()
    expect(rows).to_have_count(5)
    page.get_by_label("Channel").select_option("whatsapp")
    page.wait_for_url("**channel=whatsapp**")
    page.locator(f"#message-{traffic[number(60)].pk}").wait_for(state="detached")
    expect(rows).to_have_count(2)  # read and failed (the fallback went out by SMS)
    page.go_back()  # back to every channel
    page.locator(f"#message-{traffic[number(60)].pk}").wait_for()
    page.get_by_label("Status").select_option("")
    page.locator("#messages tbody tr").nth(4).wait_for()
    screenshot(page, "messages")

    page.locator(f"#message-{failed.pk}").get_by_role("link").first.click()
    page.get_by_role("heading", name="Message to +1 415-555-0090").wait_for()
    assert page.locator("#message-status").inner_text() == "Failed"
    assert "Message undeliverable" in page.locator("#timeline").inner_text()
    assert "Refunded" in page.locator("#activities").inner_text()
    summary = page.locator("#message-summary").inner_text()
    assert "Refused by the simulator" in summary  # as the activities tell it
    assert "before reaching a provider" not in summary
    screenshot(page, "message")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Resend").click()
    page.get_by_text("Sent again as a new message.").wait_for()
    resent = Message.objects.exclude(pk__in=[m.pk for m in traffic.values()]).get()
    page.wait_for_url(f"**/messages/{resent.pk}/")
    run_queued_tasks(include_future=True)  # it fails again, live on its page
    page.locator("#message-status", has_text="Failed").wait_for()


def test_a_fallback_message_page_and_the_contacts_recent_messages(signed_in_page, traffic):
    fallback = traffic[number(85)]
    assert fallback.status == "DELIVERED" and fallback.channel == "sms"
    page = signed_in_page
    page.goto(f"/messages/{fallback.pk}/")
    assert "sms: fallback, whatsapp not reachable" in page.locator("#message-live").inner_text()
    assert "Fallback" in page.locator("#activities").inner_text()
    assert "WhatsApp → SMS" in page.locator("#message-fallback").inner_text()
    screenshot(page, "message-fallback")

    page.get_by_role("link", name="+1 415-555-0085").first.click()
    page.locator("#recent-messages").get_by_role("link").first.wait_for()
    screenshot(page, "contact-messages")
    page.get_by_role("link", name="All messages to this contact").click()
    page.locator(".chip", has_text="To +1 415-555-0085").wait_for()
    expect(page.locator("#messages tbody tr")).to_have_count(1)


def test_search_as_you_type_narrows_the_history_and_its_export(signed_in_page, traffic):
    page = signed_in_page
    page.goto("/messages/")
    rows = page.locator("#messages tbody tr")
    expect(rows).to_have_count(5)
    page.get_by_label("Search").fill("555-0090")  # part of a number: the list follows
    page.wait_for_url("**search=555-0090**")
    expect(rows).to_have_count(1)
    page.locator(f"#message-{traffic[number(90)].pk}").wait_for()
    export = page.get_by_role("link", name="Export CSV")
    assert export.get_attribute("href") == "/messages/export.csv?search=555-0090"
    page.get_by_label("Search").fill("no message says this")
    page.get_by_text("No message matches").wait_for()
    page.get_by_label("Search").fill("")
    expect(rows).to_have_count(5)
    screenshot(page, "messages-search")
