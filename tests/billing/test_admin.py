"""The billing admin: customers (balance read-only, top-up action, negotiated prices), the
price table, API keys shown once and revoked, and the read-only ledger."""

import re
from decimal import Decimal

import pytest

from django.contrib.admin.sites import site
from django.test import RequestFactory

from billing.models import ApiKey, Customer, LedgerEntry, Price, PriceOverride
from billing.pricing import price_quote
from billing.services import api_key_authenticate, balance_charge

CUSTOMERS = "/admin/billing/customer/"


def customer_form(**fields) -> dict:
    """The customer add/change form as the admin posts it (no inline rows), with `fields`."""
    return {
        "name": "Acme",
        "email": "",
        "description": "",
        "default_region": "US",
        "low_balance_threshold": "5",
        "routing_strategy": "prefer_whatsapp",
        "api_keys-TOTAL_FORMS": "0",
        "api_keys-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "price_overrides-TOTAL_FORMS": "0",
        "price_overrides-INITIAL_FORMS": "0",
        **fields,
    }


def top_up(admin_client, customers, **data):
    return admin_client.post(
        CUSTOMERS,
        {
            "action": "top_up",
            "_selected_action": [str(c.pk) for c in customers],
            **data,
        },
    )


def test_the_top_up_action_asks_for_amount_and_note_first(admin_client, account):
    response = top_up(admin_client, [account])
    assert response.status_code == 200
    assert b'name="amount"' in response.content and b'name="note"' in response.content
    assert LedgerEntry.objects.filter(customer=account).count() == 1


def test_the_top_up_action_tops_up_each_selected_customer(admin_client, account, other_account):
    response = top_up(
        admin_client, [account, other_account], apply="Top up", amount="25.5", note="Invoice 42"
    )
    assert response.status_code == 302
    for customer in (account, other_account):
        customer.refresh_from_db()
        assert customer.balance == Decimal("125.5")
        entry = LedgerEntry.objects.filter(customer=customer).first()
        assert (entry.kind, entry.amount, entry.description) == (
            "top_up",
            Decimal("25.5"),
            "Invoice 42",
        )


@pytest.mark.parametrize("amount", ["0", "-3", "abc", "1.00001"])
def test_the_top_up_action_redisplays_the_form_on_a_bad_amount(admin_client, account, amount):
    response = top_up(admin_client, [account], apply="Top up", amount=amount)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert LedgerEntry.objects.filter(customer=account).count() == 1


def test_a_customer_added_in_the_admin_keeps_every_field_of_the_form(admin_client, db):
    response = admin_client.post(
        f"{CUSTOMERS}add/",
        customer_form(
            name="Hooli",
            email="ops@hooli.test",
            description="Reseller",
            default_region="gb",
            low_balance_threshold="12.5",
            routing_strategy="cheapest_reliable",
        ),
    )
    assert response.status_code == 302
    customer = Customer.objects.get(name="Hooli")
    assert (
        customer.email,
        customer.description,
        customer.default_region,
        customer.low_balance_threshold,
        customer.routing_strategy,
        customer.balance,
    ) == ("ops@hooli.test", "Reseller", "GB", Decimal("12.5"), "cheapest_reliable", 0)
    assert not LedgerEntry.objects.filter(customer=customer).exists()


def test_editing_a_customer_never_writes_back_a_stale_balance(admin_client, account):
    stale = Customer.objects.get(pk=account.pk)  # what the admin form loaded
    balance_charge(account, amount=Decimal("1"), description="SMS sent meanwhile")
    stale.name = "Acme Corp"
    request = RequestFactory().post("/")
    site._registry[Customer].save_model(request, stale, form=None, change=True)
    account.refresh_from_db()
    assert (account.name, account.balance) == ("Acme Corp", Decimal("99"))


