"""Two-factor sign-in in a real browser (docs/dashboard.md#two-factor-sign-in): set it up on
the security page with a code computed from the shown key, sign out, sign in with the
password and then a code; a recovery code works once."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp

from billing.services import membership_create
from tests.browser import screenshot

pytestmark = pytest.mark.browser
HOME = re.compile(r"^http://[^/]+/$")


def _code(secret: str, *, step_offset: int = 0) -> str:
    key = b32decode(secret + "=" * (-len(secret) % 8))
    return f"{totp(key, t0=0, step=30, digits=6, drift=step_offset):06d}"


def _sign_in(page, password="a long dashboard password"):
    page.goto("/login/")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_totp_set_up_then_sign_in_with_a_code_and_a_recovery_code(browser_page, live_account):
    membership_create(live_account, username="tess", password="a long dashboard password")
    page = browser_page
    _sign_in(page)
    page.wait_for_url("**/")
    page.goto("/account/security/")
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(_code(secret))
    page.get_by_role("button", name="Turn on").click()
    page.get_by_text("Your recovery codes.").wait_for()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "two-factor-recovery-codes")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/**")

    _sign_in(page)
    page.wait_for_url("**/login/code/")
    screenshot(page, "two-factor-code")
    # The code of setting up can't be replayed (django-otp); the next 30 s step's code is
    # within the device's tolerance of one step.
    page.get_by_label("Code").fill(_code(secret, step_offset=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(HOME)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/**")

    _sign_in(page)
    page.wait_for_url("**/login/code/")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(HOME)
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.get_by_text("That code didn't work").wait_for()
    screenshot(page, "two-factor-code-refused")
