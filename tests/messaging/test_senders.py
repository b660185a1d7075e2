"""Who a message goes out from (docs/providers/README.md#senders): the customer's own senders
(nearest area code first), the install's default when it has none, a send's `channels`
pinning them (BUSINESS_029 when a pinned address isn't an active sender of the customer),
the fallback channel's own sender — observed in what the adapter was handed and in the
message's activities."""

import pytest
import sent_dm

from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import LedgerEntry
from messaging.models import Message, ProviderAccount, Sender
from sent_project.models import Event
from tests.messaging.factories import PARAMETERS, make_approved_template, number, send_body
from tests.messaging.provider_factories import (
    AUTH_TOKEN,
    make_cloud_account,
    make_sender,
    make_twilio_account,
)
from tests.tasks import run_queued_tasks

TEMPLATE = {"name": "order_shipped", "parameters": PARAMETERS}
SF, NYC, LA = "+14155550100", "+12125550100", "+13105550100"
# Recipients the simulator delivers by SMS (no WhatsApp): one in San Francisco, one in NYC.
TO_SF, TO_NYC = number(60), "+12125550161"


@pytest.fixture
def template(account):
    return make_approved_template(account)


@pytest.fixture
def twilio(db):
    return make_twilio_account()


@pytest.fixture
def sf(account, twilio):
    return make_sender(account, twilio, SF, display_name="Support")


@pytest.fixture
def nyc(account, twilio):
    return make_sender(account, twilio, NYC)


def pinned(*addresses, channel: str = "sms") -> dict:
    return {channel: [{"from": list(addresses)}]}


def post_send(api_client, to, **extra):
    response = api_client.post("/v3/messages", send_body(to, **extra), format="json")
    assert response.status_code == 202, response.content
    return [Message.objects.get(pk=r["message_id"]) for r in response.json()["data"]["recipients"]]


def activities_from(api_client, message) -> dict:
    """status → the `from` of that activity, as GET /v3/messages/{id}/activities reports it."""
    data = api_client.get(f"/v3/messages/{message.pk}/activities").json()["data"]
    return {a["status"]: a["from"] for a in data["activities"] if a["kind"] == "status"}


# ---- pinning one of the customer's senders


def test_a_pinned_sender_is_the_one_the_message_goes_out_from(
    api_client, template, sf, nyc, twilio, recorded_sends
):
    [message] = post_send(api_client, TO_SF, channel=["sms"], channels=pinned(NYC))
    run_queued_tasks(include_future=True)

    [handed] = recorded_sends
    assert (handed.provider, handed.message.from_number, handed.message.to) == (
        "twilio",
        NYC,
        TO_SF,
    )
    # On the sender's own account, with its credentials.
    assert handed.credentials.key == str(twilio.pk)
    assert handed.credentials.account_id == twilio.account_id
    assert handed.credentials.secret("auth_token") == AUTH_TOKEN
    message.refresh_from_db()
    assert (message.status, message.sender, message.from_number) == ("DELIVERED", nyc, NYC)
    assert activities_from(api_client, message)["SENT"] == NYC


def test_without_a_pin_the_sender_with_the_recipients_area_code_wins(
    api_client, template, sf, nyc, recorded_sends
):
    to_nyc, to_sf = post_send(api_client, [TO_NYC, TO_SF], channel=["sms"])
    run_queued_tasks(include_future=True)
    sent_from = {r.message.to: r.message.from_number for r in recorded_sends}
    assert sent_from == {TO_NYC: NYC, TO_SF: SF}
    assert (to_nyc.sender, to_sf.sender) == (nyc, sf)


def test_among_several_pinned_senders_the_nearest_area_code_wins(
    api_client, template, sf, nyc, recorded_sends
):
    make_sender(sf.customer, sf.account, LA)
    to_la = "+13105550162"
    messages = post_send(
        api_client, [TO_NYC, to_la, TO_SF], channel=["sms"], channels=pinned(LA, NYC)
    )
    # San Francisco matches neither area code: the first of the pinned senders (by age).
    assert {m.phone: m.from_number for m in messages} == {TO_NYC: NYC, to_la: LA, TO_SF: NYC}


def test_the_same_address_pinned_twice_in_two_entries_is_one_pin(api_client, template, sf, nyc):
    channels = {"sms": [{"from": [NYC]}, {"from": [NYC], "country": "US", "strategy": "sticky"}]}
    [message] = post_send(api_client, TO_SF, channel=["sms"], channels=channels)
    assert (message.status, message.sender) == ("QUEUED", nyc)


# ---- a pinned address that is not an active sender of the customer


