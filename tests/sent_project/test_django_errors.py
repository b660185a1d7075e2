"""Django's own refusals under /v3/ answer in the envelope too: a Host header outside
ALLOWED_HOSTS, too many fields (docs/api/errors.md#requests); pages elsewhere stay
Django's."""

from tests.sent_project.test_envelope_errors import assert_error


def test_a_host_outside_allowed_hosts_is_400_request_006_under_v3(api_client):
    response = api_client.get("/v3/me", HTTP_HOST="evil.example.com")
    body = assert_error(response, 400, "REQUEST_006")
    assert "evil.example.com" not in response.content.decode()
    assert "Host header" in body["error"]["message"]
    response = api_client.post(
        "/v3/contacts", {"phone_number": "+12015550100"}, HTTP_HOST="evil.example.com"
    )
    assert_error(response, 400, "REQUEST_006")


def test_outside_v3_the_400_is_djangos_page(client, db):
    response = client.get("/login/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_too_many_query_fields_under_v3_is_400_request_006_not_a_500(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    query = "&".join(f"f{n}=1" for n in range(10))
    body = assert_error(api_client.get(f"/v3/contacts?{query}"), 400, "REQUEST_006")
    assert "Too many" in body["error"]["message"]
