"""Logs (docs/operations.md#logs): LOG_FORMAT=json gives one JSON object per line with the
request id and, where known, the customer and message ids; no line of a full send (API key,
webhook with its signing secret, dispatch, receipts, delivery) shows a key or a secret."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from django.conf import settings as django_settings

from billing.models import ApiKey
from sent_project.log_format import JsonFormatter, PlainFormatter, scrub
from sent_project.request_context import (
    RequestIdLogFilter,
    log_context,
    log_context_set,
    request_finished,
    request_started,
)
from tests.messaging.factories import PARAMETERS, make_approved_template, number
from tests.tasks import run_queued_tasks

ROOT = Path(django_settings.BASE_DIR)


@pytest.fixture
def captured_json_logs():
    """Every record of every logger, DEBUG and up, formatted as LOG_FORMAT=json does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("django.request", "django.server"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    logging.getLogger("django.server").setLevel(logging.WARNING)


def test_a_full_send_logs_json_lines_without_a_key_or_secret(
    sdk,
    live_account,
    receiver,
    webhook_settings,
    captured_json_logs,
):
    make_approved_template(live_account)
    webhook = sdk.webhooks.create(
        endpoint_url=receiver.url, event_types=["message"], display_name="logs"
    ).data
    secret = webhook.signing_secret
    assert secret
    # A refused key too: what a client got wrong is logged without the key it sent.
    from sent_dm import Sent

    wrong_key = "sent_" + "x" * 40
    with pytest.raises(Exception):  # noqa: B017  (the SDK's 401)
        Sent(api_key=wrong_key, base_url=sdk.base_url, max_retries=0).me.retrieve()
    response = sdk.messages.send(
        to=[number(12)], template={"name": "order_shipped", "parameters": PARAMETERS}
    )
    run_queued_tasks(include_future=True)
    message_id = response.data.recipients[0].message_id
    assert sdk.messages.retrieve_status(message_id).data.status == "READ"
    assert receiver.received, "the webhook was delivered"

    lines = captured_json_logs.getvalue().splitlines()
    assert len(lines) > 20
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message", "request_id"} <= set(r) for r in records)
    assert any(r.get("message_id") == str(message_id) for r in records)
    assert any(r.get("customer_id") == str(live_account.pk) for r in records)
    text = captured_json_logs.getvalue()
    for secret_value in (live_account.raw_api_key, wrong_key, secret):
        assert secret_value not in text
    assert ApiKey.objects.filter(customer=live_account).exists()


def test_a_line_logged_in_a_request_carries_its_ids():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdLogFilter())
    probe = logging.getLogger("probe.request")
    probe.addHandler(handler)
    try:
        token = request_started("req_abc")
        log_context_set(customer_id="cus-1")
        with log_context(message_id="msg-1"):
            probe.warning("inside")
        probe.warning("after the message")
        request_finished(token)
        probe.warning("outside")
    finally:
        probe.removeHandler(handler)
    inside, after, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (inside["request_id"], inside["customer_id"], inside["message_id"]) == (
        "req_abc",
        "cus-1",
        "msg-1",
    )
    assert after["customer_id"] == "cus-1" and "message_id" not in after
    assert outside["request_id"] == "-" and "customer_id" not in outside


def test_scrub_masks_the_shapes_of_secrets():
    key = "sent_" + "A1b2" * 10
    line = scrub(f"key {key} Authorization: Bearer abcdefghijkl token=s3cr3tvalue")
    assert key not in line and "abcdefghijkl" not in line and "s3cr3tvalue" not in line
    assert "sent_project.retention" in scrub("logger sent_project.retention")


def test_plain_is_the_default_and_json_is_one_object_per_line():
    run = [
        sys.executable,
        "-c",
        "import django; django.setup(); import logging; "
        "logging.getLogger('probe').warning('hello %s', 'there')",
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sent_project.settings"}
    env.pop("LOG_FORMAT", None)
    plain = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "WARNING [-] probe: hello there" in plain.stderr
    as_json = subprocess.run(
        run, cwd=ROOT, env={**env, "LOG_FORMAT": "json"}, capture_output=True, text=True, check=True
    )
    [line] = [line for line in as_json.stderr.splitlines() if '"probe"' in line]
    assert json.loads(line)["message"] == "hello there"
    refused = subprocess.run(
        run, cwd=ROOT, env={**env, "LOG_FORMAT": "xml"}, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "LOG_FORMAT must be plain or json" in refused.stderr


def test_sentry_is_set_up_only_when_sentry_dsn_is_set():
    probe = [
        sys.executable,
        "-c",
        "import django; django.setup(); import sys, sentry_sdk; "
        "print(sentry_sdk.get_client().is_active(), 'sentry_sdk' in sys.modules)",
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sent_project.settings"}
    env.pop("SENTRY_DSN", None)
    unset = subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert unset.stdout.split()[0] == "False"
    dsn = {**env, "SENTRY_DSN": "http://public@127.0.0.1:9/1"}
    active = subprocess.run(probe, cwd=ROOT, env=dsn, capture_output=True, text=True, check=True)
    assert active.stdout.split()[0] == "True"


def test_the_plain_formatter_masks_too():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "key %s", ("sent_" + "z" * 40,), None
    )
    record.request_id = "-"
    assert "zzzz" not in PlainFormatter("%(message)s").format(record)
