"""Contacts benchmark: list/search latency over 2,000,000 contacts and import throughput.

    python bench/contacts_bench.py [--rows 1000000] [--import-rows 100000] [--requests 200]
                                   [--reset]

Runs on PostgreSQL: DATABASE_URL when it is a postgres:// URL (to a database whose name
contains "bench": its contacts tables are emptied), else
postgres://postgres@127.0.0.1:5432/sent_contacts_bench (created if missing). It migrates
that database, then loads (once; --reset reloads) two customers with --rows contacts each
through COPY (indexes dropped during the load and rebuilt after, then VACUUM ANALYZE).

Measured in-process with Django's test client (the whole middleware/auth/DRF/serializer
stack, no HTTP server), DEBUG off, after warm-up; every request draws fresh random terms:

- GET /v3/contacts: first page, 100-row page, a deep page, the channel filter;
- search: E.164 prefix ("+1201555…"), digit substring ("555-01…", trigram index),
  metadata text; the `phone` filter (exact number, national format);
- POST /v3/contacts/import with a 100,000-row CSV, end to end (upload, task, every row's
  result stored), with the writer processes cold, then warm (5 runs: median, best, worst);
- contacts_get_or_create_for_numbers for 1,000 numbers (what a 1,000-recipient send costs).

It prints median and p95 per scenario and, from EXPLAIN ANALYZE, the indexes each list
query uses; then the same list/search requests for the customer the imports just filled
(600,000 contacts loaded by the product's import, statistics as the import leaves them), and
a table of every row against its goal (p95 < 25 ms; import ≥ 40,000 rows/s warm), also written
to var/bench/contacts.json. Not a test: nothing fails on a slow machine.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
# The goals each row is printed against (docs/operations.md#benchmarks).
P95_GOAL_MS = 25
IMPORT_GOAL_ROWS_PER_S = 40_000
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sent_contacts_bench"

# Real US area codes (NANPA): numbers built from them are valid, so derived formats work.
AREAS = [
    201,
    202,
    203,
    205,
    206,
    207,
    208,
    209,
    210,
    212,
    213,
    214,
    215,
    216,
    217,
    218,
    219,
    224,
    225,
    228,
    229,
    231,
    234,
    239,
    240,
    248,
    251,
    252,
    253,
    254,
    256,
    260,
    262,
    267,
    269,
    270,
    276,
    281,
    301,
    302,
    303,
    304,
    305,
    307,
    308,
    309,
    310,
    312,
    313,
    314,
]
NAMES = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
]
TIERS = ["gold", "silver", "bronze"]


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if urlparse(url).scheme in {"postgres", "postgresql"} else DEFAULT_URL


def ensure_database(url: str) -> bool:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL is not reachable ({exc}); the contacts benchmark is skipped.")
        return False
    return True


def setup_django(url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
            "ALLOWED_HOSTS": "testserver,localhost",
            "API_RATE_LIMIT": "100000000/min",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sent_project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


NUMBERS = len(AREAS) * 800 * 10_000
SCRAMBLE = 2_654_435_761  # odd, not a multiple of 5: coprime with NUMBERS, so a bijection


def number(i: int) -> str:
    """The i-th bench number: +1 AAA EEE LLLL, all distinct, all valid, digits spread evenly
    (consecutive i differ everywhere, as real numbers do)."""
    k = (i * SCRAMBLE) % NUMBERS
    area = AREAS[k % len(AREAS)]
    exchange = 200 + (k // len(AREAS)) % 800
    line = (k // (len(AREAS) * 800)) % 10_000
    return f"+1{area}{exchange}{line:04d}"


def import_csv(rows: int, offset: int) -> bytes:
    """A CSV of `rows` bench numbers from the offset-th on, with a name column: national,
    international and E.164 forms mixed; 1% invalid."""
    lines = ["phone_number,name"]
    for i in range(rows):
        n = number(offset + i)
        raw = [n, f"({n[2:5]}) {n[5:8]}-{n[8:]}", f"+1 {n[2:5]}-{n[5:8]}-{n[8:]}"][i % 3]
        lines.append(f"{raw if i % 100 else 'not-a-number'},person {i}")
    return ("\n".join(lines) + "\n").encode()


def contact_rows(customer_id, count: int, offset: int):
    from contacts.bulk import search_text_for
    from messaging.providers import get_whatsapp_provider
    from sent_project.ids import uuid7

    whatsapp = get_whatsapp_provider()
    rng = random.Random(offset)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / max(count, 1)
    for i in range(count):
        e164 = number(offset + i)
        metadata = {}
        if i % 10 == 0:
            metadata = {"name": f"{rng.choice(NAMES)} {i}", "tier": rng.choice(TIERS)}
        on_whatsapp = whatsapp.lookup(e164)
        created = start + step * i
        yield (
            uuid7(),
            customer_id,
            e164,
            e164,
            "1",
            "US",
            "fixed_line_or_mobile",
            True,
            created,
            on_whatsapp,
            created,
            "whatsapp" if on_whatsapp else "sms",
            False,
            False,
            metadata,
            search_text_for(e164, metadata),
            {},
            "import",
            created,
            created,
            "",  # name
        )


def load(customers, rows: int) -> None:
    from django.db import connection, transaction

    from contacts.bulk import CONTACT_COPY_COLUMNS, copy_rows
    from contacts.models import Contact

    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
            [table, f"{table}_pkey"],
        )
        indexes = cursor.fetchall()
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        # Interleaved, as a shared table really is: no account's rows sit together on disk.
        streams = [contact_rows(c.pk, rows, n * rows) for n, c in enumerate(customers)]
        interleaved = (row for rows_at_i in zip(*streams, strict=True) for row in rows_at_i)
        copy_rows(table, CONTACT_COPY_COLUMNS, interleaved)
        loaded = time.perf_counter()
        with connection.cursor() as cursor:
            # Check the deferred foreign keys now: CREATE INDEX refuses pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for _, definition in indexes:
                cursor.execute(definition)
    indexed = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"loaded {rows * len(customers):,} contacts by COPY in {loaded - started:.1f} s, "
        f"indexes rebuilt in {indexed - loaded:.1f} s, vacuum/analyze "
        f"{time.perf_counter() - indexed:.1f} s"
    )


def truncate() -> None:
    """Empty every contacts table, and the messages that point at contacts (a dedicated
    benchmark database: faster than DELETE, and leaves no dead rows behind)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contacts_contactimportrow, contacts_contactimport, "
            "contacts_consentevent, contacts_contact CASCADE"
        )


