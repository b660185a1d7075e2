"""POST /v3/contacts/import and GET /v3/contacts/import/{id}: background bulk import."""

import json

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from contacts.bulk import contact_values
from contacts.imports import (
    _import_batch,
    _insert,
    contact_import_process,
    import_rows,
    parse_and_look_up,
)
from contacts.models import ConsentEvent, Contact, ContactImport, ContactImportRow
from contacts.phone import normalise
from messaging.providers import get_whatsapp_provider
from sent_project.models import Event
from tests.contacts.factories import make_contact, make_import
from tests.tasks import queued_tasks, run_queued_tasks

CSV = (
    "phone_number,opt_out,name,metadata.tier\n"
    "+1 234-567-8900,,Ana,gold\n"
    "(201) 555-0001,true,Bea,\n"
    "not a number,,Cy,\n"
    "234.567.8900,false,Ana again,\n"
    "\n"
    "+44 7400 123410,no,Dee,silver\n"
)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run a request's on-commit hooks (the enqueue) as they would run outside a test."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def post(on_commit):
    def post(client, *args, **kwargs):
        with on_commit():
            return client.post("/v3/contacts/import", *args, **kwargs)

    return post


@pytest.fixture
def upload(post):
    def upload(client, text, name="contacts.csv"):
        file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
        return post(client, {"file": file}, format="multipart")

    return upload


def rows_of(client, import_id, **params):
    response = client.get(f"/v3/contacts/import/{import_id}", params)
    assert response.status_code == 200
    return response.json()["data"]


def test_a_csv_upload_is_accepted_then_imported_in_the_background(api_client, account, upload):
    response = upload(api_client, CSV)
    assert response.status_code == 202
    queued = response.json()["data"]
    assert (queued["status"], queued["total_rows"], queued["filename"]) == (
        "queued",
        5,
        "contacts.csv",
    )
    assert queued_tasks("contacts.tasks.contact_import_run").count() == 1
    assert not Contact.objects.exists()

    assert run_queued_tasks() == 1
    data = rows_of(api_client, queued["id"])
    assert data["status"] == "completed"
    assert (data["created_count"], data["existing_count"], data["invalid_count"]) == (3, 1, 1)
    assert data["processed_rows"] == 5 and data["opted_out_count"] == 1
    assert [(r["row_number"], r["status"]) for r in data["rows"]] == [
        (1, "created"),
        (2, "created"),
        (3, "invalid"),
        (4, "existing"),
        (5, "created"),
    ]
    assert "letters" in data["rows"][2]["reason"]
    assert data["rows"][3]["contact_id"] == data["rows"][0]["contact_id"]
    assert data["pagination"]["total_count"] == 5

    ana = Contact.objects.get(format_e164="+12345678900")
    assert ana.name == "Ana" and ana.source == "import"  # the name column: the contact's name
    assert ana.metadata == {"tier": "gold"}
    assert ana.available_channels == "sms,whatsapp"
    bea = Contact.objects.get(format_e164="+12015550001")
    assert bea.opt_out is True
    assert ConsentEvent.objects.get(contact=bea).source == "import"
    # A file never floods webhooks: no per-contact events.
    assert not Event.objects.exists()
    assert ContactImport.objects.get(pk=queued["id"]).payload == ""