@pytest.mark.parametrize("which", ["another customer's", "inactive", "unknown", "account off"])
def test_a_pinned_address_that_isnt_an_active_sender_blocks_the_message(
    api_client, account, other_account, template, sf, twilio, recorded_sends, which
):
    if which == "another customer's":
        make_sender(other_account, twilio, LA)
    elif which == "inactive":
        make_sender(account, twilio, LA, is_active=False)
    elif which == "account off":
        make_sender(account, make_twilio_account("Old", "AC" + "2" * 32), LA)
        ProviderAccount.objects.filter(name="Old").update(is_active=False)
    before = account.balance

    [message] = post_send(api_client, TO_SF, channel=["sms"], channels=pinned(LA))
    run_queued_tasks(include_future=True)

    message.refresh_from_db()
    assert (message.status, message.reason_code) == ("BLOCKED", "BUSINESS_029")
    assert message.reason == "A sender named in `channels` is not an active sender of this account"
    assert message.sender is None and message.price == 0
    account.refresh_from_db()
    assert account.balance == before  # never charged
    assert not LedgerEntry.objects.filter(message_id=message.pk).exists()
    assert recorded_sends == []  # nothing was handed to any provider
    assert Event.objects.filter(event="message.blocked", subject_id=str(message.pk)).exists()
    status = api_client.get(f"/v3/messages/{message.pk}").json()["data"]
    assert (status["status"], status["reason_code"]) == ("BLOCKED", "BUSINESS_029")


def test_one_bad_address_among_good_ones_blocks_even_with_two_senders_of_the_good_one(
    api_client, account, template, sf
):
    # The same number on a second account: two senders, one address; LA is nobody's.
    make_sender(account, make_twilio_account("Backup", "AC" + "3" * 32), SF)
    [message] = post_send(api_client, TO_SF, channel=["sms"], channels=pinned(SF, LA))
    assert (message.status, message.reason_code) == ("BLOCKED", "BUSINESS_029")


def test_only_the_messages_on_the_pinned_channel_are_blocked(api_client, template, sf):
    messages = post_send(api_client, number(12), channel=["whatsapp", "sms"], channels=pinned(LA))
    assert {m.channel: (m.status, m.reason_code) for m in messages} == {
        "whatsapp": ("QUEUED", ""),
        "sms": ("BLOCKED", "BUSINESS_029"),
    }


# ---- what `channels` may look like


