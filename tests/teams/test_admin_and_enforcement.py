"""The admin site is for superusers only; an account that requires two-factor sign-in sends a
user without it to set it up (docs/dashboard.md#two-factor-sign-in)."""

import pytest

from django.contrib.auth import get_user_model

from billing.services import membership_create

pytestmark = pytest.mark.django_db


def test_staff_without_superuser_can_not_open_the_admin(client, account):
    staff = membership_create(account, username="stef", password="x").user
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert client.get("/admin/billing/membership/").status_code == 302  # to the admin login
    root = get_user_model().objects.create_superuser("root", "root@x.test", "x")
    client.force_login(root)
    for path in (
        "/admin/billing/membership/",
        "/admin/billing/invitation/",
        "/admin/billing/auditentry/",
    ):
        assert client.get(path).status_code == 200


def test_a_required_second_factor_sends_users_to_set_it_up(dashboard_client, account):
    account.require_two_factor = True
    account.save()
    response = dashboard_client.get("/contacts/")
    assert response.status_code == 302 and response["Location"] == "/account/security/"
    page = dashboard_client.get("/account/security/")
    assert page.status_code == 200 and "requires two-factor sign-in" in page.text


def test_admins_require_it_and_others_may_not(client, account):
    dev = membership_create(account, username="dev", password="x", role="developer")
    client.force_login(dev.user)
    client.post("/account/security/", {"action": "require"})
    account.refresh_from_db()
    assert account.require_two_factor is False
    admin = membership_create(account, username="adm", password="x", role="admin")
    client.force_login(admin.user)
    client.post("/account/security/", {"action": "require"})
    account.refresh_from_db()
    assert account.require_two_factor is True
    assert account.audit_log.filter(action="two_factor.enforced").count() == 1
