"""Metadata nests at most CONTACTS_METADATA_MAX_DEPTH levels (32): deeper is a 400
VALIDATION_005 on the API, an error next to the field on the dashboard, and an invalid row of
an import whose other rows are imported (docs/api/contacts.md#metadata). Whatever the depth,
nothing recurses: ~990 levels used to be a RecursionError, a 500."""

import json

import pytest

from contacts.models import Contact
from tests.contacts.factories import make_contact, make_import
from tests.tasks import run_queued_tasks


def nested(levels: int) -> dict:
    """An object `levels` deep: {"a": {"a": … {"a": 1}}} (the outer object is level 1)."""
    return json.loads('{"a": ' * (levels - 1) + "{}" + "}" * (levels - 1))


def raw(levels: int) -> str:
    return '{"a": ' * (levels - 1) + '{"b": 1}' + "}" * (levels - 1)


@pytest.mark.parametrize("levels", [33, 990])
def test_the_api_refuses_metadata_deeper_than_32_levels(api_client, account, levels):
    body = '{"phone_number": "+12015550100", "metadata": ' + raw(levels) + "}"
    response = api_client.generic("POST", "/v3/contacts", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_005"
    assert "at most 32 levels" in error["details"]["metadata"][0]
    assert not Contact.objects.exists()
    contact = make_contact(account, metadata={"kept": "yes"})
    response = api_client.generic(
        "PATCH",
        f"/v3/contacts/{contact.pk}",
        '{"metadata": ' + raw(levels) + "}",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_005"
    assert Contact.objects.get(pk=contact.pk).metadata == {"kept": "yes"}


def test_32_levels_are_stored_and_searchable(api_client):
    metadata = nested(31)
    inner = metadata
    while inner:
        inner = inner["a"]
    inner["a"] = "deepvalue"  # 32 levels
    response = api_client.post(
        "/v3/contacts", {"phone_number": "+12015550101", "metadata": metadata}, format="json"
    )
    assert response.status_code == 201, response.content[:300]
    found = api_client.get("/v3/contacts", {"search": "deepvalue"}).json()["data"]
    assert [c["phone_number"] for c in found["contacts"]] == ["+12015550101"]


def test_the_dashboard_form_says_what_is_wrong(dashboard_client, account):
    contact = make_contact(account, metadata={"name": "Ana"})
    response = dashboard_client.post(
        f"/contacts/{contact.pk}/metadata/", {"metadata": raw(990)}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="id_metadata_error"' in response.text and "at most 32 levels" in response.text
    contact.refresh_from_db()
    assert contact.metadata == {"name": "Ana"}


def test_an_import_marks_the_deep_row_invalid_and_imports_the_rest(
    api_client, account, django_capture_on_commit_callbacks
):
    body = (
        '{"contacts": [{"phone_number": "+12015550001"},'
        ' {"phone_number": "+12015550002", "metadata": ' + raw(990) + "},"
        ' {"phone_number": "+12015550003", "metadata": {"tier": "gold"}}]}'
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.generic(
            "POST", "/v3/contacts/import", body, content_type="application/json"
        )
    assert response.status_code == 202, response.content[:300]
    run_queued_tasks()
    data = api_client.get(f"/v3/contacts/import/{response.json()['data']['id']}").json()["data"]
    assert data["status"] == "completed"
    assert [row["status"] for row in data["rows"]] == ["created", "invalid", "created"]
    assert "at most 32 levels" in data["rows"][1]["reason"]
    assert sorted(Contact.objects.values_list("format_e164", flat=True)) == [
        "+12015550001",
        "+12015550003",
    ]


def test_rows_too_deep_to_encode_are_invalid_rows_too(account, django_capture_on_commit_callbacks):
    deep: dict = {}
    for _ in range(5000):  # deeper than any recursive encoder goes
        deep = {"a": deep}
    with django_capture_on_commit_callbacks(execute=True):
        contact_import = make_import(
            account,
            [
                {"phone_number": "+12015550001", "metadata": deep},
                {"phone_number": "+12015550002"},
            ],
        )
    run_queued_tasks()
    assert list(Contact.objects.values_list("format_e164", flat=True)) == ["+12015550002"]
    invalid = contact_import.rows.get(row_number=1)
    assert "at most 32 levels" in invalid.reason
