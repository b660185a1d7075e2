"""After deleting a contact, a template or a webhook, revoking an API key, or opting a contact
out or in, the user sees a confirmation (Django messages in the page's `#flash` area). An htmx
answer swapped into the page brings it as an out-of-band swap; an answer that loads another
page leaves it for that page (docs/dashboard.md#how-it-is-built)."""

import re

from billing.services import api_key_create
from tests.contacts.factories import make_contact
from tests.dashboard.factories import make_webhook
from tests.templates_app.factories import make_template

HTMX = {"HTTP_HX_REQUEST": "true"}


def oob_flash(response) -> str:
    """The text of the out-of-band #flash area in an htmx answer ("" when there is none)."""
    found = re.search(r'<div id="flash"[^>]*hx-swap-oob="true"[^>]*>(.*?)</div>', response.text)
    return re.sub(r"<[^>]+>", " ", found[1]).strip() if found else ""


def flash(response) -> str:
    found = re.search(r'<div id="flash"[^>]*>(.*?)</div>', response.text, re.S)
    return re.sub(r"<[^>]+>", " ", found[1]).strip() if found else ""


def test_deleting_a_contact_row_with_htmx_confirms_it(dashboard_client, account):
    contact = make_contact(account, "+14155550100")
    response = dashboard_client.post(
        f"/contacts/{contact.pk}/delete/", **HTMX, HTTP_HX_TARGET=f"contact-{contact.pk}"
    )
    assert response.status_code == 200
    assert oob_flash(response) == "Deleted the contact +1 415-555-0100."
    # Shown once: the next page doesn't repeat it.
    assert "Deleted the contact" not in dashboard_client.get("/contacts/").text


def test_deleting_a_contact_without_javascript_confirms_it_on_the_list(dashboard_client, account):
    contact = make_contact(account, "+14155550100")
    response = dashboard_client.post(f"/contacts/{contact.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/contacts/"
    assert flash(response) == "Deleted the contact +1 415-555-0100."


def test_opting_a_contact_out_and_back_in_confirms_each(dashboard_client, account):
    contact = make_contact(account, "+14155550100")
    url = f"/contacts/{contact.pk}/opt-out/"
    response = dashboard_client.post(url, {"opt_out": "true"}, **HTMX, HTTP_HX_TARGET="consent")
    assert "Opted out +1 415-555-0100" in oob_flash(response)
    assert "Opted out" in response.text.split('id="flash"')[0]  # the consent section, swapped
    response = dashboard_client.post(url, {"opt_out": "false"}, **HTMX, HTTP_HX_TARGET="consent")
    assert oob_flash(response) == "Opted +1 415-555-0100 back in."
    page = dashboard_client.post(url, {"opt_out": "true"})  # no JavaScript: the whole page
    assert "Opted out +1 415-555-0100" in flash(page) and not oob_flash(page)


def test_revoking_an_api_key_with_htmx_confirms_it(dashboard_client, account):
    key = api_key_create(account, name="CI server").api_key
    response = dashboard_client.post(f"/api-keys/{key.pk}/revoke/", **HTMX)
    assert response.status_code == 200
    assert oob_flash(response) == "Revoked the API key CI server: it no longer works."


def test_deleting_a_template_or_a_webhook_confirms_it_on_the_page_it_loads(
    dashboard_client, account
):
    template = make_template(account, name="spring_promo")
    endpoint, _ = make_webhook(account)
    for url, page, text in [
        (f"/templates/{template.pk}/delete/", "/templates/", "Deleted the template spring_promo."),
        (f"/webhooks/{endpoint.pk}/delete/", "/webhooks/", "Deleted the webhook"),
    ]:
        response = dashboard_client.post(url, **HTMX)
        assert response["HX-Redirect"] == page
        assert not oob_flash(response)  # left for the page the browser loads next
        assert text in flash(dashboard_client.get(page)), url


def test_an_htmx_answer_without_messages_has_no_flash_swap(dashboard_client, account):
    make_contact(account, "+14155550100")
    response = dashboard_client.get("/contacts/", {"search": "415"}, **HTMX)
    assert response.status_code == 200 and 'hx-swap-oob="true"' not in response.text
