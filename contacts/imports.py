"""Bulk import of contacts: checking the upload (request side) and running it (task side).

Upload: a CSV file (a `phone_number` column, optional `opt_out` and `name`, any other column
— or `metadata.<key>` — goes into metadata) or a JSON array of `{"phone_number", "opt_out",
"name", "metadata"}` objects, up to CONTACTS_IMPORT_MAX_ROWS rows.

Run (`contact_import_process`, called by the task): on PostgreSQL a big import's rows go, as
the file is read, to writer processes sharded by the number's last digits; each parses its
batch's numbers, asks the WhatsApp provider and writes the batch on its own connection. Each
batch is one transaction that looks up existing numbers with one query, inserts new contacts
with COPY, appends consent events for opt-outs, and stores every row's result. Otherwise
(SQLite, small imports) a pool of processes parses while this process writes, with bulk
INSERTs. Progress is committed per batch, so a rerun after a crash skips the rows that
already have a result.

Imports emit no per-contact webhook events (a 100,000-row file would flood every endpoint);
the import's own status is the signal. Opt-outs in the file are recorded in the consent
ledger (source "import"); a file never opts anyone back in and never changes an existing
contact's metadata or name.
"""

import csv
import json
import logging
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from functools import cache, lru_cache
from itertools import batched

import django
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from contacts.bulk import (
    CONTACT_COPY_COLUMNS,
    consent_events_create,
    contact_ids_by_e164,
    contact_values,
    copy_contacts,
    copy_rows,
    copy_str,
    insert_contacts,
    metadata_error,
    name_error,
    storable,
)
from contacts.channels import detect_channels, whatsapp_directory
from contacts.models import Contact, ContactImport, ContactImportRow, Source
from contacts.phone import Normalised, normalise_many
from sent_project.errors import RequiredFieldMissing, ValidationFailed, ValueOutOfRange

logger = logging.getLogger("sent.contacts.import")

PHONE_COLUMNS = ("phone_number", "phone", "phonenumber", "number", "msisdn", "mobile")
OPT_OUT_COLUMNS = ("opt_out", "optout", "opted_out")
METADATA_PREFIX = "metadata."
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"", "false", "0", "no", "n", "f"}
# Numbers per job handed to a worker process.
POOL_CHUNK = 2500

NAME_COLUMNS = ("name",)
# (row_number, phone_number, opt_out, metadata or None, problem or "", name or "")
ImportRow = tuple[int, str, bool, dict | None, str, str]


# --- Request side -------------------------------------------------------------------------


def _too_many(count: int) -> ValidationFailed:
    limit = settings.CONTACTS_IMPORT_MAX_ROWS
    return ValueOutOfRange(
        f"An import takes at most {limit:,} rows; this one has {count:,}.",
        details={"contacts": [f"At most {limit:,} rows; got {count:,}."]},
    )


def _no_rows(field: str) -> ValidationFailed:
    return RequiredFieldMissing("The import has no rows.", details={field: ["No rows to import."]})


def _delimiter(header_line: str) -> str:
    return max((",", ";", "\t"), key=header_line.count)


