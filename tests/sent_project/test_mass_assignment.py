"""Writes that carry server-owned fields never change them
(docs/reliability.md#18-server-owned-fields-cant-be-assigned)."""

import uuid

from billing.models import Customer
from contacts.models import Contact
from templates_app.models import Template
from tests.contacts.factories import make_contact
from tests.templates_app.factories import definition, make_template

FOREIGN = {
    "id": str(uuid.uuid4()),
    "customer": str(uuid.uuid4()),
    "customer_id": str(uuid.uuid4()),
    "balance": "999999",
    "status": "APPROVED",
    "price": "0",
}


def test_contact_create_ignores_server_owned_fields(api_client, account, other_account):
    response = api_client.post(
        "/v3/contacts", {"phone_number": "+14155550111", **FOREIGN}, format="json"
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["id"] != FOREIGN["id"] and data["customer_id"] == str(account.pk)
    contact = Contact.objects.get(pk=data["id"])
    assert contact.customer == account
    assert Customer.objects.get(pk=account.pk).balance == 100
    assert not Contact.objects.filter(customer=other_account).exists()


def test_contact_update_ignores_server_owned_fields(api_client, account):
    contact = make_contact(account)
    response = api_client.patch(
        f"/v3/contacts/{contact.pk}", {"opt_out": True, **FOREIGN}, format="json"
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.pk, contact.customer_id, contact.opt_out) == (contact.pk, account.pk, True)


def test_template_create_and_update_ignore_status_and_owner(api_client, account):
    response = api_client.post(
        "/v3/templates",
        {"definition": definition(), "category": "UTILITY", **FOREIGN},
        format="json",
    )
    assert response.status_code == 201
    template = Template.objects.get(pk=response.json()["data"]["id"])
    assert (template.customer_id, template.status) == (account.pk, "DRAFT")
    draft = make_template(account)
    response = api_client.put(
        f"/v3/templates/{draft.pk}", {"name": "renamed", **FOREIGN}, format="json"
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert (draft.name, draft.status, draft.customer_id) == ("renamed", "DRAFT", account.pk)


def test_webhook_create_ignores_owner_and_id(api_client, account, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = api_client.post(
        "/v3/webhooks",
        {"endpoint_url": "https://93.184.216.34/hook", "event_types": ["message"], **FOREIGN},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["id"] != FOREIGN["id"] and data["customer_id"] == str(account.pk)
