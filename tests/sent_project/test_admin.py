"""The Django admin for accounts: balance read-only, API keys shown once, revocation."""

import re

from billing.models import ApiKey, Customer
from billing.services import api_key_authenticate


def test_the_customer_balance_is_read_only_in_the_admin(admin_client, account):
    page = admin_client.get(f"/admin/billing/customer/{account.pk}/change/").content.decode()
    assert 'name="balance"' not in page
    assert "100.0000" in page
    admin_client.post(
        f"/admin/billing/customer/{account.pk}/change/",
        {
            "name": "Acme",
            "email": "",
            "description": "",
            "default_region": "US",
            "low_balance_threshold": "5",
            "routing_strategy": "prefer_whatsapp",
            "balance": "999999",
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "price_overrides-TOTAL_FORMS": "0",
            "price_overrides-INITIAL_FORMS": "0",
        },
    )
    account.refresh_from_db()
    assert account.balance == 100


def test_adding_a_customer_in_the_admin_works(admin_client, db):
    response = admin_client.post(
        "/admin/billing/customer/add/",
        {
            "name": "Hooli",
            "email": "ops@hooli.test",
            "description": "",
            "default_region": "gb",
            "low_balance_threshold": "5",
            "routing_strategy": "prefer_whatsapp",
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "price_overrides-TOTAL_FORMS": "0",
            "price_overrides-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get(name="Hooli").default_region == "GB"


def test_creating_an_api_key_in_the_admin_shows_it_once(admin_client, account):
    response = admin_client.post(
        "/admin/billing/apikey/add/", {"customer": account.pk, "name": "CI"}, follow=True
    )
    text = response.content.decode()
    raw = re.search(r"(sent_[A-Za-z0-9_-]{40})", text).group(1)
    assert api_key_authenticate(raw=raw).customer == account
    key = ApiKey.objects.get(name="CI")
    later = admin_client.get(f"/admin/billing/apikey/{key.pk}/change/").content.decode()
    assert raw not in later and key.prefix in later


def test_the_revoke_action_makes_keys_fail_authentication(admin_client, account, api_client):
    key = ApiKey.objects.get(customer=account)
    admin_client.post(
        "/admin/billing/apikey/", {"action": "revoke", "_selected_action": [str(key.pk)]}
    )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_client.get("/v3/me").status_code == 401


def test_the_ledger_is_read_only_in_the_admin(admin_client, account):
    entry = account.ledger.get()
    assert admin_client.get("/admin/billing/ledgerentry/add/").status_code == 403
    page = admin_client.get(f"/admin/billing/ledgerentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="amount"' not in page.content.decode()
    assert (
        admin_client.post(
            f"/admin/billing/ledgerentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert account.ledger.count() == 1
