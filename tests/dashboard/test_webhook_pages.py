"""The webhook pages (Django test client): list, create, edit, enable/disable, rotate,
test send, delivery log, redeliver — each for success, another account, no login, bad input."""

import pytest

from django.test import Client
from django.urls import reverse

from messaging.models import DeliveryStatus, WebhookEndpoint
from messaging.webhooks.delivery import signing_secrets
from messaging.webhooks.services import webhook_endpoint_set_active
from tests.dashboard.factories import make_delivery, make_webhook
from tests.tasks import queued_tasks

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"messaging:{name}", args=args)


@pytest.fixture
def endpoint(account):
    return make_webhook(account, display_name="Orders")[0]


@pytest.fixture
def foreign_endpoint(other_account):
    return make_webhook(other_account, display_name="Globex hook")[0]


# ---- list


def test_the_list_shows_the_accounts_endpoints_only(dashboard_client, endpoint, foreign_endpoint):
    response = dashboard_client.get(url("webhook_list"))
    assert response.status_code == 200
    assert b"Orders" in response.content
    assert b"Globex hook" not in response.content


def test_the_list_says_so_when_sent_disabled_an_endpoint(dashboard_client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="The endpoint answered 410 Gone"
    )
    response = dashboard_client.get(url("webhook_list"))
    assert "Disabled by Sent: The endpoint answered 410 Gone" in response.text


def test_the_list_filters_by_search_and_status(dashboard_client, account, endpoint):
    off, _ = make_webhook(account, display_name="Billing hook")
    webhook_endpoint_set_active(account, off, is_active=False)
    by_name = dashboard_client.get(url("webhook_list"), {"search": "billing"})
    assert "Billing hook" in by_name.text and "Orders" not in by_name.text
    active = dashboard_client.get(url("webhook_list"), {"status": "active"})
    assert "Orders" in active.text and "Billing hook" not in active.text


def test_a_search_the_database_cant_take_is_ignored_not_a_500(dashboard_client, endpoint):
    response = dashboard_client.get(url("webhook_list"), {"search": "ord\x00", "status": "active"})
    assert response.status_code == 200  # PostgreSQL refuses NUL in a query
    assert f'<tr id="webhook-{endpoint.pk}">' in response.text  # the filter is ignored


def test_an_htmx_search_answers_only_the_table(dashboard_client, endpoint):
    response = dashboard_client.get(
        url("webhook_list"), {"search": "ord"}, **HTMX, HTTP_HX_TARGET="webhooks"
    )
    assert response.text.lstrip().startswith('<div id="webhooks">')
    assert "<html" not in response.text
    assert "HX-Request" in response["Vary"]


def test_the_list_has_an_empty_state(dashboard_client):
    response = dashboard_client.get(url("webhook_list"))
    assert "No webhook endpoints yet" in response.text


def test_the_list_is_paginated_with_a_pinned_query_count(
    dashboard_client, account, django_assert_max_num_queries, settings
):
    settings.WEBHOOK_MAX_ENDPOINTS_PER_CUSTOMER = 30
    for n in range(30):
        make_webhook(account, display_name=f"hook {n:02}")
    # session, user, customer, the page of endpoints (+1 row), the flash messages
    with django_assert_max_num_queries(5):
        first = dashboard_client.get(url("webhook_list"))
    assert first.text.count('<tr id="webhook-') == 25
    assert "hook 29" in first.text and "Older" in first.text
    second = dashboard_client.get(url("webhook_list"), {"page": 2})
    assert second.text.count('<tr id="webhook-') == 5


def test_pages_need_a_signed_in_user(client, endpoint):
    for page in [url("webhook_list"), url("webhook_create"), url("webhook_detail", endpoint.pk)]:
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


# ---- create


