"""Small database helpers the ORM has no public spelling for."""

import json
import re
import uuid
from contextlib import nullcontext
from datetime import datetime
from decimal import Decimal
from operator import attrgetter

from django.db import IntegrityError, connections, models, router, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Case, QuerySet, Value, When
from django.db.models.fields import AutoFieldMixin, Field


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


# What a quoted element of an array literal escapes.
_ELEMENT_ESCAPE = re.compile(r'[\\"]')

# Rows from which `rows_insert` copies instead of inserting (PostgreSQL). Django's compiling of
# an INSERT costs more than COPY's extra round trip from a handful of rows on; rows whose ids
# come from a sequence pay one statement more (the ids first), so they copy from more rows
# (docs/operations.md#bulk-inserts-by-copy).
COPY_MIN_ROWS = 10
COPY_MIN_ROWS_SEQUENCE_IDS = 50


def rows_insert(
    model, objects: list, *, batch_size: int | None = None, ignore_conflicts: bool = False
) -> list:
    """`Model.objects.bulk_create(objects, batch_size=…, ignore_conflicts=…)` for new
    instances, by `COPY … FROM STDIN` on PostgreSQL when there are COPY_MIN_ROWS or more
    (COPY_MIN_ROWS_SEQUENCE_IDS for a model whose ids a sequence gives).

    Same rows as bulk_create: each concrete field's `pre_save(add=True)` (auto_now_add) and
    `get_db_prep_save` give the values; a primary key made in Python (uuid7) is kept, an
    auto-increment one is taken from its sequence first (in order), so every instance has
    its pk after, as bulk_create leaves them on PostgreSQL. Instances are marked saved.
    COPY has no ON CONFLICT: with `ignore_conflicts` it runs in a savepoint, and if a row
    conflicts the lot goes through bulk_create instead (which skips those rows). What COPY
    can't take — an expression or database default as a value, a multi-table or ordered
    model — goes through bulk_create, as do SQLite and short lists. Sends no signals (like
    bulk_create). Returns `objects`.
    """
    if not objects:
        return objects
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta

    def bulk_create() -> list:
        model._default_manager.using(using).bulk_create(
            objects, batch_size=batch_size, ignore_conflicts=ignore_conflicts
        )
        return objects

    if (
        connection.vendor != "postgresql"
        or len(objects)
        < (COPY_MIN_ROWS_SEQUENCE_IDS if isinstance(meta.pk, AutoFieldMixin) else COPY_MIN_ROWS)
        or meta.parents
        or meta.order_with_respect_to
    ):
        return bulk_create()
    prepared = _copy_rows(connection, meta, objects)
    if prepared is None:  # a value COPY can't write as it is
        return bulk_create()
    if not ignore_conflicts:
        _copy(connection, meta, objects, *prepared)
        return objects
    try:
        with transaction.atomic(using=using):  # a savepoint: a conflict undoes the COPY only
            _copy(connection, meta, objects, *prepared)
    except IntegrityError:
        return bulk_create()
    return objects


