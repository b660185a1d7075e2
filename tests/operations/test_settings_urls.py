"""DATABASE_URL through dj-database-url, and /docs/ without collectstatic
(docs/operations.md#configuration)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from django.conf import settings as django_settings
from django.test import Client, override_settings

ROOT = Path(django_settings.BASE_DIR)
PROBE = (
    "import django; django.setup(); from django.db import connection as c; "
    "print(c.vendor, c.settings_dict['NAME'], c.settings_dict['OPTIONS'].get('transaction_mode'))"
)


def settings_of(**env) -> subprocess.CompletedProcess:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "sent_project.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True
    )


def test_database_url_takes_a_sqlite_path_and_a_postgres_url(tmp_path):
    path = tmp_path / "sent.sqlite3"
    sqlite = settings_of(DATABASE_URL=f"sqlite:///{path}")
    assert sqlite.returncode == 0, sqlite.stderr
    assert sqlite.stdout.split() == ["sqlite", str(path), "IMMEDIATE"]
    postgres = settings_of(DATABASE_URL="postgres://sent:pw@db.internal:5433/sent_prod")
    assert postgres.stdout.split()[:2] == ["postgresql", "sent_prod"]
    refused = settings_of(DATABASE_URL="mysql://x@y/z")
    assert refused.returncode != 0
    assert "DATABASE_URL must be a postgres:// or sqlite:/// URL" in refused.stderr


@pytest.mark.django_db
def test_docs_answer_without_collectstatic(tmp_path):
    storages = {
        **django_settings.STORAGES,
        "staticfiles": {"BACKEND": "sent_project.storage.StaticFilesStorage"},
    }
    with override_settings(DEBUG=False, STATIC_ROOT=tmp_path, STORAGES=storages):
        response = Client().get("/docs/")
    assert response.status_code == 200
    assert b"redoc" in response.content.lower()


DOC_URL_PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "from django.test import Client; from django.test.utils import setup_test_environment; "
    "setup_test_environment(); settings.ALLOWED_HOSTS = ['testserver']; "
    "print(settings.SITE_URL); "
    "print(Client().get('/v3/me').json()['error']['doc_url'])"
)


@pytest.mark.parametrize(
    "env,site",
    [
        ({"PORT": "9123"}, "http://127.0.0.1:9123"),
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "9123", "SITE_URL": "https://sent.example.com/"}, "https://sent.example.com"),
    ],
)
def test_error_doc_urls_follow_the_port_make_run_listens_on(env, site):
    """`PORT=9123 make run`: SITE_URL unset follows HOST and PORT, so an error's doc_url opens
    on the server that answered (docs/operations.md#configuration)."""
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "sent_project.settings", **env}
    for name in ("SITE_URL", "HOST", "PORT"):
        if name not in env:
            full.pop(name, None)
    probe = subprocess.run(
        [sys.executable, "-c", DOC_URL_PROBE], cwd=ROOT, env=full, capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [site, f"{site}/docs/errors/#AUTH_001"]
