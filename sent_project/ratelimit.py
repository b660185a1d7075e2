"""Rate limits exact across processes: one atomic counter per key and window.

`rate_hit(key, limit, seconds)` counts one request and says where the key stands. A window
opens at a key's first request and lasts `seconds`; every request in it (refused ones too)
adds one; the next request after it opens a new window. The count lives in one shared place,
updated in one atomic step per request (one round trip), so 4 gunicorn workers or 4 machines
let exactly `limit` requests through (docs/api/conventions.md#rate-limits):

- Redis (REDIS_URL set, RATE_LIMIT_STORE=auto or redis): a Lua script, INCR and PEXPIRE on
  the window's first request, that answers the count and the time left.
- The database otherwise (SQLite or PostgreSQL): one `INSERT … ON CONFLICT DO UPDATE …
  RETURNING` on the RateCounter row of the key. A limit shared by every process must not
  depend on an optional service, so this is also where Redis falls back to when it is down.
"""

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from sent_project.models import RateCounter

logger = logging.getLogger("sent.ratelimit")

# Windows closed for longer than this are deleted, now and then, by the requests themselves.
PRUNE_AFTER_SECONDS = 2 * 86400
PRUNE_ONE_IN = 1000


@dataclass(frozen=True)
class RateLimit:
    """Where a key stands after this request: its limit, what is left, when it resets."""

    limit: int
    count: int  # requests counted in the window, this one included
    reset_at: float  # Unix time the window closes

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def retry_after(self, now: float | None = None) -> int:
        """Whole seconds until the window closes (at least 1)."""
        return max(1, int(self.reset_at - (time.time() if now is None else now) + 0.999))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.reset_at + 0.999)),
        }


def parse_rate(rate: str) -> tuple[int, int]:
    """ "1200/min" → (1200, 60); the period is s, min, h or d (its first letter counts)."""
    number, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0].lower()]
    return int(number), seconds


def client_address(request) -> str:
    """The caller's address: CLIENT_ADDRESS_HEADER's last entry when set, else REMOTE_ADDR."""
    if settings.CLIENT_ADDRESS_HEADER:
        meta_name = "HTTP_" + settings.CLIENT_ADDRESS_HEADER.upper().replace("-", "_")
        forwarded = [part.strip() for part in request.META.get(meta_name, "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def rate_hit(key: str, rate: str) -> RateLimit:
    """Count one request against `key` under `rate` ("200/min")."""
    limit, seconds = parse_rate(rate)
    if counters_in_redis():
        try:
            return _redis_hit(key, limit, seconds)
        except Exception as exc:  # noqa: BLE001 - Redis down: the database keeps the limit
            logger.warning("Redis unavailable for rate limits, using the database: %s", exc)
    return _database_hit(key, limit, seconds)


def counters_in_redis() -> bool:
    store = settings.RATE_LIMIT_STORE
    return bool(settings.REDIS_URL) and store in {"auto", "redis"}


# --- Redis -------------------------------------------------------------------------------

# KEYS[1] the counter, ARGV[1] the window in ms → {count, ms left}.
REDIS_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""

_redis = {"pid": None, "script": None}


def _redis_script():
    import os

    import redis

    if _redis["pid"] != os.getpid():  # a forked worker opens its own connections
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0
        )
        _redis.update(pid=os.getpid(), script=client.register_script(REDIS_SCRIPT))
    return _redis["script"]


def _redis_hit(key: str, limit: int, seconds: int) -> RateLimit:
    count, left_ms = _redis_script()(keys=[f"sent:rate:{key}"], args=[seconds * 1000])
    return RateLimit(limit, int(count), time.time() + int(left_ms) / 1000)


# --- The database ------------------------------------------------------------------------

_TABLE = connection.ops.quote_name(RateCounter._meta.db_table)
# Still in the window: one more; closed: a new window opens with this request. Both columns
# are computed from the row as it was, in the one statement that locks it.
_UPSERT = f"""
INSERT INTO {_TABLE} ("key", window_start, count) VALUES (%s, %s, 1)
ON CONFLICT ("key") DO UPDATE SET
  count = CASE WHEN {_TABLE}.window_start > %s THEN {_TABLE}.count + 1 ELSE 1 END,
  window_start = CASE WHEN {_TABLE}.window_start > %s
    THEN {_TABLE}.window_start ELSE excluded.window_start END
RETURNING count, window_start
"""


def _database_hit(key: str, limit: int, seconds: int) -> RateLimit:
    now = time.time()
    opened_after = now - seconds
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [key, now, opened_after, opened_after])
        count, window_start = cursor.fetchone()
    if random.randrange(PRUNE_ONE_IN) == 0:
        rate_counters_prune(now=now)
    return RateLimit(limit, int(count), float(window_start) + seconds)


def rate_counters_prune(*, now: float | None = None) -> int:
    """Delete the counters of windows closed long ago (every window is at most a day)."""
    cutoff = (time.time() if now is None else now) - PRUNE_AFTER_SECONDS
    deleted, _ = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