# A line with its ending: \n, \r\n or a lone \r (old Mac exports), as a file opened with
# newline="" gives them to csv; the last line may have none.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, one at a time: an io.StringIO would hold a copy of the whole file
    at four bytes a character."""
    return (match.group() for match in _LINE.finditer(text))


def _csv_reader(text: str, delimiter: str):
    return csv.reader(_lines(text), delimiter=delimiter)


def _unreadable(exc: csv.Error) -> ValidationFailed:
    return ValidationFailed(f"The CSV cannot be read: {exc}.", details={"file": [str(exc)]})


def _csv_header(text: str) -> tuple[list[str], str]:
    first_line = text.partition("\n")[0].partition("\r")[0]
    delimiter = _delimiter(first_line)
    try:
        header = next(_csv_reader(first_line, delimiter), [])
    except csv.Error as exc:
        raise _unreadable(exc) from None
    return [name.strip() for name in header], delimiter


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [name.lower().replace(" ", "_") for name in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def import_payload_from_csv(text: str) -> tuple[str, int]:
    """(payload to store, row count) for a CSV upload, or a 400 saying what is wrong."""
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        message = "The CSV contains NUL characters: upload it as UTF-8 text."
        raise ValidationFailed(message, details={"file": [message]})
    header, delimiter = _csv_header(text)
    if _column(header, PHONE_COLUMNS) is None:
        found = ", ".join(header) or "nothing"
        message = f"The CSV needs a phone_number column in its first line (found: {found})."
        raise RequiredFieldMissing(message, details={"file": [message]})
    try:
        count = sum(1 for row in _csv_reader(text, delimiter) if any(row)) - 1
    except csv.Error as exc:
        raise _unreadable(exc) from None
    if count <= 0:
        raise _no_rows("file")
    if count > settings.CONTACTS_IMPORT_MAX_ROWS:
        raise _too_many(count)
    return text, count


def import_payload_from_json(rows: list) -> tuple[str, int]:
    """(payload to store, row count) for a JSON `contacts` array; rows are checked later."""
    if not rows:
        raise _no_rows("contacts")
    if len(rows) > settings.CONTACTS_IMPORT_MAX_ROWS:
        raise _too_many(len(rows))
    try:
        payload = json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        rows = [_too_deep_stand_in(row) for row in rows]
        payload = json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
    if not storable(payload):
        # Unpaired surrogates ("\ud800" escapes) can't be stored as text: keep them escaped.
        # (NUL is always escaped.) The rows that hold them are reported invalid.
        payload = json.dumps(rows, separators=(",", ":"))
    return payload, len(rows)


def _too_deep_stand_in(row):
    """A row nested too deeply to encode keeps, in the stored payload, metadata just one level
    too deep: the row is reported invalid for it, as any too deep metadata is."""
    try:
        json.dumps(row)
    except RecursionError:
        stand_in: dict = {}
        for _ in range(settings.CONTACTS_METADATA_MAX_DEPTH):
            stand_in = {"…": stand_in}
        return {**row, "metadata": stand_in} if isinstance(row, dict) else stand_in
    return row


# --- Reading stored payloads -----------------------------------------------------------------


def _opt_out(value) -> bool | None:
    if isinstance(value, bool) or value is None:
        return bool(value)
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _csv_rows(text: str) -> Iterator[ImportRow]:
    header, delimiter = _csv_header(text)
    phone_at = _column(header, PHONE_COLUMNS)
    opt_out_at = _column(header, OPT_OUT_COLUMNS)
    name_at = _column(header, NAME_COLUMNS)
    metadata_columns = [
        (index, name[len(METADATA_PREFIX) :] if name.lower().startswith(METADATA_PREFIX) else name)
        for index, name in enumerate(header)
        if index not in (phone_at, opt_out_at, name_at) and name
    ]
    reader = _csv_reader(text, delimiter)
    next(reader, None)
    number = 0
    for row in reader:
        if not any(row):
            continue
        number += 1
        phone = row[phone_at].strip() if phone_at < len(row) else ""
        opt_out = (
            _opt_out(row[opt_out_at]) if opt_out_at is not None and opt_out_at < len(row) else False
        )
        metadata = {
            key: row[i].strip() for i, key in metadata_columns if i < len(row) and row[i].strip()
        }
        name = row[name_at] if name_at is not None and name_at < len(row) else ""
        yield _checked(number, phone, opt_out, metadata or None, name)


def _json_rows(text: str) -> Iterator[ImportRow]:
    for number, item in enumerate(json.loads(text), start=1):
        if not isinstance(item, dict):
            yield number, "", False, None, "Each row must be an object with a phone_number.", ""
            continue
        phone = item.get("phone_number")
        if not isinstance(phone, str):
            yield number, "", False, None, "phone_number is missing or not a string.", ""
            continue
        name = item.get("name")
        yield _checked(
            number, phone, _opt_out(item.get("opt_out")), item.get("metadata"), name or ""
        )


def _checked(number: int, phone: str, opt_out: bool | None, metadata, name="") -> ImportRow:
    if opt_out is None:
        return number, phone, False, None, "opt_out must be true or false.", ""
    if metadata is not None and (error := metadata_error(metadata)):
        return number, phone, opt_out, None, error.message, ""
    if error := name_error(name):
        return number, phone, opt_out, None, error.message, ""
    return number, phone, opt_out, metadata, "", name.strip()


def import_rows(contact_import: ContactImport) -> Iterator[ImportRow]:
    if contact_import.source_format == ContactImport.Format.CSV:
        return _csv_rows(contact_import.payload)
    return _json_rows(contact_import.payload)


# --- Parsing numbers on every core ----------------------------------------------------------


def _worker_count() -> int:
    return settings.CONTACTS_IMPORT_WORKERS or os.cpu_count() or 1


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """Processes kept for the life of this process (a task worker runs many imports).

    forkserver, not fork: the parent may have threads and open database connections. Each
    child sets Django up (settings and apps, for the WhatsApp provider); a parsing child never
    opens a database connection, a writing child opens its own.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["contacts.phone"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=django.setup)


