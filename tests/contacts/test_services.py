"""Contact services: creation with channel detection, bulk get-or-create, consent, delivery."""

from datetime import timedelta

import pytest

from django.db import connection
from django.utils import timezone

from contacts.models import ConsentEvent, Contact
from contacts.services import (
    contact_create,
    contact_delete,
    contact_mark_channel_unavailable,
    contact_record_delivery,
    contact_refresh_channels,
    contact_set_opt_out,
    contacts_get_or_create_for_numbers,
)
from sent_project.models import Event
from tests.contacts.factories import age_whatsapp_check, make_contact


def test_creating_a_contact_detects_channels_and_emits_contact_created(account):
    contact, created = contact_create(account, phone_number="(234) 567-8900")
    assert created
    assert (contact.format_e164, contact.phone_number) == ("+12345678900", "(234) 567-8900")
    # Last two digits 00: the simulator has it on WhatsApp.
    assert contact.available_channels == "sms,whatsapp"
    assert contact.default_channel == "whatsapp" and not contact.default_channel_is_custom
    assert contact.sms_checked_at and contact.whatsapp_checked_at
    event = Event.objects.get(subject_id=contact.id)
    assert (event.field, event.event, event.customer_id) == (
        "contact",
        "contact.created",
        account.pk,
    )
    assert event.payload["contact_id"] == str(contact.id)
    assert event.payload["from"] == "+12345678900"
    assert event.payload["opt_out"] is False
    assert event.payload["source"] == "API"
    assert event.payload["account_id"] == str(account.pk)
    for key in ("to", "channel", "message_id", "text", "template_id"):
        assert key in event.payload and event.payload[key] is None


@pytest.mark.parametrize(
    ("number", "channels", "default"),
    [
        ("+12015550049", "sms,whatsapp", "whatsapp"),
        ("+12015550050", "sms", "sms"),
        ("+12015550079", "sms", "sms"),
        ("+12015550080", "sms,whatsapp", "whatsapp"),
        ("+12015550094", "sms,whatsapp", "whatsapp"),
        ("+12015550095", "sms", "sms"),
        ("+442079460958", "", ""),  # a London fixed line: stored, but no channel
        ("+18005550100", "", ""),  # toll-free
    ],
)
def test_channels_follow_the_line_type_and_the_simulator_lookup(account, number, channels, default):
    contact, _ = contact_create(account, phone_number=number)
    assert contact.available_channels == channels
    assert contact.default_channel == default


def test_an_existing_number_in_another_format_returns_the_same_contact(account):
    first, created = contact_create(account, phone_number="+1 234-567-8900")
    again, created_again = contact_create(account, phone_number="234.567.8900")
    assert created and not created_again
    assert again.pk == first.pk
    assert again.phone_number == "+1 234-567-8900"
    assert Contact.objects.filter(customer=account).count() == 1
    assert Event.objects.filter(subject_id=first.pk).count() == 1


def test_two_customers_have_their_own_contact_for_the_same_number(account, other_account):
    mine, _ = contact_create(account, phone_number="+12345678900")
    theirs, created = contact_create(other_account, phone_number="+12345678900")
    assert created and mine.pk != theirs.pk


def test_a_deleted_number_can_be_created_again_as_a_new_contact(account):
    old = make_contact(account)
    contact_set_opt_out(old, opt_out=True, source="api")
    contact_delete(account, contact_id=old.pk)
    new, created = contact_create(account, phone_number="+12345678900")
    assert created and new.pk != old.pk
    assert new.opt_out is False  # consent starts afresh, as the SDK documents
    assert Contact.all_objects.filter(pk=old.pk, deleted_at__isnull=False).exists()
    assert ConsentEvent.objects.filter(contact=old).count() == 1


def test_bulk_get_or_create_maps_every_input_and_reports_invalid_ones(account):
    existing = make_contact(account, "+12015550001")
    numbers = ["+1 201-555-0001", "(201) 555-0002", "+12015550002", "nope", "", "+12015550003"]
    contacts, invalid = contacts_get_or_create_for_numbers(
        account, numbers=numbers, source="message"
    )
    assert contacts["+1 201-555-0001"].pk == existing.pk
    assert contacts["(201) 555-0002"].pk == contacts["+12015550002"].pk
    assert contacts["+12015550003"].source == "message"
    assert set(invalid) == {"nope", ""}
    assert "letters" in invalid["nope"] and "empty" in invalid[""]
    assert Contact.objects.filter(customer=account).count() == 3


