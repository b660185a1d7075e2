"""The send path's caches (docs/architecture.md#send-path-caches): a template or a price
book read once per customer is reused while nothing it depends on changed; every change
applies to the very next request; no customer ever sees another's entry."""

from decimal import Decimal

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Price
from billing.services import prices_seed_defaults
from messaging.models import Message
from messaging.webhooks.services import webhook_endpoint_set_active
from sent_project.models import Event
from templates_app import lifecycle
from templates_app.models import Template
from templates_app.services import template_delete, template_update
from tests.billing.factories import make_override
from tests.messaging.factories import make_approved_template, number, send_body
from tests.messaging.webhook_helpers import make_webhook
from tests.templates_app.factories import definition

QUOTE = "/v3/billing/quote"
SMS_DE = {"channel": "sms", "country": "DE"}


def text(prefix: str) -> dict:
    return definition(f"{prefix}: hi {{{{0:name}}}}, your order {{{{1:order_id}}}} has shipped.")


def send(client, to: int, **extra):
    return client.post("/v3/messages", send_body(number(to), **extra), format="json")


def sent_body(response) -> str:
    assert response.status_code == 202, response.content
    return response.json()["data"]["recipients"][0]["body"]


def quoted(client) -> str:
    response = client.get(QUOTE, SMS_DE)
    assert response.status_code == 200, response.content
    return response.json()["data"]["unit_price"]


def test_two_customers_with_one_template_name_each_send_their_own(
    api_client, other_api_client, account, other_account
):
    ours = make_approved_template(account, definition_=text("Ours"))
    theirs = make_approved_template(other_account, definition_=text("Theirs"))
    for _ in range(2):  # the second time from the cache
        assert sent_body(send(api_client, 10)).startswith("Ours: ")
        assert sent_body(send(other_api_client, 11)).startswith("Theirs: ")
    assert set(Message.objects.filter(customer=account).values_list("template_id", flat=True)) == {
        ours.pk
    }
    assert set(
        Message.objects.filter(customer=other_account).values_list("template_id", flat=True)
    ) == {theirs.pk}


