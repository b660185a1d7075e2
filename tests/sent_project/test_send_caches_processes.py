"""The send path's caches across processes: 2 gunicorn workers, requests 8 at a time (so
both workers have the key's customer, the template and the price book cached), then a
change made from this process (another one) applies to every worker's next request
(docs/architecture.md#send-path-caches). The cache is each worker's memory without Redis,
Redis's with REDIS_URL (skipped when nothing answers on 6379)."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from billing.models import Price
from billing.services import api_key_revoke, prices_seed_defaults
from templates_app import lifecycle
from tests.factories import make_customer
from tests.messaging.factories import make_approved_template, number, send_body
from tests.servers import answers as listening
from tests.servers import gunicorn

pytestmark = pytest.mark.slow
AT_ONCE = 8


def answers(http: httpx.Client, call) -> list[httpx.Response]:
    with ThreadPoolExecutor(AT_ONCE) as pool:
        return list(pool.map(call, range(AT_ONCE * 2)))


@pytest.fixture(params=["memory", "redis"])
def cache_env(request):
    if request.param == "memory":
        return {}
    if not listening("127.0.0.1", 6379):
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    # A Redis database of its own, our keys emptied first: rate-limit counters of earlier runs (the
    # anonymous one of 127.0.0.1 above all) live on in Redis, not in the test database.
    url = "redis://127.0.0.1:6379/11"
    client = pytest.importorskip("redis").Redis.from_url(url)
    for key in client.scan_iter("sent:*"):
        client.delete(key)
    return {"REDIS_URL": url}


def test_changes_apply_at_once_in_every_worker(transactional_db, cache_env):
    customer = make_customer("Acme", balance="1000")
    template = make_approved_template(customer)
    prices_seed_defaults()  # the table as migrated (an earlier transactional test emptied it)
    price = Price.objects.get(channel="sms", country="DE", category="")

    def sends(i):
        return http.post("/v3/messages", json=send_body(number(10 + i)))

    def quotes(_):
        return http.get("/v3/billing/quote", params={"channel": "sms", "country": "DE"})

    def me(_):
        return http.get("/v3/me")

    with (
        gunicorn(workers=2, **cache_env) as url,
        httpx.Client(base_url=url, timeout=60, headers={"x-api-key": customer.raw_api_key}) as http,
    ):
        for _ in range(2):  # the second round from the workers' caches
            assert {r.status_code for r in answers(http, sends)} == {202}
            assert {r.json()["data"]["unit_price"] for r in answers(http, quotes)} == {
                str(price.unit_price)
            }

        lifecycle.template_pause(template)
        paused = answers(http, sends)
        assert {(r.status_code, r.json()["error"]["code"]) for r in paused} == {
            (400, "BUSINESS_005")
        }

        price.unit_price = Decimal("0.4321")
        price.save()
        assert {r.json()["data"]["unit_price"] for r in answers(http, quotes)} == {"0.4321"}

        assert {r.status_code for r in answers(http, me)} == {200}
        api_key_revoke(customer, api_key_id=customer.api_keys.get().pk)
        refused = answers(http, me)
        assert {(r.status_code, r.json()["error"]["code"]) for r in refused} == {(401, "AUTH_002")}
