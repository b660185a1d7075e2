"""/v3/webhooks: the endpoints API (docs/api/webhooks.md), tenant isolation, secrets at rest."""

import json
import uuid

import pytest
from standardwebhooks import Webhook

from django.db import connection

from messaging.models import WebhookDelivery, WebhookEndpoint
from messaging.webhooks.signing import secret_decrypt
from sent_project.models import Event
from tests.messaging.webhook_helpers import Reply, emit, make_webhook
from tests.tasks import queued_tasks, run_queued_tasks

PUBLIC = "https://93.184.216.34/sent-hooks"


def create(client, **overrides):
    body = {
        "display_name": "Orders",
        "endpoint_url": PUBLIC,
        "event_types": ["message"],
        **overrides,
    }
    return client.post("/v3/webhooks", body)


def test_create_returns_the_webhook_with_its_secret_once(api_client, account):
    response = create(
        api_client,
        event_filters={"message": ["delivered", "message.failed"]},
        retry_count=5,
        timeout_seconds=10,
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["signing_secret"].startswith("whsec_")
    assert 24 <= len(__import__("base64").b64decode(data["signing_secret"][6:])) <= 32
    assert data | {"id": None, "signing_secret": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "customer_id": str(account.pk),
        "display_name": "Orders",
        "endpoint_url": PUBLIC,
        "event_types": ["message"],
        "event_filters": {"message": ["delivered", "failed"]},
        "is_active": True,
        "signing_secret": None,
        "retry_count": 5,
        "timeout_seconds": 10,
        "consecutive_failures": 0,
        "last_delivery_attempt_at": None,
        "last_successful_delivery_at": None,
        "disabled_reason": "",
        "disabled_at": None,
        "circuit_state": "closed",
        "circuit_opened_at": None,
        "circuit_probe_at": None,
        "created_at": None,
        "updated_at": None,
    }
    endpoint = WebhookEndpoint.objects.get(pk=data["id"])
    assert endpoint.customer == account
    assert secret_decrypt(endpoint.signing_secret_encrypted) == data["signing_secret"]
    # Never returned again.
    assert api_client.get(f"/v3/webhooks/{endpoint.pk}").json()["data"]["signing_secret"] is None


def test_no_column_holds_a_raw_signing_secret(api_client, account):
    secret = create(api_client).json()["data"]["signing_secret"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM messaging_webhookendpoint")
        dump = json.dumps(cursor.fetchall(), default=str)
    assert secret not in dump and secret[6:] not in dump


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"event_types": ["message"]}, "VALIDATION_004", "endpoint_url"),
        ({"endpoint_url": PUBLIC}, "VALIDATION_004", "event_types"),
        ({"endpoint_url": PUBLIC, "event_types": ["messages"]}, "VALIDATION_006", "event_types.0"),
        ({"endpoint_url": PUBLIC, "event_types": []}, "VALIDATION_005", "event_types"),
        (
            {"endpoint_url": PUBLIC, "event_types": ["message"], "timeout_seconds": 300},
            "VALIDATION_005",
            "timeout_seconds",
        ),
        (
            {"endpoint_url": PUBLIC, "event_types": ["message"], "retry_count": 0},
            "VALIDATION_005",
            "retry_count",
        ),
        (
            {
                "endpoint_url": PUBLIC,
                "event_types": ["message"],
                "event_filters": {"message": ["exploded"]},
            },
            "VALIDATION_006",
            "event_filters",
        ),
        (
            {"endpoint_url": PUBLIC, "event_types": ["message"], "event_filters": {"nope": ["x"]}},
            "VALIDATION_006",
            "event_filters",
        ),
        ({"endpoint_url": PUBLIC, "event_types": "message"}, "VALIDATION_001", "event_types"),
    ],
)
def test_create_rejects_bad_input_with_a_code(api_client, body, code, field):
    response = api_client.post("/v3/webhooks", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["details"])) == (code, [field])
    assert not WebhookEndpoint.objects.exists()


def test_create_ignores_mass_assigned_fields(api_client, account, other_account):
    response = create(
        api_client,
        customer_id=str(other_account.pk),
        id=str(uuid.uuid4()),
        is_active=False,
        consecutive_failures=9,
        signing_secret="whsec_AAAA",
    )
    data = response.json()["data"]
    assert data["customer_id"] == str(account.pk)
    assert data["is_active"] is True and data["consecutive_failures"] == 0
    assert data["signing_secret"] != "whsec_AAAA"


