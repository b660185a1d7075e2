"""Accepting an invitation in a real browser: invited through the official SDK, the emailed
link opens a page to choose a password, then the dashboard; the user is active, and the link
does not work twice (docs/api/users.md#invitations)."""

import re
from urllib.parse import urlsplit

import pytest

from django.core import mail

from tests.browser import screenshot

pytestmark = pytest.mark.browser


def test_an_invitation_accepted_in_the_browser_makes_the_user_active(
    browser_page, sdk, live_account, live_server, settings
):
    settings.SITE_URL = live_server.url
    invited = sdk.users.invite(email="dev@acme.test", name="Dana Dev", role="developer").data
    assert [u.status for u in sdk.users.list().data.users] == ["invited"]
    link = re.search(r"http\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
    page = browser_page
    page.goto(urlsplit(link).path)
    page.get_by_role("heading", name="Join Acme").wait_for()
    page.get_by_label("New password").fill("a long new dashboard password")
    page.get_by_label("Confirm the password").fill("a long new dashboard password")
    screenshot(page, "invitation-accept")
    page.get_by_role("button", name="Join").click()
    page.get_by_text("Welcome to Acme.").wait_for()
    # A developer's navigation: no billing, no users.
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="API keys").count() == 1
    assert nav.get_by_role("link", name="Billing").count() == 0
    screenshot(page, "invitation-accepted-home")
    user = sdk.users.retrieve(invited.id).data
    assert user.status == "active" and user.last_login_at is not None
    # The link worked once.
    response = page.goto(urlsplit(link).path)
    assert response.status == 410
    page.get_by_text("This invitation was already used").wait_for()
    screenshot(page, "invitation-used")
