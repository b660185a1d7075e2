"""The playground in a real browser: pick a contact by search, choose a template (its
variables come prefilled), see the preview and price, fix a refused number, send, and watch
the message go QUEUED → SENT → DELIVERED without reloading, the polling stopping there."""

import pytest
from playwright.sync_api import expect

from messaging.models import Message
from tests.browser import screenshot
from tests.messaging.factories import make_approved_template, make_contact, number
from tests.tasks import run_queued_tasks
from tests.templates_app.factories import content

pytestmark = pytest.mark.browser


@pytest.fixture
def order_shipped(live_account, settings):
    settings.SIMULATOR_DELAY_SCALE = 0  # receipts are due at once; the test plays the worker
    samples = {"name": "Ana", "order_id": "A-1001"}
    return make_approved_template(
        live_account,
        display_name="Order shipped",
        definition_={"body": {"multiChannel": content(samples=samples)}},
    )


def test_send_from_the_playground_and_see_delivered_without_reloading(
    signed_in_page, live_account, order_shipped
):
    ben = make_contact(live_account, number(60), metadata={"name": "Ben Okafor"})  # SMS only
    page = signed_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Playground").click()
    page.get_by_text("Nothing to preview yet").wait_for()

    page.get_by_label("Template", exact=True).select_option(str(order_shipped.pk))
    assert page.get_by_label("name", exact=True).input_value() == "Ana"  # the sample
    page.get_by_label("order_id").fill("B-7")
    page.get_by_label("Your contacts").fill("okafor")
    page.get_by_role("button", name="+1 415-555-0060 Ben Okafor").click()
    page.locator("#picked .chip", has_text="Ben Okafor").wait_for()
    page.get_by_label("Phone numbers").fill("555 12")
    page.locator("#preview-errors", has_text="too short").wait_for()  # told before sending
    page.get_by_role("button", name="Send").click()
    error = page.locator("#id_numbers_error")
    error.wait_for()
    assert "too short" in error.inner_text()
    assert page.get_by_label("Phone numbers").get_attribute("aria-invalid") == "true"
    assert not Message.objects.exists()
    screenshot(page, "playground-errors")

    page.get_by_label("Phone numbers").fill("")
    page.locator("#quote", has_text="+1 415-555-0060").wait_for()
    # The field is fixed: its error goes by itself (checked again as it changes).
    expect(page.locator("#id_numbers_error")).to_have_count(0)
    assert page.get_by_label("Phone numbers").get_attribute("aria-invalid") is None
    expect(page.get_by_text("Not sent.")).to_have_count(0)
    page.get_by_label("order_id").fill("")
    page.locator(
        "#preview-errors", has_text="Variable order_id: This parameter is required."
    ).wait_for()
    page.get_by_label("order_id").fill("B-7")
    page.locator("#quote", has_text="+1 415-555-0060").wait_for()
    preview = page.locator("#preview")
    assert "Hi Ana, your order B-7 has shipped and arrives soon." in preview.inner_text()
    assert "1 message to send" in preview.inner_text()
    assert "sms: whatsapp unavailable" in preview.inner_text()  # why SMS
    screenshot(page, "playground")

    polls = []
    page.on("request", lambda request: "/status/" in request.url and polls.append(request.url))
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Send").click()
    row = page.locator("#sent-messages tbody tr")
    row.locator(".stepper li.current", has_text="Queued").wait_for()
    expect(page.locator("#id_numbers_error")).to_have_count(0)  # the form came back clean
    message = Message.objects.get(contact=ben)
    assert message.sandbox and message.status == "QUEUED"

    run_queued_tasks(max_jobs=1)  # a worker hands it to the (simulated) provider
    row.locator(".stepper li.current", has_text="Sent").wait_for()
    run_queued_tasks()  # the provider's delivery receipt
    row.locator(".stepper li.current", has_text="Delivered").wait_for()
    assert row.locator(".status").inner_text() == "DELIVERED"
    assert page.evaluate("window.notReloaded") is True  # it came without a reload
    screenshot(page, "playground-delivered")

    seen = len(polls)
    assert seen >= 2
    page.wait_for_timeout(2_500)  # polled every second until now: no more
    assert len(polls) == seen

    row.get_by_role("link", name="+1 415-555-0060").click()
    page.locator("#message-status", has_text="Delivered").wait_for()
    expect(page.locator("#timeline li")).to_have_count(4)  # queued, processed, sent, delivered
