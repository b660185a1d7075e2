"""Roles enforced in the services (docs/dashboard.md#roles), not only by the dashboard's URLs:
every service that changes something refuses an actor whose role may not, whoever calls it.
The table of which role may change what is written out here on its own, as in
test_roles_pages.py; an API key and the system (no actor) may do everything."""

import uuid
from datetime import time
from decimal import Decimal

import pytest

from django.db import transaction
from django.urls import reverse

from billing.models import ApiKey, AuditEntry
from billing.roles import RoleForbidden, act_as_key, act_as_user, acting
from billing.services import (
    api_key_create,
    api_key_revoke,
    balance_top_up,
    customer_set_low_balance_threshold,
    customer_set_quiet_hours,
    membership_create,
)
from billing.users import user_invite
from contacts.models import Contact
from contacts.services import (
    contact_create,
    contact_delete,
    contact_import_create,
    contact_refresh_channels,
    contact_set_opt_out,
    contact_update,
)
from messaging.keywords import keyword_set
from messaging.models import Event, WebhookDelivery, WebhookEndpoint
from messaging.sending import SendRequest
from messaging.services import message_cancel, message_resend, message_send
from messaging.webhooks.services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_set_active,
    webhook_endpoint_update,
    webhook_secret_rotate,
    webhook_test_send,
)
from sent_project.errors import SentError
from sent_project.request_context import set_current_actor
from templates_app.services import (
    template_create,
    template_delete,
    template_submit,
    template_update,
)
from tests.messaging.factories import number
from tests.templates_app.factories import definition, make_template

pytestmark = pytest.mark.django_db
DEV, BILLING, ADMIN = "developer", "billing", "admin"
DEVS, BILLERS, ADMINS_ONLY = {DEV, ADMIN}, {BILLING, ADMIN}, {ADMIN}
HOOK = "https://93.184.216.34/h"


@pytest.fixture
def things(account):
    """What the actions act on, made by the system (no actor)."""
    contact, _ = contact_create(account, phone_number=number(1, series=7))
    endpoint, _ = webhook_endpoint_create(account, endpoint_url=HOOK, event_types=["message"])
    disabled, _ = webhook_endpoint_create(account, endpoint_url=HOOK, event_types=["message"])
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(is_active=False)
    disabled.refresh_from_db()
    event = Event.objects.create(
        customer=account, field="message", event="message.sent", payload={}
    )
    delivery = WebhookDelivery.objects.create(event=event, endpoint=disabled, status="failed")
    return {
        "key": account.api_keys.get(),
        "contact": contact,
        "template": make_template(account, display_name="Roles"),
        "endpoint": endpoint,
        "disabled": disabled,
        "delivery": delivery,
    }


# service → (roles that may, the call). A call that gets past the role check may still be
# refused for its own reasons (a message that isn't there): that is not a 403.
ACTIONS = {
    "api_key_create": (DEVS, lambda a, t: api_key_create(a, name="Roles")),
    "api_key_revoke": (DEVS, lambda a, t: api_key_revoke(a, api_key_id=t["key"].pk)),
    "balance_top_up": (BILLERS, lambda a, t: balance_top_up(a, amount=Decimal("5"))),
    "customer_set_low_balance_threshold": (
        BILLERS,
        lambda a, t: customer_set_low_balance_threshold(a, threshold=Decimal("3")),
    ),
    "customer_set_quiet_hours": (
        BILLERS,
        lambda a, t: customer_set_quiet_hours(a, enabled=True, start=time(21), end=time(8)),
    ),
    "contact_create": (DEVS, lambda a, t: contact_create(a, phone_number=number(2, series=7))),
    "contact_update": (
        DEVS,
        lambda a, t: contact_update(a, contact_id=t["contact"].pk, metadata={"tier": "gold"}),
    ),
    "contact_set_opt_out": (
        DEVS,
        lambda a, t: contact_set_opt_out(t["contact"], opt_out=True, source="dashboard"),
    ),
    "contact_refresh_channels": (DEVS, lambda a, t: contact_refresh_channels(t["contact"])),
    "contact_delete": (DEVS, lambda a, t: contact_delete(a, contact_id=t["contact"].pk)),
    "contact_import_create": (
        DEVS,
        lambda a, t: contact_import_create(
            a, source_format="csv", payload=f"phone_number\n{number(3, series=7)}\n", total_rows=1
        ),
    ),
    "template_create": (
        DEVS,
        lambda a, t: template_create(a, definition=definition(), category="UTILITY"),
    ),
    "template_update": (
        DEVS,
        lambda a, t: template_update(a, t["template"], display_name="Renamed"),
    ),
    "template_submit": (DEVS, lambda a, t: template_submit(a, t["template"])),
    "template_delete": (DEVS, lambda a, t: template_delete(a, t["template"])),
    "message_send": (
        DEVS,
        lambda a, t: message_send(
            a, request=SendRequest(to=[number(1, series=7)], text="Hello", sandbox=True)
        ),
    ),
    "message_resend": (DEVS, lambda a, t: message_resend(a, message_id=uuid.uuid4())),
    "message_cancel": (DEVS, lambda a, t: message_cancel(a, message_id=uuid.uuid4())),
    "keyword_set": (
        DEVS,
        lambda a, t: keyword_set(a, word="PROMO", action="OTHER", reply="Thanks"),
    ),
    "webhook_endpoint_create": (
        DEVS,
        lambda a, t: webhook_endpoint_create(a, endpoint_url=HOOK, event_types=["message"]),
    ),
    "webhook_endpoint_update": (
        DEVS,
        lambda a, t: webhook_endpoint_update(a, t["endpoint"], display_name="Orders"),
    ),
    "webhook_endpoint_set_active": (
        DEVS,
        lambda a, t: webhook_endpoint_set_active(a, t["endpoint"], is_active=False),
    ),
    "webhook_secret_rotate": (DEVS, lambda a, t: webhook_secret_rotate(a, t["endpoint"])),
    # An unknown event type is refused before anything goes out (no network here).
    "webhook_test_send": (
        DEVS,
        lambda a, t: webhook_test_send(a, t["endpoint"], event_type="no.such"),
    ),
    "webhook_delivery_redeliver": (
        DEVS,
        lambda a, t: webhook_delivery_redeliver(a, t["disabled"], t["delivery"]),
    ),
    "webhook_endpoint_delete": (DEVS, lambda a, t: webhook_endpoint_delete(a, t["endpoint"])),
    "user_invite": (
        ADMINS_ONLY,
        lambda a, t: user_invite(a, acting(), email="new@acme.test", name="New", role="developer"),
    ),
}


