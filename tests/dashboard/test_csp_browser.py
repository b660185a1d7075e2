"""The dashboard, the admin and the API docs work under the Content-Security-Policy: the browser
helper fails any test on a CSP violation (tests/conftest.py: watch_csp), and these pages are
each loaded and used once (docs/operations.md#security-headers)."""

import pytest

from django.contrib.auth import get_user_model

pytestmark = pytest.mark.browser


def test_the_dashboard_pages_load_under_the_policy(signed_in_page):
    page = signed_in_page
    for path in ["/", "/contacts/", "/messages/", "/webhooks/", "/templates/", "/billing/"]:
        response = page.goto(path)
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
    page.goto("/contacts/")
    page.get_by_role("main").wait_for()


def test_the_admin_works_under_the_policy(browser_page, live_server):
    get_user_model().objects.create_superuser("root", "root@example.com", "a long admin password")
    page = browser_page
    page.goto("/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("a long admin password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Customers").first.click()
    page.wait_for_url("**/admin/billing/customer/")
    page.goto("/admin/billing/customer/add/")
    page.locator("#content").wait_for()


def test_the_api_docs_render_from_this_server_only(browser_page):
    page = browser_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto("/docs/")
    assert "style-src 'self' 'unsafe-inline'" in response.headers["content-security-policy"]
    heading = page.locator("redoc h1").first
    heading.wait_for(timeout=30_000)  # Redoc renders the whole reference first
    assert "Sent API" in heading.inner_text()
    page.get_by_placeholder("Search...").fill("contacts")  # the search worker (blob:) runs
    page.get_by_role("menuitem").filter(has_text="contact").first.wait_for(timeout=30_000)
    origin = page.url.split("/docs/")[0]
    remote = [url for url in requested if not url.startswith((origin, "data:", "blob:"))]
    assert remote == [], remote  # offline: no CDN script, font or logo