def purge(name_pattern: str) -> None:
    """Delete the contacts data of the bench customers (plain SQL: millions of rows)."""
    from django.db import connection

    customers = "SELECT id FROM billing_customer WHERE name LIKE %s"
    with connection.cursor() as cursor:
        for table in ("contacts_contactimportrow", "contacts_contactimport"):
            key = "contact_import_id IN (SELECT id FROM contacts_contactimport WHERE customer_id IN ({}))"
            where = (
                key.format(customers) if table.endswith("row") else f"customer_id IN ({customers})"
            )
            cursor.execute(f"DELETE FROM {table} WHERE {where}", [name_pattern])
        for table in ("contacts_consentevent", "contacts_contact"):
            cursor.execute(
                f"DELETE FROM {table} WHERE customer_id IN ({customers})", [name_pattern]
            )
            if cursor.rowcount:
                # Measure a table without the dead rows of earlier runs.
                cursor.execute(f"VACUUM ANALYZE {table}")


def bench_customers(rows: int, reset: bool):
    from billing.models import Customer
    from billing.services import api_key_create, customer_create
    from contacts.models import Contact

    names = ["bench-contacts-big", "bench-contacts-other"]
    customers = [Customer.objects.filter(name=name).first() for name in names]
    ready = all(customers) and all(
        Contact.objects.filter(customer=c).count() == rows for c in customers
    )
    if reset or not ready:
        truncate()
        customers = [
            c or customer_create(name=name) for c, name in zip(customers, names, strict=True)
        ]
        load(customers, rows)
    big = customers[0]
    big.raw_api_key = api_key_create(big, name="bench").raw_key
    return big


def timed(client, path: str, params: dict, key: str) -> float:
    started = time.perf_counter()
    response = client.get(path, params, HTTP_X_API_KEY=key)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} {params} → {response.status_code}: {response.content[:300]}")
    return elapsed


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def plan_indexes(customer, **filters) -> str:
    """Index names and node types EXPLAIN ANALYZE shows for the list query's first page."""
    from django.db import connection

    from contacts.selectors import contacts_for

    queryset = contacts_for(customer, **filters)[:21]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    used = []

    def walk(node):
        if "Index Name" in node:
            used.append(f"{node['Node Type']} on {node['Index Name']}")
        elif node["Node Type"] == "Seq Scan":
            used.append(f"Seq Scan on {node['Relation Name']}")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return f"{'; '.join(dict.fromkeys(used))} ({plan[0]['Execution Time']:.2f} ms)"


