"""Templates in a real browser: write one and watch the preview follow (WhatsApp's rules
as advice), fix what the format refuses, submit it, see its history."""

import pytest
from playwright.sync_api import expect

from templates_app.models import Template
from templates_app.services import templates_seed_demo
from tests.browser import screenshot
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.browser


def test_write_a_template_with_a_live_preview_then_submit_it(
    signed_in_page, live_account, settings
):
    settings.SIMULATOR_DELAY_SCALE = 0  # the simulated WhatsApp review answers at once
    page = signed_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    page.get_by_text("No templates yet").wait_for()
    screenshot(page, "templates-empty")
    page.get_by_role("link", name="New template").first.click()

    page.get_by_label("Message").fill("{{code}}")
    # WhatsApp's rules, checked as you type: advice, not problems that block saving.
    page.locator("#preview-advice", has_text="put a word before the first variable").wait_for()
    expect(page.locator("#preview-problems")).to_have_count(0)
    page.get_by_label("Message").fill(
        "Hi {{name}}, your verification code is {{code}}. It expires soon."
    )
    page.get_by_label("name", exact=True).wait_for()  # a sample input per variable appeared
    page.get_by_label("name", exact=True).fill("Ana")
    page.get_by_label("code", exact=True).fill("482913")
    sms = page.locator('#preview [data-channel="sms"]')
    sms.get_by_text("Hi Ana, your verification code is 482913.").wait_for()
    expect(page.locator("#preview-advice")).to_have_count(0)
    assert "GSM-7" in sms.inner_text() and "1 segment" in sms.inner_text()
    expect(page.locator('#preview [data-channel="whatsapp"]')).to_have_count(1)
    page.get_by_label("Footer").fill("Acme — reply STOP to opt out")  # — is not GSM-7
    sms.locator(".sms-meter", has_text="UCS-2").wait_for()
    screenshot(page, "template-editor")

    page.get_by_role("button", name="Create and submit for review").click()
    page.get_by_text("submitted for review").wait_for()
    page.locator("#template-status", has_text="Pending").wait_for()
    polls = []
    page.on("request", lambda request: "/templates/" in request.url and polls.append(request))
    page.evaluate("window.notReloaded = true")
    assert run_queued_tasks() == 1  # the review's verdict, as a worker runs it
    # The page in review follows the verdict by itself.
    page.locator("#template-status", has_text="Approved").wait_for()
    assert page.evaluate("window.notReloaded") is True
    template = Template.objects.get(customer=live_account)
    assert (template.status, template.whatsapp_status) == ("APPROVED", "APPROVED")
    expect(page.locator("#history li")).to_have_count(3)
    expect(page.locator("[hx-trigger='every 2s']")).to_have_count(0)  # final: no more polling
    seen = len(polls)
    page.wait_for_timeout(2_500)
    assert len(polls) == seen
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


def test_a_refused_submit_keeps_the_preview_of_the_text_in_the_form(signed_in_page, live_account):
    templates_seed_demo(live_account)  # order_shipped is taken
    page = signed_in_page
    page.goto("/templates/new/")
    page.get_by_label("Message").fill("Hi {{name}}, your parcel is on its way.")
    page.get_by_label("name", exact=True).fill("Ana")
    page.locator('#preview [data-channel="sms"]', has_text="Hi Ana, your parcel").wait_for()
    page.get_by_text("Name, category and language").click()
    page.get_by_label("Reference name").fill("order_shipped")
    page.get_by_role("button", name="Create and submit for review").click()
    page.locator("#id_name_error", has_text="already have a template named").wait_for()
    sms = page.locator('#preview [data-channel="sms"]')
    expect(sms).to_contain_text("Hi Ana, your parcel is on its way.")  # not a blank preview