def test_the_key_sent_is_refused_with_a_validation_code(api_client, template, sf):
    response = api_client.post(
        "/v3/messages", send_body(TO_SF, channels=pinned(SF, channel="sent")), format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_001"
    assert list(error["details"]) == ["channels.sent"]
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "channels",
    [
        "sms",
        ["sms"],
        {"sms": "+14155550100"},
        {"sms": {"from": ["+14155550100"]}},
        {"sms": []},
        {"sms": [{}]},
        {"sms": [{"from": []}]},
        {"sms": [{"from": "+14155550100"}]},
        {"sms": [{"from": [42]}]},
        {"sms": [{"from": ["+1" + "4" * 30]}]},
        {"sms": [{"from": [SF], "country": "USA"}]},
        {"pigeon": [{"from": [SF]}]},
    ],
)
def test_a_malformed_channels_is_refused_with_nothing_written(api_client, template, channels):
    response = api_client.post("/v3/messages", send_body(TO_SF, channels=channels), format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"].startswith("VALIDATION_")
    assert all(key.startswith("channels") for key in error["details"]), error
    assert Message.objects.count() == 0


def test_channels_null_is_no_pin(api_client, template, sf):
    [message] = post_send(api_client, TO_SF, channel=["sms"], channels=None)
    assert (message.status, message.sender) == ("QUEUED", sf)


# ---- the install's default


def test_a_customer_without_senders_may_pin_the_install_default(
    api_client, template, settings, recorded_sends
):
    [message] = post_send(
        api_client, TO_SF, channel=["sms"], channels=pinned(settings.SMS_FROM_NUMBER)
    )
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    assert (message.status, message.sender, message.from_number) == (
        "DELIVERED",
        None,
        settings.SMS_FROM_NUMBER,
    )
    [handed] = recorded_sends
    assert (handed.provider, handed.message.from_number) == ("simulator", settings.SMS_FROM_NUMBER)
    # Anything else is not a sender of theirs.
    [other] = post_send(api_client, TO_SF, channel=["sms"], channels=pinned(SF))
    assert (other.status, other.reason_code) == ("BLOCKED", "BUSINESS_029")


def test_a_customer_with_senders_no_longer_sends_from_the_install_default(
    api_client, template, settings, sf
):
    [message] = post_send(
        api_client, TO_SF, channel=["sms"], channels=pinned(settings.SMS_FROM_NUMBER)
    )
    assert (message.status, message.reason_code) == ("BLOCKED", "BUSINESS_029")


# ---- fallbacks, sandbox, changes after acceptance


def test_the_fallback_channel_goes_out_from_its_own_sender(
    api_client, account, template, sf, recorded_sends
):
    cloud = make_cloud_account()
    whatsapp = make_sender(account, cloud, "+14155550199")
    # 80–89: on WhatsApp, but WhatsApp can't reach it: the message falls back to SMS.
    [message] = post_send(api_client, number(85))
    assert (message.channel, message.sender, message.fallbacks) == ("whatsapp", whatsapp, ["sms"])
    assert message.alternatives["sms"]["sender_id"] == str(sf.pk)

    run_queued_tasks(include_future=True)

    assert [(r.provider, r.message.channel, r.message.from_number) for r in recorded_sends] == [
        ("cloud_api", "whatsapp", "+14155550199"),
        ("twilio", "sms", SF),
    ]
    assert recorded_sends[0].credentials.key == str(cloud.pk)
    assert recorded_sends[1].credentials.key == str(sf.account.pk)
    message.refresh_from_db()  # the fallback's sender is what the row says now
    assert (message.status, message.channel, message.sender, message.from_number) == (
        "DELIVERED",
        "sms",
        sf,
        SF,
    )
    assert activities_from(api_client, message)["SENT"] == SF


def test_a_pin_of_the_fallback_channel_chooses_the_fallbacks_sender(
    api_client, account, template, sf, nyc, recorded_sends
):
    make_sender(account, make_cloud_account(), "+14155550199")
    post_send(api_client, number(85), channels=pinned(NYC))
    run_queued_tasks(include_future=True)
    assert [r.message.from_number for r in recorded_sends] == ["+14155550199", NYC]


def test_a_sandbox_send_goes_to_the_simulator_from_the_senders_address(
    api_client, template, sf, recorded_sends
):
    [message] = post_send(api_client, TO_SF, channel=["sms"], channels=pinned(SF), sandbox=True)
    run_queued_tasks(include_future=True)
    [handed] = recorded_sends
    assert (handed.provider, handed.credentials, handed.message.from_number) == (
        "simulator",
        None,
        SF,
    )
    message.refresh_from_db()
    assert (message.status, message.sender) == ("DELIVERED", sf)


def test_a_sender_deactivated_after_acceptance_still_carries_what_it_accepted(
    api_client, template, sf, nyc, recorded_sends
):
    """Dispatch sends from the sender the message was accepted (and charged) with; turning
    a sender off stops new sends from it (docs/providers/README.md#senders)."""
    [accepted] = post_send(api_client, TO_SF, channel=["sms"], channels=pinned(NYC))
    Sender.objects.filter(pk=nyc.pk).update(is_active=False)
    [later] = post_send(api_client, TO_SF, channel=["sms"], channels=pinned(NYC))
    run_queued_tasks(include_future=True)

    accepted.refresh_from_db()
    later.refresh_from_db()
    assert (accepted.status, accepted.from_number) == ("DELIVERED", NYC)
    assert (later.status, later.reason_code) == ("BLOCKED", "BUSINESS_029")
    assert [r.message.from_number for r in recorded_sends] == [NYC]


# ---- cost


def _send_queries(api_client, to: list[str], **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api_client.post("/v3/messages", send_body(to, **extra), format="json")
    assert response.status_code == 202
    return len(queries)


def test_senders_are_read_once_per_send_not_per_recipient(
    api_client, account, template, sf, nyc, django_assert_max_num_queries
):
    make_sender(account, make_cloud_account(), "+14155550199")
    extra = {"channels": {**pinned(SF, NYC), **pinned("+14155550199", channel="whatsapp")}}
    ten = _send_queries(api_client, [number(i, series=1) for i in range(10)], **extra)
    to = [number(i, series=2) for i in range(100)]
    with django_assert_max_num_queries(ten):
        response = api_client.post("/v3/messages", send_body(to, **extra), format="json")
    assert response.status_code == 202
    messages = Message.objects.filter(phone__in=to)
    assert messages.count() == 100
    assert not messages.filter(sender__isnull=True).exists()


# ---- through the official SDK


@pytest.fixture
def live_senders(live_account):
    make_approved_template(live_account)
    twilio = make_twilio_account()
    return make_sender(live_account, twilio, SF), make_sender(live_account, twilio, NYC)


def test_the_sdk_pins_a_sender_and_sees_it_in_the_activities(sdk, live_senders, recorded_sends):
    response = sdk.messages.send(
        to=[TO_SF], template=TEMPLATE, channel=["sms"], channels={"sms": [{"from": [NYC]}]}
    )
    [recipient] = response.data.recipients
    assert recipient.status == "QUEUED"
    run_queued_tasks(include_future=True)

    assert [r.message.from_number for r in recorded_sends] == [NYC]
    activities = sdk.messages.retrieve_activities(recipient.message_id).data.activities
    assert {a.status: a.from_ for a in activities if a.status == "SENT"} == {"SENT": NYC}


def test_the_sdk_gets_202_and_a_blocked_message_for_a_foreign_pin(sdk, live_senders):
    response = sdk.messages.send(
        to=[TO_SF], template=TEMPLATE, channel=["sms"], channels={"sms": [{"from": [LA]}]}
    )
    [recipient] = response.data.recipients
    assert recipient.status == "BLOCKED"
    message = sdk.messages.retrieve_status(recipient.message_id).data
    assert (message.status, message.reason_code) == ("BLOCKED", "BUSINESS_029")


def test_the_sdk_raises_a_400_for_the_key_sent(sdk, live_senders):
    with pytest.raises(sent_dm.BadRequestError) as error:
        sdk.messages.send(to=[TO_SF], template=TEMPLATE, channels={"sent": [{"from": [SF]}]})
    assert error.value.body["error"]["code"].startswith("VALIDATION_")
