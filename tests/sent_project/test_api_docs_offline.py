"""The API docs page (/docs/) works offline: every script, style, font and image it loads is
this server's own — Redoc is vendored in static/vendor/redoc/ from the pinned
drf-spectacular-sidecar, its CDN logo replaced (docs/operations.md#dependencies-and-the-lock-file).
The browser half is tests/dashboard/test_csp_browser.py."""

import re
from pathlib import Path

from django.conf import settings

from sent_project.management.commands.vendor_redoc import REMOTE_LOGO, vendored_bundle

VENDORED = Path(settings.BASE_DIR) / "static" / "vendor" / "redoc" / "redoc.standalone.js"
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def assets_of(html: str) -> list[str]:
    return re.findall(r"""<(?:script|link|img)\b[^>]*?(?:src|href)="([^"]+)\"""", html)


def test_the_docs_page_loads_nothing_from_another_server(client, db):
    response = client.get("/docs/")
    assert response.status_code == 200
    html = response.text
    assert "{#" not in html and "<redoc spec-url=" in html
    assert not REMOTE.search(html), REMOTE.search(html)
    assert not re.search(r"https?://", html), "a remote URL on the docs page"
    assets = assets_of(html)
    assert any(url.endswith("redoc.standalone.js") for url in assets), assets
    for url in assets:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".js"):
            body = b"".join(asset.streaming_content).decode()
            assert REMOTE_LOGO not in body and "fonts.googleapis.com" not in body, url


def test_the_schema_names_no_remote_logo(client, db):
    schema = client.get("/v3/openapi.json").json()
    assert "x-logo" not in schema.get("info", {})


def test_the_vendored_redoc_is_the_pinned_sidecars_made_offline():
    """After moving drf-spectacular-sidecar's pin, `manage.py vendor_redoc` refreshes the copy."""
    assert VENDORED.read_text(encoding="utf-8") == vendored_bundle()
    pin = re.search(
        r'"drf-spectacular-sidecar==([\d.]+)"', (VENDORED.parents[3] / "pyproject.toml").read_text()
    )
    lock = (VENDORED.parents[3] / "requirements.lock").read_text()
    assert pin and f"drf-spectacular-sidecar=={pin[1]}\n" in lock
