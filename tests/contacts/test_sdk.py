"""The contacts API through the official SDK (sentdm) against a live server."""

from datetime import datetime

import pytest
import sent_dm

from contacts.models import ConsentEvent, Contact
from tests.contacts.factories import make_contact, make_contacts


def test_create_retrieve_update_and_delete_through_the_sdk(sdk, live_account):
    created = sdk.contacts.create(phone_number="+1 234-567-8900", idempotency_key="create-1")
    contact = created.data
    assert created.success is True
    assert (contact.format_e164, contact.format_national) == ("+12345678900", "(234) 567-8900")
    assert contact.format_rfc == "tel:+1-234-567-8900"
    assert (contact.available_channels, contact.default_channel) == ("sms,whatsapp", "whatsapp")
    assert contact.customer_id == str(live_account.pk) and contact.is_inherited is False

    again = sdk.contacts.create(phone_number="(234) 567-8900")
    assert again.data.id == contact.id

    fetched = sdk.contacts.retrieve(contact.id).data
    assert fetched.phone_number == "+1 234-567-8900"

    updated = sdk.contacts.update(contact.id, default_channel="sms", opt_out=True).data
    assert (updated.default_channel, updated.opt_out) == ("sms", True)
    assert ConsentEvent.objects.get(contact_id=contact.id).opt_out is True
    unchanged = sdk.contacts.update(contact.id, opt_out=None).data
    assert unchanged.opt_out is True

    with pytest.warns(DeprecationWarning):
        assert sdk.contacts.delete(contact.id) is None
    assert Contact.all_objects.get(pk=contact.id).deleted_at is not None
    with pytest.raises(sent_dm.NotFoundError):
        sdk.contacts.retrieve(contact.id)


def test_sdk_errors_carry_our_codes(sdk, live_account):
    with pytest.raises(sent_dm.BadRequestError) as caught:
        sdk.contacts.create(phone_number="not a phone")
    assert caught.value.status_code == 400
    assert caught.value.body["error"]["code"] == "VALIDATION_002"


def test_another_account_gets_404_through_the_sdk(sdk, other_sdk, live_account):
    contact = make_contact(live_account)
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.contacts.retrieve(str(contact.pk))
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.contacts.update(str(contact.pk), opt_out=True)
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.contacts.retrieve_message_summary(str(contact.pk))
    assert list(other_sdk.contacts.list()) == []


def test_the_message_summary_through_the_sdk(sdk, live_account):
    contact = make_contact(live_account)
    summary = sdk.contacts.retrieve_message_summary(str(contact.pk)).data
    assert summary.contact_id == str(contact.pk)
    assert summary.message_count == 0 and summary.channels_used == []
    assert summary.first_message_at is None and summary.channel_scores == []


def test_list_filters_through_the_sdk(sdk, live_account):
    make_contact(live_account, "+12015550050")
    make_contact(live_account, "+12345678900")
    assert [c.format_e164 for c in sdk.contacts.list(channel="whatsapp")] == ["+12345678900"]
    assert [c.format_e164 for c in sdk.contacts.list(search="+1234")] == ["+12345678900"]
    assert [c.format_e164 for c in sdk.contacts.list(phone="(201) 555-0050")] == ["+12015550050"]


def test_auto_pagination_walks_thousands_of_contacts(sdk, live_account, live_other_account):
    mine = {c.format_e164 for c in make_contacts(live_account, 2500)}
    make_contacts(live_other_account, 300)
    first = sdk.contacts.list(page_size=100)
    assert len(first.data.contacts) == 100 and first.data.pagination.has_more is True
    walked = [c.format_e164 for c in sdk.contacts.list(page_size=100)]
    assert len(walked) == 2500 and set(walked) == mine


def test_number_lookup_through_the_sdk(sdk, live_account):
    data = sdk.numbers.lookup("+14155550100").data
    assert (data.phone_number, data.country_code, data.is_valid) == ("+14155550100", "1", True)
    assert data.line_type == "fixed_line_or_mobile" and data.is_voip is False
    german = sdk.numbers.lookup("+4915112345678").data
    assert (german.carrier_name, german.line_type) == ("T-Mobile", "mobile")
    assert sdk.numbers.lookup("hello").data.is_valid is False
    assert not Contact.objects.exists()


def test_the_whatsapp_window_is_part_of_the_contact_through_the_sdk(sdk, live_account):
    contact = make_contact(live_account, "+14155550012")  # on WhatsApp in the simulator
    assert sdk.contacts.retrieve(str(contact.pk)).data.whatsapp_window_expires_at is None
    sdk.post(
        "/v3/simulator/inbound",
        cast_to=object,
        body={"from": "+14155550012", "channel": "whatsapp", "text": "Hi"},
    )
    fetched = sdk.contacts.retrieve(str(contact.pk)).data
    contact.refresh_from_db()
    expires = datetime.fromisoformat(fetched.whatsapp_window_expires_at.replace("Z", "+00:00"))
    assert expires == contact.whatsapp_window_expires_at > contact.updated_at
    assert [c.id for c in sdk.contacts.list()][0] == str(contact.pk)  # lists parse too
