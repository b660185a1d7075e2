"""GET /v3/me reports who the customer's messages go out from (docs/api/account.md#me): its
own active senders per channel, else the install's default; `channels.{channel}.senders`
lists every address a send may pin."""

import pytest

from messaging.models import ProviderAccount
from tests.messaging.provider_factories import make_cloud_account, make_sender, make_twilio_account
from tests.queries import rate_limit_queries

UK = "+442071838750"


@pytest.fixture
def twilio(transactional_db):
    return make_twilio_account()


def test_a_customer_without_senders_reports_the_install_default(sdk, settings):
    me = sdk.me.retrieve().data
    assert me.channels.sms.configured is True
    assert me.channels.sms.phone_number == settings.SMS_FROM_NUMBER
    assert me.sending_phone_number == settings.SMS_FROM_NUMBER
    assert me.channels.whatsapp.phone_number == settings.WHATSAPP_FROM_NUMBER
    assert me.channels.whatsapp.business_name == settings.WHATSAPP_BUSINESS_NAME
    assert me.channels.sms.senders == [settings.SMS_FROM_NUMBER]
    assert me.channels.whatsapp.senders == [settings.WHATSAPP_FROM_NUMBER]


def test_a_customer_with_senders_reports_its_own(sdk, live_account, live_other_account, twilio):
    make_sender(live_account, twilio, UK)
    make_sender(live_account, twilio, "ACME")
    make_sender(live_account, twilio, "+14155550100")
    make_sender(live_account, twilio, "+13105550100", is_active=False)
    make_sender(live_other_account, twilio, "+12125550100")
    make_sender(live_account, make_cloud_account(), "+14155550199")

    me = sdk.me.retrieve().data

    # The number a message to the United States goes out from: the +1 one, not the first.
    assert me.channels.sms.phone_number == "+14155550100"
    assert me.sending_phone_number == "+14155550100"
    assert me.channels.sms.senders == [UK, "ACME", "+14155550100"]  # active, oldest first
    assert me.channels.whatsapp.phone_number == "+14155550199"
    assert me.channels.whatsapp.senders == ["+14155550199"]


def test_an_alphanumeric_sender_is_never_reported_as_the_phone_number(api_client, account, twilio):
    make_sender(account, twilio, "ACME")
    data = api_client.get("/v3/me").json()["data"]
    assert data["channels"]["sms"] == {"configured": True, "senders": ["ACME"]}
    assert data["sending_phone_number"] is None


def test_senders_of_an_inactive_account_fall_back_to_the_default(
    api_client, account, twilio, settings
):
    make_sender(account, twilio, "+14155550100")
    ProviderAccount.objects.filter(pk=twilio.pk).update(is_active=False)
    data = api_client.get("/v3/me").json()["data"]
    assert data["sending_phone_number"] == settings.SMS_FROM_NUMBER


def test_a_channel_the_install_turned_off_is_configured_only_with_own_senders(
    api_client, account, twilio, settings
):
    settings.SMS_PROVIDER = ""
    data = api_client.get("/v3/me").json()["data"]
    assert data["channels"]["sms"] == {"configured": False, "senders": []}
    assert data["sending_phone_number"] is None
    make_sender(account, twilio, "+14155550100")
    data = api_client.get("/v3/me").json()["data"]
    assert data["channels"]["sms"]["configured"] is True
    assert data["sending_phone_number"] == "+14155550100"


def test_me_reads_the_senders_once(api_client, account, twilio, django_assert_num_queries):
    make_sender(account, twilio, "+14155550100")
    api_client.get("/v3/me")  # the key's first use writes its last_used_at
    # the key (with its customer), its rate limit, the senders
    with django_assert_num_queries(2 + rate_limit_queries()):
        assert api_client.get("/v3/me").status_code == 200