def test_a_sandbox_create_writes_nothing(api_client):
    response = create(api_client, sandbox=True)
    assert response.status_code == 200 and response["X-Sandbox"] == "true"
    data = response.json()["data"]
    assert data["signing_secret"].startswith("whsec_") and data["id"] is None
    assert not WebhookEndpoint.objects.exists()


def test_list_pages_filters_and_shows_only_the_callers_webhooks(
    api_client, account, other_account, assert_list_queries
):
    for n in range(3):
        make_webhook(account, f"{PUBLIC}/{n}", display_name=f"hook {n}")
    off, _ = make_webhook(account, f"{PUBLIC}/off", display_name="paused one")
    WebhookEndpoint.objects.filter(pk=off.pk).update(is_active=False)
    make_webhook(other_account, f"{PUBLIC}/theirs")

    api_client.get("/v3/webhooks")  # the key's first use also records last_used_at
    with assert_list_queries(3):  # API key, page, count
        response = api_client.get("/v3/webhooks", {"page_size": 2})
    data = response.json()["data"]
    assert [w["display_name"] for w in data["webhooks"]] == ["paused one", "hook 2"]
    assert data["pagination"] | {"cursors": None} == {
        "page": 1,
        "page_size": 2,
        "total_count": 4,
        "total_pages": 2,
        "has_more": True,
        "cursors": None,
        "total_count_is_estimate": False,
    }
    assert all(w["signing_secret"] is None for w in data["webhooks"])
    active = api_client.get("/v3/webhooks", {"is_active": "false"}).json()["data"]["webhooks"]
    assert [w["id"] for w in active] == [str(off.pk)]
    found = api_client.get("/v3/webhooks", {"search": "/1"}).json()["data"]["webhooks"]
    assert [w["display_name"] for w in found] == ["hook 1"]
    bad = api_client.get("/v3/webhooks", {"is_active": "maybe"})
    assert bad.json()["error"]["code"] == "VALIDATION_006"


@pytest.mark.parametrize(
    ("path", "query", "code", "field"),
    [
        # A present but empty value is invalid, as everywhere in the API (query_params).
        ("/v3/webhooks", "?is_active=", "VALIDATION_006", "is_active"),
        ("/v3/webhooks", "?search=" + "x" * 201, "VALIDATION_005", "search"),
        ("/v3/webhooks", "?is_active=true&is_active=false", "VALIDATION_001", "is_active"),
        ("/v3/webhooks/event-types", "?page=1&page=2", "VALIDATION_001", "page"),
    ],
)
def test_bad_query_strings_are_400_with_a_code(api_client, account, path, query, code, field):
    make_webhook(account, PUBLIC)
    response = api_client.get(path + query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["details"])) == (code, [field])


def test_update_changes_only_the_fields_sent(api_client, account):
    endpoint, _ = make_webhook(account, PUBLIC, display_name="Old", event_types=["message"])
    response = api_client.put(
        f"/v3/webhooks/{endpoint.pk}",
        {"display_name": "New", "event_types": ["contact", "balance"]},
    )
    data = response.json()["data"]
    assert (data["display_name"], data["event_types"], data["endpoint_url"]) == (
        "New",
        ["contact", "balance"],
        PUBLIC,
    )
    endpoint.refresh_from_db()
    assert (endpoint.display_name, endpoint.event_types) == ("New", ["contact", "balance"])
    bad = api_client.put(f"/v3/webhooks/{endpoint.pk}", {"timeout_seconds": 1})
    assert bad.json()["error"]["code"] == "VALIDATION_005"


def test_delete_removes_the_webhook(api_client, account):
    endpoint, _ = make_webhook(account, PUBLIC)
    response = api_client.delete(f"/v3/webhooks/{endpoint.pk}")
    assert response.status_code == 200
    assert response.json()["data"] == {"id": str(endpoint.pk), "deleted": True}
    assert not WebhookEndpoint.objects.exists()
    again = api_client.get(f"/v3/webhooks/{endpoint.pk}")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "RESOURCE_008")


def test_toggle_status_flips_or_sets_and_enabling_clears_the_reason(api_client, account):
    endpoint, _ = make_webhook(account, PUBLIC)
    url = f"/v3/webhooks/{endpoint.pk}/toggle-status"
    assert api_client.patch(url, {}).json()["data"]["is_active"] is False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_reason="The endpoint answered 410 Gone", consecutive_failures=7
    )
    data = api_client.patch(url, {"is_active": True}).json()["data"]
    assert (data["is_active"], data["disabled_reason"], data["consecutive_failures"]) == (
        True,
        "",
        0,
    )
    assert api_client.patch(url, {"is_active": True}).json()["data"]["is_active"] is True
    assert api_client.patch(url, {"is_active": False, "sandbox": True})["X-Sandbox"] == "true"
    endpoint.refresh_from_db()
    assert endpoint.is_active is True


