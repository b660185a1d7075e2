"""Small database helpers the ORM has no public spelling for."""

from django.db import transaction
from django.db.models import QuerySet


def update_returning(rows: QuerySet, values: dict, returning: list[str]) -> list[tuple]:
    """`rows.update(**values)` that also returns the `returning` columns of every row it
    changed, as they are after the update: one UPDATE … RETURNING statement (PostgreSQL,
    and SQLite ≥ 3.35) instead of an UPDATE then a SELECT.

    Values come back converted as a query converts them (a SQLite decimal is a Decimal).
    It goes through `QuerySet._update`, the path `Model.save()` itself takes to refresh
    expression fields from RETURNING.
    """
    meta = rows.model._meta
    fields = [(meta.get_field(name), meta.concrete_model, value) for name, value in values.items()]
    returned = [meta.get_field(name) for name in returning]
    with transaction.mark_for_rollback_on_error(using=rows.db):
        return [tuple(row) for row in rows._update(fields, returning_fields=returned)]
