"""Suspending and reactivating users, the users list's pages, and the invitation rate limit
(docs/api/users.md): through the API (PATCH with `status`) and the dashboard's buttons."""

import pytest

from django.test import Client
from django.urls import reverse

from billing.models import AuditEntry, Membership
from billing.services import membership_create

pytestmark = pytest.mark.django_db
PASSWORD = "a long dashboard password"


def _user(account, name, role="developer"):
    return membership_create(
        account, username=name, password=PASSWORD, email=f"{name}@acme.test", role=role
    )


def test_a_suspended_user_cannot_sign_in_and_their_session_stops(api_client, account):
    dev = _user(account, "dana")
    session = Client()
    assert session.post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 302
    assert session.get("/contacts/").status_code == 200

    response = api_client.patch(f"/v3/users/{dev.public_id}", {"status": "suspended"})
    assert response.status_code == 200
    assert (response.json()["data"]["status"], response.json()["data"]["role"]) == (
        "suspended",
        "developer",
    )
    # The open session no longer works, and signing in again is refused like a wrong password.
    assert session.get("/contacts/").status_code == 302
    refused = Client().post("/login/", {"username": "dana", "password": PASSWORD})
    assert refused.status_code == 200 and "Please enter a correct username" in refused.text

    back = api_client.patch(f"/v3/users/{dev.public_id}", {"status": "active"})
    assert back.json()["data"]["status"] == "active"
    assert Client().post("/login/", {"username": "dana", "password": PASSWORD}).status_code == 302
    actions = AuditEntry.objects.filter(target="dana@acme.test").values_list("action", flat=True)
    assert sorted(actions) == ["user.reactivated", "user.suspended"]


def test_suspending_follows_the_rules_of_removing(
    api_client, account, django_capture_on_commit_callbacks
):
    admin = _user(account, "ann", role="admin")
    last = api_client.patch(f"/v3/users/{admin.public_id}", {"status": "suspended"})
    assert (last.status_code, last.json()["error"]["code"]) == (409, "USER_001")
    assert last["x-should-retry"] == "false"
    invited = api_client.post(
        "/v3/users", {"email": "new@acme.test", "name": "New", "role": "billing"}
    ).json()["data"]
    pending = api_client.patch(f"/v3/users/{invited['id']}", {"status": "suspended"})
    assert (pending.status_code, pending.json()["error"]["code"]) == (409, "USER_005")
    bad = api_client.patch(f"/v3/users/{admin.public_id}", {"status": "invited"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "VALIDATION_006")
    empty = api_client.patch(f"/v3/users/{admin.public_id}", {})
    assert empty.status_code == 400
    sandboxed = api_client.patch(
        f"/v3/users/{_user(account, 'sam').public_id}", {"status": "suspended", "sandbox": True}
    )
    assert sandboxed.json()["data"]["status"] == "suspended" and sandboxed["X-Sandbox"] == "true"
    assert Membership.objects.get(user__username="sam").status == "active"


def test_the_dashboard_suspends_and_reactivates_but_not_oneself(dashboard_client, account):
    me = Membership.objects.get(user__username="alice")
    dev = _user(account, "dana")
    page = dashboard_client.get(reverse("billing:user_list"))
    assert "Suspend" in page.text
    dashboard_client.post(
        reverse("billing:user_status", args=[dev.public_id]), {"status": "suspended"}
    )
    dev.refresh_from_db()
    assert dev.status == "suspended" and not dev.user.is_active
    assert "Reactivate" in dashboard_client.get(reverse("billing:user_list")).text
    dashboard_client.post(
        reverse("billing:user_status", args=[dev.public_id]), {"status": "active"}
    )
    dev.refresh_from_db()
    assert dev.status == "active" and dev.user.is_active
    own = dashboard_client.post(
        reverse("billing:user_status", args=[me.public_id]), {"status": "suspended"}, follow=True
    )
    assert "You can&#x27;t change your own role or remove yourself" in own.text
    me.refresh_from_db()
    assert me.status == "active"


def test_the_users_list_pages_like_every_list(api_client, account):
    for n in range(5):
        _user(account, f"user{n}")
    first = api_client.get("/v3/users", {"page_size": 2}).json()["data"]
    assert [u["email"] for u in first["users"]] == ["user0@acme.test", "user1@acme.test"]
    assert first["pagination"] == {
        "page": 1,
        "page_size": 2,
        "total_count": 5,
        "total_pages": 3,
        "has_more": True,
        "cursors": None,
        "total_count_is_estimate": False,
    }
    last = api_client.get("/v3/users", {"page": 3, "page_size": 2}).json()["data"]
    assert [u["email"] for u in last["users"]] == ["user4@acme.test"]
    assert last["pagination"]["has_more"] is False
    wrong = api_client.get("/v3/users", {"page": 0})
    assert wrong.status_code == 400


def test_invitations_are_limited_per_account_per_hour(
    api_client, other_api_client, dashboard_client, account, settings
):
    settings.INVITATIONS_PER_HOUR = 2
    for n in range(2):
        body = {"email": f"i{n}@acme.test", "name": "I", "role": "developer"}
        assert api_client.post("/v3/users", body).status_code == 201
    refused = api_client.post("/v3/users", {"email": "i9@acme.test", "name": "I", "role": "admin"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "USER_006"
    assert int(refused["Retry-After"]) > 3000 and refused["x-should-retry"] == "false"
    assert not Membership.objects.filter(user__email="i9@acme.test").exists()
    # Revoking doesn't give the invitation back; a re-invite counts too.
    revoked = Membership.objects.get(user__email="i1@acme.test")
    dashboard_client.post(reverse("billing:user_revoke", args=[revoked.public_id]))
    assert not Membership.objects.filter(pk=revoked.pk).exists()
    again = api_client.post("/v3/users", {"email": "i1@acme.test", "name": "I", "role": "admin"})
    assert again.status_code == 429
    pending = Membership.objects.get(user__email="i0@acme.test")
    reinvite = dashboard_client.post(
        reverse("billing:user_reinvite", args=[pending.public_id]), follow=True
    )
    assert "Too many invitations" in reinvite.text
    page = dashboard_client.post(
        reverse("billing:user_list"), {"email": "i8@acme.test", "name": "I", "role": "billing"}
    )
    assert page.status_code == 429 and "at most 2 an hour" in page.text
    # Another account has its own allowance.
    body = {"email": "x@globex.test", "name": "X", "role": "admin"}
    assert other_api_client.post("/v3/users", body).status_code == 201