def test_rotate_secret_returns_a_new_secret(api_client, account):
    endpoint, old = make_webhook(account, PUBLIC)
    response = api_client.post(f"/v3/webhooks/{endpoint.pk}/rotate-secret", {})
    new = response.json()["data"]["signing_secret"]
    assert new.startswith("whsec_") and new != old
    endpoint.refresh_from_db()
    assert secret_decrypt(endpoint.signing_secret_encrypted) == new
    assert secret_decrypt(endpoint.previous_secret_encrypted) == old


def test_event_types_lists_every_family_with_its_events(api_client):
    data = api_client.get("/v3/webhooks/event-types").json()["data"]
    assert [t["name"] for t in data["event_types"]] == [
        "message",
        "templates",
        "contact",
        "balance",
    ]
    message = data["event_types"][0]
    assert {"name": "message.delivered", "event_type": "message"}.items() <= {
        k: v
        for k, v in next(
            s for s in message["sub_types"] if s["name"] == "message.delivered"
        ).items()
    }.items()
    assert data["pagination"]["has_more"] is False


def test_the_test_endpoint_sends_a_signed_specimen_now(
    api_client, account, receiver, webhook_settings
):
    endpoint, secret = make_webhook(account, receiver.url, event_types=["templates"])
    response = api_client.post(f"/v3/webhooks/{endpoint.pk}/test", {})
    data = response.json()["data"]
    assert data["success"] is True
    assert data["message"].startswith("Test event templates.approved delivered: HTTP 200 in ")
    [hit] = receiver.received
    body = Webhook(secret).verify(hit.body, hit.headers)
    assert (body["field"], body["event"], body["payload"]["test"]) == (
        "templates",
        "templates.approved",
        True,
    )
    api_client.post(f"/v3/webhooks/{endpoint.pk}/test", {"event_type": "message.failed"})
    assert json.loads(receiver.received[-1].body)["payload"]["message_status"] == "FAILED"


def test_a_failing_test_reports_why_and_leaves_the_counters_alone(
    api_client, account, receiver, webhook_settings
):
    receiver.default = Reply(500)
    endpoint, _ = make_webhook(account, receiver.url)
    data = api_client.post(f"/v3/webhooks/{endpoint.pk}/test", {"event_type": "contact"}).json()
    assert data["data"]["success"] is False
    assert "The endpoint answered 500" in data["data"]["message"]
    assert len(receiver.received) == 1 and not queued_tasks().exists()
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    unknown = api_client.post(f"/v3/webhooks/{endpoint.pk}/test", {"event_type": "nope.x"})
    assert unknown.json()["error"]["code"] == "VALIDATION_006"


def test_events_lists_the_delivery_log_with_attempts(
    api_client,
    account,
    receiver,
    webhook_settings,
    django_capture_on_commit_callbacks,
    assert_list_queries,
):
    receiver.replies = [Reply(500, body=b"boom")]
    endpoint, _ = make_webhook(account, receiver.url)
    first = emit(account, "message.sent", capture=django_capture_on_commit_callbacks)
    emit(account, "contact.created", capture=django_capture_on_commit_callbacks)

    api_client.get("/v3/webhooks")  # the key's first use also records last_used_at
    with assert_list_queries(4):  # API key, endpoint, page, attempts (last page: no count)
        response = api_client.get(f"/v3/webhooks/{endpoint.pk}/events")
    events = response.json()["data"]["events"]
    assert [e["event_type"] for e in events] == ["contact.created", "message.sent"]
    item = events[1]
    assert item["event_id"] == str(first.pk)
    assert (item["delivery_status"], item["delivery_attempts"], item["http_status_code"]) == (
        "delivered",
        2,
        200,
    )
    assert item["event_data"]["event"] == "message.sent"
    assert item["event_data"]["payload"] == {"n": 1}
    assert [
        (a["number"], a["outcome"], a["http_status_code"], a["response_body"])
        for a in item["attempts"]
    ] == [(1, "failed", 500, "boom"), (2, "delivered", 200, "ok")]
    assert item["processing_started_at"] and item["processing_completed_at"]
    searched = api_client.get(f"/v3/webhooks/{endpoint.pk}/events", {"search": "contact"})
    assert [e["event_type"] for e in searched.json()["data"]["events"]] == ["contact.created"]