def test_creating_an_endpoint_shows_its_secret_once(dashboard_client, account):
    response = dashboard_client.post(
        url("webhook_create"),
        {
            "display_name": "CRM",
            "endpoint_url": "https://93.184.216.34/crm",
            "event_types": ["message", "contact"],
            "only_message": ["delivered", "failed"],
            "only_contact": ["opt_out"],
            "timeout_seconds": "10",
        },
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(customer=account)
    assert endpoint.display_name == "CRM"
    assert endpoint.event_types == ["message", "contact"]
    assert endpoint.event_filters == {"message": ["delivered", "failed"], "contact": ["opt_out"]}
    assert endpoint.timeout_seconds == 10
    [secret] = signing_secrets(endpoint, endpoint.created_at)
    assert secret in response.text and "Endpoint added" in response.text
    assert secret not in dashboard_client.get(url("webhook_detail", endpoint.pk)).text


def test_an_htmx_create_swaps_the_page_and_pushes_its_url(dashboard_client, account):
    response = dashboard_client.post(
        url("webhook_create"),
        {
            "endpoint_url": "https://93.184.216.34/x",
            "event_types": ["balance"],
            "timeout_seconds": "10",
        },
        **HTMX,
    )
    endpoint = WebhookEndpoint.objects.get(customer=account)
    assert response["HX-Push-Url"] == url("webhook_detail", endpoint.pk)
    assert response["HX-Retarget"] == "main" and response["HX-Reselect"] == "main"


def test_a_filter_on_an_unticked_family_is_ignored(dashboard_client, account):
    dashboard_client.post(
        url("webhook_create"),
        {
            "endpoint_url": "https://93.184.216.34/x",
            "event_types": ["balance"],
            "only_message": ["failed"],
            "timeout_seconds": "10",
        },
    )
    assert WebhookEndpoint.objects.get(customer=account).event_filters is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"endpoint_url": "", "event_types": ["message"]},
            "endpoint_url",
            "This field is required.",
        ),
        (
            {"endpoint_url": "not a url", "event_types": ["message"]},
            "endpoint_url",
            "Enter a valid URL.",
        ),
        (
            {"endpoint_url": "https://93.184.216.34/x"},
            "event_types",
            "Choose at least one kind of event.",
        ),
        (
            {
                "endpoint_url": "https://93.184.216.34/x",
                "event_types": ["message"],
                "timeout_seconds": "500",
            },
            "timeout_seconds",
            "less than or equal to 15",  # the install's cap, not the API's 120
        ),
    ],
)
def test_invalid_input_shows_the_error_next_to_the_field(
    dashboard_client, account, data, field, message
):
    response = dashboard_client.post(
        url("webhook_create"), {"timeout_seconds": "10", **data}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in response.text
    assert message in response.text
    assert not WebhookEndpoint.objects.filter(customer=account).exists()


def test_a_private_address_is_refused_with_the_apis_reason(dashboard_client, account, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = dashboard_client.post(
        url("webhook_create"),
        {
            "endpoint_url": "http://169.254.169.254/latest",
            "event_types": ["message"],
            "timeout_seconds": "10",
        },
        **HTMX,
    )
    assert 'id="id_endpoint_url_error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert not WebhookEndpoint.objects.filter(customer=account).exists()


# ---- detail and delivery log


def test_the_detail_page_shows_settings_and_the_delivery_log(
    dashboard_client, endpoint, django_assert_max_num_queries
):
    for _ in range(3):
        make_delivery(endpoint)
    make_delivery(endpoint, status=DeliveryStatus.DELIVERED, code=200)
    # session, user, customer, endpoint, deliveries with events, their attempts, flash messages
    with django_assert_max_num_queries(7):
        response = dashboard_client.get(url("webhook_detail", endpoint.pk))
    assert response.status_code == 200
    assert response.text.count('class="delivery"') == 4
    assert "HTTP 500" in response.text and "upstream said no" in response.text
    assert "whsec_" in response.text  # the masked placeholder, not the secret
    assert "Redeliver" in response.text


def test_another_accounts_endpoint_is_not_found(dashboard_client, foreign_endpoint):
    for page in [
        url("webhook_detail", foreign_endpoint.pk),
        url("webhook_edit", foreign_endpoint.pk),
    ]:
        assert dashboard_client.get(page).status_code == 404
    for action in ["webhook_toggle", "webhook_delete", "webhook_rotate_secret", "webhook_test"]:
        assert dashboard_client.post(url(action, foreign_endpoint.pk)).status_code == 404
    foreign_endpoint.refresh_from_db()
    assert foreign_endpoint.is_active


def test_the_404_page_is_friendly(dashboard_client, foreign_endpoint):
    response = dashboard_client.get(url("webhook_detail", foreign_endpoint.pk))
    assert response.status_code == 404
    assert "We can't find that page" in response.text


def test_an_automatically_disabled_endpoint_says_why(dashboard_client, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="15 failed attempts in a row over 3 days"
    )
    response = dashboard_client.get(url("webhook_detail", endpoint.pk))
    assert "Sent disabled this endpoint" in response.text
    assert "15 failed attempts in a row over 3 days" in response.text
    assert ">Enable</button>" in response.text


def test_the_delivery_log_pages_as_a_fragment(dashboard_client, endpoint):
    for _ in range(22):
        make_delivery(endpoint)
    response = dashboard_client.get(
        url("webhook_detail", endpoint.pk), {"page": 2}, **HTMX, HTTP_HX_TARGET="deliveries"
    )
    assert response.text.lstrip().startswith('<div id="deliveries"')
    assert response.text.count('class="delivery"') == 2


def test_a_moving_delivery_row_polls_until_it_is_finished(dashboard_client, endpoint):
    delivery = make_delivery(endpoint, status=DeliveryStatus.PENDING)
    row_url = url("webhook_delivery", endpoint.pk, delivery.pk)
    assert 'hx-trigger="every 2s"' in dashboard_client.get(row_url, **HTMX).text
    delivery.status = DeliveryStatus.DELIVERED
    delivery.save(update_fields=["status"])
    assert "every 2s" not in dashboard_client.get(row_url, **HTMX).text


# ---- edit, enable/disable, delete


def test_editing_an_endpoint_saves_and_goes_back_to_it(dashboard_client, endpoint):
    response = dashboard_client.post(
        url("webhook_edit", endpoint.pk),
        {
            "display_name": "Orders v2",
            "endpoint_url": "https://93.184.216.34/v2",
            "event_types": ["templates"],
            "timeout_seconds": "12",
        },
        **HTMX,
    )
    assert response["HX-Redirect"] == url("webhook_detail", endpoint.pk)
    endpoint.refresh_from_db()
    assert (endpoint.display_name, endpoint.endpoint_url) == (
        "Orders v2",
        "https://93.184.216.34/v2",
    )
    assert endpoint.event_types == ["templates"] and endpoint.timeout_seconds == 12


def test_the_edit_form_starts_from_the_endpoint(dashboard_client, account):
    hook, _ = make_webhook(account, event_filters={"message": ["failed"]})
    response = dashboard_client.get(url("webhook_edit", hook.pk))
    assert 'value="https://93.184.216.34/hook"' in response.text
    assert 'value="failed" id="id_only_message_' in response.text.replace(" checked", "")


def test_an_invalid_edit_changes_nothing(dashboard_client, endpoint):
    response = dashboard_client.post(
        url("webhook_edit", endpoint.pk),
        {"endpoint_url": "ftp://example.com", "event_types": ["message"], "timeout_seconds": "10"},
        **HTMX,
    )
    assert 'id="id_endpoint_url_error"' in response.text
    endpoint.refresh_from_db()
    assert endpoint.endpoint_url == "https://93.184.216.34/hook"


def test_disabling_then_enabling_clears_the_automatic_reason(dashboard_client, endpoint):
    response = dashboard_client.post(url("webhook_toggle", endpoint.pk), **HTMX)
    assert response["HX-Redirect"] == url("webhook_detail", endpoint.pk)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_reason="410 Gone")
    dashboard_client.post(url("webhook_toggle", endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""
    assert "Webhook enabled" in dashboard_client.get(url("webhook_detail", endpoint.pk)).text


def test_deleting_an_endpoint_goes_back_to_the_list(dashboard_client, endpoint):
    response = dashboard_client.post(url("webhook_delete", endpoint.pk))
    assert response.status_code == 302 and response["Location"] == url("webhook_list")
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_actions_refuse_get(dashboard_client, endpoint):
    for action in ["webhook_toggle", "webhook_delete", "webhook_rotate_secret", "webhook_test"]:
        assert dashboard_client.get(url(action, endpoint.pk)).status_code == 405


# ---- secret rotation


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_signing(
    dashboard_client, endpoint
):
    [old] = signing_secrets(endpoint, endpoint.created_at)
    response = dashboard_client.post(url("webhook_rotate_secret", endpoint.pk), **HTMX)
    endpoint.refresh_from_db()
    new, previous = signing_secrets(endpoint, endpoint.updated_at)
    assert previous == old and new != old
    assert new in response.text and old not in response.text
    assert response.text.lstrip().startswith('<section class="card" id="signing-secret"')
    assert new not in dashboard_client.get(url("webhook_detail", endpoint.pk)).text


# ---- test send and redeliver


def test_a_test_event_reaches_the_receiver_and_is_logged(
    dashboard_client, account, receiver, webhook_settings
):
    hook, _ = make_webhook(account, url=receiver.url)
    response = dashboard_client.post(
        url("webhook_test", hook.pk), {"event_type": "message.delivered"}, **HTMX
    )
    assert "Test event message.delivered delivered: HTTP 200" in response.text
    assert "deliveriesChanged" in response["HX-Trigger"]
    assert len(receiver.received) == 1
    assert hook.deliveries.get().is_test


def test_a_test_event_moves_last_attempt_on_the_page_but_no_failure_counter(
    dashboard_client, account, receiver, webhook_settings
):
    from tests.messaging.webhook_helpers import Reply

    hook, _ = make_webhook(account, url=receiver.url)
    before = dashboard_client.get(url("webhook_detail", hook.pk)).text
    assert '<dt>Last attempt</dt><dd><span class="muted">never</span>' in before
    response = dashboard_client.post(
        url("webhook_test", hook.pk), {"event_type": "message.delivered"}, **HTMX
    )
    # The settings card comes back out of band with the attempt in it.
    settings_card = response.text.split('id="webhook-settings"')[1].split("</section>")[0]
    assert 'hx-swap-oob="true"' in settings_card
    assert "<dt>Last attempt</dt><dd>just now" in settings_card.replace("\n", "")
    assert "<dt>Last success</dt><dd>just now" in settings_card.replace("\n", "")
    receiver.default = Reply(status=500, body=b"boom")
    dashboard_client.post(url("webhook_test", hook.pk), {"event_type": "message.delivered"}, **HTMX)
    hook.refresh_from_db()
    assert hook.last_delivery_attempt_at > hook.last_successful_delivery_at
    assert hook.consecutive_failures == 0 and hook.circuit_state == "closed"  # a test counts not


def test_the_delivery_log_shows_the_payload_sent_escaped(dashboard_client, endpoint):
    import json

    from messaging.webhooks.signing import envelope

    delivery = make_delivery(endpoint)
    delivery.event.payload = {"note": "<script>alert(1)</script>", "n": 1}
    delivery.event.save(update_fields=["payload"])
    page = dashboard_client.get(url("webhook_detail", endpoint.pk)).text
    shown = page.split(f'id="payload-{delivery.pk}">')[1].split("</pre>")[0]
    assert "<script>" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert '"event": "message.delivered"' in shown.replace("&quot;", '"')
    pretty = json.dumps(envelope(delivery.event), indent=2, ensure_ascii=False, sort_keys=True)
    assert shown.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">") == pretty
    row = dashboard_client.get(url("webhook_delivery", endpoint.pk, delivery.pk), **HTMX).text
    assert f'id="payload-{delivery.pk}"' in row  # the polled row too


def test_the_timeout_offered_and_shown_is_the_effective_one(dashboard_client, account, settings):
    settings.WEBHOOK_TIMEOUT_MAX_SECONDS = 15.0
    hook, _ = make_webhook(account, timeout_seconds=60)  # the API takes the SDK's 60
    detail = dashboard_client.get(url("webhook_detail", hook.pk)).text
    shown = detail.split('id="webhook-timeout">')[1].split("</dd>")[0]
    assert shown.startswith("15 s") and "60 s asked" in shown
    form = dashboard_client.get(url("webhook_edit", hook.pk)).text
    field = form.split('name="timeout_seconds"')[1].split(">")[0]
    assert 'value="15"' in field and 'max="15"' in field and 'min="5"' in field
    assert "5–15 s, the most this install waits (WEBHOOK_TIMEOUT_MAX_SECONDS)" in form
    refused = dashboard_client.post(
        url("webhook_edit", hook.pk),
        {"endpoint_url": hook.endpoint_url, "event_types": ["message"], "timeout_seconds": 60},
        **HTMX,
    )
    assert 'id="id_timeout_seconds_error"' in refused.text
    hook.refresh_from_db()
    assert hook.timeout_seconds == 60


def test_the_form_names_the_setting_that_allows_a_local_receiver(dashboard_client, settings):
    settings.DEBUG = True
    page = dashboard_client.get(url("webhook_create")).text
    assert "(WEBHOOK_ALLOW_LOOPBACK_IN_DEBUG)" in page and "with DEBUG off (production)" in page


def test_a_failing_test_event_says_what_the_receiver_answered(
    dashboard_client, account, receiver, webhook_settings
):
    from tests.messaging.webhook_helpers import Reply

    receiver.default = Reply(status=500, body=b"boom")
    hook, _ = make_webhook(account, url=receiver.url)
    response = dashboard_client.post(
        url("webhook_test", hook.pk), {"event_type": "contact.opt_out"}, **HTMX
    )
    assert "not delivered" in response.text and 'class="notice bad"' in response.text


def test_a_test_event_outside_the_subscription_is_a_field_error(dashboard_client, endpoint):
    response = dashboard_client.post(
        url("webhook_test", endpoint.pk), {"event_type": "balance.low"}, **HTMX
    )
    assert 'id="id_event_type_error"' in response.text
    assert not endpoint.deliveries.exists()


def test_redelivering_queues_the_delivery_again(
    dashboard_client, endpoint, django_capture_on_commit_callbacks
):
    delivery = make_delivery(endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        response = dashboard_client.post(url("webhook_redeliver", endpoint.pk, delivery.pk), **HTMX)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert queued_tasks("messaging.webhooks.tasks.webhook_drain").count() == 1
    assert 'hx-trigger="every 2s"' in response.text  # the row follows it


def test_redelivering_to_a_disabled_endpoint_says_why(dashboard_client, account, endpoint):
    delivery = make_delivery(endpoint)
    webhook_endpoint_set_active(account, endpoint, is_active=False)
    response = dashboard_client.post(url("webhook_redeliver", endpoint.pk, delivery.pk), **HTMX)
    assert "disabled" in response.text and 'class="error"' in response.text
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_another_accounts_delivery_is_not_found(dashboard_client, endpoint, foreign_endpoint):
    foreign = make_delivery(foreign_endpoint)
    assert (
        dashboard_client.post(url("webhook_redeliver", endpoint.pk, foreign.pk)).status_code == 404
    )
    assert (
        dashboard_client.post(url("webhook_redeliver", foreign_endpoint.pk, foreign.pk)).status_code
        == 404
    )
    assert dashboard_client.get(url("webhook_delivery", endpoint.pk, foreign.pk)).status_code == 404


# ---- CSRF with htmx


def test_an_htmx_post_without_the_csrf_header_is_refused(dashboard_user, endpoint):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dashboard_user)
    response = client.post(url("webhook_toggle", endpoint.pk), **HTMX)
    assert response.status_code == 403
    assert "This form has expired" in response.text
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_an_htmx_post_with_the_csrf_header_from_the_page_works(dashboard_user, endpoint):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dashboard_user)
    page = client.get(url("webhook_detail", endpoint.pk))
    token = page.text.split('"x-csrftoken": "')[1].split('"')[0]
    response = client.post(url("webhook_toggle", endpoint.pk), **HTMX, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert not endpoint.is_active
