"""1,000-recipient sends in-process (Django's test client, no HTTP), with where the time goes.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sent_send_bench \
        .venv/bin/python bench/send_inprocess.py [--runs 7] [--profile 40]

Builds its own database (bench/run.py's `setup()`: migrate, a customer with a balance, the
bench template), imports `sent_project.wsgi` as a served process does, then times `--runs`
sends to new recipients (1,000 contacts made each) and as many to the same numbers again
(known recipients), after one warm send each. Prints the medians and spreads, the statements
of a send with their median database time (client-timed), and with `--profile N` the top N
functions of one more send under cProfile (which about doubles Python's share).
Figures: docs/operations.md#bulk-inserts-by-copy.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run as harness  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()
    account = harness.setup()
    os.environ.update(harness.bench_env())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sent_project.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import sent_project.wsgi  # noqa: F401 - a served process (its gc.freeze)
    from bench.messages import numbers, send_body

    client = Client(HTTP_X_API_KEY=account["api_key"])

    def send(block: int) -> None:
        body = send_body(numbers(block, 1000))
        response = client.post("/v3/messages", body, content_type="application/json")
        assert response.status_code == 202, response.content[:300]

    for label in ("new recipients", "known recipients"):
        send(0)
        seconds, statements = [], {}
        for run in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                send(1000 * (run + 1))
                seconds.append(time.perf_counter() - started)
            for query in queries.captured_queries:
                key = query["sql"][:48].replace("\n", " ")
                statements.setdefault(key, [0.0] * args.runs)[run] += float(query["time"])
        print(
            f"{label}: median {statistics.median(seconds):.3f} s "
            f"({min(seconds):.3f}–{max(seconds):.3f}), {len(queries.captured_queries)} statements"
        )
        by_time = sorted(statements.items(), key=lambda item: -statistics.median(item[1]))
        for key, times in by_time[:10]:
            print(f"  {statistics.median(times) * 1000:7.1f} ms  {key}")
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        send(1000 * (args.runs + 2))
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
