"""The home page: balance, what needs attention, the first steps, today's traffic."""

import re
from decimal import Decimal

import pytest

from django.utils import timezone

from contacts.services import contact_create, contact_delete
from messaging.models import Message, WebhookEndpoint
from tests.dashboard.factories import make_webhook
from tests.messaging.factories import make_approved_template, number, send
from tests.tasks import run_queued_tasks


def test_home_shows_the_balance_and_first_steps(dashboard_client, account):
    response = dashboard_client.get("/")
    assert response.status_code == 200
    assert "100.00" in response.text
    assert "Get started" in response.text and "Add a webhook endpoint" in response.text


def test_home_warns_when_the_balance_is_below_the_threshold(dashboard_client, account):
    account.low_balance_threshold = Decimal("500")
    account.save(update_fields=["low_balance_threshold"])
    response = dashboard_client.get("/")
    assert "below your warning threshold of 500.0000" in response.text


def test_home_points_at_a_webhook_sent_disabled(dashboard_client, account, other_account):
    endpoint, _ = make_webhook(account, display_name="CRM")
    foreign, _ = make_webhook(other_account, display_name="Globex")
    WebhookEndpoint.objects.update(is_active=False, disabled_reason="410 Gone")
    response = dashboard_client.get("/")
    assert "Sent disabled the webhook “CRM”: 410 Gone." in response.text
    assert f"/webhooks/{endpoint.pk}/" in response.text
    assert "Globex" not in response.text


def test_a_done_step_is_ticked(dashboard_client, account):
    make_webhook(account)
    response = dashboard_client.get("/")
    assert 'Add a webhook endpoint</a><span class="visually-hidden"> (done)' in response.text


def done_steps(response) -> set:
    return set(
        re.findall(
            r'class="strong">([^<]+)</a><span class="visually-hidden"> \(done\)', response.text
        )
    )


def test_each_step_is_ticked_by_this_accounts_rows_only(dashboard_client, account, other_account):
    make_webhook(other_account)
    make_approved_template(other_account)
    send(other_account, [number(60)])  # a contact, a template and a message: not ours
    assert done_steps(dashboard_client.get("/")) == set()
    contact, _ = contact_create(account, phone_number=number(61))
    contact_delete(account, contact_id=contact.pk)
    assert done_steps(dashboard_client.get("/")) == set()  # a deleted contact isn't one
    make_approved_template(account)
    assert done_steps(dashboard_client.get("/")) == {"Create a template"}
    send(account, [number(62)])
    assert done_steps(dashboard_client.get("/")) == {
        "Create a template",
        "Add contacts",
        "Send a message",
    }


def test_home_needs_a_signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"


def test_a_user_without_an_account_is_told_so(client, django_user_model):
    user = django_user_model.objects.create_user("stray", password="x" * 20)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403 and "No account yet" in response.text


def test_home_has_a_pinned_query_count(dashboard_client, account, django_assert_max_num_queries):
    # sign-in (4), notices (1), first steps (5), traffic: by status, rates, failures (3)
    with django_assert_max_num_queries(13):
        dashboard_client.get("/")


# ---- traffic (once there are messages)


@pytest.fixture
def messages_sent(account, settings):
    """Four of the account's messages, run through the simulator: SMS delivered twice,
    WhatsApp read once and failed once."""
    settings.SIMULATOR_DELAY_SCALE = 0
    make_approved_template(account)
    sent = send(account, [number(60), number(61), number(12), number(90)])
    run_queued_tasks()
    return {message.phone: Message.objects.get(pk=message.pk) for message in sent}


def test_a_new_account_sees_no_traffic_panels(dashboard_client, account):
    response = dashboard_client.get("/")
    assert "Messages today" not in response.text and "Recent failures" not in response.text


def test_home_shows_todays_messages_by_status(dashboard_client, account, messages_sent):
    response = dashboard_client.get("/")
    assert 'id="messages-today">4<' in response.text
    today = response.text.split('id="today"')[1].split("</ul>")[0]
    counts = dict(re.findall(r'badge (\w+)">\w+</span> <strong>(\d+)</strong>', today))
    assert counts == {"DELIVERED": "2", "READ": "1", "FAILED": "1"}
    assert f"/messages/?status=FAILED&amp;since={timezone.localdate().isoformat()}" in today


def test_home_shows_the_delivery_rate_per_channel(dashboard_client, account, messages_sent):
    response = dashboard_client.get("/")
    sms = response.text.split('id="rate-sms"')[1].split("</div>\n")[1]
    whatsapp = response.text.split('id="rate-whatsapp"')[1].split("</div>\n")[1]
    assert "100% delivered · 2 sent" in sms
    assert "50% delivered · 2 sent" in whatsapp


def test_home_lists_recent_failures_linking_to_the_message(
    dashboard_client, account, messages_sent
):
    failed = messages_sent[number(90)]
    failures = dashboard_client.get("/").text.split('id="recent-failures"')[1]
    assert f'href="/messages/{failed.pk}/"' in failures
    assert failed.reason in failures
    assert str(messages_sent[number(60)].pk) not in failures


def test_another_accounts_traffic_is_not_counted(
    dashboard_client, account, other_account, settings
):
    settings.SIMULATOR_DELAY_SCALE = 0
    make_approved_template(other_account)
    send(other_account, [number(90)])
    run_queued_tasks()
    response = dashboard_client.get("/")
    assert "Messages today" not in response.text and "Recent failures" not in response.text


def test_home_with_traffic_has_a_pinned_query_count(
    dashboard_client, account, messages_sent, django_assert_max_num_queries
):
    with django_assert_max_num_queries(13):
        dashboard_client.get("/")
