"""The send playground (Django test client): the composer, the preview and its price, the
send, errors next to their fields, the contact picker and the live status rows — success,
another account, no login, bad input, wrong method."""

import json
import re
from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from django.urls import reverse

from billing.models import Price
from billing.services import membership_create
from contacts.models import Contact
from messaging.dashboard.playground_views import send_preview
from messaging.models import Message
from messaging.sending import SendRequest
from tests.factories import make_customer
from tests.messaging.factories import make_approved_template, make_contact, number, send
from tests.tasks import run_queued_tasks
from tests.templates_app.factories import content, make_template

pytestmark = pytest.mark.usefixtures("instant_lifecycle")
HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"messaging:{name}", args=args)


@pytest.fixture
def template(account):
    samples = {"name": "Ana", "order_id": "A-1001"}
    return make_approved_template(
        account,
        display_name="Order shipped",
        definition_={"body": {"multiChannel": content(samples=samples)}},
    )


def compose(chosen, **changes) -> dict:
    """What the playground form posts for a send of the `chosen` template to one SMS-only
    number; `changes` replace fields (None leaves one out)."""
    data = {
        "mode": "template",
        "template": str(chosen.pk),
        "param_name": "Ben",
        "param_order_id": "B-7",
        "numbers": number(60),  # 50–79: SMS only, delivered
        "channel": "sent",
        "sandbox": "on",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


# ---- the composer


def test_the_page_offers_the_accounts_approved_templates_only(
    dashboard_client, account, other_account, template, django_assert_max_num_queries
):
    make_approved_template(other_account, name="globex_notice")
    make_template(account, name="draft_one")  # a draft
    # session, user, membership, customer, the approved templates (and their history)
    with django_assert_max_num_queries(6):
        response = dashboard_client.get(url("playground"))
    assert response.status_code == 200
    assert (
        f'<option value="{template.pk}" title="Order shipped (order_shipped)">'
        "Order shipped (order_shipped)</option>"
    ) in response.text
    assert "globex_notice" not in response.text and "draft_one" not in response.text


def test_choosing_a_template_gives_an_input_per_variable_prefilled_with_its_sample(
    dashboard_client, template
):
    response = dashboard_client.get(
        url("playground"), {"template": template.pk}, **HTMX, HTTP_HX_TARGET="composer"
    )
    assert response.text.lstrip().startswith('<div id="composer">')
    assert 'name="param_name" value="Ana"' in response.text
    assert 'name="param_order_id" value="A-1001"' in response.text
    assert "composerChanged" in response["HX-Trigger-After-Settle"]  # the preview follows


def test_the_contact_page_link_preselects_the_contact(dashboard_client, account, other_account):
    ana = make_contact(account, number(10), metadata={"name": "Ana"})
    foreign = make_contact(other_account, number(11))
    response = dashboard_client.get(url("playground"), {"contact": [ana.pk, foreign.pk, "x"]})
    assert f'<input type="hidden" name="contact" value="{ana.pk}">' in response.text
    assert "(Ana)" in response.text
    assert str(foreign.pk) not in response.text


def test_the_picker_finds_this_accounts_contacts_in_any_format(
    dashboard_client, account, other_account
):
    ana = make_contact(account, "+14155550100", metadata={"name": "Ana"})
    make_contact(account, "+14155550160", opt_out=True)
    foreign = make_contact(other_account, "+14155550101")
    response = dashboard_client.get(url("playground_contacts"), {"q": "(415) 555-01"}, **HTMX)
    assert f'data-pick="{ana.pk}"' in response.text and "Ana" in response.text
    assert "opted out" in response.text  # the opted-out one is marked
    assert str(foreign.pk) not in response.text
    nothing = dashboard_client.get(url("playground_contacts"), {"q": "zzz"}, **HTMX)
    assert "No contact matches" in nothing.text
    unsearchable = dashboard_client.get(url("playground_contacts"), {"q": "555\x00"}, **HTMX)
    assert unsearchable.status_code == 200  # PostgreSQL refuses NUL in a query
    assert "data-pick" not in unsearchable.text


# ---- the preview


def test_the_preview_shows_the_rendered_body_the_price_and_the_routing_reason_writing_nothing(
    dashboard_client, account, template
):
    response = dashboard_client.post(url("playground_preview"), compose(template), **HTMX)
    assert response.status_code == 200
    assert "Hi Ben, your order B-7 has shipped and arrives soon." in response.text
    assert "GSM-7" in response.text and "1 segment" in response.text
    assert "+1 415-555-0060" in response.text
    assert "sms: whatsapp unavailable" in response.text  # why this channel
    assert 'id="quote-total">0.0083 USD' in response.text
    assert "Sandbox" in response.text
    # The preview is the real send, rolled back: no message, contact, job or charge.
    assert not Message.objects.exists() and not Contact.objects.exists()
    assert not DBTaskResult.objects.exists()
    account.refresh_from_db()
    assert account.balance == Decimal("100")


def test_the_preview_shows_the_fallback_channel_and_the_most_the_send_can_cost(
    dashboard_client, account, template
):
    """WhatsApp first (number 80–89: the simulator refuses it there and SMS takes over, at
    SMS's price): the preview names the fallback and its price, priced like the send."""
    Price.objects.update_or_create(
        channel="sms", country="US", category="", defaults={"unit_price": Decimal("0.1990")}
    )
    response = dashboard_client.post(
        url("playground_preview"), compose(template, numbers=number(80)), **HTMX
    )
    planned = send_preview(
        account,
        SendRequest(
            to=[number(80)],
            channels=["sent"],
            template_id=str(template.pk),
            parameters={"name": "Ben", "order_id": "B-7"},
            sandbox=True,
        ),
    )[0]
    first, sms = planned.price, Decimal(planned.alternatives["sms"]["price"])
    assert planned.channel == "whatsapp" and planned.fallbacks == ["sms"] and sms > first
    text = " ".join(response.text.split())
    assert f'If WhatsApp can\'t reach it: <span class="badge channel-sms">SMS</span> {sms:.4f}' in (
        text.replace("&#x27;", "'")
    )
    assert f"at most {sms:.4f}" in text
    assert f'id="quote-total">{first:.4f} USD' in text
    assert f'id="quote-at-most">{sms:.4f} USD' in text
    assert "falls back to the next one" in text
    assert "exactly what will be sent" not in text


def test_a_preview_without_fallback_promises_no_fallback(dashboard_client, template):
    response = dashboard_client.post(url("playground_preview"), compose(template), **HTMX)
    assert "quote-at-most" not in response.text and "can't reach it" not in response.text


def test_the_preview_shows_an_opted_out_contact_as_filtered_and_free(
    dashboard_client, account, template
):
    opted_out = make_contact(account, number(61), opt_out=True)
    data = compose(template, contact=str(opted_out.pk))
    response = dashboard_client.post(url("playground_preview"), data, **HTMX)
    assert "Filtered" in response.text and "opted out" in response.text
    assert "1 message to send" in response.text  # only the other recipient
    assert 'id="quote-total">0.0083 USD' in response.text


def test_the_preview_waits_quietly_until_content_and_recipients_are_chosen(
    dashboard_client, template
):
    for data in [compose(template, template=""), compose(template, numbers="")]:
        response = dashboard_client.post(url("playground_preview"), data, **HTMX)
        assert "Nothing to preview yet" in response.text
        assert "preview-errors" not in response.text


def test_the_preview_names_a_bad_number(dashboard_client, template):
    response = dashboard_client.post(
        url("playground_preview"), compose(template, numbers="555 12"), **HTMX
    )
    assert 'id="preview-errors"' in response.text
    assert "too short" in response.text


def test_the_preview_names_the_missing_variable(dashboard_client, template):
    response = dashboard_client.post(
        url("playground_preview"), compose(template, param_order_id=""), **HTMX
    )
    errors = response.text.split('id="preview-errors"')[1].split("</div>")[0]
    assert "Variable order_id: This parameter is required." in errors


def test_the_preview_reports_the_fields_errors_as_they_are_now(dashboard_client, template):
    """Checked in full, the preview tells the page every field's errors (none once fixed),
    so an error a refused send left next to a field goes away."""
    fixed = dashboard_client.post(url("playground_preview"), compose(template), **HTMX)
    assert json.loads(fixed["HX-Trigger"]) == {
        "fieldsChecked": {"form": "playground-form", "errors": {}}
    }
    bad = dashboard_client.post(
        url("playground_preview"), compose(template, numbers="555 12"), **HTMX
    )
    errors = json.loads(bad["HX-Trigger"])["fieldsChecked"]["errors"]
    assert list(errors) == ["id_numbers"] and "too short" in errors["id_numbers"]
    # No recipient yet: only what the form checks itself is reported (the text's error
    # goes once text is written), the send's own fields are left as they are.
    incomplete = dashboard_client.post(
        url("playground_preview"), compose(template, numbers="", mode="text", text="Hi"), **HTMX
    )
    checked = json.loads(incomplete["HX-Trigger"])["fieldsChecked"]
    assert checked["errors"] == {}
    assert "id_text" in checked["checked"] and "id_numbers" not in checked["checked"]
    assert "id_param_name" not in checked["checked"]


def test_the_preview_warns_when_the_balance_cant_cover_a_real_send(client, template):
    poor = make_customer("Poor", balance="0.001")
    client.force_login(membership_create(poor, username="pat", password="x" * 20).user)
    poor_template = make_approved_template(poor)
    response = client.post(url("playground_preview"), compose(poor_template, sandbox=None), **HTMX)
    assert "can't cover this send" in response.text
    sandboxed = client.post(url("playground_preview"), compose(poor_template), **HTMX)
    assert "can't cover" not in sandboxed.text


def test_the_previews_queries_dont_grow_with_the_recipients(
    dashboard_client, account, template, django_assert_max_num_queries
):
    known = [make_contact(account, number(60 + i)) for i in range(5)]
    one = compose(template, numbers=known[0].format_e164)
    five = compose(template, numbers=", ".join(c.format_e164 for c in known))
    # The same bound for one recipient and five (25: the session, the page, the customer's
    # senders read once, the send's batch row, which recipients have a conversation to move
    # up, whether a dispatch job is already waiting, ...).
    with django_assert_max_num_queries(25):
        dashboard_client.post(url("playground_preview"), one, **HTMX)
    with django_assert_max_num_queries(25):
        response = dashboard_client.post(url("playground_preview"), five, **HTMX)
    assert "5 messages to send" in response.text


# ---- sending


def test_a_sandbox_send_creates_the_messages_and_answers_live_rows(
    dashboard_client, account, template
):
    response = dashboard_client.post(url("playground_send"), compose(template), **HTMX)
    message = Message.objects.get(customer=account)
    assert message.sandbox and message.status == "QUEUED" and message.channel == "sms"
    assert message.body == "Hi Ben, your order B-7 has shipped and arrives soon."
    row = f'<tr id="message-{message.pk}" class="message-row" hx-get="{url("message_status", message.pk)}" hx-trigger="every 1s"'
    assert row in response.text
    assert "sms: whatsapp unavailable" in response.text
    # The form comes back fresh (out of band), keeping what was composed.
    assert '<div id="playground-fields" hx-swap-oob="true">' in response.text
    account.refresh_from_db()
    assert account.balance == Decimal("100")  # sandbox: never charged


def test_a_real_send_is_charged(dashboard_client, account, template):
    dashboard_client.post(url("playground_send"), compose(template, sandbox=None), **HTMX)
    message = Message.objects.get(customer=account)
    assert not message.sandbox
    account.refresh_from_db()
    assert account.balance == Decimal("100") - message.price


def test_free_text_and_picked_contacts_and_typed_numbers_go_together(
    dashboard_client, account, template
):
    ana = make_contact(account, number(62))
    data = compose(template, mode="text", text="Doors open at 9", contact=str(ana.pk))
    data["numbers"] = f"{number(63)}, {number(62)}"  # the picked contact typed again: once
    dashboard_client.post(url("playground_send"), data, **HTMX)
    messages = Message.objects.filter(customer=account)
    assert sorted(m.phone for m in messages) == [number(62), number(63)]
    assert {m.body for m in messages} == {"Doors open at 9"}


def test_a_send_to_an_opted_out_contact_among_others_shows_it_filtered(
    dashboard_client, account, template
):
    opted_out = make_contact(account, number(61), opt_out=True)
    response = dashboard_client.post(
        url("playground_send"), compose(template, contact=str(opted_out.pk)), **HTMX
    )
    filtered = Message.objects.get(contact=opted_out)
    assert filtered.status == "FILTERED" and filtered.price == 0
    row = response.text.split(f'id="message-{filtered.pk}"')[1].split("</tr>")[0]
    assert "hx-trigger" not in row.split(">")[0]  # final: not polled
    assert "Filtered" in row and filtered.reason in row


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"numbers": "555 12"}, "numbers", "too short"),
        ({"template": ""}, "template", "Choose a template"),
        ({"mode": "text", "text": ""}, "text", "Write the text to send."),
        ({"param_name": ""}, "param_name", "This parameter is required."),
        ({"numbers": ""}, "numbers", "Give 1 to 1,000 recipients."),
    ],
)
def test_a_refused_send_shows_each_error_next_to_its_field(
    dashboard_client, account, template, changes, field, message
):
    response = dashboard_client.post(url("playground_send"), compose(template, **changes), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#playground-fields" and response["HX-Reswap"] == "outerHTML"
    assert response.text.lstrip().startswith('<div id="playground-fields">')
    error = response.text.split(f'id="id_{field}_error"')[1].split("</p>")[0]
    assert message in error.replace("&#x27;", "'")
    [control] = re.findall(rf'<(?:input|textarea|select)[^>]*name="{field}"[^>]*>', response.text)
    assert 'aria-invalid="true"' in control
    assert re.search(rf'aria-describedby="[^"]*\bid_{field}_error\b', control)
    assert '<section id="outcome" aria-live="polite" hx-swap-oob="true">' in response.text
    assert "Not sent." in response.text
    assert not Message.objects.exists()


def test_a_send_to_opted_out_contacts_only_is_refused(dashboard_client, account, template):
    opted_out = make_contact(account, number(61), opt_out=True)
    data = compose(template, numbers="", contact=str(opted_out.pk))
    response = dashboard_client.post(url("playground_send"), data, **HTMX)
    assert "Every recipient has opted out of messages." in response.text
    assert f'<input type="hidden" name="contact" value="{opted_out.pk}">' in response.text  # kept
    assert not Message.objects.exists()


def test_another_accounts_contact_or_template_cant_be_used(
    dashboard_client, account, other_account, template
):
    foreign = make_contact(other_account, number(64))
    foreign_template = make_approved_template(other_account, name="globex")
    data = compose(template, numbers="", contact=str(foreign.pk))
    response = dashboard_client.post(url("playground_send"), data, **HTMX)
    assert "No contact of yours has this id." in response.text
    assert f'value="{foreign.pk}"' not in response.text  # no chip for it
    refused = dashboard_client.post(
        url("playground_send"), compose(template, template=str(foreign_template.pk)), **HTMX
    )
    assert 'id="id_template_error"' in refused.text
    assert not Message.objects.exists()


def test_without_javascript_a_send_goes_to_the_messages(dashboard_client, account, template):
    response = dashboard_client.post(url("playground_send"), compose(template))
    assert response.status_code == 302 and response["Location"] == url("message_list")
    assert Message.objects.filter(customer=account).count() == 1
    refused = dashboard_client.post(url("playground_send"), compose(template, numbers="555 12"))
    assert refused.status_code == 200 and 'id="id_numbers_error"' in refused.text


def test_the_playground_needs_a_signed_in_user(client, template):
    for name in ["playground", "playground_contacts"]:
        response = client.get(url(name))
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    for name in ["playground_preview", "playground_send"]:
        assert client.post(url(name), compose(template)).status_code == 302
    assert not Message.objects.exists()


def test_the_playground_refuses_the_wrong_method(dashboard_client, template):
    assert dashboard_client.get(url("playground_send"), compose(template)).status_code == 405
    assert dashboard_client.get(url("playground_preview")).status_code == 405
    assert dashboard_client.post(url("playground")).status_code == 405
    assert not Message.objects.exists()


# ---- live status


def status_row(dashboard_client, message) -> str:
    response = dashboard_client.get(url("message_status", message.pk), **HTMX)
    assert response.status_code == 200
    return response.text


def test_the_status_row_is_polled_until_the_message_is_final(
    dashboard_client, account, template, django_assert_max_num_queries
):
    [message] = send(account, [number(60)])  # SMS: final at DELIVERED
    assert 'hx-trigger="every 1s"' in status_row(dashboard_client, message)
    run_queued_tasks(max_jobs=1)  # the dispatch
    message.refresh_from_db()
    assert message.status == "SENT"
    sent = status_row(dashboard_client, message)
    assert 'hx-trigger="every 1s"' in sent and '<li class="reached current">Sent</li>' in sent
    run_queued_tasks()  # the receipts
    message.refresh_from_db()
    assert message.status == "DELIVERED"
    # session, user, membership, customer, the message, its history
    with django_assert_max_num_queries(6):
        final = status_row(dashboard_client, message)
    assert "hx-trigger" not in final
    assert '<li class="reached current">Delivered</li>' in final


def test_a_whatsapp_message_is_followed_until_read(dashboard_client, account, template):
    [message] = send(account, [number(12)])  # 00–49: WhatsApp, delivered then read
    run_queued_tasks(max_jobs=1)
    Message.objects.filter(pk=message.pk).update(status="DELIVERED")
    assert 'hx-trigger="every 1s"' in status_row(dashboard_client, message)
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "READ"
    assert "hx-trigger" not in status_row(dashboard_client, message)


def test_a_failed_message_stops_the_polling_with_its_reason(dashboard_client, account, template):
    [message] = send(account, [number(90)])  # 90–94: every channel fails
    run_queued_tasks()
    message.refresh_from_db()
    assert message.status == "FAILED"
    row = status_row(dashboard_client, message)
    assert "hx-trigger" not in row and "Failed" in row and message.reason in row


def test_another_accounts_message_status_is_not_found(dashboard_client, other_account):
    make_approved_template(other_account)
    [foreign] = send(other_account, [number(60)])
    response = dashboard_client.get(url("message_status", foreign.pk), **HTMX)
    assert response.status_code == 404
