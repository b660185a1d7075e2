"""The rate limit holds across processes: 4 gunicorn workers, requests 16 at a time, let the
limit through, not a request more (docs/api/conventions.md#rate-limits). The counter is the
database's without Redis, Redis's with REDIS_URL (skipped when nothing answers on 6379)."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.factories import make_customer
from tests.servers import answers, gunicorn

pytestmark = pytest.mark.slow
LIMIT = 200
REQUESTS = 300


def statuses(base_url: str, headers: dict, count: int = REQUESTS) -> list[int]:
    with httpx.Client(base_url=base_url, timeout=60, headers=headers) as http:
        http.get("/healthz")  # the workers are up

        def call(_):
            return http.get("/v3/me").status_code

        with ThreadPoolExecutor(16) as pool:
            return list(pool.map(call, range(count)))


def assert_within_two_percent(allowed: int, limit: int) -> None:
    assert abs(allowed - limit) <= limit * 0.02, f"{allowed} let through a {limit}/min limit"


@pytest.fixture(params=["database", "redis"])
def store(request):
    if request.param == "redis" and not answers("127.0.0.1", 6379):
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    if request.param == "redis":
        import redis

        client = redis.Redis()
        for key in client.scan_iter("sent:rate:*"):
            client.delete(key)
        return {"REDIS_URL": "redis://127.0.0.1:6379/0"}
    return {}


def test_the_limit_is_exact_across_four_workers(transactional_db, store):
    customer = make_customer("Acme")
    with gunicorn(
        workers=4, API_RATE_LIMIT=f"{LIMIT}/min", API_INVALID_KEY_RATE_LIMIT="50/min", **store
    ) as url:
        codes = statuses(url, {"x-api-key": customer.raw_api_key})
        assert set(codes) <= {200, 429}
        assert_within_two_percent(codes.count(200), LIMIT)
        # Invalid keys from one address share that address's limit.
        invalid = statuses(url, {"x-api-key": "sent_not-a-key"}, count=80)
    assert set(invalid) <= {401, 429}
    assert invalid.count(401) == 50  # API_INVALID_KEY_RATE_LIMIT below
