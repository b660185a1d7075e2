"""`manage.py db_worker` that counts the SQL statements it runs (bench/dispatch_bench.py).

`python bench/dispatch_worker.py COUNTS.json [db_worker options]`: every database
connection the worker opens gets an execute wrapper; on exit (SIGTERM ends the worker after
its current job) the count is written to COUNTS.json as {"statements": n}.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sent_project.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

COUNT = {"statements": 0}


def _count(execute, sql, params, many, context):
    COUNT["statements"] += 1
    return execute(sql, params, many, context)


def _wrap(sender, connection, **kwargs):
    if _count not in connection.execute_wrappers:  # once per connection object
        connection.execute_wrappers.append(_count)


def main() -> None:
    out, options = Path(sys.argv[1]), sys.argv[2:]
    connection_created.connect(_wrap)
    try:
        call_command("db_worker", *options)
    finally:
        out.write_text(json.dumps(COUNT))


if __name__ == "__main__":
    main()
