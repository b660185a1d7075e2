"""Every page carries the Content-Security-Policy (this origin only, no inline script) next to
the headers it had before (docs/operations.md#security-headers)."""

import pytest


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/docs/errors/", "/v3/me"])
def test_the_policy_and_the_other_security_headers(client, db, path):
    response = client.get(path)
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no CDN
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_api_docs_widen_styles_and_workers_for_redoc_only(client, db):
    response = client.get("/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "worker-src 'self' blob:" in policy
    assert "script-src 'self';" in policy + ";"
    html = response.content.decode()
    assert "fonts.googleapis.com" not in html and "<script>" not in html
