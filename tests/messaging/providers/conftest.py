"""Fixtures of the provider adapter tests: the install set up with settings only (or a customer's
own Twilio account and number), against local
fakes — Twilio (`tests.fakes.twilio.FakeTwilio`) and Meta's Graph API
(`tests.fakes.whatsapp.FakeGraph`) — that call the live server's callbacks back, signed.

The live server records each callback and answers; the callbacks job applies it
(docs/providers/README.md#callbacks). The fakes of these fixtures run that job once each
callback is answered (`apply_callbacks`), as the receipts lane's worker would a moment later,
so a test reads the callback's effect next; tests/messaging/providers/test_callback_records.py
looks at the moment in between."""

import threading

import pytest

from django.db import connections
from django.urls import reverse

from messaging.callbacks.records import CALLBACKS_TASK
from tests.fakes.twilio import FakeTwilio
from tests.fakes.whatsapp import FakeGraph
from tests.messaging.provider_factories import make_sender, make_twilio_account
from tests.tasks import run_queued_tasks

VERIFY_TOKEN = "verify-token-of-the-install"
FROM = "+15005550006"
OURS = "+14155550199"  # Acme's own Twilio number (`acme_number`)


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
    # A US long code is paced at 1 segment/s: not what these tests are about
    # (tests/messaging/test_pacing.py is).
    settings.PACING_DEFAULT_ROUTE_RATES = {"sms": 1000.0}
    fake.inbound_url = site_url + reverse("twilio-inbound")  # "A message comes in" on the number
    for name, value in extra.items():
        setattr(settings, name, value)


def apply_callbacks() -> int:
    """Run the callbacks jobs that wait (only those: what they enqueue waits for the test).
    Run by a fake on its own request's thread, it closes that thread's connections after."""
    try:
        return run_queued_tasks(task_name=CALLBACKS_TASK, include_future=True)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    fake.after_callback = apply_callbacks
    yield fake
    fake.stop()


@pytest.fixture
def twilio(settings, fake_twilio, live_server):
    """The install sends SMS through the fake Twilio, whose callbacks reach the live server."""
    configure_twilio(settings, fake_twilio, live_server.url)
    return fake_twilio


@pytest.fixture
def acme_number(settings, fake_twilio, live_server, live_account):
    """Acme's own Twilio account (the fake) and number `OURS`, as the admin sets them up; the
    install itself sends by the simulator. The number's "A message comes in" webhook is the
    live server's inbound URL."""
    account = make_twilio_account(
        "Acme's Twilio", account_id=fake_twilio.account_sid, auth_token=fake_twilio.auth_token
    )
    sender = make_sender(live_account, account, OURS)
    settings.TWILIO_API_URL = fake_twilio.url
    settings.SITE_URL = live_server.url
    fake_twilio.inbound_url = live_server.url + reverse("twilio-inbound")
    return sender


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    fake.after_callback = apply_callbacks
    yield fake
    fake.stop()


@pytest.fixture
def cloud_api(settings, graph, live_server):
    """WHATSAPP_PROVIDER=cloud_api and its WHATSAPP_* settings pointing at the fake, SITE_URL
    at the live server (whose webhook the fake calls); SMS stays on the simulator."""
    settings.WHATSAPP_PROVIDER = "cloud_api"
    settings.WHATSAPP_GRAPH_URL = graph.url
    settings.WHATSAPP_GRAPH_VERSION = graph.version
    settings.WHATSAPP_ACCESS_TOKEN = graph.access_token
    settings.WHATSAPP_PHONE_NUMBER_ID = graph.phone_number_id
    settings.WHATSAPP_BUSINESS_ACCOUNT_ID = graph.waba_id
    settings.WHATSAPP_APP_SECRET = graph.app_secret
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
    settings.WHATSAPP_FROM_NUMBER = "+" + graph.display_phone_number
    settings.SITE_URL = live_server.url
    graph.webhook_url = live_server.url + reverse("whatsapp-webhook")
    return graph
