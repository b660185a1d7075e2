"""htmx says nothing wrong in the console on the pages whose forms disable their button while
they post (`hx-disabled-elt`): an element inside such a form that makes a request of its own
(the playground's template choice and contact search, the add-contact hint) must not inherit
a selector that finds nothing from there (the forms set `hx-disinherit`)."""

import pytest

from tests.dashboard.factories import make_webhook
from tests.messaging.factories import make_approved_template, make_contact, number
from tests.templates_app.factories import content

pytestmark = pytest.mark.browser


def test_no_page_logs_an_hx_disabled_elt_without_matches(signed_in_page, live_account):
    template = make_approved_template(
        live_account,
        definition_={"body": {"multiChannel": content(samples={"name": "Ana", "order_id": "A"})}},
    )
    make_contact(live_account, number(60), metadata={"name": "Ben Okafor"})
    endpoint, _ = make_webhook(live_account)
    page = signed_in_page
    logged = []
    page.on("console", lambda message: logged.append(f"{message.type}: {message.text}"))

    page.goto("/playground/")
    page.get_by_label("Template", exact=True).select_option(str(template.pk))  # its own hx-get
    page.get_by_label("name", exact=True).wait_for()
    page.get_by_label("Your contacts").fill("okafor")  # the picker's hx-get, inside the form
    page.get_by_role("button", name="+1 415-555-0060 Ben Okafor").wait_for()
    page.get_by_role("button", name="+1 415-555-0060 Ben Okafor").click()
    page.locator("#quote").wait_for()
    page.get_by_role("button", name="Send").click()
    page.locator("#sent-messages").wait_for()

    page.goto("/contacts/")
    page.get_by_label("Add a contact").fill("(415) 555-0123")  # the number hint's hx-get
    page.locator("#phone-hint", has_text="✓ +1 415-555-0123").wait_for()
    page.get_by_role("button", name="Add contact").click()
    page.get_by_text("Added").first.wait_for()

    page.goto("/templates/new/")
    page.get_by_label("Message").fill("Hi {{name}}, your parcel is on its way.")
    page.locator('#preview [data-channel="sms"]').wait_for()
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_text("created as a draft").wait_for()

    page.goto(f"/webhooks/{endpoint.pk}/edit/")
    page.get_by_label("Name").fill("Orders")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Webhook saved.").wait_for()

    page.goto("/inbox/")
    page.get_by_role("button", name="Simulate").first.wait_for()

    mentions = [line for line in logged if "hx-disabled-elt" in line]
    assert not mentions, mentions
