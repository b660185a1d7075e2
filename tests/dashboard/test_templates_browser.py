"""Templates in a real browser: write one and watch the preview follow, fix what the rules
refuse, submit it, see its history."""

import pytest
from playwright.sync_api import expect

from templates_app.models import Template
from templates_app.services import templates_seed_demo
from tests.browser import screenshot

pytestmark = pytest.mark.browser


def test_write_a_template_with_a_live_preview_then_submit_it(
    signed_in_page, live_account, settings
):
    settings.WHATSAPP_PROVIDER = ""  # approved on submission, no reviewer in the loop
    page = signed_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    page.get_by_text("No templates yet").wait_for()
    screenshot(page, "templates-empty")
    page.get_by_role("link", name="New template").first.click()

    page.get_by_label("Message").fill("{{code}}")
    page.locator("#preview-problems").wait_for()  # the rules, checked as you type
    page.get_by_label("Message").fill(
        "Hi {{name}}, your verification code is {{code}}. It expires soon."
    )
    page.get_by_label("name", exact=True).wait_for()  # a sample input per variable appeared
    page.get_by_label("name", exact=True).fill("Ana")
    page.get_by_label("code", exact=True).fill("482913")
    sms = page.locator('#preview [data-channel="sms"]')
    sms.get_by_text("Hi Ana, your verification code is 482913.").wait_for()
    assert "GSM-7" in sms.inner_text() and "1 segment" in sms.inner_text()
    expect(page.locator('#preview [data-channel="whatsapp"]')).to_have_count(1)
    page.get_by_label("Footer").fill("Acme — reply STOP to opt out")  # — is not GSM-7
    sms.locator(".sms-meter", has_text="UCS-2").wait_for()
    screenshot(page, "template-editor")

    page.get_by_role("button", name="Create and submit for review").click()
    page.get_by_text("it is approved and ready to send").wait_for()
    template = Template.objects.get(customer=live_account)
    assert template.status == Template.Status.APPROVED
    expect(page.locator("#history li")).to_have_count(2)
    screenshot(page, "template-detail")

    page.get_by_role("link", name="Templates", exact=True).first.click()
    page.locator(f"#template-{template.pk}").wait_for()
    templates_seed_demo(live_account)
    page.get_by_label("Status").select_option("APPROVED")
    page.locator("#template-search").fill("order")
    page.wait_for_url("**search=order**")
    page.locator("#templates", has_text="order_shipped").wait_for()
    expect(page.locator("#templates tbody tr")).to_have_count(1)
    screenshot(page, "templates")


def test_the_editor_shows_the_services_error_next_to_the_field(signed_in_page):
    page = signed_in_page
    page.goto("/templates/new/")
    page.get_by_role("button", name="Save as draft").click()
    error = page.locator("#id_body_error")
    error.wait_for()
    assert page.get_by_label("Message").get_attribute("aria-invalid") == "true"
    screenshot(page, "template-editor-errors")
