"""With DEBUG on (the default of `make run`) a page that doesn't exist is the product's 404
page, not Django's technical one; API paths keep the JSON envelope
(docs/dashboard.md#how-it-is-built)."""

import pytest

from tests.contacts.factories import make_contact

FRIENDLY = "We can't find that page"
TECHNICAL = "Django tried these URL patterns"


@pytest.fixture(autouse=True)
def debug_on(settings):
    settings.DEBUG = True


def test_an_unknown_page_is_the_products_404_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert FRIENDLY in response.text
    assert TECHNICAL not in response.text and "URLconf" not in response.text


def test_signed_in_the_404_page_keeps_the_navigation(dashboard_client):
    response = dashboard_client.get("/contacts/not/a/page/")
    assert response.status_code == 404
    assert FRIENDLY in response.text
    assert 'aria-label="Main"' in response.text  # the dashboard's frame, signed in


def test_another_accounts_contact_is_the_products_404_page(dashboard_client, other_account):
    foreign = make_contact(other_account, "+14155550101")
    response = dashboard_client.get(f"/contacts/{foreign.pk}/")
    assert response.status_code == 404
    assert FRIENDLY in response.text and "Traceback" not in response.text
    assert "+1 415-555-0101" not in response.text


def test_a_missing_slash_still_redirects(dashboard_client):
    response = dashboard_client.get("/contacts")
    assert response.status_code == 301
    assert response["Location"] == "/contacts/"


def test_api_paths_keep_the_json_envelope(api_client):
    response = api_client.get("/v3/no-such-endpoint")
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "RESOURCE_009"