def test_the_same_template_id_is_not_found_for_another_customer_after_caching(
    api_client, other_api_client, account
):
    ours = make_approved_template(account)
    by_id = {
        "to": [number(12)],
        "template": {"id": str(ours.pk), "parameters": {"name": "A", "order_id": "1"}},
    }
    assert api_client.post("/v3/messages", by_id, format="json").status_code == 202
    response = other_api_client.post("/v3/messages", by_id, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MESSAGE_001"


def test_a_template_edit_pause_and_delete_apply_to_the_next_send(api_client, account):
    template = make_approved_template(account, definition_=text("Old"))
    assert sent_body(send(api_client, 20)).startswith("Old: ")
    assert sent_body(send(api_client, 21)).startswith("Old: ")  # cached
    template = template_update(account, template, definition=text("New"))
    template = lifecycle.template_approve(Template.objects.get(pk=template.pk))
    assert sent_body(send(api_client, 22)).startswith("New: ")
    lifecycle.template_pause(template)
    response = send(api_client, 23)
    assert response.status_code == 400 and response.json()["error"]["code"] == "BUSINESS_005"
    Message.objects.filter(customer=account).update(status="DELIVERED")  # none unfinished
    template_delete(account, Template.objects.get(pk=template.pk))
    response = send(api_client, 24)
    assert response.status_code == 400 and response.json()["error"]["code"] == "MESSAGE_001"


def test_a_price_change_applies_to_the_next_quote(api_client, account):
    prices_seed_defaults()  # the table as migrated, whatever an earlier test did
    before = quoted(api_client)
    assert quoted(api_client) == before  # cached
    price = Price.objects.get(channel="sms", country="DE", category="")
    price.unit_price = Decimal("0.5000")
    price.save()  # as the admin's price list does
    assert quoted(api_client) == "0.5000"
    override = make_override(account, unit_price=Decimal("0.0100"))
    assert quoted(api_client) == "0.0100"
    override.delete()
    assert quoted(api_client) == "0.5000"
    price.delete()
    assert prices_seed_defaults() == 1  # a bulk_create: no post_save, an explicit bump
    assert quoted(api_client) == before


def test_another_customers_override_never_prices_ours(api_client, other_api_client, other_account):
    before = quoted(api_client)
    assert quoted(other_api_client) == before
    make_override(other_account, unit_price=Decimal("0.0100"))
    assert quoted(other_api_client) == "0.0100"
    assert quoted(api_client) == before


def test_a_repeated_send_reads_no_template_price_or_webhook_rows(api_client, account):
    make_approved_template(account)
    sent_body(send(api_client, 30))
    with CaptureQueriesContext(connection) as first:
        sent_body(send(api_client, 31))
    with CaptureQueriesContext(connection) as cached:
        sent_body(send(api_client, 32))
    tables = (
        '"templates_app_template"',
        '"billing_price"',
        '"billing_priceoverride"',
        '"messaging_webhookendpoint"',
    )

    def reads(context) -> list[str]:
        return [
            q["sql"]
            for q in context.captured_queries
            if q["sql"].startswith("SELECT") and any(f"FROM {t}" in q["sql"] for t in tables)
        ]

    assert reads(cached) == []
    assert len(cached) == len(first)  # the cache was warm for the second send already


@pytest.mark.parametrize("ttl", [0])
def test_with_the_cache_off_every_send_reads_its_template(api_client, account, settings, ttl):
    settings.CACHE_SEND_TTL = ttl
    make_approved_template(account)
    sent_body(send(api_client, 40))
    with CaptureQueriesContext(connection) as context:
        sent_body(send(api_client, 41))
    assert any('FROM "templates_app_template"' in q["sql"] for q in context.captured_queries)


# --- webhook subscriptions -------------------------------------------------------------------


def event_waits_for_fan_out(response) -> bool:
    """Whether the send's message.queued-style event is subscribed (waits for its fan-out)
    rather than marked fanned out at once (nobody wants it)."""
    message_id = response.json()["data"]["recipients"][0]["message_id"]
    [event] = Event.objects.filter(subject_id=message_id)
    return event.fanned_out_at is None


def test_a_new_or_deactivated_endpoint_applies_to_the_next_send(api_client, account):
    make_approved_template(account)
    assert not event_waits_for_fan_out(send(api_client, 50))
    assert not event_waits_for_fan_out(send(api_client, 51))  # "nobody", from the cache

    endpoint, _ = make_webhook(account, "https://hooks.example.com/sent")
    assert event_waits_for_fan_out(send(api_client, 52))
    assert event_waits_for_fan_out(send(api_client, 53))

    webhook_endpoint_set_active(account, endpoint, is_active=False)
    assert not event_waits_for_fan_out(send(api_client, 54))


def test_another_customers_endpoint_never_subscribes_our_events(
    api_client, other_api_client, account, other_account
):
    make_approved_template(account)
    make_approved_template(other_account)
    make_webhook(other_account, "https://hooks.example.com/theirs")
    for to in (60, 61):
        assert event_waits_for_fan_out(send(other_api_client, to))
        assert not event_waits_for_fan_out(send(api_client, to))


def test_an_endpoints_delivery_counters_leave_the_cached_subscriptions(api_client, account):
    make_approved_template(account)
    endpoint, _ = make_webhook(account, "https://hooks.example.com/sent")
    sent_body(send(api_client, 70))
    endpoint.consecutive_failures = 2
    endpoint.save(update_fields=["consecutive_failures"])  # what a failed attempt writes
    with CaptureQueriesContext(connection) as cached:
        response = send(api_client, 71)
    assert event_waits_for_fan_out(response)
    assert not any('FROM "messaging_webhookendpoint"' in q["sql"] for q in cached.captured_queries)