def test_the_customer_balance_is_read_only_in_the_admin(admin_client, account):
    page = admin_client.get(f"{CUSTOMERS}{account.pk}/change/").content.decode()
    assert 'name="balance"' not in page
    assert "100.0000" in page
    admin_client.post(f"{CUSTOMERS}{account.pk}/change/", customer_form(balance="999999"))
    account.refresh_from_db()
    assert account.balance == 100


def test_a_negotiated_price_is_added_on_the_customer_page(admin_client, account):
    url = f"{CUSTOMERS}{account.pk}/change/"
    form = customer_form(
        **{
            "api_keys-TOTAL_FORMS": "1",
            "api_keys-INITIAL_FORMS": "1",
            "api_keys-0-id": str(account.api_keys.get().pk),
            "api_keys-0-customer": str(account.pk),
            "price_overrides-TOTAL_FORMS": "1",
            "price_overrides-0-channel": "sms",
            "price_overrides-0-country": "us",
            "price_overrides-0-category": "",
            "price_overrides-0-unit_price": "0.0060",
        }
    )
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.context and response.context["errors"]
    override = PriceOverride.objects.get(customer=account)
    assert (override.country, override.unit_price) == ("US", Decimal("0.0060"))
    assert price_quote(account, channel="sms", country="US") == Decimal("0.0060")


def test_the_price_table_is_listed_and_editable(admin_client):
    response = admin_client.get("/admin/billing/price/?channel__exact=sms")
    assert response.status_code == 200
    assert b"0.0083" in response.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"channel": "sms", "country": "PT", "category": "MARKETING", "unit_price": "0.05"},
            b"SMS and MMS prices have no category",
        ),
        (
            {"channel": "whatsapp", "country": "PT", "category": "", "unit_price": "0.05"},
            b"SMS and MMS prices have no category",
        ),
        ({"channel": "sms", "country": "P1", "category": "", "unit_price": "0.05"}, b"ISO code"),
        ({"channel": "sms", "country": "PRT", "category": "", "unit_price": "0.05"}, b"at most 2"),
        ({"channel": "sms", "country": "PT", "category": "", "unit_price": "-1"}, b"negative"),
        (
            {"channel": "sms", "country": "US", "category": "", "unit_price": "0.05"},
            b"already exists",
        ),
    ],
)
def test_the_price_form_refuses_rows_that_break_the_rules(admin_client, data, message):
    response = admin_client.post("/admin/billing/price/add/", data)
    assert response.status_code == 200
    assert message in response.content
    assert not Price.objects.filter(country="PT").exists()


def test_a_price_row_is_added_with_its_country_upper_cased(admin_client):
    data = {"channel": "sms", "country": "pt", "category": "", "unit_price": "0.0612"}
    assert admin_client.post("/admin/billing/price/add/", data).status_code == 302
    assert Price.objects.get(country="PT").unit_price == Decimal("0.0612")


# --- API keys ---------------------------------------------------------------


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


# --- the ledger is read-only in the admin ----------------------------------


@pytest.fixture
def entry(account):
    return LedgerEntry.objects.filter(customer=account).get()


def test_the_ledger_list_and_an_entry_can_be_viewed(admin_client, entry):
    assert admin_client.get("/admin/billing/ledgerentry/").status_code == 200
    response = admin_client.get(f"/admin/billing/ledgerentry/{entry.pk}/change/")
    assert response.status_code == 200
    assert b'name="amount"' not in response.content  # a read-only view, no inputs


def test_an_entry_cannot_be_changed_in_the_admin(admin_client, entry):
    response = admin_client.post(
        f"/admin/billing/ledgerentry/{entry.pk}/change/", {"amount": "1000", "kind": "top_up"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.amount == Decimal("100")


def test_an_entry_cannot_be_deleted_or_added_in_the_admin(admin_client, entry):
    assert (
        admin_client.post(
            f"/admin/billing/ledgerentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client.get("/admin/billing/ledgerentry/add/").status_code == 403
    response = admin_client.post(
        "/admin/billing/ledgerentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()
    assert response.status_code in (200, 302)