@lru_cache(maxsize=1)
def _pool(workers: int) -> ProcessPoolExecutor:
    """The parsing pool of imports written on one connection."""
    return _process_pool(workers)


@cache
def _writer(shard: int) -> ProcessPoolExecutor:
    """The process that parses and writes one shard of big imports: one process per shard,
    so a shard's batches run one after the other, and its connection can be closed at the end."""
    return _process_pool(1)


def parse_and_look_up(phones: list[str], region: str) -> list[tuple]:
    """Per number: (e164, country_code, region_code, line_type, on_whatsapp) or (error,).

    Runs on the pool: the provider's lookup costs as much as the parse (the simulator parses
    the number again), so both cores share it."""
    provider = whatsapp_directory()
    return [
        result if len(result) == 1 else (*result, detect_channels(
            result[0], result[3], provider=provider
        )[1])
        for result in normalise_many(phones, region)
    ]  # fmt: skip


def _parsed_rows(rows: Iterator[ImportRow], region: str, *, pooled: bool) -> Iterator[tuple]:
    """(row, parse_and_look_up result) for every row, in order. Pooled: chunks go to the pool
    as the file is read, so reading the file and parsing numbers overlap."""
    if not pooled:
        for chunk in batched(rows, POOL_CHUNK):
            yield from zip(chunk, parse_and_look_up(_phones(chunk), region), strict=True)
        return
    workers = _worker_count()
    pool = _pool(workers)
    futures: deque[tuple[tuple, Future]] = deque()
    try:
        for chunk in batched(rows, POOL_CHUNK):
            futures.append((chunk, pool.submit(parse_and_look_up, _phones(chunk), region)))
            # What is parsed already goes on to the writers; and at most two chunks per pool
            # process wait, so the rows held stay bounded however fast the file is read.
            while futures and (futures[0][1].done() or len(futures) > 2 * workers):
                done, future = futures.popleft()
                yield from zip(done, future.result(), strict=True)
        for chunk, future in futures:
            yield from zip(chunk, future.result(), strict=True)
    except BrokenProcessPool:
        _pool.cache_clear()  # a worker died (killed, out of memory): the next import starts anew
        raise


def _phones(rows) -> list[str]:
    """The numbers to parse: none for a row already refused (its problem stands)."""
    return [row[1] if not row[4] else "" for row in rows]


# --- Running an import -----------------------------------------------------------------------


def contact_import_process(*, import_id: str) -> dict:
    """Run (or resume) an import; returns its counts. Safe to call twice."""
    now = timezone.now()
    claimed = ContactImport.objects.filter(
        pk=import_id, status__in=[ContactImport.Status.QUEUED, ContactImport.Status.RUNNING]
    ).update(status=ContactImport.Status.RUNNING)
    if not claimed:
        return {"skipped": True}
    ContactImport.objects.filter(pk=import_id, started_at__isnull=True).update(started_at=now)
    contact_import = ContactImport.objects.select_related("customer").get(pk=import_id)
    try:
        _run(contact_import)
    except Exception as exc:
        logger.exception("Import %s failed", import_id)
        ContactImport.objects.filter(pk=import_id).update(
            status=ContactImport.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:500],
            finished_at=timezone.now(),
        )
        raise
    ContactImport.objects.filter(pk=import_id).update(
        status=ContactImport.Status.COMPLETED, finished_at=timezone.now(), payload=""
    )
    contact_import.refresh_from_db()
    _analyze_after(contact_import)
    return {
        "created": contact_import.created_count,
        "existing": contact_import.existing_count,
        "invalid": contact_import.invalid_count,
    }