def test_redeliver_sends_a_past_event_again_with_the_same_id(
    api_client, account, receiver, webhook_settings, django_capture_on_commit_callbacks
):
    endpoint, secret = make_webhook(account, receiver.url)
    event = emit(account, capture=django_capture_on_commit_callbacks)
    url = f"/v3/webhooks/{endpoint.pk}/events/{event.pk}/redeliver"  # by event id
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(url, {})
    assert response.status_code == 202
    assert response.json()["data"]["delivery_status"] == "pending"
    run_queued_tasks()
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(event.pk)
    assert first.body == second.body
    Webhook(secret).verify(second.body, second.headers)
    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    by_delivery_id = f"/v3/webhooks/{endpoint.pk}/events/{delivery.pk}/redeliver"
    assert api_client.post(by_delivery_id, {}).status_code == 202


def test_redeliver_refuses_an_unfinished_delivery_or_a_disabled_webhook(api_client, account):
    endpoint, _ = make_webhook(account, PUBLIC)
    event = Event.objects.create(
        customer=account, field="message", event="message.sent", payload={}
    )
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, status="retrying")
    url = f"/v3/webhooks/{endpoint.pk}/events/{delivery.pk}/redeliver"
    response = api_client.post(url, {})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "WEBHOOK_002")
    assert response["x-should-retry"] == "false"
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    assert api_client.post(url, {}).json()["error"]["code"] == "WEBHOOK_003"
    missing = api_client.post(f"/v3/webhooks/{endpoint.pk}/events/{uuid.uuid4()}/redeliver", {})
    assert missing.status_code == 404


def test_another_tenant_gets_404_on_every_route(api_client, other_api_client, account):
    endpoint, _ = make_webhook(account, PUBLIC)
    event = Event.objects.create(
        customer=account, field="message", event="message.sent", payload={}
    )
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, status="failed")
    base = f"/v3/webhooks/{endpoint.pk}"
    calls = [
        ("get", base),
        ("put", base),
        ("delete", base),
        ("post", f"{base}/test"),
        ("patch", f"{base}/toggle-status"),
        ("post", f"{base}/rotate-secret"),
        ("get", f"{base}/events"),
        ("post", f"{base}/events/{delivery.pk}/redeliver"),
    ]
    for method, path in calls:
        response = getattr(other_api_client, method)(path, {"display_name": "x"}, format="json")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "RESOURCE_008"), (
            method,
            path,
        )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.display_name == ""
    assert other_api_client.get("/v3/webhooks").json()["data"]["webhooks"] == []
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "failed"


def test_requests_without_a_key_are_401_and_wrong_methods_405(client, api_client, account):
    assert client.get("/v3/webhooks").status_code == 401
    endpoint, _ = make_webhook(account, PUBLIC)
    response = api_client.post(f"/v3/webhooks/{endpoint.pk}", {})
    assert (response.status_code, response.json()["error"]["code"]) == (405, "REQUEST_002")
    assert api_client.get(f"/v3/webhooks/{endpoint.pk}/test").status_code == 405


def test_webhook_list_filters_combine_and_a_repeated_one_is_refused(api_client, account):
    """The FilterSet's filters (docs/api/conventions.md#filtering) narrow together."""
    on, _ = make_webhook(account, f"{PUBLIC}/orders", display_name="orders")
    off, _ = make_webhook(account, f"{PUBLIC}/orders-old", display_name="orders (old)")
    other, _ = make_webhook(account, f"{PUBLIC}/other", display_name="other")
    WebhookEndpoint.objects.filter(pk=off.pk).update(is_active=False)

    def ids(query: dict) -> list[str]:
        return [w["id"] for w in api_client.get("/v3/webhooks", query).json()["data"]["webhooks"]]

    assert ids({"search": "orders", "is_active": "true"}) == [str(on.pk)]
    assert ids({"search": "orders", "is_active": "false"}) == [str(off.pk)]
    # An empty search is allowed here (as before): it filters nothing.
    assert ids({"search": ""}) == [str(other.pk), str(off.pk), str(on.pk)]
    response = api_client.get("/v3/webhooks?search=a&search=b")
    error = response.json()["error"]
    assert (response.status_code, error["code"], list(error["details"])) == (
        400,
        "VALIDATION_001",
        ["search"],
    )
