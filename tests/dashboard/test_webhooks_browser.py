"""Webhooks in a real browser: add an endpoint (a mistake first), copy its secret, send a
test event to a real receiver, rotate the secret, disable it, redeliver."""

import json

import pytest
from playwright.sync_api import expect

from messaging.models import WebhookEndpoint
from messaging.webhooks.delivery import signing_secrets
from tests.browser import screenshot
from tests.dashboard.factories import make_delivery

pytestmark = pytest.mark.browser


def test_add_an_endpoint_test_it_and_rotate_its_secret(
    signed_in_page, live_account, receiver, webhook_settings
):
    page = signed_in_page
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_text("No webhook endpoints yet").wait_for()
    screenshot(page, "webhooks-empty")

    page.get_by_role("link", name="Add endpoint").first.click()
    page.get_by_label("Endpoint URL").fill("not a url")
    page.get_by_role("button", name="Add endpoint").click()
    page.locator("#id_endpoint_url_error").wait_for()
    assert (
        page.locator("#id_event_types_error").inner_text() == "Choose at least one kind of event."
    )
    assert page.get_by_label("Endpoint URL").get_attribute("aria-invalid") == "true"
    screenshot(page, "webhook-form-errors")

    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("Name").fill("Order system")
    page.get_by_role("checkbox", name="Messages", exact=True).check()
    page.locator("summary", has_text="Only some events").first.click()
    page.get_by_label("delivered", exact=True).check()
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_text("Endpoint added.").wait_for()
    endpoint = WebhookEndpoint.objects.get(customer=live_account)
    assert page.url.endswith(f"/webhooks/{endpoint.pk}/")
    assert endpoint.event_filters == {"message": ["delivered"]}
    secret = page.locator("#new-secret").inner_text()
    assert [secret] == signing_secrets(endpoint, endpoint.created_at)
    screenshot(page, "webhook-created")

    last_attempt = page.locator("#webhook-settings dt:text-is('Last attempt') + dd")
    assert last_attempt.inner_text() == "never"
    page.get_by_role("button", name="Send test event").click()
    page.locator("#test-result").wait_for()
    assert "delivered: HTTP 200" in page.locator("#test-result").inner_text()
    page.locator("tbody.delivery").first.wait_for()
    assert "message.delivered" in page.locator("#deliveries").inner_text()
    assert len(receiver.received) == 1
    expect(last_attempt).to_have_text("just now")  # without a reload
    page.locator("tbody.delivery summary").first.click()
    page.get_by_text("Payload sent").click()
    sent = page.locator("tbody.delivery pre.body").first.inner_text()
    assert json.loads(sent) == json.loads(receiver.received[0].body)  # what the receiver got
    screenshot(page, "webhook-tested")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate secret").click()
    page.get_by_text("New secret.").wait_for()
    rotated = page.locator("#new-secret").inner_text()
    assert rotated != secret and rotated.startswith("whsec_")

    page.get_by_role("button", name="Disable").click()
    page.locator("#disabled-notice").wait_for()
    assert page.get_by_role("button", name="Redeliver").first.is_disabled()
    page.get_by_role("button", name="Enable").click()
    page.get_by_text("Webhook enabled").wait_for()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    assert "Order system" in page.locator("#webhooks").inner_text()
    screenshot(page, "webhooks")


def test_an_endpoint_sent_disabled_shows_why_and_can_redeliver_once_enabled(
    signed_in_page, live_account
):
    from tests.dashboard.factories import make_webhook

    endpoint, _ = make_webhook(live_account, display_name="Legacy CRM")
    failed = make_delivery(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False,
        disabled_reason="The endpoint answered 410 Gone",
        consecutive_failures=3,
    )
    page = signed_in_page
    page.goto(f"/webhooks/{endpoint.pk}/")
    notice = page.locator("#disabled-notice")
    assert "Sent disabled this endpoint" in notice.inner_text()
    assert "410 Gone" in notice.inner_text()
    screenshot(page, "webhook-disabled")

    page.get_by_role("button", name="Enable").click()
    page.get_by_text("Webhook enabled").wait_for()
    page.locator(f"#delivery-{failed.pk}").get_by_role("button", name="Redeliver").click()
    page.locator(f"#delivery-{failed.pk} .badge.delivery-pending").wait_for()