def _analyze_after(contact_import: ContactImport) -> None:
    """Fresh planner statistics after a big import (CONTACTS_IMPORT_ANALYZE_MIN_ROWS)."""
    if (
        connection.vendor != "postgresql"
        or contact_import.created_count < settings.CONTACTS_IMPORT_ANALYZE_MIN_ROWS
    ):
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Contact._meta.db_table)}")


def _writer_count(rows: int) -> int:
    """Transactions run in parallel: PostgreSQL only (SQLite has one writer), big imports."""
    if connection.vendor != "postgresql" or rows < settings.CONTACTS_IMPORT_POOL_MIN_ROWS:
        return 1
    return max(1, settings.CONTACTS_IMPORT_WRITERS)


def _rows_to_do(contact_import: ContactImport) -> Iterator[ImportRow]:
    """The rows without a stored result (all of them, unless this run resumes)."""
    rows = import_rows(contact_import)
    if not contact_import.processed_rows:
        return rows
    done = set(
        ContactImportRow.objects.filter(contact_import=contact_import).values_list(
            "row_number", flat=True
        )
    )
    return (row for row in rows if row[0] not in done)


def _run(contact_import: ContactImport) -> None:
    """Write batches in order on this connection, numbers parsed on the pool while the file is
    read; or, for big imports on PostgreSQL, hand the rows to CONTACTS_IMPORT_WRITERS writer
    processes, sharded by number (`_run_on_writers`)."""
    expected = contact_import.total_rows - contact_import.processed_rows
    rows = _rows_to_do(contact_import)
    writers = _writer_count(expected)
    if writers > 1:
        try:
            _run_on_writers(contact_import, rows, writers)
            return
        except BrokenProcessPool:
            # A writer process died (killed, out of memory): its batch was rolled back, the
            # others are committed. Go on with the rows still without a result, here.
            logger.warning(
                "Import %s: a writer process died; going on in the task", contact_import.pk
            )
            contact_import.refresh_from_db()
            rows = _rows_to_do(contact_import)
            expected = contact_import.total_rows - contact_import.processed_rows
    pooled = expected >= settings.CONTACTS_IMPORT_POOL_MIN_ROWS and _worker_count() > 1
    parsed = _parsed_rows(rows, contact_import.customer.default_region, pooled=pooled)
    for batch in batched(parsed, settings.CONTACTS_IMPORT_BATCH_SIZE):
        _import_batch(contact_import, [row for row, _ in batch], [r for _, r in batch])


# The last digits of a number are the same however it is written (national, international,
# E.164, with an IDD or national prefix, as a tel: URI): rows of one number share them.
SHARD_DIGITS = 6
FIRST_BATCH_DIVISOR = 5
# Batches handed to a writer and not written yet: the one it writes and the next, so it never
# waits for the file to be read, and the task holds a bounded number of rows however big the
# file (docs/api/contacts.md#bulk-import).
WRITER_BATCHES_IN_FLIGHT = 2
_NOT_DIGITS = re.compile(r"\D")


def _shard_key(phone: str) -> str:
    tail = _NOT_DIGITS.sub("", phone.partition(";")[0])[-SHARD_DIGITS:]
    return tail if tail.isascii() else "".join(str(int(digit)) for digit in tail)