@pytest.fixture
def acting_as(account):
    def act(role):
        if role == "api_key":
            act_as_key(account.api_keys.get())
        elif role is not None:
            member = membership_create(account, username=f"u-{role}", password="x", role=role)
            act_as_user(member)

    yield act
    set_current_actor(None)


def _outcome(call) -> str:
    """Call in a savepoint rolled back afterwards, so each action starts from `things`."""
    savepoint = transaction.savepoint_create()
    try:
        call()
    except RoleForbidden:
        return "refused"
    except SentError:
        return "allowed"  # past the role check, refused for its own reason
    finally:
        transaction.savepoint_rollback(savepoint)
    return "allowed"


@pytest.mark.parametrize("role", [DEV, BILLING, ADMIN, "api_key", None])
def test_each_role_may_call_exactly_its_services(account, things, acting_as, role):
    acting_as(role)
    wrong = []
    for service, (allowed_roles, call) in ACTIONS.items():
        expected = "allowed" if role in allowed_roles | {ADMIN, "api_key", None} else "refused"
        outcome = _outcome(lambda call=call: call(account, things))
        if outcome != expected:
            wrong.append(f"{service}: {outcome}, expected {expected}")
    assert wrong == []


def test_a_refused_call_changes_nothing(account, things, acting_as):
    acting_as(BILLING)
    keys, entries = ApiKey.objects.count(), AuditEntry.objects.count()
    with pytest.raises(RoleForbidden):
        api_key_create(account, name="Sneaky")
    with pytest.raises(RoleForbidden):
        contact_delete(account, contact_id=things["contact"].pk)
    assert (ApiKey.objects.count(), AuditEntry.objects.count()) == (keys, entries)
    assert Contact.objects.filter(pk=things["contact"].pk).exists()
    acting_as(DEV)
    with pytest.raises(RoleForbidden):
        balance_top_up(account, amount=Decimal("100"))
    account.refresh_from_db()
    assert account.balance == Decimal("100")


def test_the_dashboard_answers_a_service_refusal_with_its_403_page(client, account, settings):
    """Even if a page's area let a role in, the service refuses: the 403 page, nothing made."""
    settings.DASHBOARD_AREAS = {**settings.DASHBOARD_AREAS, "billing:api_key": "home"}
    member = membership_create(account, username="finn", password="x", role=BILLING)
    client.force_login(member.user)
    response = client.post(reverse("billing:api_key_list"), {"name": "Sneaky"})
    assert response.status_code == 403
    assert "You can't do that here" in response.text
    assert not account.api_keys.filter(name="Sneaky").exists()


def test_the_api_answers_a_service_refusal_with_auth_004(api_client, account, monkeypatch):
    """An API key may do everything; were a service to refuse one, the envelope says 403."""
    from billing import roles

    monkeypatch.setattr(roles, "may", lambda role, area, write=False: area != "contacts")
    response = api_client.post("/v3/contacts", {"phone_number": number(4, series=7)})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_004"
    assert "may not change contacts" in response.json()["error"]["message"]
