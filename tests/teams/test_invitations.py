"""Invitations and the users page with the test client: expired, reused and replaced links,
re-invite and revoke, the own-access and last-admin rules on the dashboard, and password reset
by email (docs/api/users.md#invitations, docs/dashboard.md#passwords)."""

import re
from datetime import timedelta

import pytest

from django.core import mail
from django.urls import reverse

from billing.models import Invitation, Membership
from billing.roles import Actor
from billing.services import membership_create
from billing.users import user_invite

pytestmark = pytest.mark.django_db


def _invite(account, django_capture_on_commit_callbacks, email="dev@acme.test", role="developer"):
    with django_capture_on_commit_callbacks(execute=True):
        membership = user_invite(account, None, email=email, name="Dev", role=role)
    return membership, _path(mail.outbox[-1])


def _path(message) -> str:
    return re.search(r"https?://[^/\s]+(/invitations/\S+/)", message.body).group(1)


def _accept(client, path):
    password = "a long new dashboard password"
    return client.post(path, {"new_password1": password, "new_password2": password})


def test_a_link_sets_the_password_once(client, account, django_capture_on_commit_callbacks):
    membership, path = _invite(account, django_capture_on_commit_callbacks)
    assert client.get(path).status_code == 200
    assert _accept(client, path).status_code == 302
    membership.refresh_from_db()
    assert membership.status == "active" and membership.user.is_active
    assert membership.user.check_password("a long new dashboard password")
    client.logout()
    again = client.get(path)
    assert again.status_code == 410 and "already used" in again.text
    assert _accept(client, path).status_code == 410


def test_an_expired_link_says_so(client, account, django_capture_on_commit_callbacks):
    membership, path = _invite(account, django_capture_on_commit_callbacks)
    Invitation.objects.filter(membership=membership).update(
        expires_at=Invitation.objects.get().created_at - timedelta(seconds=1)
    )
    response = client.get(path)
    assert response.status_code == 410 and "has expired" in response.text
    assert _accept(client, path).status_code == 410
    membership.refresh_from_db()
    assert membership.status == "invited"


def test_an_unknown_link_says_so(client, db):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 410 and "doesn't work" in response.text


def test_reinvite_replaces_the_link_and_revoke_withdraws_it(
    dashboard_client, client, account, django_capture_on_commit_callbacks
):
    membership, first = _invite(account, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        dashboard_client.post(reverse("billing:user_reinvite", args=[membership.public_id]))
    second = _path(mail.outbox[-1])
    assert second != first
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    dashboard_client.post(reverse("billing:user_revoke", args=[membership.public_id]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert client.get(second).status_code == 410


def test_the_dashboard_refuses_own_changes_and_the_last_admin(dashboard_client, dashboard_user):
    me = dashboard_user.membership
    response = dashboard_client.post(
        reverse("billing:user_role", args=[me.public_id]), {"role": "developer"}, follow=True
    )
    assert "You can&#x27;t change your own role" in response.text
    response = dashboard_client.post(
        reverse("billing:user_remove", args=[me.public_id]), follow=True
    )
    assert "You can&#x27;t change your own role or remove yourself" in response.text
    me.refresh_from_db()
    assert me.role == "admin"


def test_the_services_refuse_whoever_is_not_an_admin(account):
    dev = membership_create(account, username="dev", password="x", role="developer")
    admin = membership_create(account, username="adm", password="x", role="admin")
    from billing.roles import RoleForbidden

    with pytest.raises(RoleForbidden):
        user_invite(
            account, Actor(account.pk, membership=dev), email="a@b.test", name="A", role="admin"
        )
    from billing.errors import LastAdmin
    from billing.users import user_remove

    with pytest.raises(LastAdmin):
        user_remove(account, None, user_id=admin.public_id)


def test_a_password_reset_link_uses_site_url(client, account, settings):
    settings.SITE_URL = "https://sent.example"
    membership_create(account, username="erin", password="old password 123", email="erin@acme.test")
    response = client.post(reverse("password_reset"), {"email": "erin@acme.test"})
    assert response.status_code == 302
    [message] = mail.outbox
    link = re.search(r"https://sent\.example(/password-reset/\S+/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.text
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new password 9", "new_password2": "a brand new password 9"},
    )
    assert done.status_code == 302
    assert client.login(username="erin", password="a brand new password 9")


def test_a_reset_for_an_unknown_email_looks_the_same(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@acme.test"})
    assert response.status_code == 302 and mail.outbox == []
