"""Routing as a send sees it: the facts gathered from the contact, the template, the prices
and the customer's settings, and the reason recorded on the message."""

from contacts.models import Contact
from tests.messaging.factories import make_approved_template, make_contact, number, send
from tests.templates_app.factories import sms_only_definition


def test_whatsapp_first_when_the_contact_has_it(account):
    make_approved_template(account)
    [message] = send(account, number(12))
    assert (message.channel, message.fallbacks) == ("whatsapp", ["sms"])
    assert message.routing_reason == "whatsapp: available, 0.0084 USD"
    assert message.alternatives["sms"]["price"] == "0.0083"


def test_an_sms_only_template_goes_by_sms(account):
    make_approved_template(account, name="parcel", definition_=sms_only_definition())
    [message] = send(account, number(12), template_name="parcel", parameters={"tracking": "T1"})
    assert (message.channel, message.fallbacks) == ("sms", [])


def test_cheapest_reliable_picks_sms_in_the_us_and_whatsapp_in_india(account):
    account.routing_strategy = "cheapest_reliable"
    account.save(update_fields=["routing_strategy"])
    make_approved_template(account)  # UTILITY
    [us] = send(account, number(12))  # SMS 0.0083 < WhatsApp utility 0.0084
    [india] = send(account, "+919876543210")  # WhatsApp utility 0.0064 < SMS 0.0832
    assert us.channel == "sms" and us.routing_reason.startswith("sms: cheapest reliable")
    assert india.channel == "whatsapp"


def test_the_regional_preference_table_orders_the_channels(account, settings):
    settings.ROUTING_REGIONAL_PREFERENCE = {"US": ["sms", "whatsapp"]}
    make_approved_template(account)
    [message] = send(account, number(12))
    assert (message.channel, message.fallbacks) == ("sms", ["whatsapp"])
    assert message.routing_reason.startswith("sms: preferred in US")


def test_a_default_channel_set_on_the_contact_wins(account):
    make_contact(account, number(12), default_channel="sms")
    make_approved_template(account)
    [message] = send(account, number(12))
    assert message.channel == "sms"
    assert message.routing_reason.startswith("sms: contact's default channel")


def test_a_channel_that_keeps_failing_for_the_contact_is_demoted(account):
    contact = make_contact(account, number(12))
    Contact.objects.filter(pk=contact.pk).update(
        delivery_stats={"whatsapp": {"attempts": 10, "delivered": 1, "recent": "0000000001"}}
    )
    make_approved_template(account)
    [message] = send(account, number(12))
    assert message.channel == "sms"
    assert "whatsapp: demoted" in message.routing_reason
    assert "10% delivered in last 10" in message.routing_reason


def test_a_number_no_channel_can_reach_is_blocked(account):
    make_approved_template(account)
    contact = make_contact(account, number(60))
    Contact.objects.filter(pk=contact.pk).update(sms_available=False, whatsapp_available=False)
    messages = send(account, [number(60), number(61)])
    assert [(m.status, m.reason_code) for m in messages] == [
        ("BLOCKED", "BUSINESS_011"),
        ("QUEUED", ""),
    ]
