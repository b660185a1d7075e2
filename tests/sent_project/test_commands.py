"""The scripted way in: create_customer, create_api_key, top_up, bootstrap_demo."""

import io
import json

import pytest

from django.core.management import CommandError, call_command

from billing.models import ApiKey, Customer, LedgerEntry
from billing.services import api_key_authenticate


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_customer_prints_one_json_object_with_a_working_key(db, client):
    data = json.loads(
        run(
            "create_customer",
            "--name",
            "Initech",
            "--email",
            "a@b.co",
            "--balance",
            "12.5",
            "--json",
        )
    )
    assert set(data) >= {"customer_id", "api_key"}
    customer = Customer.objects.get(pk=data["customer_id"])
    assert customer.balance == 12.5
    assert LedgerEntry.objects.get(customer=customer).kind == "top_up"
    response = client.get("/v3/me", HTTP_X_API_KEY=data["api_key"])
    assert response.json()["data"]["name"] == "Initech"
    assert response.json()["data"]["balance"] == "12.5000"


def test_create_customer_rejects_a_bad_balance(db):
    with pytest.raises(CommandError, match="--balance"):
        run("create_customer", "--name", "X", "--balance", "lots")
    for balance in ("-1", "NaN", "Infinity", "0.00001"):
        with pytest.raises(CommandError, match="VALIDATION_005"):
            run("create_customer", "--name", "X", "--balance", balance)
    assert not Customer.objects.exists()


def test_create_api_key_adds_a_second_working_key(account):
    data = json.loads(run("create_api_key", "--customer", str(account.pk), "--json"))
    assert data["customer_id"] == str(account.pk)
    assert api_key_authenticate(raw=data["api_key"]).customer == account
    assert ApiKey.objects.filter(customer=account).count() == 2


def test_create_api_key_for_an_unknown_customer_fails(db):
    with pytest.raises(CommandError, match="No customer"):
        run("create_api_key", "--customer", "nope")


def test_top_up_adds_to_the_balance_through_the_ledger(account):
    output = run("top_up", "--customer", str(account.pk), "--amount", "0.0079", "--note", "wire")
    assert "100.0079" in output
    account.refresh_from_db()
    assert str(account.balance) == "100.0079"
    entry = LedgerEntry.objects.filter(customer=account).first()
    assert (entry.kind, entry.description, str(entry.ending_balance)) == (
        "top_up",
        "wire",
        "100.0079",
    )


def test_bootstrap_demo_is_idempotent_and_keeps_its_key(db, client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = json.loads(run("bootstrap_demo", "--json"))
    second = json.loads(run("bootstrap_demo", "--json"))
    assert first["api_key"] == second["api_key"]
    assert Customer.objects.filter(name="Demo Company").count() == 1
    assert client.get("/v3/me", HTTP_X_API_KEY=first["api_key"]).status_code == 200
    assert client.login(username="demo", password=first["dashboard_login"][1])
    assert client.login(username="admin", password=first["admin_login"][1])


def test_the_demo_account_has_approved_templates_and_prices(db, settings, tmp_path):
    from billing.pricing import price_quote
    from templates_app.models import Template

    settings.VAR_DIR = tmp_path
    demo = json.loads(run("bootstrap_demo", "--json"))
    customer = Customer.objects.get(pk=demo["customer_id"])
    templates = Template.objects.filter(customer=customer, status="APPROVED")
    assert templates.count() >= 3
    assert {t.category for t in templates} >= {"AUTHENTICATION", "UTILITY", "MARKETING"}
    assert price_quote(customer, channel="sms", country="US") > 0
