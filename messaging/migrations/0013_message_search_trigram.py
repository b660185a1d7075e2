"""PostgreSQL only: the trigram index of the message history's search
(`messaging.selectors.message_search_filter`, docs/dashboard.md#message-search).

GIN over (customer_id, phone, upper(body)) with pg_trgm and btree_gin, as the contacts'
`contact_customer_search_trgm`: `phone LIKE '%4155%'` and `upper(body) LIKE '%ORDER A-1%'`
(Django's `icontains`) read only the candidate rows of the customer searching. Built
CONCURRENTLY (the migration is not atomic), so sends keep writing messages while it builds; an
index left invalid by an interrupted build is dropped first. Whole ids and numbers use the
primary key and `message_phone_created`. On SQLite this migration does nothing: the same
query scans the customer's rows.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "DROP INDEX CONCURRENTLY IF EXISTS message_customer_search_trgm",
    "CREATE INDEX CONCURRENTLY message_customer_search_trgm ON messaging_message "
    "USING gin (customer_id, phone gin_trgm_ops, (upper(body)) gin_trgm_ops)",
]
DROP = ["DROP INDEX CONCURRENTLY IF EXISTS message_customer_search_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("messaging", "0012_scheduled_messages")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