def _run_on_writers(contact_import: ContactImport, rows: Iterator[ImportRow], writers: int):
    """Each writer process parses its batches' numbers and writes them on its own connection
    (`_write_batch`), so parsing, rendering and PostgreSQL's index maintenance run on every
    core, with no lock shared between this process's threads. Rows go to a writer by the last
    digits of the number: two writers never insert the same number, so they never wait for
    (or deadlock on) each other, and a number written twice in the file is created once."""
    database = connection.settings_dict["NAME"]
    import_id = str(contact_import.pk)
    batch_size = settings.CONTACTS_IMPORT_BATCH_SIZE
    executors = [_writer(shard) for shard in range(writers)]
    pending: list[list[ImportRow]] = [[] for _ in range(writers)]
    # A writer's first batch is small, so that it starts while the file is still being read.
    limits = [max(1, batch_size // FIRST_BATCH_DIVISOR)] * writers
    futures: list[Future] = []
    in_flight: list[deque[Future]] = [deque() for _ in range(writers)]
    broken = False

    def submit(shard: int, batch: list[ImportRow]) -> None:
        # The file is read faster than it is written: a writer's batches beyond
        # WRITER_BATCHES_IN_FLIGHT wait here, unread, rather than all of them in this process.
        while len(in_flight[shard]) >= WRITER_BATCHES_IN_FLIGHT:
            in_flight[shard].popleft().result()
        future = executors[shard].submit(_write_batch, database, import_id, batch)
        in_flight[shard].append(future)
        futures.append(future)

    try:
        for row in rows:
            shard = hash(_shard_key(row[1])) % writers
            pending[shard].append(row)
            if len(pending[shard]) >= limits[shard]:
                submit(shard, pending[shard])
                pending[shard] = []
                limits[shard] = batch_size
        for shard, batch in enumerate(pending):
            if batch:
                submit(shard, batch)
        for future in futures:
            future.result()
    except BrokenProcessPool:
        broken = True
        raise
    finally:
        for future in futures:
            future.cancel()  # after a failure: the batches not started yet are not
        for executor in executors:
            # Also waits for the batch it is writing: when this returns, no writer writes.
            with suppress(BrokenProcessPool, RuntimeError):
                executor.submit(_close_database).result()
        if broken:  # the next import starts with new writers
            for executor in executors:
                executor.shutdown()
            _writer.cache_clear()


def _write_batch(database: str, import_id: str, rows: list[ImportRow]) -> None:
    """On a writer process: parse the batch's numbers, then `_import_batch`. `database` is the
    name the parent uses (the tests' database under pytest)."""
    if connection.settings_dict["NAME"] != database:
        connection.close()
        connection.settings_dict["NAME"] = database
    # Not the payload: the task has read the file, and a batch needs only its own rows.
    contact_import = (
        ContactImport.objects.select_related("customer").defer("payload").get(pk=import_id)
    )
    parsed = parse_and_look_up(_phones(rows), contact_import.customer.default_region)
    _import_batch(contact_import, rows, parsed)


def _close_database() -> None:
    """On a writer process, at the end of an import: its connection is not kept idle."""
    connection.close()


def _import_batch(
    contact_import: ContactImport, rows: list[ImportRow], parsed: list[tuple]
) -> None:
    """One transaction: contacts created, opt-outs recorded, row results stored, progress."""
    now = timezone.now()
    customer_id = str(contact_import.customer_id)  # rendered once, not per row
    import_id = str(contact_import.pk)
    outcome: list[tuple] = []  # (row, status, e164 or None, reason)
    first_row_of: dict[str, ImportRow] = {}
    opting_out: set[str] = set()
    numbers: dict[str, Normalised] = {}
    on_whatsapp: dict[str, bool] = {}
    for row, result in zip(rows, parsed, strict=True):
        if row[4] or len(result) == 1:
            outcome.append((row, ContactImportRow.Status.INVALID, None, row[4] or result[0]))
            continue
        number = Normalised(*result[:4])
        numbers.setdefault(number.e164, number)
        on_whatsapp[number.e164] = result[4]
        first_row_of.setdefault(number.e164, row)
        if row[2]:
            opting_out.add(number.e164)  # any row of the number may say so
        outcome.append((row, None, number.e164, ""))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Check foreign keys row by row while COPY streams, not all at once at COMMIT.
            # A batch's commit doesn't wait for its WAL flush: a database crash can lose the
            # last batches, contacts and row results together, and the rerun redoes them;
            # the import is reported complete by a normal commit, which flushes them all.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        existing = contact_ids_by_e164(customer_id, list(numbers))
        # A generator: rows are built while COPY streams the previous ones to the server.
        new = (
            contact_values(
                customer_id, numbers[e164], raw=row[1], source=Source.IMPORT, now=now,
                whatsapp=on_whatsapp[e164], metadata=row[3], opt_out=e164 in opting_out,
                name=row[5],
            )
            for e164, row in first_row_of.items()
            if e164 not in existing
        )  # fmt: skip
        created = _insert(customer_id, new, existing)
        counts = {"created": 0, "existing": 0, "invalid": 0}
        results = []
        for row, status, e164, reason in outcome:
            contact_id = None
            if status is None:
                contact_id = created.get(e164) or existing[e164]
                is_first = first_row_of[e164] is row
                status = (
                    ContactImportRow.Status.CREATED
                    if is_first and e164 in created
                    else ContactImportRow.Status.EXISTING
                )
            counts[status] += 1
            raw = _storable_prefix(row[1])
            results.append((import_id, row[0], raw, str(status), contact_id, reason[:300]))
        opted_out = _opt_out_existing(
            customer_id, {existing[e164] for e164 in opting_out if e164 not in created}, now
        )
        new_opt_outs = [created[e164] for e164 in opting_out if e164 in created]
        note = f"import {import_id}"
        consent_events_create(
            customer_id, new_opt_outs + opted_out, opt_out=True, source=Source.IMPORT, note=note
        )
        _store_results(results)
        ContactImport.objects.filter(pk=import_id).update(
            processed_rows=F("processed_rows") + len(rows),
            created_count=F("created_count") + counts["created"],
            existing_count=F("existing_count") + counts["existing"],
            invalid_count=F("invalid_count") + counts["invalid"],
            opted_out_count=F("opted_out_count") + len(new_opt_outs) + len(opted_out),
        )


def _storable_prefix(phone: str) -> str:
    """What the file gave as the number, as far as it can be stored: 64 characters, without
    NUL, an unpaired surrogate as "?"."""
    text = phone[:64]
    if storable(text):
        return text
    return text.replace("\x00", "").encode(errors="replace").decode()


def _insert(customer_id, new: Iterator[tuple], existing: dict) -> dict:
    """Insert `contact_values` rows; e164 → id of those this batch created. Numbers created
    meanwhile by someone else are moved into `existing`."""
    made: list[tuple] = []
    if connection.vendor == "postgresql":

        def streamed():
            for values in new:
                made.append(values)
                yield values

        try:
            with transaction.atomic():
                copy_contacts(streamed())
            return {values[3]: values[0] for values in made}
        except IntegrityError:
            pass  # a number was created meanwhile: take the slower path that skips it
    made.extend(new)
    if not made:
        return {}
    contacts = [Contact(**dict(zip(CONTACT_COPY_COLUMNS, values, strict=True))) for values in made]
    mine = {contact.pk for contact in contacts}
    created = {}
    conflicted = connection.vendor == "postgresql"  # the COPY above met a number
    for e164, contact in insert_contacts(
        customer_id, contacts, conflicts_expected=conflicted
    ).items():
        if contact.pk in mine:
            created[e164] = contact.pk
        else:
            existing[e164] = contact.pk
    return created


def _opt_out_existing(customer_id, contact_ids: set, now) -> list:
    """Opt out existing contacts the file marks opted out; the ids that changed."""
    if not contact_ids:
        return []
    changing = list(
        Contact.objects.select_for_update()
        .filter(customer_id=customer_id, pk__in=contact_ids, opt_out=False)
        .values_list("pk", flat=True)
    )
    Contact.objects.filter(pk__in=changing).update(opt_out=True, updated_at=now)
    return changing


RESULT_COLUMNS = (
    "contact_import_id",
    "row_number",
    "phone_number",
    "status",
    "contact_id",
    "reason",
)


def _result_copy_line(result: tuple) -> str:
    """A row result (RESULT_COLUMNS) as a COPY line: the import's id (a str), the row number,
    what the file said, the status, the contact's id or NULL, the reason."""
    import_id, row_number, phone, status, contact_id, reason = result
    contact = "\\N" if contact_id is None else contact_id
    return f"{import_id}\t{row_number}\t{copy_str(phone)}\t{status}\t{contact}\t{copy_str(reason)}"


def _store_results(results: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        copy_rows(ContactImportRow._meta.db_table, RESULT_COLUMNS, results, _result_copy_line)
        return
    ContactImportRow.objects.bulk_create(
        [ContactImportRow(**dict(zip(RESULT_COLUMNS, values, strict=True))) for values in results],
        batch_size=2000,
    )
