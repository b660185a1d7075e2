"""GET /v3/numbers/lookup/{phone_number}: facts about a number, without creating a contact."""

import pytest

from contacts.models import Contact


@pytest.mark.parametrize(
    "path", ["+12345678900", "%2B12345678900", "(234)%20567-8900", "2345678900"]
)
def test_lookup_answers_formats_line_type_and_channels(api_client, account, path):
    response = api_client.get(f"/v3/numbers/lookup/{path}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["phone_number"] == "+12345678900"
    assert data["country_code"] == "1" and data["region_code"] == "US"
    assert data["is_valid"] is True
    assert data["line_type"] == "fixed_line_or_mobile"
    assert data["is_voip"] is False and data["is_ported"] is None
    assert data["format_national"] == "(234) 567-8900"
    assert data["available_channels"] == "sms,whatsapp"
    assert not Contact.objects.exists()


def test_lookup_knows_carriers_and_fixed_lines(api_client, account):
    mobile = api_client.get("/v3/numbers/lookup/+4915112345678").json()["data"]
    assert (mobile["carrier_name"], mobile["line_type"], mobile["time_zones"]) == (
        "T-Mobile",
        "mobile",
        ["Europe/Berlin"],
    )
    landline = api_client.get("/v3/numbers/lookup/+442079460958").json()["data"]
    assert (landline["line_type"], landline["available_channels"]) == ("fixed_line", "")


def test_a_number_that_parses_but_is_not_valid_is_reported_invalid(api_client, account):
    data = api_client.get("/v3/numbers/lookup/+12341678900").json()["data"]
    assert data["is_valid"] is False and data["available_channels"] == ""
    assert data["phone_number"] == "+12341678900"
    assert "not a valid US number" in data["validation_error"]


def test_something_that_is_not_a_number_is_invalid_with_the_reason(api_client, account):
    response = api_client.get("/v3/numbers/lookup/hello")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["is_valid"], data["phone_number"], data["available_channels"]) == (
        False,
        "hello",
        "",
    )
    assert "letters" in data["validation_error"]
    valid = api_client.get("/v3/numbers/lookup/+12345678900").json()["data"]
    assert valid["validation_error"] is None


def test_lookup_needs_a_key(client, db):
    assert client.get("/v3/numbers/lookup/+12345678900").status_code == 401
