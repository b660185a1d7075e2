"""Small database helpers the ORM has no public spelling for."""

import json

from django.db import connections, router, transaction
from django.db.models import Case, QuerySet, Value, When


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


def _comparable(value):
    return (
        json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
    )


# Rows per statement of `rows_update`'s CASE spelling (SQLite's limits on parameters).
CASE_BATCH = 250
# Parameters per statement of its VALUES spelling (PostgreSQL's protocol allows 65,535).
VALUES_PARAMETERS = 30_000


def rows_update(model, objects: list, fields: list[str] | tuple[str, ...]) -> int:
    """Write `fields` of each of `objects` (their own values, by primary key), set-based.

    On PostgreSQL one `UPDATE … FROM (VALUES …)` joins the rows to their new values; elsewhere
    (SQLite) a value every object shares is set as is and one that differs per object goes
    through a CASE on the primary key, CASE_BATCH rows a statement. Returns how many rows
    it changed.
    """
    if not objects or not fields:
        return 0
    using = router.db_for_write(model)
    connection, changed = connections[using], 0
    if connection.vendor == "postgresql":
        batch = max(1, VALUES_PARAMETERS // (len(fields) + 1))
        for start in range(0, len(objects), batch):
            changed += _update_from_values(
                connection, model, objects[start : start + batch], fields
            )
        return changed
    for start in range(0, len(objects), CASE_BATCH):
        changed += _update_case(model, objects[start : start + CASE_BATCH], fields, using)
    return changed


def _update_case(model, objects: list, fields, using: str) -> int:
    meta = model._meta
    values = {}
    for name in fields:
        if len({_comparable(getattr(obj, name)) for obj in objects}) == 1:
            values[name] = getattr(objects[0], name)
            continue
        field = meta.get_field(name)
        values[name] = Case(
            *[
                When(pk=obj.pk, then=Value(getattr(obj, name), output_field=field))
                for obj in objects
            ],
            output_field=field,
        )
    rows = model._base_manager.using(using).filter(pk__in=[obj.pk for obj in objects])
    return rows.update(**values)


def _update_from_values(connection, model, objects: list, fields) -> int:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    casts = ", ".join(f"%s::{field.db_type(connection)}" for field in columns)
    params = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)
        for obj in objects
        for field in columns
    ]
    names = ", ".join(quote(f"v_{field.column}") for field in columns)
    assignments = ", ".join(
        f"{quote(field.column)} = v.{quote(f'v_{field.column}')}" for field in columns[1:]
    )
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM (VALUES {', '.join([f'({casts})'] * len(objects))}) AS v({names}) "
        f"WHERE t.{quote(meta.pk.column)} = v.{quote(f'v_{meta.pk.column}')}"
    )
    with (
        transaction.mark_for_rollback_on_error(using=connection.alias),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
        return cursor.rowcount
