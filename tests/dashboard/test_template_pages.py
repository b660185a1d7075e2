"""The template pages (Django test client): list and filters, the editor and its live
preview, detail with history, submit, delete — success, another account, no login, bad input."""

import re

import pytest

from django.urls import reverse

from messaging.routing import CHANNELS as ROUTED_CHANNELS
from templates_app import lifecycle
from templates_app.definition import SENT_CHANNELS, delivery_channels
from templates_app.models import Template
from templates_app.services import templates_seed_demo
from tests.templates_app.factories import content, make_template, pair_definition

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"templates_app:{name}", args=args)


def editor_data(**overrides):
    data = {
        "layout": "same",
        "body": "Hi {{name}}, your order {{order_id}} has shipped and arrives soon.",
        "sample_name": "Ana",
        "sample_order_id": "A-1001",
        "language": "en_US",
        "category": "",
    }
    return {**data, **overrides}


# ---- list


def test_the_list_shows_the_accounts_templates_with_status(
    dashboard_client, account, other_account
):
    make_template(account, name="order_update", status=Template.Status.APPROVED)
    make_template(other_account, name="globex_secret")
    response = dashboard_client.get(url("template_list"))
    assert response.status_code == 200
    assert "order_update" in response.text and "Approved" in response.text
    assert "globex_secret" not in response.text


def test_the_list_filters_by_status_category_and_search(dashboard_client, account):
    make_template(account, name="approved_one", status=Template.Status.APPROVED)
    make_template(account, name="draft_one")
    approved = dashboard_client.get(url("template_list"), {"status": "APPROVED"})
    assert "approved_one" in approved.text and "draft_one" not in approved.text
    found = dashboard_client.get(
        url("template_list"), {"search": "draft"}, **HTMX, HTTP_HX_TARGET="templates"
    )
    assert found.text.lstrip().startswith('<div id="templates">')
    assert "draft_one" in found.text and "approved_one" not in found.text
    none = dashboard_client.get(url("template_list"), {"category": "MARKETING"})
    assert "No template matches" in none.text


def test_an_unknown_filter_value_is_ignored_not_an_error(dashboard_client, account):
    make_template(account, name="kept")
    response = dashboard_client.get(url("template_list"), {"status": "NOPE"})
    assert response.status_code == 200 and "kept" in response.text


def test_the_list_has_an_empty_state(dashboard_client):
    assert "No templates yet" in dashboard_client.get(url("template_list")).text


def test_the_list_is_paginated_with_a_pinned_query_count(
    dashboard_client, account, django_assert_max_num_queries
):
    for n in range(27):
        make_template(account, name=f"t_{n:02}")
    # session, user, customer, the page (+1 row), its status history, flash messages
    with django_assert_max_num_queries(6):
        response = dashboard_client.get(url("template_list"))
    assert response.text.count('<tr id="template-') == 25
    assert (
        dashboard_client.get(url("template_list"), {"page": 2}).text.count('<tr id="template-') == 2
    )


def test_pages_need_a_signed_in_user(client, account):
    template = make_template(account)
    for page in [url("template_list"), url("template_create"), url("template_detail", template.pk)]:
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


# ---- create with the live preview


def test_the_preview_renders_each_channel_with_the_samples(dashboard_client):
    response = dashboard_client.post(url("template_preview_new"), editor_data(), **HTMX)
    assert response.status_code == 200
    assert 'data-channel="sms"' in response.text and 'data-channel="whatsapp"' in response.text
    assert "Hi Ana, your order A-1001 has shipped" in response.text
    assert "GSM-7 · <strong>1 segment</strong> · 55 characters" in response.text


def test_the_preview_counts_ucs2_segments(dashboard_client):
    body = "Olá {{name}}, a sua encomenda chegou! " + "Obrigado por comprar connosco. " * 3
    response = dashboard_client.post(
        url("template_preview_new"), editor_data(body=body, layout="sms", sms_body=body), **HTMX
    )
    assert "UCS-2 · <strong>2 segments</strong>" in response.text
    assert 'data-channel="whatsapp"' not in response.text


def test_the_preview_lists_what_the_format_refuses(dashboard_client):
    response = dashboard_client.post(
        url("template_preview_new"), editor_data(footer="f" * 61), **HTMX
    )
    assert 'id="preview-problems"' in response.text
    assert "At most 60 characters (this one has 61)." in response.text
    assert 'id="preview-advice"' not in response.text


