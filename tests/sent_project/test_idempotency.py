"""Idempotency-Key semantics (docs/reliability.md#5-idempotency-keys-replay-never-redo and
docs/reliability.md#6-concurrent-duplicates-run-once) on a probe that really writes."""

import threading
from datetime import timedelta

import httpx
import pytest

from django.utils import timezone

from billing.models import LedgerEntry
from sent_project.models import IdempotencyRecord

pytestmark = pytest.mark.urls("tests.sent_project.probe_urls")


def top_up(client, amount="5", key="key-1", **headers):
    return client.post("/v3/probe/top-up", {"amount": amount}, HTTP_IDEMPOTENCY_KEY=key, **headers)


def top_ups(customer) -> int:
    return LedgerEntry.objects.filter(customer=customer, description="Top-up").count()


def test_the_same_key_and_body_replays_the_first_response(api_client, account):
    first = top_up(api_client)
    second = top_up(api_client)
    assert first.status_code == second.status_code == 201
    assert second.content == first.content  # byte for byte, original request id included
    assert second["Idempotent-Replayed"] == "true"
    assert second["X-Original-Request-Id"] == first["X-Request-Id"]
    assert second["X-Request-Id"] != first["X-Request-Id"]
    assert top_ups(account) == 1


def test_a_replay_checks_the_credentials_first(api_client, account):
    assert top_up(api_client).status_code == 201
    other = "00000000-0000-0000-0000-000000000000"
    response = top_up(api_client, HTTP_X_PROFILE_ID=other)
    assert response.status_code == 404 and response.json()["error"]["code"] == "RESOURCE_004"
    assert "Idempotent-Replayed" not in response
    account.api_keys.update(revoked_at=timezone.now())
    response = top_up(api_client)
    assert response.status_code == 401 and response.json()["error"]["code"] == "AUTH_002"
    assert top_ups(account) == 1


def test_the_same_key_with_another_body_gets_422_and_writes_nothing(api_client, account):
    top_up(api_client, amount="5")
    response = top_up(api_client, amount="6")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IDEMPOTENCY_001"
    assert response["x-should-retry"] == "false"
    assert top_ups(account) == 1


def test_json_nested_too_deeply_is_a_400_with_a_key_too(api_client, account):
    nested = "[" * 100_000 + "]" * 100_000
    response = api_client.post(
        "/v3/probe/top-up",
        data=f'{{"amount": {nested}}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="deep-1",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "REQUEST_001"
    assert top_ups(account) == 0


def test_json_key_order_and_spacing_do_not_make_a_different_body(api_client, account):
    api_client.post(
        "/v3/probe/top-up",
        '{"amount": "5"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    response = api_client.post(
        "/v3/probe/top-up",
        '{ "amount":"5" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response["Idempotent-Replayed"] == "true"


def test_a_failed_request_is_not_stored_so_the_corrected_retry_runs(api_client, account):
    bad = api_client.post("/v3/probe/top-up", {"amount": "-1"}, HTTP_IDEMPOTENCY_KEY="fix-me")
    assert bad.status_code == 400
    # Same key, corrected body: not a mismatch, it runs.
    good = api_client.post("/v3/probe/top-up", {"amount": "1"}, HTTP_IDEMPOTENCY_KEY="fix-me")
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good
    assert top_ups(account) == 1


def test_another_tenant_using_the_same_key_string_gets_its_own_response(
    api_client, other_api_client, account, other_account
):
    mine = top_up(api_client, key="shared")
    theirs = top_up(other_api_client, key="shared")
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["data"]["entry_id"] != mine.json()["data"]["entry_id"]
    assert top_ups(account) == top_ups(other_account) == 1


def test_a_key_past_retention_is_a_new_request(api_client, account):
    top_up(api_client)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = top_up(api_client)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert top_ups(account) == 2


def test_a_key_still_in_flight_gets_409_with_retry_after(api_client, account):
    top_up(api_client, key="busy")
    IdempotencyRecord.objects.filter(key="busy").update(state="in_flight")
    response = top_up(api_client, key="busy")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT_001"
    assert response["Retry-After"] == "1"


def test_a_request_whose_process_died_frees_its_key_after_the_lock_timeout(api_client, account):
    top_up(api_client, key="orphan")
    IdempotencyRecord.objects.filter(key="orphan").update(
        state="in_flight", locked_at=timezone.now() - timedelta(minutes=10)
    )
    response = top_up(api_client, key="orphan")
    assert response.status_code == 201
    assert top_ups(account) == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "semi;colon"])
def test_a_malformed_key_gets_400_validation_007(api_client, account, key):
    response = top_up(api_client, key=key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_007"
    assert top_ups(account) == 0


def test_get_requests_ignore_the_key(api_client):
    response = api_client.get("/v3/me", HTTP_IDEMPOTENCY_KEY="whatever")
    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_twenty_concurrent_duplicates_execute_once(live_server, live_account, settings):
    settings.ROOT_URLCONF = "tests.sent_project.probe_urls"
    barrier = threading.Barrier(20)
    results: list[httpx.Response] = []

    def post():
        barrier.wait()
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            results.append(
                http.post(
                    "/v3/probe/top-up",
                    json={"amount": "2"},
                    headers={"x-api-key": live_account.raw_api_key, "Idempotency-Key": "burst"},
                )
            )

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409}, statuses
    assert all(r.status_code < 500 for r in results)
    assert all(r.headers["Retry-After"] == "1" for r in results if r.status_code == 409)
    originals = {r.json()["data"]["entry_id"] for r in results if r.status_code == 201}
    assert len(originals) == 1
    assert top_ups(live_account) == 1
