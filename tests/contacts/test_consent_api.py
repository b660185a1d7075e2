"""GET /v3/contacts/{id}/consent and GET /v3/contacts/consent/export: the consent ledger."""

import csv
import io

from contacts.services import contact_delete, contact_set_opt_out
from tests.contacts.factories import make_contact


def test_the_ledger_lists_every_change_oldest_first(api_client, account):
    contact = make_contact(account)
    api_client.patch(f"/v3/contacts/{contact.pk}", {"opt_out": True}, format="json")
    contact_set_opt_out(contact, opt_out=False, source="keyword", note="START")
    response = api_client.get(f"/v3/contacts/{contact.pk}/consent")
    assert response.status_code == 200
    data = response.json()["data"]
    assert [(e["opt_out"], e["source"], e["note"]) for e in data["consent"]] == [
        (True, "api", ""),
        (False, "keyword", "START"),
    ]
    assert data["consent"][0]["contact_id"] == str(contact.pk)
    assert data["consent"][0]["created_at"]
    assert data["pagination"]["total_count"] == 2


def test_another_accounts_ledger_is_404(api_client, other_account):
    contact = make_contact(other_account)
    response = api_client.get(f"/v3/contacts/{contact.pk}/consent")
    assert response.status_code == 404 and response.json()["error"]["code"] == "RESOURCE_001"


def test_the_export_is_a_csv_of_the_whole_account_including_deleted_contacts(
    api_client, account, other_account
):
    kept = make_contact(account, "+12015550001")
    gone = make_contact(account, "+12015550002")
    contact_set_opt_out(kept, opt_out=True, source="api")
    contact_set_opt_out(gone, opt_out=True, source="dashboard")
    contact_delete(account, contact_id=gone.pk)
    contact_set_opt_out(make_contact(other_account), opt_out=True, source="api")
    response = api_client.get("/v3/contacts/consent/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["phone_number"], r["opt_out"], r["source"], r["contact_deleted"]) for r in rows] == [
        ("+12015550001", "true", "api", "false"),
        ("+12015550002", "true", "dashboard", "true"),
    ]


def test_the_export_needs_a_key(client, db):
    assert client.get("/v3/contacts/consent/export").status_code == 401


def test_the_ledger_costs_a_fixed_number_of_queries(api_client, account, assert_list_queries):
    contact = make_contact(account)
    for turn in range(30):
        contact_set_opt_out(contact, opt_out=turn % 2 == 0, source="api")
    api_client.get(f"/v3/contacts/{contact.pk}/consent")  # warm the key's last_used_at
    # API key, contact, page (+1 row for has_more), bounded count.
    with assert_list_queries(4):
        response = api_client.get(f"/v3/contacts/{contact.pk}/consent?page_size=25")
    assert len(response.json()["data"]["consent"]) == 25
