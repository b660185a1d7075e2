"""POST/GET/PATCH/DELETE /v3/contacts…: plain HTTP with DRF's client."""

import uuid

import pytest

from contacts.models import ConsentEvent, Contact
from sent_project.models import Event
from tests.contacts.factories import make_contact

SEED_FORMATS = ["+1 234-567-8900", "(234) 567-8900", "234-567-8900"]


def create(client, phone_number, **extra):
    return client.post("/v3/contacts", {"phone_number": phone_number, **extra}, format="json")


@pytest.mark.parametrize("phone_number", SEED_FORMATS)
def test_every_seed_format_creates_the_same_normalised_contact(api_client, account, phone_number):
    response = create(api_client, phone_number)
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["error"] is None
    data = body["data"]
    assert data["phone_number"] == phone_number
    assert data["format_e164"] == "+12345678900"
    assert data["format_international"] == "+1 234-567-8900"
    assert data["format_national"] == "(234) 567-8900"
    assert data["format_rfc"] == "tel:+1-234-567-8900"
    assert (data["country_code"], data["region_code"]) == ("1", "US")
    assert data["available_channels"] == "sms,whatsapp"
    assert data["default_channel"] == "whatsapp"
    assert data["opt_out"] is False and data["is_inherited"] is False
    assert data["customer_id"] == str(account.pk)
    assert data["line_type"] == "fixed_line_or_mobile"
    assert data["time_zones"] == ["America/New_York"]
    assert data["channels"]["whatsapp"]["available"] is True
    assert data["metadata"] == {}
    assert Contact.objects.get(pk=data["id"]).customer_id == account.pk


def test_creating_an_existing_number_returns_it_with_200(api_client, account):
    first = create(api_client, "+1 234-567-8900").json()["data"]
    response = create(api_client, "234-567-8900")
    assert response.status_code == 200
    assert response.json()["data"]["id"] == first["id"]
    assert Contact.objects.filter(customer=account).count() == 1


def test_the_same_number_for_another_account_is_a_new_contact(api_client, other_api_client):
    mine = create(api_client, "+12345678900").json()["data"]
    response = create(other_api_client, "+12345678900")
    assert response.status_code == 201 and response.json()["data"]["id"] != mine["id"]


@pytest.mark.parametrize(
    ("phone_number", "says"),
    [
        ("", "empty"),
        ("abc", "letters"),
        ("12", "too short"),
        ("+1 234 567 8900 1234 5678", "too long"),
        ("+999 1234 5678", "unknown country calling code"),
        ("+1 234 167 8900", "not a valid US number"),
        ("555-0100", "too short"),
    ],
)
def test_bad_numbers_are_400_validation_002_saying_what_is_wrong(
    api_client, account, phone_number, says
):
    response = create(api_client, phone_number)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_002"
    assert says in error["message"]
    assert error["details"]["phone_number"] == [error["message"]]
    assert not Contact.objects.exists()


