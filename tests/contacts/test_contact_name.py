"""A contact's name (docs/api/contacts.md#names): on the wire (read always, written through the
body as our extension), in the service's rules, and in search."""

import pytest

from contacts.api.serializers import ContactSerializer
from contacts.models import Contact
from contacts.selectors import contacts_for
from contacts.services import contact_create, contact_update
from sent_project.errors import ValidationFailed
from tests.contacts.factories import make_contact
from tests.contacts.test_serializers import _declared

CONTACTS = "/v3/contacts"


def test_create_takes_a_name_and_every_representation_shows_it(api_client, account):
    response = api_client.post(
        CONTACTS, {"phone_number": "+14155550100", "name": "  Ana Silva "}, format="json"
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["name"] == "Ana Silva"  # trimmed
    assert Contact.objects.get(pk=data["id"]).name == "Ana Silva"
    assert api_client.get(f"{CONTACTS}/{data['id']}").json()["data"]["name"] == "Ana Silva"
    unnamed = api_client.post(CONTACTS, {"phone_number": "+14155550101"}, format="json")
    assert unnamed.json()["data"]["name"] == ""


def test_update_changes_clears_or_keeps_the_name(api_client, account):
    contact = make_contact(account, "+14155550100")
    url = f"{CONTACTS}/{contact.pk}"
    assert api_client.patch(url, {"name": "Ana"}, format="json").json()["data"]["name"] == "Ana"
    kept = api_client.patch(url, {"opt_out": False, "name": None}, format="json")
    assert kept.json()["data"]["name"] == "Ana"  # null: unchanged, like every field
    assert api_client.patch(url, {"name": ""}, format="json").json()["data"]["name"] == ""


@pytest.mark.parametrize("name", [5, ["Ana"], "x" * 201])
def test_a_name_that_is_not_short_text_is_refused(api_client, account, name):
    contact = make_contact(account, "+14155550100")
    for response in (
        api_client.post(CONTACTS, {"phone_number": "+14155550101", "name": name}, format="json"),
        api_client.patch(f"{CONTACTS}/{contact.pk}", {"name": name}, format="json"),
    ):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"].startswith("VALIDATION_") and "name" in error["details"]
    assert not Contact.objects.filter(format_e164="+14155550101").exists()
    contact.refresh_from_db()
    assert contact.name == ""


def test_the_service_refuses_what_it_cant_store(account):
    with pytest.raises(ValidationFailed) as refused:
        contact_create(account, phone_number="+14155550100", name="Ana\x00")
    assert "name" in refused.value.details
    contact = make_contact(account, "+14155550100")
    with pytest.raises(ValidationFailed):
        contact_update(account, contact_id=contact.pk, name="y" * 201)


def test_search_finds_a_contact_by_name_and_follows_changes(account, other_account):
    ana = make_contact(account, "+14155550100")
    contact_update(account, contact_id=ana.pk, name="Ana Silva", metadata={"tier": "gold"})
    make_contact(account, "+14155550101", metadata={"tier": "silver"})
    foreign, _ = contact_create(other_account, phone_number="+14155550100", name="Ana Silva")

    def found(search):
        return set(contacts_for(account, search=search).values_list("pk", flat=True))

    assert found("silva") == {ana.pk} and found("ANA S") == {ana.pk}
    assert found("gold") == {ana.pk} and found("555-0100") == {ana.pk}  # the rest still works
    assert foreign.pk not in found("silva")
    contact_update(account, contact_id=ana.pk, name="Bea")
    assert found("silva") == set() and found("bea") == {ana.pk}
    contact_update(account, contact_id=ana.pk, metadata={"tier": "bronze"})
    assert found("bea") == {ana.pk}  # a metadata change keeps the name searchable


def test_the_api_search_finds_names(api_client, account):
    named, _ = contact_create(account, phone_number="+14155550100", name="Zoë Durand")
    make_contact(account, "+14155550101")
    found = api_client.get(CONTACTS, {"search": "durand"}).json()["data"]
    assert [contact["id"] for contact in found["contacts"]] == [str(named.pk)]


def test_the_hand_built_representation_matches_the_declared_fields_with_a_name(account):
    contact, _ = contact_create(account, phone_number="+14155550100", name="Zoë")
    shown = ContactSerializer(contact).data
    assert shown == _declared(contact) and list(shown) == list(_declared(contact))
    assert shown["name"] == "Zoë"


def test_the_sdk_reads_the_name_and_sends_it_as_an_extra_body_field(sdk, live_account):
    created = sdk.contacts.create(phone_number="+14155550100", extra_body={"name": "Ana"}).data
    assert created.format_e164 == "+14155550100"  # the SDK's model still reads the contact
    assert created.to_dict()["name"] == "Ana"  # our extra field reaches it too
    updated = sdk.contacts.update(created.id, extra_body={"name": "Ana Silva"}).data
    assert updated.to_dict()["name"] == "Ana Silva"
    assert Contact.objects.get(pk=created.id).name == "Ana Silva"
