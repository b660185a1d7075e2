"""The home page: balance, what needs attention, the first steps."""

from decimal import Decimal

from messaging.models import WebhookEndpoint
from tests.dashboard.factories import make_webhook


def test_home_shows_the_balance_and_first_steps(dashboard_client, account):
    response = dashboard_client.get("/")
    assert response.status_code == 200
    assert "100.00" in response.text
    assert "Get started" in response.text and "Add a webhook endpoint" in response.text


def test_home_warns_when_the_balance_is_below_the_threshold(dashboard_client, account):
    account.low_balance_threshold = Decimal("500")
    account.save(update_fields=["low_balance_threshold"])
    response = dashboard_client.get("/")
    assert "below your warning threshold of 500.00" in response.text


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


def test_home_needs_a_signed_in_user(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"


def test_a_user_without_an_account_is_told_so(client, django_user_model):
    user = django_user_model.objects.create_user("stray", password="x" * 20)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403 and "No account yet" in response.text


def test_home_has_a_pinned_query_count(dashboard_client, account, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        dashboard_client.get("/")
