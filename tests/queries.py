"""What an API request costs in queries before its view runs."""


def rate_limit_queries() -> int:
    """Queries an API request spends on its rate limit (sent_project/ratelimit.py): the
    counter's one upsert on the database, none when the counters are in Redis."""
    from sent_project.ratelimit import counters_in_redis

    return 0 if counters_in_redis() else 1