def test_the_preview_gives_whatsapps_rules_as_advice_not_as_problems(dashboard_client):
    response = dashboard_client.post(
        url("template_preview_new"),
        editor_data(body="Hi {{name}}, your code is {{code}}.", sample_code="482913"),
        **HTMX,
    )
    assert 'id="preview-problems"' not in response.text
    assert 'id="preview-advice"' in response.text
    assert "put a word after the last variable" in response.text
    assert "needs at least 5 words besides them (it has 4)" in response.text
    assert "Hi Ana, your code is 482913." in response.text  # still previewed
    sms_only = dashboard_client.post(
        url("template_preview_new"),
        editor_data(layout="sms", sms_body="Hi {{name}}, your code is {{code}}."),
        **HTMX,
    )
    assert 'id="preview-advice"' not in sms_only.text  # WhatsApp never sees it


def test_the_editor_of_a_template_shows_the_advice_at_once(dashboard_client, account):
    template = make_template(
        account,
        definition_={"body": {"multiChannel": content("Your code: {{0:code}}", ("code",))}},
    )
    page = dashboard_client.get(url("template_edit", template.pk))
    assert 'id="preview-advice"' in page.text and "put a word after the last variable" in page.text


def test_new_variables_bring_their_sample_inputs_out_of_band(dashboard_client):
    data = editor_data(body="Hi {{name}}, code {{code}} is ready for you today.")
    data["_variables"] = "sample_name"
    response = dashboard_client.post(url("template_preview_new"), data, **HTMX)
    assert 'id="samples" class="field samples" hx-swap-oob="true"' in response.text
    assert 'name="sample_code"' in response.text
    data["_variables"] = "sample_name,sample_code"
    same = dashboard_client.post(url("template_preview_new"), data, **HTMX)
    assert "hx-swap-oob" not in same.text


def test_creating_and_submitting_a_template(dashboard_client, account, settings):
    settings.WHATSAPP_PROVIDER = ""  # nothing to review: approved on submission
    response = dashboard_client.post(
        url("template_create"), {**editor_data(), "submit": "1"}, **HTMX
    )
    template = Template.objects.get(customer=account)
    assert response["HX-Redirect"] == url("template_detail", template.pk)
    assert template.status == Template.Status.APPROVED
    assert template.variables == ["name", "order_id"]
    body = template.definition["body"]["multiChannel"]
    assert (
        body["template"] == "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."
    )
    assert body["variables"][1]["props"]["sample"] == "A-1001"


def test_saving_a_draft_with_separate_channel_texts(dashboard_client, account):
    data = editor_data(
        layout="separate",
        sms_body="Hi {{name}}, order {{order_id}} shipped.",
        whatsapp_body="Hello {{name}}, your order {{order_id}} is on its way to you now.",
        footer="Acme Shop",
        name="order_shipped",
        category="UTILITY",
        draft="1",
    )
    dashboard_client.post(url("template_create"), data)
    template = Template.objects.get(customer=account)
    assert template.status == Template.Status.DRAFT and template.name == "order_shipped"
    assert set(template.definition["body"]) == {"sms", "whatsapp"}
    assert template.definition["footer"]["template"] == "Acme Shop"


def test_invalid_content_shows_the_services_error_next_to_the_text(dashboard_client, account):
    response = dashboard_client.post(
        url("template_create"), editor_data(body="Hi {{name}}, " + "word " * 205), **HTMX
    )
    assert response.status_code == 200
    assert 'id="id_body_error"' in response.text and "At most 1024 characters" in response.text
    assert not Template.objects.filter(customer=account).exists()


def test_a_draft_may_break_whatsapps_rules(dashboard_client, account):
    response = dashboard_client.post(
        url("template_create"), editor_data(body="{{name}}", draft="1"), **HTMX
    )
    template = Template.objects.get(customer=account)
    assert response["HX-Redirect"] == url("template_detail", template.pk)
    assert template.status == Template.Status.DRAFT


def test_creating_and_submitting_text_whatsapp_refuses_approves_it_for_sms(
    dashboard_client, account
):
    dashboard_client.post(
        url("template_create"), {**editor_data(body="{{name}}"), "submit": "1"}, **HTMX
    )
    template = Template.objects.get(customer=account)
    assert (template.status, template.whatsapp_status) == ("APPROVED", "REJECTED")
    page = dashboard_client.get(url("template_detail", template.pk)).text
    assert "approved for SMS" in page and 'id="whatsapp-rejected"' in page
    assert '<span class="badge channel-whatsapp">whatsapp</span> <span class="badge REJECTED">' in (
        page
    )  # the leg's row in the history


def test_an_empty_message_is_refused(dashboard_client, account):
    response = dashboard_client.post(url("template_create"), editor_data(body=""), **HTMX)
    assert 'id="id_body_error"' in response.text
    assert not Template.objects.filter(customer=account).exists()


def test_a_name_already_used_is_a_field_error(dashboard_client, account):
    make_template(account, name="order_shipped")
    response = dashboard_client.post(
        url("template_create"), editor_data(name="order_shipped"), **HTMX
    )
    assert 'id="id_name_error"' in response.text
    assert "already have a template named" in response.text