def test_row_results_are_paginated_and_filterable(api_client, account, upload):
    import_id = upload(api_client, CSV).json()["data"]["id"]
    run_queued_tasks()
    page = rows_of(api_client, import_id, page_size=2, page=2)
    assert [r["row_number"] for r in page["rows"]] == [3, 4]
    assert page["pagination"]["has_more"] is True
    invalid = rows_of(api_client, import_id, status="invalid")
    assert [r["row_number"] for r in invalid["rows"]] == [3]
    bad = api_client.get(f"/v3/contacts/import/{import_id}", {"status": "weird"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_006"


def test_a_raw_text_csv_body_works_too(api_client, account, on_commit):
    with on_commit():
        response = api_client.generic(
            "POST",
            "/v3/contacts/import",
            "phone\n+12015550001\n+12015550002\n",
            content_type="text/csv",
        )
    assert response.status_code == 202
    run_queued_tasks()
    assert Contact.objects.filter(customer=account).count() == 2


def test_a_csv_with_carriage_return_line_endings_imports(api_client, account, upload):
    response = upload(api_client, "phone,opt_out\r+12015550001,true\r+12015550002,\r")
    assert response.status_code == 202 and response.json()["data"]["total_rows"] == 2
    run_queued_tasks()
    assert Contact.objects.filter(customer=account).count() == 2
    assert Contact.objects.get(format_e164="+12015550001").opt_out is True


def test_a_quoted_csv_value_may_span_lines(api_client, account, upload):
    csv_text = 'phone_number,address\r\n+12015550001,"1 Main St\r\nApt 2"\r\n+12015550002,\r\n'
    response = upload(api_client, csv_text)
    assert response.status_code == 202 and response.json()["data"]["total_rows"] == 2
    run_queued_tasks()
    contact = Contact.objects.get(format_e164="+12015550001")
    assert contact.metadata == {"address": "1 Main St\r\nApt 2"}
    assert Contact.objects.filter(customer=account).count() == 2


def test_a_csv_whose_header_cannot_be_read_is_refused(api_client, account, upload):
    response = upload(api_client, "phone," + "x" * 200_000 + "\n+12015550001,a\n")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_001"
    assert "file" in response.json()["error"]["details"]
    assert not ContactImport.objects.exists()


def test_semicolon_separated_csv_from_spreadsheets(api_client, account, upload):
    upload(api_client, "Phone Number;Opt Out\n+12015550001;yes\n")
    run_queued_tasks()
    assert Contact.objects.get().opt_out is True


def test_a_json_body_imports_rows_with_metadata(api_client, account, post):
    rows = [
        {"phone_number": "+12015550001", "metadata": {"name": "Ana"}},
        {"phone_number": "+12015550002", "opt_out": True},
        {"phone_number": 12015550003},
        "nope",
        {"phone_number": "+12015550004", "opt_out": "maybe"},
        {"phone_number": "+12015550005", "metadata": ["not", "an", "object"]},
    ]
    response = post(api_client, {"contacts": rows}, format="json")
    assert response.status_code == 202
    run_queued_tasks()
    data = rows_of(api_client, response.json()["data"]["id"])
    assert [r["status"] for r in data["rows"]] == [
        "created",
        "created",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
    ]
    reasons = [r["reason"] for r in data["rows"][2:]]
    assert "phone_number" in reasons[0] and "object" in reasons[1]
    assert "opt_out" in reasons[2] and "Metadata must be a JSON object" in reasons[3]
    assert Contact.objects.get(format_e164="+12015550001").metadata == {"name": "Ana"}


def test_an_import_opts_existing_contacts_out_but_never_back_in(api_client, account, upload):
    stays_out = make_contact(account, "+12015550001", opt_out=True)
    goes_out = make_contact(account, "+12015550002", metadata={"keep": "me"})
    upload(api_client, "phone_number,opt_out,name\n+12015550001,false,X\n+12015550002,true,Y\n")
    run_queued_tasks()
    assert Contact.objects.get(pk=stays_out.pk).opt_out is True
    changed = Contact.objects.get(pk=goes_out.pk)
    assert changed.opt_out is True and changed.metadata == {"keep": "me"}
    assert list(ConsentEvent.objects.values_list("contact_id", "source")) == [
        (goes_out.pk, "import")
    ]


def test_an_import_only_touches_its_own_account(api_client, account, other_account, upload):
    theirs = make_contact(other_account, "+12015550001")
    import_id = upload(api_client, "phone_number,opt_out\n+12015550001,true\n").json()["data"]["id"]
    run_queued_tasks()
    assert rows_of(api_client, import_id)["rows"][0]["status"] == "created"
    assert Contact.objects.get(pk=theirs.pk).opt_out is False


def test_another_account_cannot_read_an_import(api_client, other_api_client, account, upload):
    import_id = upload(api_client, CSV).json()["data"]["id"]
    response = other_api_client.get(f"/v3/contacts/import/{import_id}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "RESOURCE_010"
    assert other_api_client.get("/v3/contacts/import").json()["data"]["imports"] == []
    assert api_client.get("/v3/contacts/import").json()["data"]["imports"][0]["id"] == import_id


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ("name,email\nAna,a@example.com\n", "VALIDATION_004", "file"),
        ("phone_number\n", "VALIDATION_004", "file"),
        ("", "VALIDATION_004", "file"),
    ],
)
def test_a_csv_without_phone_numbers_is_refused(api_client, account, body, code, field, upload):
    response = upload(api_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code and field in response.json()["error"]["details"]
    assert not ContactImport.objects.exists()


def test_a_multipart_upload_without_a_file_or_not_utf8_is_refused(
    api_client, account, upload, post
):
    response = post(api_client, {"other": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_004"
    file = SimpleUploadedFile("x.csv", "phone\n+12015550001\n".encode("utf-16"))
    response = post(api_client, {"file": file}, format="multipart")
    assert response.status_code == 400 and "UTF-8" in response.json()["error"]["message"]


def test_a_csv_with_nul_characters_is_refused(api_client, account, post):
    file = SimpleUploadedFile("x.csv", b"phone,name\n+12015550001,a\x00b\n", "text/csv")
    response = post(api_client, {"file": file}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_001" and "NUL" in error["details"]["file"][0]
    assert not ContactImport.objects.exists()


def test_json_rows_with_characters_that_cannot_be_stored_are_invalid(api_client, account, post):
    # Raw JSON: a \u0000 escape, lone surrogates and 1e400 parse, but can't be stored.
    body = (
        '{"contacts": [{"phone_number": "+12015550001", "metadata": {"a": "x\\u0000"}},'
        ' {"phone_number": "+1201555\\ud8000002"},'
        ' {"phone_number": "+12015550003", "metadata": {"b": ["\\udc00"]}},'
        ' {"phone_number": "+12015550004"},'
        ' {"phone_number": "+12015550005", "metadata": {"n": -1e400}}]}'
    )
    response = post(api_client, data=body, content_type="application/json")
    assert response.status_code == 202
    run_queued_tasks()
    data = rows_of(api_client, response.json()["data"]["id"])
    assert data["status"] == "completed"
    statuses = [r["status"] for r in data["rows"]]
    assert statuses == ["invalid", "invalid", "invalid", "created", "invalid"]
    assert "NUL" in data["rows"][0]["reason"] and "surrogate" in data["rows"][2]["reason"]
    assert "1e400" in data["rows"][4]["reason"]
    assert Contact.objects.get().format_e164 == "+12015550004"


def test_a_name_column_or_field_names_the_new_contacts(api_client, account, upload, post):
    csv_text = (
        "Name,phone_number,city\n"
        " Ana Silva ,+12015550001,Lisbon\n"
        f"{'x' * 201},+12015550002,Porto\n"
        ",+12015550003,Faro\n"
    )
    first = upload(api_client, csv_text).json()["data"]
    run_queued_tasks()
    rows = rows_of(api_client, first["id"])["rows"]
    assert [r["status"] for r in rows] == ["created", "invalid", "created"]
    assert "200 characters" in rows[1]["reason"]
    ana = Contact.objects.get(format_e164="+12015550001")
    assert (ana.name, ana.metadata) == ("Ana Silva", {"city": "Lisbon"})
    assert Contact.objects.get(format_e164="+12015550003").name == ""
    body = {
        "contacts": [
            {"phone_number": "+12015550004", "name": "Bea", "metadata": {"tier": "gold"}},
            {"phone_number": "+12015550005", "name": 7},
            {"phone_number": "+12015550001", "name": "Not Ana"},
        ]
    }
    second = post(api_client, body, format="json").json()["data"]
    run_queued_tasks()
    rows = rows_of(api_client, second["id"])["rows"]
    assert [r["status"] for r in rows] == ["created", "invalid", "existing"]
    assert Contact.objects.get(format_e164="+12015550004").name == "Bea"
    ana.refresh_from_db()
    assert ana.name == "Ana Silva"  # an import never changes an existing contact


@pytest.mark.parametrize("body", [{}, {"contacts": "x"}, {"contacts": []}, [], "text"])
def test_a_json_body_needs_rows(api_client, account, body, post):
    response = post(api_client, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_004"


def test_too_many_rows_are_refused_up_front(api_client, account, settings, upload, post):
    settings.CONTACTS_IMPORT_MAX_ROWS = 3
    response = upload(api_client, "phone\n" + "".join(f"+1201555000{i}\n" for i in range(4)))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_005"
    rows = [{"phone_number": f"+1201555000{i}"} for i in range(4)]
    response = post(api_client, {"contacts": rows}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "VALIDATION_005"


def test_sandbox_import_queues_nothing(api_client, account, post):
    response = api_client.post(
        "/v3/contacts/import",
        {"contacts": [{"phone_number": "+12015550001"}], "sandbox": True},
        format="json",
    )
    assert response.status_code == 202 and response["X-Sandbox"] == "true"
    assert not ContactImport.objects.exists() and not queued_tasks().exists()


def test_an_import_in_batches_resumes_after_a_crash_and_never_runs_twice(
    api_client, account, settings, post
):
    settings.CONTACTS_IMPORT_BATCH_SIZE = 2
    rows = [{"phone_number": f"+120155500{i:02d}"} for i in range(5)]
    import_id = post(api_client, {"contacts": rows}, format="json").json()["data"]["id"]
    # A worker died after the first batch: its progress was committed, the import is RUNNING.
    contact_import = ContactImport.objects.get(pk=import_id)
    first = list(import_rows(contact_import))[:2]
    _import_batch(contact_import, first, parse_and_look_up([r[1] for r in first], "US"))
    ContactImport.objects.filter(pk=import_id).update(status="running")

    assert contact_import_process(import_id=import_id) == {
        "created": 5,
        "existing": 0,
        "invalid": 0,
    }
    assert ContactImportRow.objects.filter(contact_import_id=import_id).count() == 5
    assert contact_import_process(import_id=import_id) == {"skipped": True}
    assert Contact.objects.count() == 5


def test_big_imports_parse_on_worker_processes_and_write_in_parallel(live_account, settings):
    """The pool and (on PostgreSQL) parallel writer connections: transactional, because the
    writers' own connections must see the committed import."""
    settings.CONTACTS_IMPORT_POOL_MIN_ROWS = 10
    settings.CONTACTS_IMPORT_WORKERS = 2
    settings.CONTACTS_IMPORT_WRITERS = 2
    settings.CONTACTS_IMPORT_BATCH_SIZE = 1500
    existing = make_contact(live_account, "+12015550007")
    rows = [{"phone_number": f"+1201555{i:04d}"} for i in range(6000)]
    rows += [{"phone_number": "bad"}, {"phone_number": "(201) 555-0042", "opt_out": True}]
    contact_import = make_import(live_account, rows)
    assert contact_import_process(import_id=str(contact_import.pk)) == {
        "created": 5999,
        "existing": 2,
        "invalid": 1,
    }
    results = ContactImportRow.objects.filter(contact_import=contact_import)
    assert results.count() == 6002
    assert results.get(row_number=8).contact_id == existing.pk
    assert results.get(row_number=6002).status == "existing"
    assert results.get(row_number=6001).status == "invalid"
    assert Contact.objects.filter(customer=live_account).count() == 6000
    assert Contact.objects.get(format_e164="+12015550042").opt_out is True
    contact_import.refresh_from_db()
    assert contact_import.processed_rows == 6002 and contact_import.status == "completed"
    if connection.vendor == "postgresql":  # the writer processes closed their connections
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] == 0


def test_a_writer_process_that_dies_leaves_the_rest_of_the_import_to_the_task(
    live_account, settings, monkeypatch
):
    """One writer is killed (its pool breaks): the other writer's batches stand, and the task
    writes the rows still without a result itself; every row is written once."""
    from concurrent.futures import Future, ThreadPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from contacts import imports

    if connection.vendor != "postgresql":
        pytest.skip("parallel writers run on PostgreSQL")
    settings.CONTACTS_IMPORT_POOL_MIN_ROWS = 10
    settings.CONTACTS_IMPORT_WRITERS = 2
    settings.CONTACTS_IMPORT_BATCH_SIZE = 500

    class KilledWriter:
        def submit(self, fn, *args):
            future = Future()
            future.set_exception(BrokenProcessPool("A process in the pool died."))
            return future

        def shutdown(self, **options):
            pass

    class Writers:
        """Stands for the cached `_writer(shard)`: shard 0 healthy (a thread of this process),
        shard 1 killed."""

        executors = {0: ThreadPoolExecutor(max_workers=1), 1: KilledWriter()}
        cleared = False

        def __call__(self, shard):
            return self.executors[shard]

        def cache_clear(self):
            self.cleared = True

    writers = Writers()
    monkeypatch.setattr(imports, "_writer", writers)
    rows = [{"phone_number": f"+1201555{i:04d}"} for i in range(3000)]
    contact_import = make_import(live_account, rows)
    assert contact_import_process(import_id=str(contact_import.pk)) == {
        "created": 3000,
        "existing": 0,
        "invalid": 0,
    }
    results = ContactImportRow.objects.filter(contact_import=contact_import)
    assert results.count() == 3000 and set(results.values_list("status", flat=True)) == {"created"}
    assert Contact.objects.filter(customer=live_account).count() == 3000
    assert writers.cleared  # the next import gets new writer processes


@pytest.mark.parametrize(
    "written",
    [
        "(201) 555-0142",
        "201.555.0142",
        "1-201-555-0142",
        "+1 (201) 555-0142",
        "011 1 201 555 0142",
        "tel:+1-201-555-0142",
        "tel:555-0142;phone-context=+1201",
        "+١٢٠١٥٥٥٠١٤٢",  # Arabic-Indic digits
    ],
)
def test_every_way_of_writing_a_number_goes_to_the_same_writer(written):
    from contacts.imports import _shard_key

    assert _shard_key(written) == _shard_key("+12015550142") == "550142"


def test_json_rows_round_trip_unicode(api_client, account, post):
    rows = [{"phone_number": "+12015550001", "metadata": {"name": "Zoë ✓"}}]
    response = post(
        api_client, data=json.dumps({"contacts": rows}), content_type="application/json"
    )
    run_queued_tasks()
    assert rows_of(api_client, response.json()["data"]["id"])["created_count"] == 1
    assert Contact.objects.get().metadata == {"name": "Zoë ✓"}


def test_a_number_created_meanwhile_is_existing_not_a_duplicate(account):
    racer = make_contact(account, "+12015550001")
    now = timezone.now()
    new = [
        contact_values(
            account.pk,
            normalise(number, "US"),
            raw=number,
            source="import",
            now=now,
            provider=get_whatsapp_provider(),
        )
        for number in ("+12015550001", "+12015550002")
    ]
    existing: dict = {}
    with transaction.atomic():
        created = _insert(account.pk, new, existing)  # COPY fails on PostgreSQL, then the fallback
    assert set(created) == {"+12015550002"}
    assert existing == {"+12015550001": racer.pk}
    assert Contact.objects.filter(customer=account).count() == 2


def test_an_opt_out_on_a_later_duplicate_row_still_opts_the_new_contact_out(
    api_client, account, upload
):
    upload(api_client, "phone,opt_out\n+12015550001,false\n(201) 555-0001,true\n")
    run_queued_tasks()
    contact = Contact.objects.get()
    assert contact.opt_out is True
    assert ConsentEvent.objects.get(contact=contact).source == "import"


def test_import_lists_cost_a_fixed_number_of_queries(api_client, account, assert_list_queries):
    for _ in range(30):
        make_import(account)
    rows = [{"phone_number": f"+1201555{i:04d}"} for i in range(30)]
    contact_import = make_import(account, rows)
    contact_import_process(import_id=str(contact_import.pk))
    api_client.get("/v3/contacts/import")  # warm the key's last_used_at
    # API key, page (+1 row for has_more), bounded count.
    with assert_list_queries(3):
        response = api_client.get("/v3/contacts/import?page_size=25")
    assert len(response.json()["data"]["imports"]) == 25
    # API key, the import, a page of its rows (+1 for has_more), bounded count.
    with assert_list_queries(4):
        response = api_client.get(f"/v3/contacts/import/{contact_import.pk}?page_size=25")
    assert len(response.json()["data"]["rows"]) == 25


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics of PostgreSQL")
def test_a_big_import_leaves_the_planner_knowing_the_tables_new_size(live_account, settings):
    """After an import of CONTACTS_IMPORT_ANALYZE_MIN_ROWS new contacts or more, the table's
    row estimate is the real count (ANALYZE), not what it was before the load; a smaller
    import leaves the statistics to autovacuum (docs/api/contacts.md)."""
    settings.CONTACTS_IMPORT_ANALYZE_MIN_ROWS = 300
    table = Contact._meta.db_table

    def estimate() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return cursor.fetchone()[0]

    small = make_import(live_account, [{"phone_number": f"+1201555{i:04d}"} for i in range(200)])
    before = estimate()
    contact_import_process(import_id=str(small.pk))
    assert estimate() == before  # below the threshold: not analysed

    big = make_import(live_account, [{"phone_number": f"+1201556{i:04d}"} for i in range(400)])
    contact_import_process(import_id=str(big.pk))
    assert estimate() == Contact.objects.count() == 600
