"""Contacts in a real browser: search as you type (any number format), the channel filter
and the back button, an invalid then a valid contact, delete one, the contact page, and a
CSV import followed to its per-row results."""

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from tests.browser import screenshot
from tests.contacts.factories import make_contact
from tests.tasks import run_queued_tasks

pytestmark = pytest.mark.browser


def test_search_filter_add_and_delete_contacts(signed_in_page, live_account):
    make_contact(live_account, "+14155550100", metadata={"name": "Ana Lima"})
    make_contact(live_account, "+14155550160", metadata={"name": "Ben Okafor"})  # SMS only
    make_contact(live_account, "+442071838750", metadata={"name": "Chloé Martin"})
    page = signed_in_page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    rows = page.locator("#contacts tbody tr")
    expect(rows).to_have_count(3)
    screenshot(page, "contacts")

    page.get_by_label("Search").fill("(415) 555-01")  # a national format finds +1 415 555 01…
    page.wait_for_url("**search=**")
    page.locator("#contacts", has_text="Chloé").wait_for(state="detached")
    expect(rows).to_have_count(2)
    page.get_by_label("Search").fill("chloé")  # metadata
    page.locator("#contacts tbody tr", has_text="+44 20 7183 8750").wait_for()
    expect(rows).to_have_count(1)
    page.get_by_label("Search").fill("")
    page.locator("#contacts tbody tr").nth(2).wait_for()

    page.get_by_text("WhatsApp", exact=True).click()  # the channel filter
    page.wait_for_url("**channel=whatsapp**")
    page.locator("#contacts", has_text="Ben Okafor").wait_for(state="detached")
    page.go_back()  # the URL kept the filters: back shows everyone again
    page.locator("#contacts", has_text="Ben Okafor").wait_for()

    field = page.get_by_label("Add a contact")
    field.fill("555 12")
    page.locator("#phone-hint .error-text").wait_for()  # told as you type
    page.get_by_role("button", name="Add contact").click()
    error = page.locator("#id_phone_number_error")
    error.wait_for()
    assert page.get_by_label("Add a contact").get_attribute("aria-invalid") == "true"
    screenshot(page, "contacts-invalid")
    page.get_by_label("Add a contact").fill("(415) 555-0123")
    page.locator("#phone-hint", has_text="+1 415-555-0123").wait_for()
    page.get_by_role("button", name="Add contact").click()
    page.locator("#added-notice", has_text="Added").wait_for()
    page.locator("#contacts tbody tr", has_text="+1 415-555-0123").wait_for()  # the list refreshed
    assert Contact.objects.filter(customer=live_account, format_e164="+14155550123").exists()

    ben = Contact.objects.get(customer=live_account, format_e164="+14155550160")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#contact-{ben.pk}").get_by_role("button", name="Delete").click()
    page.locator(f"#contact-{ben.pk}").wait_for(state="detached")
    # The confirmation arrives with the htmx answer, without a reload.
    page.locator("#flash", has_text="Deleted the contact +1 415-555-0160.").wait_for()
    assert not Contact.objects.filter(pk=ben.pk).exists()
    screenshot(page, "contacts-after")


def test_the_contact_page_opt_out_and_default_channel(signed_in_page, live_account):
    contact = make_contact(
        live_account, "+14155550100", metadata={"name": "Ana Lima", "plan": "pro"}
    )
    page = signed_in_page
    page.goto("/contacts/")
    page.get_by_role("link", name="+1 415-555-0100").click()
    page.get_by_role("heading", name="+1 415-555-0100").wait_for()
    assert "tel:+1-415-555-0100" in page.content()
    screenshot(page, "contact")
    page.get_by_label("Default channel").select_option("sms")
    page.locator("#channels").get_by_role("button", name="Save").click()
    page.locator("#channels", has_text="You chose this channel").wait_for()
    page.locator("#consent").get_by_role("button", name="Opt out").click()
    page.locator("#consent .badge", has_text="Opted out").wait_for()
    contact.refresh_from_db()
    assert contact.opt_out and contact.default_channel == "sms"


def test_import_a_csv_and_follow_it_to_its_row_results(signed_in_page, live_account, tmp_path):
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "phone_number,name,opt_out\n+14155550100,Ana,\n(415) 555-0101,Ben,yes\nnot a number,Cy,\n"
    )
    page = signed_in_page
    page.goto("/contacts/")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Import").click()
    page.locator("#import-progress").wait_for()
    assert page.locator("#import-status").inner_text() == "queued"
    screenshot(page, "contact-import-progress")
    run_queued_tasks()  # the worker
    page.get_by_role("navigation", name="Row results").wait_for()  # reloaded once finished
    assert page.locator("#import-status").inner_text() == "completed"
    expect(page.locator(".badge.row-invalid")).to_have_count(1)
    screenshot(page, "contact-import-done")
    page.get_by_role("link", name="Invalid").click()
    page.locator("#import-rows tbody tr").first.wait_for()
    expect(page.locator("#import-rows tbody tr")).to_have_count(1)
