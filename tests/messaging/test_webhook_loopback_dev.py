"""A receiver on this machine works in development (DEBUG on) and the webhook form says so;
with DEBUG off it is refused; the form's timeout offers the install's real cap
(docs/api/webhooks.md#receivers-on-this-machine)."""

import pytest

HOOK = {"event_types": ["message"]}


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765/hook", "http://localhost:8765/hook"])
def test_loopback_receivers_are_allowed_in_development(api_client, settings, url):
    settings.DEBUG = True
    response = api_client.post("/v3/webhooks", {**HOOK, "endpoint_url": url}, format="json")
    assert response.status_code == 201, response.content


def test_other_private_addresses_stay_refused_in_development(api_client, settings):
    settings.DEBUG = True
    body = {**HOOK, "endpoint_url": "http://10.0.0.7/hook"}
    response = api_client.post("/v3/webhooks", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "WEBHOOK_001"


@pytest.mark.parametrize("debug, in_debug", [(False, True), (True, False)])
def test_loopback_is_refused_in_production_or_when_turned_off(
    api_client, settings, debug, in_debug
):
    settings.DEBUG, settings.WEBHOOK_ALLOW_LOOPBACK_IN_DEBUG = debug, in_debug
    body = {**HOOK, "endpoint_url": "http://127.0.0.1:8765/hook"}
    response = api_client.post("/v3/webhooks", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "WEBHOOK_001"


def test_the_form_says_which_setting_allows_a_local_receiver_and_offers_the_real_timeout(
    dashboard_client, settings
):
    settings.DEBUG = True
    settings.WEBHOOK_TIMEOUT_MAX_SECONDS = 15.0
    page = dashboard_client.get("/webhooks/new/").content.decode()
    assert "a receiver on this machine" in page and "WEBHOOK_ALLOW_PRIVATE_TARGETS" in page
    assert "is allowed (WEBHOOK_ALLOW_LOOPBACK_IN_DEBUG)" in page
    assert "5–15 s, the most this install waits (WEBHOOK_TIMEOUT_MAX_SECONDS)" in page
    assert 'value="15"' in page  # the default offered is what it really waits, not 30

    settings.DEBUG = False
    page = dashboard_client.get("/webhooks/new/").content.decode()
    assert "Private and loopback addresses are refused (WEBHOOK_ALLOW_PRIVATE_TARGETS" in page
