"""The simulator provider, row by row of the table in
docs/api/messages.md#the-simulator-the-default-provider-for-sms-and-whatsapp (adapter level;
end-to-end in the messaging tests)."""

import uuid

import pytest

from messaging.providers import get_provider, get_whatsapp_provider
from messaging.providers.base import OutboundMessage, ProviderError
from messaging.providers.simulator import last_two_digits


def outbound(to: str, channel: str, message_id=None) -> OutboundMessage:
    return OutboundMessage(
        message_id=str(message_id or uuid.uuid4()), channel=channel, to=to, body="Hello"
    )


def test_it_reads_the_last_two_digits_of_the_national_number():
    assert last_two_digits("+14155550142") == 42
    assert last_two_digits("+447700900907") == 7


@pytest.mark.parametrize(
    "digits,available",
    [
        ("00", True),
        ("49", True),
        ("50", False),
        ("79", False),
        ("80", True),
        ("94", True),
        ("95", False),
        ("99", False),
    ],
)
def test_whatsapp_lookup(digits, available):
    assert get_whatsapp_provider().lookup(f"+141555501{digits}") is available


def test_whatsapp_00_49_is_sent_then_delivered_then_read(db, settings):
    settings.SIMULATOR_DELAY_SCALE = 0
    result = get_provider("whatsapp").send(outbound("+14155550112", "whatsapp"))
    assert result.provider_message_id.startswith("sim_")
    assert [status for status, _, _ in result.scheduled_receipts] == ["DELIVERED", "READ"]


def test_sms_is_sent_then_delivered_with_scaled_delays(db, settings):
    settings.SIMULATOR_DELAY_SCALE = 2
    result = get_provider("sms").send(outbound("+14155550160", "sms"))
    assert result.scheduled_receipts == (("DELIVERED", 3.0, ""),)


def test_whatsapp_80_89_is_not_reachable_permanently(db):
    with pytest.raises(ProviderError) as error:
        get_provider("whatsapp").send(outbound("+14155550185", "whatsapp"))
    assert error.value.not_reachable and error.value.permanent
    assert error.value.code == "DELIVERY_007"


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_90_94_fails_permanently_on_every_channel(db, channel):
    with pytest.raises(ProviderError) as error:
        get_provider(channel).send(outbound("+14155550192", channel))
    assert error.value.permanent and not error.value.not_reachable


def test_sms_95_99_fails_transiently_once_then_succeeds(db):
    message_id = uuid.uuid4()
    with pytest.raises(ProviderError) as error:
        get_provider("sms").send(outbound("+14155550197", "sms", message_id))
    assert not error.value.permanent
    assert get_provider("sms").send(outbound("+14155550197", "sms", message_id)).provider_message_id


def test_sending_the_same_message_id_twice_sends_once(db):
    message_id = uuid.uuid4()
    first = get_provider("sms").send(outbound("+14155550101", "sms", message_id))
    second = get_provider("sms").send(outbound("+14155550101", "sms", message_id))
    assert second.provider_message_id == first.provider_message_id
    assert second.scheduled_receipts == ()  # no second delivery either
    assert (
        get_provider("sms").fetch(str(message_id)).provider_message_id == first.provider_message_id
    )
    assert get_provider("sms").fetch(str(uuid.uuid4())) is None


def test_a_group_is_answered_like_one_send_per_message(db):
    """`send_many` (dispatch hands the simulator a group at once): each message answered as
    `send` answers it — accepted, refused, transient on a first attempt — and a message it
    already took is answered with the first result, nothing sent again."""
    sms = get_provider("sms")
    known = uuid.uuid4()
    first = sms.send(outbound("+14155550101", "sms", known))
    retried = uuid.uuid4()
    with pytest.raises(ProviderError):
        sms.send(outbound("+14155550197", "sms", retried))
    group = [
        outbound("+14155550160", "sms"),
        outbound("+14155550101", "sms", known),
        outbound("+14155550192", "sms"),
        outbound("+14155550197", "sms", retried),
        outbound("+14155550198", "sms"),
    ]
    accepted, again, refused, retry, transient = sms.send_many(group)
    assert accepted.provider_message_id and accepted.scheduled_receipts
    assert again.provider_message_id == first.provider_message_id
    assert again.scheduled_receipts == ()
    assert isinstance(refused, ProviderError) and refused.permanent
    assert retry.provider_message_id and retry.scheduled_receipts
    assert isinstance(transient, ProviderError) and not transient.permanent
    assert sms.fetch(group[0].message_id).provider_message_id == accepted.provider_message_id
    assert sms.fetch(group[2].message_id) is None
