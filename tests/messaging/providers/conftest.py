"""The WhatsApp Cloud API set up with settings only, against a local fake of Meta's Graph API
(`tests.fakes.whatsapp.FakeGraph`) that calls the live server's webhook back."""

import pytest

from django.urls import reverse

from tests.fakes.whatsapp import FakeGraph

VERIFY_TOKEN = "verify-token-of-the-install"


@pytest.fixture
def graph():
    fake = FakeGraph().start()
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