def test_a_missing_phone_number_is_a_validation_error(api_client, account):
    response = api_client.post("/v3/contacts", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_004"
    assert "phone_number" in response.json()["error"]["details"]


def test_national_numbers_are_read_in_the_customers_default_region(api_client, account):
    account.default_region = "GB"
    account.save(update_fields=["default_region"])
    response = create(api_client, "07400 123456")
    assert response.json()["data"]["format_e164"] == "+447400123456"
    assert response.json()["data"]["line_type"] == "mobile"


def test_metadata_is_stored_and_capped(api_client, account, settings):
    response = create(api_client, "+12345678900", metadata={"name": "Ana", "tier": "gold"})
    assert response.json()["data"]["metadata"] == {"name": "Ana", "tier": "gold"}
    settings.CONTACTS_METADATA_MAX_BYTES = 100
    response = create(api_client, "+12345678901", metadata={"blob": "x" * 200})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_005"
    assert "at most 100" in response.json()["error"]["details"]["metadata"][0]
    response = create(api_client, "+12345678901", metadata=["not", "an", "object"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_001"


# Raw JSON: a \u0000 escape, a lone \ud800 and 1e400 (infinity) parse, but neither PostgreSQL
# (NUL) nor UTF-8 (unpaired surrogates) nor JSON (infinity) can store them.
UNSTORABLE_METADATA = [
    '{"note": "a\\u0000b"}',
    '{"a\\u0000": "b"}',
    '{"note": "\\ud800"}',
    '{"deep": [{"x": "\\udc00"}], "n": 1}',
    '{"big": [1e400]}',
]


@pytest.mark.parametrize("metadata", UNSTORABLE_METADATA)
def test_metadata_that_cannot_be_stored_is_refused(api_client, account, metadata):
    body = '{"phone_number": "+12345678900", "metadata": ' + metadata + "}"
    response = api_client.generic("POST", "/v3/contacts", body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_001" and "metadata" in error["details"]
    assert not Contact.objects.exists()
    contact = make_contact(account, metadata={"kept": "yes"})
    body = '{"metadata": ' + metadata + "}"
    response = api_client.generic(
        "PATCH", f"/v3/contacts/{contact.pk}", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_001"
    assert Contact.objects.get(pk=contact.pk).metadata == {"kept": "yes"}


def test_sandbox_create_answers_as_the_real_call_but_writes_nothing(api_client, account):
    response = create(api_client, "+12345678900", sandbox=True)
    assert response.status_code == 201
    assert response["X-Sandbox"] == "true"
    assert response.json()["data"]["format_e164"] == "+12345678900"
    assert not Contact.objects.exists() and not Event.objects.exists()


def test_requests_without_a_key_are_401(client, db):
    assert client.get("/v3/contacts").status_code == 401
    response = client.post(
        "/v3/contacts", {"phone_number": "+12345678900"}, content_type="application/json"
    )
    assert response.status_code == 401 and response.json()["error"]["code"] == "AUTH_001"


def test_retrieve_returns_the_contact(api_client, account):
    contact = make_contact(account)
    response = api_client.get(f"/v3/contacts/{contact.pk}")
    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(contact.pk)


def test_another_accounts_contact_is_404_resource_001(api_client, other_account):
    contact = make_contact(other_account)
    for method in ("get", "patch", "delete"):
        response = getattr(api_client, method)(f"/v3/contacts/{contact.pk}", {}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "RESOURCE_001"
    assert api_client.get(f"/v3/contacts/{uuid.uuid4()}").json()["error"]["code"] == "RESOURCE_001"
    assert Contact.objects.get(pk=contact.pk).deleted_at is None


def test_patch_sets_a_custom_default_channel(api_client, account):
    contact = make_contact(account)
    response = api_client.patch(
        f"/v3/contacts/{contact.pk}", {"default_channel": "sms"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"]["default_channel"] == "sms"
    assert response.json()["data"]["default_channel_is_custom"] is True
    event = Event.objects.filter(subject_id=contact.pk).last()
    assert event.event == "contact.updated" and event.payload["default_channel"] == "sms"


def test_patch_refuses_a_channel_the_contact_does_not_have(api_client, account):
    contact = make_contact(account, "+12015550050")  # no WhatsApp
    response = api_client.patch(
        f"/v3/contacts/{contact.pk}", {"default_channel": "whatsapp"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_006"
    assert "no whatsapp channel (available: sms)" in error["details"]["default_channel"][0]
    response = api_client.patch(
        f"/v3/contacts/{contact.pk}", {"default_channel": "fax"}, format="json"
    )
    assert response.json()["error"]["code"] == "VALIDATION_006"
    assert "default_channel" in response.json()["error"]["details"]
    assert Contact.objects.get(pk=contact.pk).default_channel == "sms"


def test_patch_opt_out_records_consent_and_emits_events(api_client, account):
    contact = make_contact(account)
    response = api_client.patch(f"/v3/contacts/{contact.pk}", {"opt_out": True}, format="json")
    assert response.json()["data"]["opt_out"] is True
    ledger = ConsentEvent.objects.get(contact=contact)
    assert (ledger.opt_out, ledger.source) == (True, "api")
    events = list(Event.objects.filter(subject_id=contact.pk).values_list("event", flat=True))
    assert events == ["contact.created", "contact.opt_out", "contact.updated"]
    api_client.patch(f"/v3/contacts/{contact.pk}", {"opt_out": False}, format="json")
    assert Event.objects.filter(subject_id=contact.pk, event="contact.opt_in").exists()
    assert ConsentEvent.objects.filter(contact=contact).count() == 2


def test_patch_null_means_unchanged(api_client, account):
    contact = make_contact(account, metadata={"a": "1"})
    api_client.patch(f"/v3/contacts/{contact.pk}", {"opt_out": True}, format="json")
    response = api_client.patch(
        f"/v3/contacts/{contact.pk}",
        {"opt_out": None, "default_channel": None, "metadata": None},
        format="json",
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["opt_out"] is True and data["metadata"] == {"a": "1"}
    assert data["default_channel"] == "whatsapp"
    assert ConsentEvent.objects.filter(contact=contact).count() == 1


def test_patch_metadata_replaces_it_and_makes_it_searchable(api_client, account):
    contact = make_contact(account, metadata={"name": "Ana"})
    response = api_client.patch(
        f"/v3/contacts/{contact.pk}", {"metadata": {"name": "Bea"}}, format="json"
    )
    assert response.json()["data"]["metadata"] == {"name": "Bea"}
    assert api_client.get("/v3/contacts?search=bea").json()["data"]["contacts"][0]["id"] == str(
        contact.pk
    )
    assert api_client.get("/v3/contacts?search=ana").json()["data"]["contacts"] == []


def test_patch_with_nothing_to_change_emits_nothing(api_client, account):
    contact = make_contact(account)
    response = api_client.patch(f"/v3/contacts/{contact.pk}", {}, format="json")
    assert response.status_code == 200
    assert Event.objects.filter(subject_id=contact.pk).count() == 1


def test_sandbox_patch_changes_nothing(api_client, account):
    contact = make_contact(account)
    response = api_client.patch(
        f"/v3/contacts/{contact.pk}", {"opt_out": True, "sandbox": True}, format="json"
    )
    assert response.json()["data"]["opt_out"] is True
    assert Contact.objects.get(pk=contact.pk).opt_out is False
    assert not ConsentEvent.objects.exists()


def test_delete_answers_200_and_hides_the_contact_but_keeps_the_row(api_client, account):
    contact = make_contact(account)
    response = api_client.delete(f"/v3/contacts/{contact.pk}", {}, format="json")
    assert response.status_code == 200
    assert response.json()["data"] == {"id": str(contact.pk), "deleted": True}
    assert api_client.get(f"/v3/contacts/{contact.pk}").status_code == 404
    assert api_client.get("/v3/contacts").json()["data"]["contacts"] == []
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None
    assert Event.objects.filter(subject_id=contact.pk).last().event == "contact.deleted"
    assert api_client.delete(f"/v3/contacts/{contact.pk}").status_code == 404


def test_a_deleted_number_can_be_created_again(api_client, account):
    contact = make_contact(account)
    api_client.delete(f"/v3/contacts/{contact.pk}")
    response = create(api_client, "+12345678900")
    assert response.status_code == 201 and response.json()["data"]["id"] != str(contact.pk)


def test_sandbox_delete_deletes_nothing(api_client, account):
    contact = make_contact(account)
    response = api_client.delete(f"/v3/contacts/{contact.pk}", {"sandbox": True}, format="json")
    assert response.status_code == 200 and response["X-Sandbox"] == "true"
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_wrong_methods_are_405(api_client, account):
    contact = make_contact(account)
    assert api_client.put(f"/v3/contacts/{contact.pk}", {}, format="json").status_code == 405
    response = api_client.delete("/v3/contacts")
    assert response.status_code == 405 and response.json()["error"]["code"] == "REQUEST_002"