def test_a_refused_submit_still_previews_the_text_in_the_form(dashboard_client, account):
    make_template(account, name="order_shipped")
    response = dashboard_client.post(
        url("template_create"), {**editor_data(name="order_shipped"), "submit": "1"}, **HTMX
    )
    assert 'id="id_name_error"' in response.text
    preview = response.text.split('id="preview"')[1]
    assert "Hi Ana, your order A-1001 has shipped and arrives soon." in preview
    too_long = dashboard_client.post(
        url("template_create"), editor_data(body="Hi {{name}}, " + "word " * 205), **HTMX
    )
    assert "At most 1024 characters" in too_long.text.split('id="preview"')[1]  # the problem
    assert "Hi Ana, word word" in too_long.text.split('id="preview"')[1]
    bad_language = dashboard_client.post(url("template_create"), editor_data(language=""), **HTMX)
    assert "Hi Ana, your order A-1001" in bad_language.text.split('id="preview"')[1]


def test_a_pending_templates_page_follows_the_review_until_it_is_final(dashboard_client, account):
    template = make_template(account, status=Template.Status.PENDING)
    page = dashboard_client.get(url("template_detail", template.pk)).text
    assert 'id="template-live" hx-get="' in page and 'hx-trigger="every 2s"' in page
    assert "updates by itself" in page
    live = {**HTMX, "HTTP_HX_TARGET": "template-live"}
    still = dashboard_client.get(url("template_detail", template.pk), **live)
    assert still.status_code == 204  # nothing to swap while in review
    lifecycle.template_approve(template)
    final = dashboard_client.get(url("template_detail", template.pk), **live)
    assert final.status_code == 200
    assert final.text.lstrip().startswith('<div id="template-live">')  # no trigger: it stops
    assert "every 2s" not in final.text and ">Approved</span>" in final.text


def test_a_template_deleted_while_its_page_polls_sends_the_page_to_the_list(
    dashboard_client, account
):
    template = make_template(account, status=Template.Status.PENDING)
    template_id = template.pk
    template.delete()
    live = {**HTMX, "HTTP_HX_TARGET": "template-live"}
    poll = dashboard_client.get(url("template_detail", template_id), **live)
    assert poll.status_code == 200 and poll["HX-Redirect"] == url("template_list")
    assert "That template was deleted." in dashboard_client.get(url("template_list")).text
    # Opened as a page (not the poll), it is still the 404 page.
    assert dashboard_client.get(url("template_detail", template_id)).status_code == 404


def test_an_approved_templates_page_doesnt_poll(dashboard_client, account):
    template = make_template(account, status=Template.Status.APPROVED)
    assert "every 2s" not in dashboard_client.get(url("template_detail", template.pk)).text


def test_long_titles_are_shortened_in_the_list_and_the_playgrounds_drop_down(
    dashboard_client, account
):
    title = "Hi …, your order … has shipped and will arrive soon, track it online"
    template = make_template(account, status=Template.Status.APPROVED, display_name=title)
    listed = dashboard_client.get(url("template_list")).text
    link = re.search(rf'<a class="strong" href="[^"]*{template.pk}/"[^>]*>([^<]*)</a>', listed)
    assert f'title="{title}"' in link.group(0)
    assert link.group(1) == title[:39] + "…"
    playground = dashboard_client.get(reverse("messaging:playground")).text
    option = re.search(rf'<option value="{template.pk}"[^>]*>([^<]*)</option>', playground)
    assert option.group(1) == f"{title[:39]}… ({template.name})"
    assert f'title="{title} ({template.name})"' in option.group(0)


def test_the_channels_shown_are_those_this_install_sends(dashboard_client, account):
    """A same-text template renders on sms, whatsapp, rcs and mms; this install sends SMS
    and WhatsApp (MMS only with media, RCS never)."""
    template = make_template(account)
    assert template.channels == ["sms", "whatsapp", "rcs", "mms"]
    listed = dashboard_client.get(url("template_list")).text.split("<tbody>")[1]
    detail = dashboard_client.get(url("template_detail", template.pk)).text
    facts = detail.split("<dt>Channels</dt>")[1].split("</dd>")[0]
    for shown in (listed, facts):
        assert re.findall(r'<span class="badge channel-(\w+)">', shown) == ["sms", "whatsapp"]


def test_the_install_sends_the_channels_the_template_pages_name():
    assert set(SENT_CHANNELS) == set(ROUTED_CHANNELS)
    text = {"type": "text", "template": "Your photo", "variables": []}
    with_media = {**text, "media": [{"url": "https://example.com/a.jpg"}]}
    assert delivery_channels({"body": {"multiChannel": text}}) == ["sms", "whatsapp"]
    assert delivery_channels({"body": {"multiChannel": text, "mms": with_media}}) == [
        "sms",
        "whatsapp",
        "mms",
    ]


# ---- detail, edit, submit, delete


