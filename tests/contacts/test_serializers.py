"""The contact's wire shape: the hand-built representation is what DRF's declared fields give."""

from django.utils import timezone
from rest_framework import serializers

from contacts.api.serializers import ContactSerializer
from contacts.models import Contact
from contacts.services import contact_record_delivery
from tests.contacts.factories import make_contact


def _declared(contact: Contact) -> dict:
    return serializers.Serializer.to_representation(ContactSerializer(), contact)


def test_every_kind_of_contact_is_represented_as_its_declared_fields_give(account):
    plain = make_contact(account, "+12015550100")
    fixed_line = make_contact(account, "+442071838750")  # no channel at all
    custom = make_contact(
        account,
        "+5511987654321",
        metadata={"name": "Zoë", "tags": ["a", 1, None], "nested": {"x": 1.5, "y": True}},
        default_channel="sms",
        default_channel_is_custom=True,
        opt_out=True,
        whatsapp_checked_at=None,
        whatsapp_window_expires_at=timezone.now(),
    )
    contact_record_delivery(plain, channel="sms", delivered=True)
    plain.refresh_from_db()
    for contact in (plain, fixed_line, custom):
        shown = ContactSerializer(contact).data
        assert shown == _declared(contact)
        assert list(shown) == list(_declared(contact))  # same order of keys
    assert ContactSerializer(custom).data["channels"]["whatsapp"]["checked_at"] is None
    assert ContactSerializer(plain).data["created_at"].endswith("Z")
    assert ContactSerializer(plain).data["whatsapp_window_expires_at"] is None
    assert ContactSerializer(custom).data["whatsapp_window_expires_at"].endswith("Z")
