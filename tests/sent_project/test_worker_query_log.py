"""A task worker with DEBUG on keeps only the current job's statements in Django's query log
(docs/operations.md#memory-of-workers-and-imports)."""

import uuid

from django.db import connection

from contacts.models import Contact
from contacts.tasks import contact_import_run
from tests.tasks import run_queued_tasks


def test_a_worker_forgets_the_statements_of_its_earlier_jobs_with_debug_on(db, settings):
    settings.DEBUG = True
    for _ in range(3):
        Contact.objects.filter(name="before the job").count()
    assert any("before the job" in query["sql"] for query in connection.queries)

    contact_import_run.enqueue(import_id=str(uuid.uuid4()))  # an unknown import: one UPDATE
    assert run_queued_tasks() == 1

    statements = [query["sql"] for query in connection.queries]
    assert not any("before the job" in sql for sql in statements)
    assert any('UPDATE "contacts_contactimport"' in sql for sql in statements)