def copy_in(connection, table: str, columns, write) -> None:
    """`COPY table (columns) FROM STDIN` on a PostgreSQL connection, `write(copy)` giving the
    data (psycopg's `Copy`: `write_row` per row, or `write` of text-format lines); the one
    way this project opens a COPY.

    Like any statement of Django's: refused in a broken atomic block, psycopg's errors raised
    as Django's (IntegrityError…), seen by the connection's execute wrappers (statement
    counters) and, when queries are logged, in connection.queries (CaptureQueriesContext,
    DEBUG). `table` and `columns` are quoted here."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    connection.validate_no_broken_transaction()

    def execute(sql, params, many, context):
        with context["cursor"].cursor.copy(sql) as copy:
            write(copy)

    with (
        transaction.mark_for_rollback_on_error(using=connection.alias),
        connection.cursor() as cursor,
        connection.wrap_database_errors,
    ):
        logged = cursor.debug_sql(sql) if isinstance(cursor, CursorDebugWrapper) else nullcontext()
        with logged:
            cursor._execute_with_wrappers(sql, None, False, execute)


def _copy(connection, meta, objects: list, fields: list, rows: list, without_pk: list) -> None:
    if without_pk:
        with connection.cursor() as cursor:
            _take_sequence_ids(cursor, meta, [rows[index] for index in without_pk], fields)
        column = fields.index(meta.pk)
        for index in without_pk:
            setattr(objects[index], meta.pk.attname, rows[index][column])

    def write_rows(copy):
        write = copy.write_row
        for row in rows:
            write(row)

    copy_in(connection, meta.db_table, [field.column for field in fields], write_rows)
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


def text_array(values) -> str:
    """A PostgreSQL text[] literal of these strings, for a `%s::text[]` parameter: one
    string to send instead of a list psycopg would quote element by element (which is slow
    for the client-side binding Django uses: 1,000 numbers took 0.1 s under profile)."""
    # Every element quoted (an unquoted NULL would be a null), backslash and quote escaped.
    quoted = ('"' + _ELEMENT_ESCAPE.sub(r"\\\g<0>", value) + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


# Field classes whose `get_db_prep_save` on PostgreSQL gives back a value of these types
# unchanged (Django 6.1: to_python/get_prep_value return it as is, the backend's adapt_* is
# the identity; an int it wraps in psycopg's Int2/4/8, which COPY's text format writes as the
# int itself), and None too except for a boolean (to_python refuses it unless null=True). Text
# takes any str (a TextChoices member is kept by CharField.to_python too); the others their
# exact type (a bool is an int to isinstance, and int(True) is 1). Such
# values go to COPY as they are; any other value, and any other field class (a subclass may
# prepare differently), through get_db_prep_save.
_AS_IS = {
    models.CharField: str,
    models.TextField: str,
    models.UUIDField: uuid.UUID,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.SmallIntegerField: int,
    models.BigIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.SmallAutoField: int,
}


class _Expression(Exception):
    """A value to compile (F(), Now(), a database default): not for COPY."""


def _copy_converter(field, connection):
    """value → what COPY is given for it: what `field.get_db_prep_save(value)` returns, by
    a shorter way where one is known to give the same (see _AS_IS)."""
    prep_save = field.get_db_prep_save

    def prep(value, connection):
        if hasattr(value, "resolve_expression"):
            raise _Expression
        return prep_save(value, connection)

    def prepared(value):
        return prep(value, connection)

    if type(field) is models.ForeignKey:
        target = _copy_converter(field.target_field, connection)
        return lambda value: (  # "" is the FK's own case (NULL for a UUID key)
            None if value is None else prep(value, connection) if value == "" else target(value)
        )
    if type(field) is models.JSONField:  # None is SQL NULL; a dict or list is adapted as is
        adapt, encoder = connection.ops.adapt_json_value, field.encoder
        return lambda value: (
            None
            if value is None
            else adapt(value, encoder)
            if type(value) is dict or type(value) is list
            else prep(value, connection)
        )
    if type(field) is models.DateTimeField:  # an aware datetime is kept; naive ones warn
        return lambda value: (
            value
            if value is None or (type(value) is datetime and value.utcoffset() is not None)
            else prep(value, connection)
        )
    if type(field) is models.DecimalField:  # a finite Decimal is kept (NaN/inf are refused)
        return lambda value: (
            value
            if value is None or (type(value) is Decimal and value.is_finite())
            else prep(value, connection)
        )
    kind = _AS_IS.get(type(field))
    if kind is None:
        return prepared
    if kind is bool:  # None is refused unless the field is null=True: get_db_prep_save says
        return lambda value: value if type(value) is bool else prep(value, connection)
    if kind is str:
        return lambda value: (
            value if value is None or isinstance(value, str) else prep(value, connection)
        )
    return lambda value: value if value is None or type(value) is kind else prep(value, connection)


def _copy_rows(connection, meta, objects: list):
    """(fields, one list of database values per object, indexes of the objects whose pk the
    sequence gives), or None if a value is an expression (bulk_create must compile it:
    only get_db_prep_save's way meets one, the exact types of the shorter ways aren't)."""
    fields = [f for f in meta.concrete_fields if not f.generated]
    pk = meta.pk
    auto_pk = isinstance(pk, AutoFieldMixin)
    # Fields with a pre_save of their own (auto_now, auto_now_add) set their value first.
    own_pre_save = [f for f in fields if type(f).pre_save is not Field.pre_save]
    names = [f.attname for f in fields]
    values_of = attrgetter(*names) if len(names) > 1 else lambda obj: (getattr(obj, names[0]),)
    converters = [_copy_converter(f, connection) for f in fields]
    rows, without_pk = [], []
    for index, obj in enumerate(objects):
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        if not obj._is_pk_set():
            obj.pk = pk.get_pk_value_on_save(obj)
            if not obj._is_pk_set():
                if not auto_pk:
                    return None
                without_pk.append(index)
        for field in own_pre_save:
            setattr(obj, field.attname, field.pre_save(obj, True))
        values = values_of(obj)
        try:
            rows.append([convert(value) for convert, value in zip(converters, values, strict=True)])
        except _Expression:
            return None
    return fields, rows, without_pk


def _take_sequence_ids(cursor, meta, rows: list, fields: list) -> None:
    """Fill the primary key of `rows` from the table's sequence (in order, as an INSERT of
    them would number them)."""
    column = fields.index(meta.pk)
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [cursor.db.ops.quote_name(meta.db_table), meta.pk.column, len(rows)],
    )
    for row, (value,) in zip(rows, sorted(cursor.fetchall()), strict=True):
        row[column] = value
