"""The templates admin: filters, a readable definition with previews, status actions."""

from templates_app.models import Template
from tests.templates_app.factories import make_template

CHANGELIST = "/admin/templates_app/template/"


def act(admin_client, action: str, *templates, **extra):
    return admin_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(t.pk) for t in templates], **extra},
        follow=True,
    )


def test_the_list_filters_by_status_category_and_language(admin_client, account):
    make_template(account, name="live_one", status="APPROVED")
    make_template(account, name="draft_one", language="fr")
    page = admin_client.get(CHANGELIST, {"status__exact": "APPROVED"}).content.decode()
    assert "live_one" in page and "draft_one" not in page
    page = admin_client.get(CHANGELIST, {"language": "fr"}).content.decode()
    assert "draft_one" in page and "live_one" not in page
    assert admin_client.get(CHANGELIST, {"category__exact": "UTILITY"}).status_code == 200


def test_the_detail_page_shows_the_definition_previews_and_history(admin_client, account):
    template = make_template(account, name="order_update", status="APPROVED")
    page = admin_client.get(f"{CHANGELIST}{template.pk}/change/").content.decode()
    assert "&quot;multiChannel&quot;" in page  # the definition, pretty-printed
    assert "Hi [name], your order [order_id] has shipped" in page  # the preview
    assert "GSM-7" in page
    assert "DRAFT" in page and "APPROVED" in page  # history rows
    assert 'name="name"' not in page  # read-only


def test_approve_pause_and_archive_actions(admin_client, account):
    pending = make_template(account, name="p", status="PENDING")
    act(admin_client, "approve", pending)
    pending.refresh_from_db()
    assert pending.status == "APPROVED"
    act(admin_client, "pause", pending)
    pending.refresh_from_db()
    assert pending.status == "PAUSED"
    act(admin_client, "archive", pending)
    pending.refresh_from_db()
    assert pending.status == "ARCHIVED"
    assert pending.status_changes.latest().source == "admin"


def test_reject_asks_for_a_reason_then_rejects(admin_client, account):
    template = make_template(account, name="p", status="PENDING")
    page = act(admin_client, "reject", template)
    assert "Shown to the customer" in page.content.decode()
    template.refresh_from_db()
    assert template.status == "PENDING"
    act(admin_client, "reject", template, apply="1", reason="Looks like spam")
    template.refresh_from_db()
    assert (template.status, template.rejection_reason) == ("REJECTED", "Looks like spam")


def test_refused_actions_are_reported_and_change_nothing(admin_client, account):
    draft = make_template(account, name="d")
    approved = make_template(account, name="a", status="APPROVED")
    page = act(admin_client, "pause", draft, approved).content.decode()
    assert "1 template(s) paused." in page
    assert "Not changed" in page and "A DRAFT template can&#x27;t become PAUSED." in page
    assert Template.objects.get(pk=draft.pk).status == "DRAFT"


def test_templates_cannot_be_added_edited_or_deleted_in_the_admin(admin_client, account):
    template = make_template(account)
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert (
        admin_client.post(f"{CHANGELIST}{template.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Template.objects.filter(pk=template.pk).exists()