def latency(big, requests: int, pick) -> list[tuple]:
    """Each scenario's median and p95 (ms) and the indexes its plan uses, for `big` (with its
    `raw_api_key`); `pick(rng)` draws the index (for `number()`) of one of its numbers."""
    from django.test import Client, override_settings

    client = Client()
    key = big.raw_api_key
    rng = random.Random(7)
    rows = 1_000_000  # metadata terms are drawn from the COPY-loaded range

    def some_number() -> str:
        return number(pick(rng))

    def national(e164: str) -> str:
        return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"

    scenarios = [
        ("list, first page (20)", lambda: {}, {}),
        ("list, page_size=100", lambda: {"page_size": 100}, {}),
        ("list, page 50", lambda: {"page": 50}, {}),
        ("list, channel=whatsapp", lambda: {"channel": "whatsapp"}, {"channel": "whatsapp"}),
        (
            "search E.164 prefix +1AAAEEE",
            lambda: {"search": some_number()[:8]},
            {"search": number(12345)[:8]},
        ),
        (
            "search E.164 prefix +1AAA (many)",
            lambda: {"search": some_number()[:5]},
            {"search": number(12345)[:5]},
        ),
        (
            "search digits '555-0123' (trigram)",
            lambda: {"search": (lambda n: f"{n[5:8]}-{n[8:]}")(some_number())},
            {"search": f"{number(12345)[5:8]}-{number(12345)[8:]}"},
        ),
        (
            "search 4 digits (many matches)",
            lambda: {"search": some_number()[-4:]},
            {"search": number(12345)[-4:]},
        ),
        (
            "search metadata 'smith 1234…'",
            lambda: {"search": f"{rng.choice(NAMES)} {rng.randrange(rows // 10) * 10}"},
            {"search": "smith 12340"},
        ),
        ("search metadata 'gold' (many)", lambda: {"search": "gold"}, {"search": "gold"}),
        (
            "phone filter (national format)",
            lambda: {"phone": national(some_number())},
            {"phone": national(number(777))},
        ),
    ]
    results = []
    for name, params, explain in scenarios:
        for _ in range(10):
            timed(client, "/v3/contacts", params(), key)
        samples = [timed(client, "/v3/contacts", params(), key) for _ in range(requests)]
        median, p95 = summary(samples)
        results.append((name, median, p95, plan_indexes(big, **explain)))
        print(f"  {name:40} median {median:6.2f} ms  p95 {p95:6.2f} ms", flush=True)
    # Searches matching thousands of contacts pay mostly for the exact total (counted up to
    # API_EXACT_COUNT_LIMIT, 1,000): the same ones counted up to 10,000, for comparison.
    with override_settings(API_EXACT_COUNT_LIMIT=10_000):
        for name, params, _ in scenarios:
            if "many" in name and name.startswith("search"):
                samples = [timed(client, "/v3/contacts", params(), key) for _ in range(requests)]
                median, p95 = summary(samples)
                print(
                    f"  {name + ', exact count ≤ 10,000':40} median {median:6.2f} ms  "
                    f"p95 {p95:6.2f} ms",
                    flush=True,
                )
    return results


IMPORT_FILES = 6  # files of new numbers imported, each into the same customer
IMPORT_OFFSET = 5_000_000  # number() index of the first file's first row (1,000,000 per file)


