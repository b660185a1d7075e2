import pytest
from playwright.sync_api import expect

from billing.models import ApiKey
from billing.services import api_key_authenticate
from tests.browser import screenshot

pytestmark = pytest.mark.browser


def test_sign_in_create_a_key_shown_once_then_revoke_it(signed_in_page, live_account):
    page = signed_in_page
    screenshot(page, "home-first-steps")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("Production server")
    page.get_by_role("button", name="Create key").click()
    raw = page.locator("#new-key").inner_text()
    assert api_key_authenticate(raw=raw).customer == live_account
    screenshot(page, "api-keys-created")

    page.reload()
    expect(page.locator("#new-key")).to_have_count(0)  # shown once
    assert raw not in page.content()

    key = ApiKey.objects.get(name="Production server")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#key-{key.pk}").get_by_role("button", name="Revoke").click()
    page.locator(f"#key-{key.pk} .badge.revoked").wait_for()
    assert api_key_authenticate(raw=raw) is None
    screenshot(page, "api-keys")


def test_an_empty_key_name_shows_an_error_next_to_the_field(signed_in_page):
    page = signed_in_page
    page.goto("/api-keys/")
    page.get_by_role("button", name="Create key").click()
    error = page.locator("#name-error")
    error.wait_for()
    assert "required" in error.inner_text()
    assert page.get_by_label("Key name").get_attribute("aria-invalid") == "true"


def test_the_billing_page_shows_balance_and_ledger(signed_in_page):
    page = signed_in_page
    page.get_by_role("link", name="Billing").click()
    assert "100.0000 USD" in page.locator("#balance").inner_text()
    assert "Opening balance" in page.locator("#ledger").inner_text()
    page.get_by_label("Warn me when the balance falls below (USD)").fill("12.50")
    page.locator("form").filter(has_text="Warn me when the balance").get_by_role(
        "button", name="Save"
    ).click()
    page.get_by_text("Low-balance threshold saved.").wait_for()
    screenshot(page, "billing")
