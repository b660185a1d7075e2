"""PostgreSQL only: trigram index for substring search (`search` on GET /v3/contacts).

`search_text LIKE '%23456%'` (digits of the E.164 number, metadata values) uses it. On SQLite
this migration does nothing: the same query scans the customer's rows.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS contact_search_trgm ON contacts_contact "
    "USING gin (search_text gin_trgm_ops) WHERE deleted_at IS NULL",
]
DROP = ["DROP INDEX IF EXISTS contact_search_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
