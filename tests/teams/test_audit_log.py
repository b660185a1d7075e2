"""The audit log (docs/dashboard.md#audit-log): every listed action leaves an entry naming who
did it (the dashboard user, or the API key), admins read it and export it as CSV, and nothing
changes or deletes an entry."""

import csv
import io
from decimal import Decimal

import pytest

from django.core import mail
from django.urls import reverse

from billing.models import AuditEntry, Membership
from billing.services import api_key_create, balance_top_up, membership_create
from tests.dashboard.test_playground_pages import HTMX, compose
from tests.dashboard.test_playground_pages import template as template  # noqa: F401 (fixture)
from tests.templates_app.factories import make_template

pytestmark = pytest.mark.django_db


def _log(account) -> list[tuple[str, str]]:
    return list(
        AuditEntry.objects.filter(customer=account).order_by("id").values_list("action", "actor")
    )


def test_dashboard_actions_are_logged_with_the_user(dashboard_client, account, template):
    start = AuditEntry.objects.count()
    dashboard_client.post(reverse("billing:api_key_list"), {"name": "Prod"})
    key = account.api_keys.get(name="Prod")
    dashboard_client.post(reverse("billing:api_key_revoke", args=[key.pk]))
    draft = make_template(account, display_name="Welcome")
    dashboard_client.post(reverse("templates_app:template_submit", args=[draft.pk]))
    dashboard_client.post(reverse("messaging:playground_send"), compose(template), **HTMX)
    dashboard_client.post(
        reverse("billing:user_list"),
        {"email": "fin@acme.test", "name": "Fin", "role": "billing"},
    )
    invited = Membership.objects.get(user__email="fin@acme.test")
    dashboard_client.post(
        reverse("billing:user_role", args=[invited.public_id]), {"role": "developer"}
    )
    entries = list(AuditEntry.objects.filter(customer=account).order_by("id"))[start:]
    assert [(e.action, e.actor) for e in entries] == [
        ("api_key.created", "alice"),
        ("api_key.revoked", "alice"),
        ("template.submitted", "alice"),
        ("message.sent_from_dashboard", "alice"),
        ("user.invited", "alice"),
        ("user.role_changed", "alice"),
    ]
    assert entries[-1].detail == {"from": "billing", "to": "developer"}
    assert entries[-1].target == "fin@acme.test"


def test_api_actions_name_the_key(api_client, account):
    response = api_client.post(
        "/v3/webhooks",
        {
            "display_name": "Orders",
            "endpoint_url": "https://93.184.216.34/h",
            "event_types": ["message"],
        },
    )
    webhook_id = response.json()["data"]["id"]
    body = {"display_name": "Orders 2", "endpoint_url": "https://93.184.216.34/h"}
    assert api_client.put(f"/v3/webhooks/{webhook_id}", body).status_code == 200
    api_client.delete(f"/v3/webhooks/{webhook_id}")
    key = account.api_keys.get()
    entries = AuditEntry.objects.filter(customer=account, action__startswith="webhook.")
    assert [e.action for e in entries.order_by("id")] == [
        "webhook.created",
        "webhook.changed",
        "webhook.deleted",
    ]
    assert {e.actor_api_key_id for e in entries} == {key.pk}
    assert {e.actor for e in entries} == {f"API key {key.name} ({key.prefix}…)"}


def test_a_top_up_outside_a_request_is_the_system(account):
    balance_top_up(account, amount=Decimal("25"), note="wire 42")
    entry = AuditEntry.objects.filter(customer=account).latest("id")
    assert (entry.action, entry.actor, entry.target) == ("balance.top_up", "system", "25 USD")


def test_admins_read_the_log_and_export_it_as_csv(dashboard_client, account, other_account):
    api_key_create(account, name="Ops")
    api_key_create(other_account, name="Theirs")
    page = dashboard_client.get(reverse("billing:audit_log"))
    assert page.status_code == 200
    assert "api_key.created" in page.text and "Ops" in page.text and "Theirs" not in page.text
    export = dashboard_client.get(reverse("billing:audit_log_csv"))
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0] == ["id", "created_at", "action", "actor", "target", "detail", "request_id"]
    assert [row[4] for row in rows[1:]][0].startswith("Ops (")
    assert all("Theirs" not in row[4] for row in rows[1:])


def test_entries_cannot_be_changed_or_deleted(account):
    api_key_create(account, name="Ops")
    entry = AuditEntry.objects.filter(customer=account).latest("id")
    entry.actor = "someone else"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(customer=account).update(actor="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(customer=account).delete()


def test_a_top_up_request_is_logged_and_mailed_to_the_operator(
    client, account, settings, django_capture_on_commit_callbacks
):
    settings.TOP_UP_REQUEST_EMAIL = "ops@sent.example"
    finn = membership_create(account, username="finn", password="x", role="billing")
    client.force_login(finn.user)
    assert "Request a top-up" in client.get(reverse("billing:billing")).text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("billing:billing_top_up_request"), {"amount": "250", "note": "PO 7"}
        )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(customer=account).latest("id")
    assert (entry.action, entry.actor, entry.target, entry.detail) == (
        "balance.top_up_requested",
        "finn",
        "250 USD",
        {"note": "PO 7"},
    )
    [message] = mail.outbox
    assert message.to == ["ops@sent.example"] and "250 USD for Acme" in message.subject
    account.refresh_from_db()
    assert account.balance == Decimal("100")  # only the operator tops up
    # A developer may not ask (the billing area is not theirs).
    dev = membership_create(account, username="dev", password="x", role="developer")
    client.force_login(dev.user)
    refused = client.post(reverse("billing:billing_top_up_request"), {"amount": "5"})
    assert refused.status_code == 403


def test_the_csv_export_lists_user_actions_with_who_did_them(dashboard_client, account):
    dev = membership_create(account, username="dev", password="x", email="dev@acme.test")
    for status in ("suspended", "active"):
        dashboard_client.post(
            reverse("billing:user_status", args=[dev.public_id]), {"status": status}
        )
    dashboard_client.post(reverse("billing:user_remove", args=[dev.public_id]))
    export = dashboard_client.get(reverse("billing:audit_log_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [(row[2], row[3], row[4]) for row in rows[1:4]] == [
        ("user.removed", "alice", "dev@acme.test"),
        ("user.reactivated", "alice", "dev@acme.test"),
        ("user.suspended", "alice", "dev@acme.test"),
    ]


def test_the_csv_export_defuses_formulas_in_names(dashboard_client, account):
    api_key_create(account, name='=HYPERLINK("http://evil.test","x")')
    export = dashboard_client.get(reverse("billing:audit_log_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    target = next(row[4] for row in rows[1:] if row[2] == "api_key.created")
    assert target.startswith("'=HYPERLINK(")
