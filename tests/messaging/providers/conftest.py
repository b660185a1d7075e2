"""Fixtures of the provider adapter tests: a local Twilio (tests/fakes/twilio.py)."""

import pytest

from tests.fakes.twilio import FakeTwilio

FROM = "+15005550006"


def configure_twilio(settings, fake: FakeTwilio, site_url: str, **extra) -> None:
    """Only settings, as an operator would (docs/providers/twilio.md#a-single-tenant-install)."""
    settings.SMS_PROVIDER = "twilio"
    settings.TWILIO_API_URL = fake.url
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_API_KEY_SID = ""
    settings.TWILIO_API_KEY_SECRET = ""
    settings.TWILIO_FROM_NUMBER = FROM
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.SITE_URL = site_url
    settings.PROVIDER_CONNECT_TIMEOUT = 1.0
    settings.PROVIDER_TIMEOUT = 2.0
    for name, value in extra.items():
        setattr(settings, name, value)


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def twilio(settings, fake_twilio, live_server):
    """The install sends SMS through the fake Twilio, whose callbacks reach the live server."""
    configure_twilio(settings, fake_twilio, live_server.url)
    return fake_twilio
