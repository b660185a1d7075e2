"""GET /v3/contacts/{id}/message-summary (non-zero summaries are tested with messaging)."""

from tests.contacts.factories import make_contact


def test_a_contact_without_messages_has_a_zero_summary(api_client, account):
    contact = make_contact(account)
    response = api_client.get(f"/v3/contacts/{contact.pk}/message-summary")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "contact_id": str(contact.pk),
        "message_count": 0,
        "first_message_at": None,
        "last_message_at": None,
        "channels_used": [],
        "channel_scores": [],
    }


def test_another_accounts_contact_summary_is_404(api_client, other_account):
    contact = make_contact(other_account)
    response = api_client.get(f"/v3/contacts/{contact.pk}/message-summary")
    assert response.status_code == 404 and response.json()["error"]["code"] == "RESOURCE_001"


def test_a_deleted_contact_has_no_summary(api_client, account):
    contact = make_contact(account)
    api_client.delete(f"/v3/contacts/{contact.pk}")
    assert api_client.get(f"/v3/contacts/{contact.pk}/message-summary").status_code == 404