def import_throughput(rows: int):
    """The import runs (label, rows, seconds, rows/s, request seconds, the ContactImport) and
    the customer they imported into (its `raw_api_key` set)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client

    from billing.services import api_key_create, customer_create
    from contacts.imports import contact_import_process
    from contacts.models import ContactImport

    results = []
    customer = customer_create(name=f"bench-contacts-import-{uuid.uuid4().hex[:6]}")
    key = api_key_create(customer).raw_key
    client = Client()

    # The machine may be shared: the warm runs are repeated, and the best says what the
    # machine can do, the median what it did.
    files = [import_csv(rows, IMPORT_OFFSET + n * 1_000_000) for n in range(IMPORT_FILES)]
    runs = [("new numbers, writer processes cold", files[0])]
    runs += [(f"new numbers, writers warm #{n}", files[n]) for n in range(1, 6)]
    runs += [("the same file again (all existing)", files[5])]
    for label, body in runs:
        started = time.perf_counter()
        response = client.post(
            "/v3/contacts/import",
            {"file": SimpleUploadedFile("bench.csv", body, content_type="text/csv")},
            HTTP_X_API_KEY=key,
        )
        accepted = time.perf_counter()
        assert response.status_code == 202, response.content[:300]
        import_id = response.json()["data"]["id"]
        contact_import_process(import_id=import_id)
        finished = time.perf_counter()
        done = ContactImport.objects.get(pk=import_id)
        total = finished - started
        results.append((label, rows, total, rows / total, accepted - started, done))
        print(
            f"  {label}: {rows:,} rows in {total:.2f} s = {rows / total:,.0f} rows/s "
            f"(request {1000 * (accepted - started):.0f} ms; created {done.created_count:,}, "
            f"existing {done.existing_count:,}, invalid {done.invalid_count:,})",
            flush=True,
        )
    warm = sorted(rate for label, _, _, rate, _, _ in results if "warm" in label)
    print(
        f"  new numbers, writers warm: median {statistics.median(warm):,.0f} rows/s "
        f"(best {warm[-1]:,.0f}, worst {warm[0]:,.0f}, {len(warm)} runs)"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('contacts_contact'))")
        print(f"  contacts_contact size with indexes: {cursor.fetchone()[0]}")
    customer.raw_api_key = key
    return results, customer


def bulk_get_or_create(runs: int = 5) -> tuple[float, float]:
    from billing.services import customer_create
    from contacts.services import contacts_get_or_create_for_numbers

    customer = customer_create(name=f"bench-contacts-send-{uuid.uuid4().hex[:6]}")
    samples = []
    for run in range(runs):
        numbers = [number(9_000_000 + run * 1000 + i) for i in range(1000)]
        started = time.perf_counter()
        contacts, invalid = contacts_get_or_create_for_numbers(
            customer, numbers=numbers, source="message"
        )
        samples.append((time.perf_counter() - started) * 1000)
        assert len(contacts) == 1000 and not invalid
    return summary(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("CONTACTS_BENCH_ROWS", 1_000_000)),
        help="contacts per customer (two customers)",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=int(os.environ.get("CONTACTS_BENCH_IMPORT_ROWS", 100_000)),
    )
    parser.add_argument(
        "--requests", type=int, default=int(os.environ.get("CONTACTS_BENCH_REQUESTS", 200))
    )
    parser.add_argument("--reset", action="store_true", help="reload the contacts")
    args = parser.parse_args()
    url = database_url()
    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        # DATABASE_URL is also the application's: its contacts tables are emptied below.
        print(
            f"Refusing to run on database {name!r}: the benchmark empties its contacts "
            "tables. Point DATABASE_URL at a database whose name contains 'bench', or unset it."
        )
        return 2
    if not ensure_database(url):
        return 0
    setup_django(url)
    print(f"database {urlparse(url).path.lstrip('/')}: {args.rows:,} contacts × 2 customers")
    purge("bench-contacts-import-%")
    purge("bench-contacts-send-%")
    big = bench_customers(args.rows, args.reset)
    print(f"\nGET /v3/contacts ({args.requests} requests per scenario, in-process client):")
    results = latency(big, args.requests, lambda rng: rng.randrange(args.rows))
    print("\nQuery plans (EXPLAIN ANALYZE of the page query):")
    for name, _, _, plan in results:
        print(f"  {name:40} {plan}")
    print(f"\nImport (POST /v3/contacts/import + task, {args.import_rows:,}-row CSV):")
    imports, imported = import_throughput(args.import_rows)
    # Right after a bulk load: the same requests for the customer the imports just filled
    # (IMPORT_FILES × import_rows contacts), with no VACUUM/ANALYZE but the import's own.
    total = IMPORT_FILES * args.import_rows
    print(f"\nRight after the imports ({total:,} contacts of one customer, loaded by the import):")
    after_load = latency(
        imported,
        args.requests,
        lambda rng: (
            IMPORT_OFFSET
            + rng.randrange(IMPORT_FILES) * 1_000_000
            + rng.randrange(args.import_rows)
        ),
    )
    median, p95 = bulk_get_or_create()
    print(
        f"\ncontacts_get_or_create_for_numbers, 1,000 new numbers: median {median:.0f} ms, "
        f"p95 {p95:.0f} ms"
    )
    warm = statistics.median(rate for label, _, _, rate, _, _ in imports if "warm" in label)
    rows = [
        {
            "scenario": f"{name} ({when})",
            "median_ms": round(m, 2),
            "p95_ms": round(p, 2),
            "goal": f"p95 < {P95_GOAL_MS} ms",
            "met": p < P95_GOAL_MS,
        }
        for when, measured in (("loaded", results), ("right after import", after_load))
        for name, m, p, _ in measured
    ]
    rows.append(
        {
            "scenario": f"import {args.import_rows:,} new numbers, warm (median rows/s)",
            "rows_per_s": round(warm),
            "goal": f"≥ {IMPORT_GOAL_ROWS_PER_S:,} rows/s",
            "ratio_to_goal": round(warm / IMPORT_GOAL_ROWS_PER_S, 2),
            "met": warm >= IMPORT_GOAL_ROWS_PER_S,
        }
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "contacts.json").write_text(json.dumps(rows, indent=2))
    print(f"\n{'goal row':66} {'median':>8} {'p95':>8}  goal")
    for row in rows:
        figures = (
            f"{row['median_ms']:6.2f}ms {row['p95_ms']:6.2f}ms"
            if "p95_ms" in row
            else f"{row['rows_per_s']:>17,}"
        )
        print(f"{row['scenario']:66} {figures}  {row['goal']} {'met' if row['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
