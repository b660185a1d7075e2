"""Every /v3 response, success or error, is the envelope; errors carry stable codes."""

import logging

import pytest

from billing.services import api_key_revoke

pytestmark = pytest.mark.urls("tests.sent_project.probe_urls")


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["data"] is None
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["doc_url"].endswith(f"/docs/errors/#{code}")
    assert set(body["meta"]) >= {"request_id", "timestamp", "version"}
    assert body["meta"]["request_id"] == response["X-Request-Id"]
    return body


def test_a_missing_key_gets_401_auth_001(client, db):
    assert_error(client.get("/v3/me"), 401, "AUTH_001")


def test_an_unknown_key_gets_401_auth_002(client, db):
    assert_error(client.get("/v3/me", HTTP_X_API_KEY="sent_nope"), 401, "AUTH_002")


def test_a_revoked_key_gets_401(api_client, account):
    assert api_client.get("/v3/me").status_code == 200
    api_key_revoke(account, api_key_id=account.api_keys.get().pk)
    assert_error(api_client.get("/v3/me"), 401, "AUTH_002")


def test_an_unknown_route_gets_404_in_the_envelope(api_client):
    body = assert_error(api_client.get("/v3/no-such-thing"), 404, "RESOURCE_009")
    assert "/v3/no-such-thing" in body["error"]["message"]


def test_an_unknown_route_without_a_key_is_still_the_envelope(client, db):
    assert_error(client.post("/v3/nothing/here"), 404, "RESOURCE_009")


def test_a_wrong_method_gets_405(api_client):
    assert_error(api_client.delete("/v3/me"), 405, "REQUEST_002")


def test_malformed_json_gets_400_request_001(api_client):
    response = api_client.post(
        "/v3/probe/top-up", data='{"amount": 1', content_type="application/json"
    )
    assert_error(response, 400, "REQUEST_001")


def test_json_nested_too_deeply_gets_400_request_001(api_client):
    nested = "[" * 100_000 + "]" * 100_000  # 200 kB: under the size limit, over the parser's
    response = api_client.post(
        "/v3/probe/top-up", data=f'{{"amount": {nested}}}', content_type="application/json"
    )
    assert_error(response, 400, "REQUEST_001")


def test_a_form_body_gets_415(api_client):
    response = api_client.post(
        "/v3/probe/top-up", data="amount=1", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "REQUEST_003")


def test_validation_errors_name_the_field(api_client):
    body = assert_error(
        api_client.post("/v3/probe/top-up", {"amount": "-3"}), 400, "VALIDATION_005"
    )
    assert list(body["error"]["details"]) == ["amount"]
    assert body["error"]["details"]["amount"]


def test_an_unexpected_error_is_a_500_without_a_stack_trace(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="sent.api"):
        response = api_client.get("/v3/probe/boom")
    body = assert_error(response, 500, "INTERNAL_001")
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    # ...but the operator's log has it, tagged with the request id.
    record = next(r for r in caplog.records if r.name == "sent.api")
    assert record.exc_info is not None
    assert record.request_id == body["meta"]["request_id"]


def test_success_responses_carry_request_id_and_version(api_client):
    response = api_client.get("/v3/me")
    body = response.json()
    assert body["success"] is True and body["error"] is None
    assert body["meta"]["version"] == "v3"
    assert response["X-Request-Id"].startswith("req_")
    assert response["X-Request-Id"] == body["meta"]["request_id"]
    assert api_client.get("/v3/me")["X-Request-Id"] != response["X-Request-Id"]


def test_a_foreign_profile_id_gets_404(api_client, other_account, account):
    assert_error(
        api_client.get("/v3/me", HTTP_X_PROFILE_ID=str(other_account.pk)), 404, "RESOURCE_004"
    )
    assert api_client.get("/v3/me", HTTP_X_PROFILE_ID=str(account.pk)).status_code == 200


def test_a_path_with_a_newline_is_still_the_envelope(api_client, settings):
    settings.DEBUG = True  # the catch-all must match, not Django's HTML debug 404
    response = api_client.get("/v3/templates/%0A.x")
    assert_error(response, 404, "RESOURCE_009")
