"""GET /v3/messages/{id}, /v3/messages/{id}/activities and the GET /v3/messages history."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from django.utils import timezone

from messaging.models import Message
from tests.messaging.factories import (
    make_approved_template,
    make_contact,
    number,
    provider_calls,
    send,
)
from tests.queries import rate_limit_queries
from tests.tasks import run_queued_tasks


@pytest.fixture
def template(account):
    return make_approved_template(account)


@pytest.fixture
def delivered(account, template):
    [message] = send(account, number(65))
    run_queued_tasks(include_future=True)
    message.refresh_from_db()
    return message


def test_a_message_has_the_contract_shape(api_client, account, delivered, template):
    data = api_client.get(f"/v3/messages/{delivered.pk}").json()["data"]

    assert data["id"] == str(delivered.pk)
    assert data["customer_id"] == str(account.pk)
    assert data["contact_id"] == str(delivered.contact_id)
    assert (data["direction"], data["channel"], data["status"]) == ("OUTBOUND", "sms", "DELIVERED")
    assert (data["phone"], data["phone_international"], data["region_code"]) == (
        "+14155550065",
        "+1 415-555-0065",
        "US",
    )
    assert (data["template_id"], data["template_name"], data["template_category"]) == (
        str(template.pk),
        "order_shipped",
        "UTILITY",
    )
    assert (data["price"], data["active_contact_price"]) == (0.0083, 0.0)
    assert set(data["message_body"]) >= {
        "content",
        "header",
        "footer",
        "subject",
        "buttons",
        "headerMedia",
        "media",
    }
    assert data["events"][0] == {
        "status": "QUEUED",
        "timestamp": data["events"][0]["timestamp"],
        "description": "Accepted",
    }
    assert data["created_at"] and data["delivered_at"]


def test_a_message_outlives_its_template(api_client, account, delivered, template):
    template.delete()
    data = api_client.get(f"/v3/messages/{delivered.pk}").json()["data"]
    assert data["template_name"] == "order_shipped"
    assert data["message_body"]["content"] == delivered.body


def test_another_accounts_message_is_404_like_a_missing_one(other_api_client, delivered):
    theirs = other_api_client.get(f"/v3/messages/{delivered.pk}")
    missing = other_api_client.get(f"/v3/messages/{uuid.uuid4()}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["code"] == "RESOURCE_003"
    assert other_api_client.get(f"/v3/messages/{delivered.pk}/activities").status_code == 404


def test_the_detail_is_a_fixed_number_of_queries(api_client, delivered, django_assert_num_queries):
    api_client.get("/v3/messages")  # the key's last_used_at is written on first use
    # the key, its rate limit, the message, its history
    with django_assert_num_queries(3 + rate_limit_queries()):
        assert api_client.get(f"/v3/messages/{delivered.pk}").status_code == 200


def test_activities_are_paginated(api_client, delivered):
    data = api_client.get(f"/v3/messages/{delivered.pk}/activities?page_size=2").json()["data"]
    assert len(data["activities"]) == 2
    assert data["pagination"]["has_more"] is True
    assert data["activities"][0]["status"] == "DELIVERED"


def test_the_history_lists_newest_first_with_filters(api_client, account, template):
    contact = make_contact(account, number(60))
    first = send(account, number(60))[0]
    failed = send(account, number(92))[0]
    run_queued_tasks(include_future=True)
    third = send(account, number(61))[0]

    def ids(query: str = "") -> list[str]:
        response = api_client.get(f"/v3/messages{query}")
        assert response.status_code == 200, response.content
        return [m["id"] for m in response.json()["data"]["messages"]]

    assert ids() == [str(third.pk), str(failed.pk), str(first.pk)]
    assert ids("?status=FAILED") == [str(failed.pk)]
    assert ids("?status=FAILED,QUEUED") == [str(third.pk), str(failed.pk)]
    assert ids("?channel=whatsapp") == [str(failed.pk)]
    assert ids(f"?contact_id={contact.pk}") == [str(first.pk)]
    assert ids(f"?template_id={uuid.uuid4()}") == []
    after = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert len(ids(f"?created_after={after}")) == 3
    assert ids(f"?created_before={after}") == []


@pytest.mark.parametrize(
    "query",
    [
        "?status=",
        "?status=sent",
        "?channel=pigeon",
        "?contact_id=x",
        "?created_after=yesterday",
        "?page=0",
    ],
)
def test_bad_filters_are_400(api_client, db, query):
    response = api_client.get(f"/v3/messages{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"].startswith("VALIDATION_")


def test_the_history_never_shows_another_accounts_messages(other_api_client, delivered):
    assert other_api_client.get("/v3/messages").json()["data"]["messages"] == []


def test_the_history_page_is_a_fixed_number_of_queries(
    api_client, account, template, assert_list_queries
):
    send(account, [number(50 + i) for i in range(25)])
    api_client.get("/v3/messages")  # the key's last_used_at is written on first use
    with assert_list_queries(4):  # key, page, count, histories
        response = api_client.get("/v3/messages?page_size=20")
    data = response.json()["data"]
    assert len(data["messages"]) == 20
    assert data["pagination"]["total_count"] == 25
    assert Message.objects.count() == 25


def test_a_failed_message_is_resent_as_a_new_message_billed_again(api_client, account, template):
    [failed] = send(account, number(92))
    run_queued_tasks(include_future=True)
    account.refresh_from_db()
    before = account.balance

    response = api_client.post(f"/v3/messages/{failed.pk}/resend")

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["id"] != str(failed.pk) and data["status"] == "QUEUED"
    assert (data["contact_id"], data["template_id"]) == (str(failed.contact_id), str(template.pk))
    account.refresh_from_db()
    assert account.balance == before - Decimal("0.0084")


def test_only_failed_or_blocked_messages_are_resent(api_client, delivered):
    response = api_client.post(f"/v3/messages/{delivered.pk}/resend")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "BUSINESS_006"


def test_a_queued_message_is_cancelled_and_refunded(api_client, account, template):
    before = account.balance
    [message] = send(account, number(60))

    response = api_client.post(f"/v3/messages/{message.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["data"]["status"] == "CANCELLED"
    account.refresh_from_db()
    assert account.balance == before
    run_queued_tasks(include_future=True)  # its dispatch job finds nothing to do
    message.refresh_from_db()
    assert message.status == "CANCELLED"
    assert provider_calls(message) == 0


def test_a_message_on_its_way_cant_be_cancelled(api_client, delivered):
    response = api_client.post(f"/v3/messages/{delivered.pk}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "MESSAGE_005"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?status=", "VALIDATION_004"),
        ("?status=sent", "VALIDATION_006"),
        ("?channel=sms,pigeon", "VALIDATION_006"),
        ("?contact_id=x", "VALIDATION_001"),
        ("?created_after=yesterday", "VALIDATION_001"),
        ("?status=SENT&status=FAILED", "VALIDATION_001"),
    ],
)
def test_each_bad_filter_answers_its_code_naming_it(api_client, db, query, code):
    response = api_client.get(f"/v3/messages{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["details"])) == (code, [query[1:].split("=")[0]])


def test_message_filters_combine(api_client, account, template):
    """The FilterSet's filters (docs/api/conventions.md#filtering) narrow together."""
    send(account, number(60))
    failed = send(account, number(92))[0]
    run_queued_tasks(include_future=True)
    queued = send(account, number(61))[0]

    def ids(query: str) -> list[str]:
        return [m["id"] for m in api_client.get(f"/v3/messages{query}").json()["data"]["messages"]]

    assert ids("?status=FAILED,QUEUED&channel=sms") == [str(queued.pk)]
    assert ids("?status=FAILED,QUEUED&channel=whatsapp") == [str(failed.pk)]
