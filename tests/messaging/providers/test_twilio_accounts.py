"""Twilio configured per customer (a provider account and its senders) and for the whole
install (the environment): what each needs, and that callbacks verify with the right account's
auth token (docs/providers/twilio.md)."""

from messaging.models import Message, ProviderCallback, Sender
from messaging.providers.accounts import account_create, account_problems, environment_problems
from tests.fakes.twilio import FakeTwilio, new_sid
from tests.messaging.factories import number
from tests.messaging.providers.conftest import apply_callbacks
from tests.tasks import run_queued_tasks


def test_the_environment_needs_the_auth_token_even_with_an_api_key(settings):
    settings.SMS_PROVIDER = "twilio"
    settings.TWILIO_ACCOUNT_SID = new_sid("AC")
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET = new_sid("SK"), "secret"
    [problem] = environment_problems()
    assert "TWILIO_AUTH_TOKEN" in problem and "callbacks" in problem

    settings.TWILIO_AUTH_TOKEN = "token"
    assert environment_problems() == []
    settings.TWILIO_API_KEY_SECRET = ""
    assert ["TWILIO_API_KEY_SECRET" in p for p in environment_problems()] == [True]


def test_a_provider_account_needs_the_auth_token_even_with_an_api_key():
    assert account_problems("twilio", "AC1", {"api_key_sid": "SK1", "api_key_secret": "s"}) == [
        "auth_token"
    ]
    assert account_problems("twilio", "AC1", {"auth_token": "t"}) == []
    assert account_problems("twilio", "AC1", {"auth_token": "t", "api_key_sid": "SK1"}) == [
        "api_key_sid and api_key_secret (both, or neither)"
    ]


def test_a_customer_s_own_account_and_messaging_service_send_and_verify_callbacks(
    sdk, live_account, settings, live_server
):
    """Two Twilio accounts: the install's (environment) and the customer's (admin). The
    customer's messages go through its own account and Messaging Service; its callbacks are
    verified with its own auth token, found by their AccountSid."""
    own = FakeTwilio().start()
    own.after_callback = apply_callbacks
    try:
        service = new_sid("MG")
        own.messaging_services.add(service)
        account = account_create(
            kind="twilio",
            name="Acme's Twilio",
            account_id=own.account_sid,
            auth_token=own.auth_token,
        )
        Sender.objects.create(
            account=account,
            customer=live_account,
            channel="sms",
            address="+14155550199",
            provider_ref=service,
        )
        settings.TWILIO_API_URL = own.url
        settings.SITE_URL = live_server.url
        response = sdk.messages.send(to=[number(70)], text="From our own number")
        [message_id] = [r.message_id for r in response.data.recipients]
        run_queued_tasks()

        [create] = own.creates()
        assert create.form["MessagingServiceSid"] == [service] and "From" not in create.form
        sid = own.sid_for(message_id)
        assert own.messages[sid]["status"] == "accepted"
        own.deliver(sid)
        message = Message.objects.get(pk=message_id)
        assert (message.status, message.from_number) == ("DELIVERED", "+14155550199")
        assert set(ProviderCallback.objects.values_list("account", flat=True)) == {account.pk}

        # Signed with another account's token: refused.
        assert own.callback(sid, "read", token="the-install-s-token").status_code == 403
    finally:
        own.stop()
