"""The provider settings (docs/providers/README.md): with none, Sent starts on the simulator;
a provider named without its credentials, or an unknown one, stops start-up with a message
naming the setting; and a sandbox message never leaves for a real provider, whatever the
configuration."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from django.conf import settings as django_settings

from messaging.models import Message
from tests.fakes.server import FakeProvider, Reply
from tests.messaging.factories import make_approved_template, number, send_body
from tests.messaging.provider_factories import make_sender, make_twilio_account
from tests.tasks import run_queued_tasks

ROOT = Path(django_settings.BASE_DIR)
PROVIDER_SETTINGS = ("SMS_PROVIDER", "WHATSAPP_PROVIDER", "TWILIO_", "WHATSAPP_")
TWILIO_ENV = {
    "SMS_PROVIDER": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "env-auth-token-0123456789",
    "TWILIO_FROM_NUMBER": "+14155550111",
}
CLOUD_ENV = {
    "WHATSAPP_PROVIDER": "cloud_api",
    "WHATSAPP_ACCESS_TOKEN": "EAAG-env-token",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "WHATSAPP_BUSINESS_ACCOUNT_ID": "102290129340398",
    "WHATSAPP_APP_SECRET": "env-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "env-verify-token",
}


def environment(tmp_path, **variables) -> dict:
    """This process's environment without any provider setting, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_SETTINGS)}
    env.pop("DATABASE_URL", None)
    env.pop("SQLITE_PATH", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return {**env, "SENT_VAR_DIR": str(tmp_path), "LOG_LEVEL": "WARNING", **variables}


def manage_check(tmp_path, **variables) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment(tmp_path, **variables),
        capture_output=True,
        text=True,
        timeout=120,
    )


# ---- start-up


def test_with_no_provider_settings_sent_starts_on_the_simulator(tmp_path):
    result = manage_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_complete_twilio_and_cloud_api_settings_start(tmp_path):
    result = manage_check(tmp_path, **TWILIO_ENV, **CLOUD_ENV)
    assert result.returncode == 0, result.stderr


def test_twilio_without_its_account_sid_stops_start_up_naming_the_setting(tmp_path):
    env = {k: v for k, v in TWILIO_ENV.items() if k != "TWILIO_ACCOUNT_SID"}
    result = manage_check(tmp_path, **env)
    assert result.returncode != 0
    # The traceback ends with the reason, one line per problem.
    tail = result.stderr.strip().splitlines()[-3:]
    assert tail == [
        "django.core.exceptions.ImproperlyConfigured: The provider settings can't work "
        "(docs/providers/README.md):",
        "  - SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID",
        "Unset SMS_PROVIDER / WHATSAPP_PROVIDER to use the built-in simulator.",
    ], result.stderr


def test_twilio_with_nothing_else_names_every_missing_setting(tmp_path):
    result = manage_check(tmp_path, SMS_PROVIDER="twilio")
    assert result.returncode != 0
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        assert f"SMS_PROVIDER=twilio needs {name}" in result.stderr


def test_an_unknown_provider_names_the_setting_and_the_valid_values(tmp_path):
    result = manage_check(tmp_path, SMS_PROVIDER="nonsense")
    assert result.returncode != 0
    assert (
        "  - SMS_PROVIDER='nonsense' is not a provider: use one of simulator, twilio"
        in result.stderr.splitlines()
    )
    result = manage_check(tmp_path, WHATSAPP_PROVIDER="twilio")
    assert "WHATSAPP_PROVIDER='twilio' is not a provider: use one of simulator, cloud_api" in (
        result.stderr
    )


def test_cloud_api_without_the_app_secret_names_it(tmp_path):
    env = {k: v for k, v in CLOUD_ENV.items() if k != "WHATSAPP_APP_SECRET"}
    result = manage_check(tmp_path, **env)
    assert result.returncode != 0
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert problems == ["  - WHATSAPP_PROVIDER=cloud_api needs WHATSAPP_APP_SECRET"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_make_run_starts_with_no_provider_settings_and_sends_from_the_simulator(tmp_path):
    port = _free_port()
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its web server and workers are in its own group
    )
    try:
        output = ""
        deadline = time.monotonic() + 120
        while "Sent is running" not in output:
            line = serve.stdout.readline()
            assert line or serve.poll() is None, output
            output += line
            assert time.monotonic() < deadline, output
        api_key = json.loads((tmp_path / "demo.json").read_text())["api_key"]
        me = None
        while me is None and time.monotonic() < deadline:
            try:
                me = httpx.get(f"http://127.0.0.1:{port}/v3/me", headers={"x-api-key": api_key})
            except httpx.TransportError:
                time.sleep(0.2)
        assert me.status_code == 200, me.text
        sms = me.json()["data"]["channels"]["sms"]
        assert sms["configured"] is True and sms["senders"] == ["+15005550006"]
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


# ---- sandbox messages never leave


class TwilioStandIn(FakeProvider):
    """Any request is recorded and answered as Twilio answers an accepted message."""

    def handle(self, request):
        return Reply(201, {"sid": "SM" + "f" * 32, "status": "queued"})


@pytest.fixture
def twilio_configured(settings):
    fake = TwilioStandIn().start()
    settings.SMS_PROVIDER = "twilio"
    settings.TWILIO_API_URL = fake.url
    settings.TWILIO_ACCOUNT_SID = TWILIO_ENV["TWILIO_ACCOUNT_SID"]
    settings.TWILIO_AUTH_TOKEN = TWILIO_ENV["TWILIO_AUTH_TOKEN"]
    settings.TWILIO_FROM_NUMBER = TWILIO_ENV["TWILIO_FROM_NUMBER"]
    yield fake
    fake.stop()


@pytest.mark.parametrize("own_sender", [True, False])
def test_a_sandbox_message_is_delivered_by_the_simulator_and_never_reaches_the_provider(
    api_client, account, other_account, twilio_configured, own_sender
):
    make_approved_template(account)
    if own_sender:
        make_sender(account, make_twilio_account(), "+14155550100")
    response = api_client.post(
        "/v3/messages", send_body(number(60), channel=["sms"], sandbox=True), format="json"
    )
    assert response.status_code == 202
    run_queued_tasks(include_future=True)

    message = Message.objects.get()
    assert (message.status, message.provider, message.sandbox) == ("DELIVERED", "simulator", True)
    assert message.from_number == ("+14155550100" if own_sender else "+14155550111")
    assert twilio_configured.received == []  # not one request reached the provider's URL


def test_the_same_send_outside_the_sandbox_does_go_to_the_providers_url(
    api_client, account, twilio_configured
):
    """The counterpart that shows the test above would see a request if one were made."""
    make_approved_template(account)
    make_sender(account, make_twilio_account(), "+14155550100")
    api_client.post("/v3/messages", send_body(number(60), channel=["sms"]), format="json")
    run_queued_tasks(include_future=True)
    assert twilio_configured.received
