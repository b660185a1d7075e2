"""The contact admin: search by any format, filters, read-only normalised fields, services."""

import pytest

from contacts.models import ConsentEvent, Contact
from sent_project.models import Event
from tests.contacts.factories import make_contact


def changelist(admin_client, **params):
    response = admin_client.get("/admin/contacts/contact/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_searches_by_any_format(admin_client, account):
    make_contact(account, "+12345678900")
    make_contact(account, "+447400123410")
    for term in ("(234) 567-8900", "234-567", "+1234", "tel:+1-234-567-8900"):
        page = changelist(admin_client, q=term)
        assert "+12345678900" in page and "+447400123410" not in page, term
    assert "+447400123410" in changelist(admin_client, q="07400 123410")


def test_the_admin_filters_by_channel_region_opt_out_and_line_type(admin_client, account):
    make_contact(account, "+12015550050")  # SMS only
    make_contact(account, "+442079460958")  # fixed line, no channel
    make_contact(account, "+12015550001", opt_out=True)
    assert "+12015550050" not in changelist(admin_client, channel="whatsapp")
    assert "+12015550001" in changelist(admin_client, channel="whatsapp")
    page = changelist(admin_client, channel="none")
    assert "+442079460958" in page and "+12015550050" not in page
    page = changelist(admin_client, region_code="GB")
    assert "+442079460958" in page and "+12015550001" not in page
    page = changelist(admin_client, opt_out__exact="1")
    assert "+12015550001" in page and "+12015550050" not in page
    assert "+442079460958" in changelist(admin_client, line_type__exact="fixed_line")


def test_normalised_fields_are_read_only(admin_client, account):
    contact = make_contact(account)
    page = admin_client.get(f"/admin/contacts/contact/{contact.pk}/change/").content.decode()
    assert 'name="format_e164"' not in page and "+12345678900" in page
    assert "(234) 567-8900" in page and 'name="opt_out"' in page


def test_adding_in_the_admin_uses_the_service(admin_client, account):
    response = admin_client.post(
        "/admin/contacts/contact/add/",
        {"customer": account.pk, "phone_number": "(234) 567-8900", "metadata": "{}"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.format_e164, contact.source) == ("+12345678900", "admin")
    assert contact.available_channels == "sms,whatsapp"
    assert Event.objects.filter(event="contact.created").count() == 1


def test_adding_a_bad_number_in_the_admin_shows_the_reason(admin_client, account):
    response = admin_client.post(
        "/admin/contacts/contact/add/",
        {"customer": account.pk, "phone_number": "hello", "metadata": "{}"},
    )
    assert response.status_code == 200
    assert "letters" in response.content.decode()
    assert not Contact.objects.exists()


def test_opting_out_in_the_admin_writes_the_consent_ledger(admin_client, account):
    contact = make_contact(account)
    response = admin_client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {"default_channel": "sms", "opt_out": "on", "metadata": '{"vip": true}'},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (
        contact.opt_out and contact.default_channel == "sms" and contact.metadata == {"vip": True}
    )
    assert ConsentEvent.objects.get(contact=contact).source == "admin"


def test_the_admin_refuses_a_default_channel_the_contact_lacks(admin_client, account):
    contact = make_contact(account, "+12015550050")
    response = admin_client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {"default_channel": "whatsapp", "metadata": "{}"},
    )
    assert response.status_code == 200 and "no whatsapp channel" in response.content.decode()


def test_deleting_in_the_admin_is_a_soft_delete(admin_client, account):
    contact = make_contact(account)
    admin_client.post(f"/admin/contacts/contact/{contact.pk}/delete/", {"post": "yes"})
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None


def test_the_consent_ledger_and_imports_are_read_only_in_the_admin(admin_client, account):
    assert admin_client.get("/admin/contacts/consentevent/add/").status_code == 403
    assert admin_client.get("/admin/contacts/consentevent/").status_code == 200
    assert admin_client.get("/admin/contacts/contactimport/").status_code == 200


def test_saving_the_change_form_keeps_a_detected_default_channel(admin_client, account):
    contact = make_contact(account)  # detected default: whatsapp
    response = admin_client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {"default_channel": "whatsapp", "opt_out": "on", "metadata": "{}"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.opt_out is True
    assert (contact.default_channel, contact.default_channel_is_custom) == ("whatsapp", False)


@pytest.mark.parametrize("metadata", ['{"name": "far too long for the limit"}', "[1, 2]"])
def test_the_change_form_refuses_metadata_the_service_refuses(
    admin_client, account, settings, metadata
):
    contact = make_contact(account, metadata={"kept": "y"})
    settings.CONTACTS_METADATA_MAX_BYTES = 20
    response = admin_client.post(
        f"/admin/contacts/contact/{contact.pk}/change/",
        {"default_channel": "whatsapp", "metadata": metadata},
    )
    assert response.status_code == 200 and "Metadata" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).metadata == {"kept": "y"}
