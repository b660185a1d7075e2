"""Database-level guard: the ledger table refuses UPDATE (and on PostgreSQL, DELETE).

The model and queryset already refuse in Python; this also stops raw SQL and other
clients. Installed after every `migrate` (post_migrate, idempotent), because SQLite
drops a table's triggers whenever a migration rebuilds the table. TRUNCATE (what test
teardown uses on PostgreSQL) is not a row operation and still works; SQLite keeps DELETE
open because its test teardown flushes tables with DELETE.
"""

from django.db import connections

TABLE = "billing_ledgerentry"
MESSAGE = "billing ledger entries are append-only"

POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION billing_ledger_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
    END $$
    """,
    f"""
    CREATE OR REPLACE TRIGGER billing_ledger_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only()
    """,
]
SQLITE = [
    f"""
    CREATE TRIGGER IF NOT EXISTS billing_ledger_append_only
    BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]


def install_ledger_guards(sender=None, using: str = "default", **kwargs) -> None:
    """post_migrate receiver: (re)create the trigger if the ledger table exists."""
    connection = connections[using]
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(connection.vendor)
    if not statements or TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
