"""The users API through the official SDK (sentdm) against a live server: invite, list,
retrieve, change role, remove, and the rules' codes (docs/api/users.md)."""

import re

import pytest
import sent_dm

from django.core import mail

from billing.models import AuditEntry, Membership
from billing.services import membership_create


def _link(message) -> str:
    return re.search(r"http\S+/invitations/\S+/", message.body).group(0)


def test_invite_lists_the_user_as_invited_and_emails_a_link(sdk, live_account, settings):
    settings.SITE_URL = "https://sent.example"
    invited = sdk.users.invite(email="Dev@Acme.test", name="Dana Dev", role="developer").data
    assert (invited.email, invited.name, invited.role, invited.status) == (
        "dev@acme.test",
        "Dana Dev",
        "developer",
        "invited",
    )
    assert invited.customer_id == str(live_account.pk) and invited.invited_at is not None
    listed = sdk.users.list().data
    assert [(u.email, u.status) for u in listed.users] == [("dev@acme.test", "invited")]
    assert listed.pagination.has_more is False
    assert sdk.users.retrieve(invited.id).data.email == "dev@acme.test"
    [message] = mail.outbox
    assert message.to == ["dev@acme.test"]
    assert _link(message).startswith("https://sent.example/invitations/")
    entry = AuditEntry.objects.get(action="user.invited")
    assert entry.actor.startswith("API key ") and entry.actor_api_key is not None
    assert entry.target == "dev@acme.test"


def test_sandbox_invite_answers_without_writing_or_emailing(sdk, live_account):
    response = sdk.users.with_raw_response.invite(
        email="x@acme.test", name="X", role="billing", sandbox=True
    )
    assert response.headers["X-Sandbox"] == "true"
    assert response.parse().data.status == "invited"
    assert Membership.objects.count() == 0 and mail.outbox == []


def test_update_role_and_remove_obey_the_rules(sdk, live_account, other_sdk):
    admin = membership_create(live_account, username="ann", password="x", email="ann@acme.test")
    dev = sdk.users.invite(email="dev@acme.test", name="Dev", role="developer").data
    assert sdk.users.update_role(dev.id, role="billing").data.role == "billing"
    # The only active admin can't be demoted or removed: 409 USER_001, not retried.
    with pytest.raises(sent_dm.ConflictError) as caught:
        sdk.users.update_role(str(admin.public_id), role="developer")
    assert caught.value.body["error"]["code"] == "USER_001"
    assert caught.value.response.headers["x-should-retry"] == "false"
    with pytest.raises(sent_dm.ConflictError):
        sdk.users.remove(str(admin.public_id))
    # Another account's user is not found.
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.users.update_role(dev.id, role="admin")
    with pytest.raises(sent_dm.NotFoundError):
        other_sdk.users.remove(dev.id)
    with pytest.raises(sent_dm.BadRequestError) as caught:
        sdk.users.update_role(dev.id, role="owner")
    assert caught.value.body["error"]["code"] == "VALIDATION_006"
    # With a second admin the first may go.
    second = sdk.users.update_role(dev.id, role="admin").data
    Membership.objects.filter(public_id=second.id).update(status="active")
    assert sdk.users.remove(str(admin.public_id)) is None
    assert [u.email for u in sdk.users.list().data.users] == ["dev@acme.test"]
    with pytest.raises(sent_dm.NotFoundError):
        sdk.users.retrieve(str(admin.public_id))
    actions = list(
        AuditEntry.objects.filter(action__startswith="user.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["user.invited", "user.role_changed", "user.role_changed", "user.removed"]


def test_an_email_that_already_has_a_user_is_refused(sdk, live_account, live_other_account):
    membership_create(live_other_account, username="bob", password="x", email="bob@globex.test")
    with pytest.raises(sent_dm.ConflictError) as caught:
        sdk.users.invite(email="BOB@globex.test", name="Bob", role="admin")
    assert caught.value.body["error"]["code"] == "USER_003"
    with pytest.raises(sent_dm.BadRequestError) as caught:
        sdk.users.invite(email="not an email", name="Bob", role="admin")
    assert caught.value.body["error"]["code"].startswith("VALIDATION_")
    # JSON types are not coerced: a number is not a name, 1 is not a boolean.
    for body in ({"name": 0}, {"name": "Bob", "sandbox": 1}):
        with pytest.raises(sent_dm.BadRequestError) as caught:
            sdk.users.invite(email="new@acme.test", role="admin", **({"name": "Bob"} | body))
        assert caught.value.body["error"]["code"].startswith("VALIDATION_")
    assert not Membership.objects.filter(user__email="new@acme.test").exists()


def test_suspend_and_pages_through_the_sdk(sdk, live_account):
    """`status` is ours, sent with the SDK's extra_body; pages with extra_query."""
    for n in range(3):
        sdk.users.invite(email=f"u{n}@acme.test", name=f"U{n}", role="developer")
    dev = membership_create(
        live_account, username="dev", password="x", email="dev@acme.test", role="developer"
    )
    suspended = sdk.users.update_role(str(dev.public_id), extra_body={"status": "suspended"}).data
    assert (suspended.status, suspended.role) == ("suspended", "developer")
    both = sdk.users.update_role(
        str(dev.public_id), role="billing", extra_body={"status": "active"}
    ).data
    assert (both.status, both.role) == ("active", "billing")
    with pytest.raises(sent_dm.ConflictError) as caught:
        invited = sdk.users.list().data.users[0]
        sdk.users.update_role(invited.id, extra_body={"status": "suspended"})
    assert caught.value.body["error"]["code"] == "USER_005"
    page = sdk.users.list(extra_query={"page": 2, "page_size": 3}).data
    assert [u.email for u in page.users] == ["dev@acme.test"]
    assert (page.pagination.total_count, page.pagination.has_more) == (4, False)
    first = sdk.users.list(extra_query={"page_size": 3}).data
    assert [u.email for u in first.users] == ["u0@acme.test", "u1@acme.test", "u2@acme.test"]
    assert first.pagination.has_more is True