def test_the_detail_page_shows_previews_and_history(
    dashboard_client, account, django_assert_max_num_queries
):
    [_code, shipped, _sale] = templates_seed_demo(account)
    with django_assert_max_num_queries(6):
        response = dashboard_client.get(url("template_detail", shipped.pk))
    assert response.status_code == 200
    assert "Hi Ana, your order A-1001 has shipped" in response.text
    assert "Track order" in response.text  # the button
    assert response.text.count('<li><span class="badge') == 2  # created, approved
    assert "Demo template" in response.text


@pytest.mark.parametrize(
    ("status", "name", "can_submit", "can_edit"),
    [
        (Template.Status.DRAFT, "draft_one", True, True),
        (Template.Status.REJECTED, "rejected_one", True, True),
        (Template.Status.APPROVED, "approved_one", False, True),
        (Template.Status.PENDING, "pending_one", False, False),
        (Template.Status.PAUSED, "paused_one", False, False),
        (Template.Status.APPROVED, "sent_opt_out", False, False),  # reserved: read-only
    ],
)
def test_the_detail_page_offers_submit_and_edit_only_where_they_apply(
    dashboard_client, account, status, name, can_submit, can_edit
):
    template = make_template(account, status=status)
    Template.objects.filter(pk=template.pk).update(name=name)
    page = dashboard_client.get(url("template_detail", template.pk)).text
    assert ("Submit for review</button>" in page) is can_submit
    assert (f'href="{url("template_edit", template.pk)}"' in page) is can_edit


def test_another_accounts_template_is_not_found(dashboard_client, other_account):
    foreign = make_template(other_account)
    assert dashboard_client.get(url("template_detail", foreign.pk)).status_code == 404
    assert dashboard_client.get(url("template_edit", foreign.pk)).status_code == 404
    assert (
        dashboard_client.post(url("template_preview", foreign.pk), editor_data()).status_code == 404
    )
    assert dashboard_client.post(url("template_submit", foreign.pk)).status_code == 404
    assert dashboard_client.post(url("template_delete", foreign.pk)).status_code == 404
    assert Template.objects.filter(pk=foreign.pk, status="DRAFT").exists()


def test_the_editor_starts_from_the_template_with_names_for_placeholders(dashboard_client, account):
    template = make_template(account, definition_=pair_definition())
    response = dashboard_client.get(url("template_edit", template.pk))
    assert "Hi {{name}}, your code is {{code}}" in response.text
    [separate] = re.findall(
        r'<input type="radio" name="layout" value="separate"[^>]*>', response.text
    )
    assert "checked" in separate
    assert 'data-channel="sms"' in response.text  # the preview shows at once


def test_editing_keeps_buttons_and_the_id_numbering(dashboard_client, account, settings):
    [_code, shipped, _sale] = templates_seed_demo(account)
    form = dashboard_client.get(url("template_edit", shipped.pk))
    assert "change 1 button(s)" in form.text
    data = editor_data(
        body="Hi {{name}}, order {{order_id}} ships on {{delivery_date}}. Track it from your account.",
        sample_delivery_date="Friday",
        header="Your order is on its way",
        footer="Acme Shop",
        name="order_shipped",
        category="UTILITY",
        draft="1",
    )
    response = dashboard_client.post(url("template_edit", shipped.pk), data)
    assert response.status_code == 302, response.content
    shipped.refresh_from_db()
    assert shipped.definition["buttons"][0]["props"]["text"] == "Track order"
    assert shipped.definition["body"]["multiChannel"]["variables"][0]["id"] == 1
    assert shipped.status == Template.Status.PENDING  # approved content changed: back to review


def test_submitting_a_draft_for_review(dashboard_client, account):
    template = make_template(account)
    response = dashboard_client.post(url("template_submit", template.pk), **HTMX)
    assert response["HX-Redirect"] == url("template_detail", template.pk)
    template.refresh_from_db()
    assert template.status == Template.Status.PENDING
    assert "submitted for review" in dashboard_client.get(url("template_detail", template.pk)).text


def test_submitting_twice_says_it_is_in_review(dashboard_client, account):
    template = make_template(account, status=Template.Status.PENDING)
    dashboard_client.post(url("template_submit", template.pk))
    page = dashboard_client.get(url("template_detail", template.pk))
    assert "Template is under review" in page.text


def test_deleting_a_template(dashboard_client, account):
    template = make_template(account)
    response = dashboard_client.post(url("template_delete", template.pk))
    assert response.status_code == 302 and response["Location"] == url("template_list")
    assert not Template.objects.filter(pk=template.pk).exists()


@pytest.mark.parametrize("name", ["template_submit", "template_delete", "template_preview"])
def test_actions_refuse_get(dashboard_client, account, name):
    template = make_template(account)
    assert dashboard_client.get(url(name, template.pk)).status_code == 405
