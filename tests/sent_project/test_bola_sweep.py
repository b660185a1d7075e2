"""docs/reliability.md#17-tenant-isolation-bola: for every id-bearing path in /v3/openapi.json,
another tenant using the owner's id gets a 404 indistinguishable from a random id's 404, and
changes nothing."""

import re
import uuid

import pytest

from billing.services import membership_create
from tests.contacts.factories import make_contact, make_import
from tests.messaging.factories import message_path_ids
from tests.messaging.webhook_helpers import webhook_path_ids
from tests.templates_app.factories import template_path_ids

# path template → builder(owner customer) → {path parameter: value}. Every id-bearing path in
# the schema must have one: a new endpoint without it fails `test_every_id_path_is_covered`.
ID_MAKERS: dict = {}
ID_MAKERS.update(
    {
        path: webhook_path_ids
        for path in [
            "/v3/webhooks/{id}",
            "/v3/webhooks/{id}/events",
            "/v3/webhooks/{id}/events/{event_id}/redeliver",
            "/v3/webhooks/{id}/rotate-secret",
            "/v3/webhooks/{id}/test",
            "/v3/webhooks/{id}/toggle-status",
        ]
    }
)
ID_MAKERS.update(
    {
        path: template_path_ids
        for path in [
            "/v3/templates/{id}",
            "/v3/templates/{id}/preview",
        ]
    }
)
ID_MAKERS.update(
    {
        "/v3/contacts/{contact_id}": lambda owner: {"contact_id": make_contact(owner).pk},
        "/v3/contacts/{contact_id}/consent": lambda owner: {"contact_id": make_contact(owner).pk},
        "/v3/contacts/{contact_id}/message-summary": lambda owner: {
            "contact_id": make_contact(owner).pk
        },
        "/v3/contacts/import/{import_id}": lambda owner: {"import_id": make_import(owner).pk},
        "/v3/users/{user_id}": lambda owner: {
            "user_id": membership_create(
                owner, username=f"u{uuid.uuid4().hex[:8]}", password="x", role="developer"
            ).public_id
        },
        # A conversation's id is its contact's.
        "/v3/conversations/{contact_id}": lambda owner: {"contact_id": make_contact(owner).pk},
    }
)
ID_MAKERS.update(
    {
        path: message_path_ids
        for path in [
            "/v3/messages/{message_id}",
            "/v3/messages/{message_id}/activities",
            "/v3/messages/{message_id}/cancel",
            "/v3/messages/{message_id}/resend",
        ]
    }
)

PARAM = re.compile(r"{(\w+)}")
METHODS = ["get", "put", "patch", "delete", "post"]


def id_paths(client):
    schema = client.get("/v3/openapi.json").json()
    return {
        path: [m for m in METHODS if m in item]
        for path, item in schema["paths"].items()
        if PARAM.search(path) and not path.startswith("/v3/numbers/lookup/")
    }


def comparable(response):
    body = response.json()
    body.pop("meta", None)
    return response.status_code, body


def test_every_id_path_is_covered(client, db):
    missing = sorted(set(id_paths(client)) - set(ID_MAKERS))
    assert not missing, f"add a builder to ID_MAKERS for: {missing}"


def test_another_tenant_gets_the_same_404_as_for_a_random_id(
    client, account, api_client, other_api_client
):
    for path, methods in id_paths(client).items():
        owned = ID_MAKERS[path](account)
        random_ids = {name: str(uuid.uuid4()) for name in owned}
        for method in methods:
            call = getattr(other_api_client, method)
            theirs = call(path.format(**owned), {}, format="json")
            random = call(path.format(**random_ids), {}, format="json")
            assert theirs.status_code == 404, (method, path, theirs.content)
            assert comparable(theirs) == comparable(random), (method, path)
        # The owner still sees it, untouched by the other tenant's DELETE/PUT/PATCH attempts.
        if "get" in methods:
            assert api_client.get(path.format(**owned)).status_code == 200, path


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "' OR 1=1 --"])
def test_malformed_ids_are_404_too(client, api_client, db, bad_id):
    for path in id_paths(client):
        params = {name: bad_id for name in PARAM.findall(path)}
        response = api_client.get(path.format(**params))
        assert response.status_code in (404, 405), (path, response.content)
