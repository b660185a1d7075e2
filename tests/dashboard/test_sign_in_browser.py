"""Signing in and out in a real browser, the error pages, and keyboard use."""

import pytest

from billing.services import membership_create
from tests.browser import screenshot

pytestmark = pytest.mark.browser


def test_a_wrong_password_says_so_then_the_right_one_signs_in_and_out(browser_page, live_account):
    membership_create(live_account, username="erin", password="a long dashboard password")
    page = browser_page
    page.goto("/webhooks/")
    page.wait_for_url("**/login/?next=/webhooks/")
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    screenshot(page, "login-error")
    page.get_by_label("Password").fill("a long dashboard password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/webhooks/")  # back where they were going
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/**")
    screenshot(page, "login")


def test_a_missing_page_is_friendly(signed_in_page):
    page = signed_in_page
    response = page.goto("/webhooks/00000000-0000-0000-0000-000000000000/")
    assert response.status == 404
    page.get_by_text("We can't find that page").wait_for()
    screenshot(page, "not-found")


def test_the_webhook_form_works_from_the_keyboard(signed_in_page, live_account, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    page = signed_in_page
    page.goto("/webhooks/new/")
    page.get_by_label("Endpoint URL").focus()
    page.keyboard.type("http://127.0.0.1:9/hook")
    page.keyboard.press("Tab")  # → Name
    page.keyboard.type("Keyboard hook")
    page.keyboard.press("Tab")  # → Messages
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # submits the form
    page.get_by_text("Endpoint added.").wait_for()
    assert live_account.webhook_endpoints.get().display_name == "Keyboard hook"