def test_bulk_get_or_create_costs_the_same_queries_for_1_or_1000_numbers(
    account, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        contacts_get_or_create_for_numbers(account, numbers=["+12015550000"], source="message")
    numbers = [f"+1201555{i:04d}" for i in range(1000)]
    # On PostgreSQL the new ones go in by COPY in a savepoint (two statements more: a number
    # created meanwhile undoes it, docs/operations.md).
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 6):
        contacts, invalid = contacts_get_or_create_for_numbers(
            account, numbers=numbers, source="message"
        )
    assert len(contacts) == 1000 and not invalid
    assert Contact.objects.filter(customer=account).count() == 1000
    with django_assert_max_num_queries(4):
        contacts_get_or_create_for_numbers(account, numbers=numbers, source="message")


def test_bulk_creation_emits_no_per_contact_events(account):
    contacts_get_or_create_for_numbers(
        account, numbers=["+12015550000", "+12015550001"], source="message"
    )
    assert not Event.objects.filter(event="contact.created").exists()


def test_a_stale_whatsapp_check_is_refreshed_on_the_next_create_or_send(account, settings):
    contact = make_contact(account, "+12015550001", whatsapp_available=False)
    age_whatsapp_check(contact, days=settings.CONTACTS_CHANNEL_CHECK_MAX_AGE_DAYS + 1)
    contacts, _ = contacts_get_or_create_for_numbers(
        account, numbers=["+12015550001"], source="message"
    )
    refreshed = contacts["+12015550001"]
    assert refreshed.whatsapp_available is True
    assert refreshed.whatsapp_checked_at > timezone.now() - timedelta(minutes=1)
    assert Contact.objects.get(pk=contact.pk).default_channel == "whatsapp"


def test_a_fresh_whatsapp_check_is_not_repeated(account):
    contact = make_contact(account, "+12015550001", whatsapp_available=False)
    contacts_get_or_create_for_numbers(account, numbers=["+12015550001"], source="message")
    assert Contact.objects.get(pk=contact.pk).whatsapp_available is False


def test_refresh_channels_can_be_forced(account):
    contact = make_contact(account, "+12015550001", whatsapp_available=False)
    assert contact_refresh_channels(contact).whatsapp_available is False
    assert contact_refresh_channels(contact, force=True).whatsapp_available is True


def test_opting_out_writes_the_ledger_and_emits_opt_out_then_updated_state(account):
    contact = make_contact(account)
    contact_set_opt_out(
        contact,
        opt_out=True,
        source="keyword",
        note="STOP",
        message_id="6f1c1f34-4d5b-4c8e-9a55-3f7a2b1c0d9e",
        to="+15005550006",
        channel="sms",
        text="STOP",
    )
    assert contact.opt_out is True
    entry = ConsentEvent.objects.get(contact=contact)
    assert (entry.opt_out, entry.source, entry.note) == (True, "keyword", "STOP")
    event = Event.objects.get(subject_id=contact.pk, event="contact.opt_out")
    assert event.payload["source"] == "INBOUND_KEYWORD"
    assert event.payload["to"] == "+15005550006" and event.payload["text"] == "STOP"
    assert event.payload["message_id"] == "6f1c1f34-4d5b-4c8e-9a55-3f7a2b1c0d9e"
    contact_set_opt_out(contact, opt_out=True, source="keyword")  # no change: nothing recorded
    assert ConsentEvent.objects.filter(contact=contact).count() == 1
    contact_set_opt_out(contact, opt_out=False, source="dashboard")
    assert list(ConsentEvent.objects.filter(contact=contact).values_list("opt_out", "source")) == [
        (True, "keyword"),
        (False, "dashboard"),
    ]
    assert Event.objects.filter(subject_id=contact.pk, event="contact.opt_in").count() == 1


