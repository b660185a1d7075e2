"""Secrets at rest, deploy checks and CSRF (docs/reliability.md#19-secrets-at-rest-and-limits
and docs/reliability.md#20-fuzzing-deploy-checks-and-csrf)."""

import io
import os
import re
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command

from billing.models import ApiKey
from billing.services import api_key_create


def test_no_column_anywhere_holds_a_raw_api_key(account, other_account):
    extra = api_key_create(account, name="second").raw_key
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    text = dump.getvalue()
    for raw in (account.raw_api_key, other_account.raw_api_key, extra):
        assert raw not in text
        assert raw[12:] not in text  # not even the secret part
    assert ApiKey.objects.filter(prefix=account.raw_api_key[:12]).exists()


def test_check_deploy_on_production_settings_has_only_the_https_at_proxy_warnings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "ALLOWED_HOSTS": "sent.example.com",
        "SENT_VAR_DIR": str(tmp_path),
        # Production sends its invitations by SMTP (console mail is refused: mail.E001).
        "EMAIL_URL": "smtp://mailer.example.com:587",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' fixture
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    found = set(re.findall(r"\((\w+\.[EW]\d+)\)", output))
    # HSTS and the HTTPS redirect belong to the TLS-terminating reverse proxy
    # (docs/operations.md#deploy-checks).
    assert found <= {"security.W004", "security.W008"}, output


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**os.environ, "DEBUG": "false", "SENT_VAR_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_post_without_the_csrf_token_is_refused_and_with_it_accepted(dashboard_user, client):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(dashboard_user)
    assert browser.post("/logout/", HTTP_HX_REQUEST="true").status_code == 403
    browser.get("/login/")  # sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    response = browser.post("/logout/", HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