def test_the_consent_ledger_is_append_only(account):
    contact = make_contact(account)
    contact_set_opt_out(contact, opt_out=True, source="api")
    entry = ConsentEvent.objects.get()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        ConsentEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        ConsentEvent.objects.update(opt_out=False)


def test_delivery_results_build_per_channel_statistics(account, settings):
    settings.CONTACTS_DELIVERY_WINDOW = 3
    contact = make_contact(account, "+12015550001")
    for delivered in (True, False, True, True):
        contact_record_delivery(contact, channel="sms", delivered=delivered)
    contact.refresh_from_db()
    assert contact.channel_stats("sms") == {"attempts": 4, "delivered": 3, "recent": "011"}
    assert contact.channel_success_rate("sms") == pytest.approx(2 / 3)
    assert contact.channel_success_rate("whatsapp") is None
    assert contact.delivery_stats["sms"]["last_at"]


def test_many_outcomes_at_once_are_counted_per_contact(account):
    """`contacts_record_deliveries` (dispatch and receipts record a batch with it): each
    contact gets its own counts in one set-based write; one whose availability flips is
    saved on its own, the others untouched by it."""
    from contacts.services import contacts_record_deliveries

    a, b, c = (make_contact(account, f"+1201555000{i}") for i in (2, 3, 4))
    contacts_record_deliveries(
        [
            (a.pk, "sms", True, False),
            (a.pk, "sms", False, False),
            (b.pk, "sms", True, False),
            (b.pk, "whatsapp", True, False),
            (c.pk, "whatsapp", False, True),
        ]
    )
    for contact in (a, b, c):
        contact.refresh_from_db()
    assert a.channel_stats("sms") | {"last_at": None} == {
        "attempts": 2,
        "delivered": 1,
        "recent": "10",
        "last_at": None,
    }
    assert b.channel_stats("sms")["recent"] == "1" and b.channel_stats("whatsapp")["delivered"] == 1
    assert a.channel_stats("whatsapp")["attempts"] == 0
    assert c.channel_stats("whatsapp")["attempts"] == 1 and not c.whatsapp_available


def test_a_whatsapp_not_reachable_failure_sends_the_next_message_to_sms(account):
    contact = make_contact(account, "+12015550081")
    assert contact.default_channel == "whatsapp"
    contact_record_delivery(contact, channel="whatsapp", delivered=False, not_reachable=True)
    # The caller's instance is updated too, and so is the row.
    assert (contact.whatsapp_available, contact.default_channel) == (False, "sms")
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.available_channels, stored.default_channel) == ("sms", "sms")
    assert stored.channel_stats("whatsapp")["attempts"] == 1
    assert Event.objects.filter(subject_id=contact.pk, event="contact.updated").count() == 1


def test_an_ordinary_failure_does_not_change_availability(account):
    contact = make_contact(account, "+12015550091")
    contact_record_delivery(contact, channel="whatsapp", delivered=False)
    assert Contact.objects.get(pk=contact.pk).whatsapp_available is True


def test_a_delivery_on_a_channel_marked_unavailable_marks_it_available_again(account):
    contact = make_contact(account, "+12015550001")
    contact_mark_channel_unavailable(contact, "whatsapp")
    assert Contact.objects.get(pk=contact.pk).available_channels == "sms"
    contact_record_delivery(contact, channel="whatsapp", delivered=True)
    stored = Contact.objects.get(pk=contact.pk)
    assert stored.available_channels == "sms,whatsapp" and stored.default_channel == "whatsapp"


def test_a_custom_default_on_a_channel_that_becomes_unavailable_falls_back(account):
    contact = make_contact(
        account, "+12015550001", default_channel="sms", default_channel_is_custom=True
    )
    contact_mark_channel_unavailable(contact, "whatsapp")
    assert (contact.default_channel, contact.default_channel_is_custom) == ("sms", True)
    contact_mark_channel_unavailable(contact, "sms")
    assert (contact.default_channel, contact.default_channel_is_custom) == ("", False)
    assert contact.available_channels == ""


def test_unknown_channels_are_a_programming_error(account):
    contact = make_contact(account)
    with pytest.raises(ValueError):
        contact_record_delivery(contact, channel="pigeon", delivered=True)
    with pytest.raises(ValueError):
        contact_mark_channel_unavailable(contact, "pigeon")
