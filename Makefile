# Sent — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?= -n 2

# The first Python >= 3.12 on PATH, as the path of its executable (not a shim that finds it
# again on every call), looked for once: `:=`, not a variable made again at each use.
ifndef PYTHON
PYTHON := $(shell for p in python3.14 python3.13 python3.12 python3 python; do \
	$$p -c 'import sys; sys.exit(1) if sys.version_info < (3, 12) else print(sys.executable)' \
	2>/dev/null && break; done)
endif

.PHONY: run serve-prod test test-pg test-all bench install lock upgrade lint migration-check clean

# Dependencies are pinned in requirements.lock (every package, exact versions), made from
# pyproject.toml by `uv pip compile` (docs/operations.md#dependencies-and-the-lock-file);
# requirements-run.lock is its subset that the server itself needs (no test tools), what
# `make run` installs. `make install` installs exactly the whole lock with uv (the one on PATH,
# else uv installed into the venv by the base Python's pip), or with pip from the same lock when
# uv cannot be had. The venv is made without pip (ensurepip alone took 3-20 s here): pip is
# only bootstrapped into it when uv can't be had.
UV_VERSION := 0.13.9
UV_COMPILE := pip compile pyproject.toml --extra dev --extra redis --universal --python-version 3.12 \
	-o requirements.lock --quiet
UV_COMPILE_RUN := pip compile pyproject.toml --extra redis --universal --python-version 3.12 \
	--constraint requirements.lock -o requirements-run.lock --quiet
export UV_PYTHON_DOWNLOADS := never
# Bytecode caches are written even where the environment turns them off: every process of the
# server (web, a worker per lane, the sweep) and of the suite would otherwise compile the ~1,000
# modules it imports, ~1.4 s of CPU each (docs/operations.md#cold-start).
unexport PYTHONDONTWRITEBYTECODE

# $(call install_lock,<lock file>): the venv (if missing), then exactly that lock in it.
define install_lock
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 is required (python3.12 not found on PATH)"; exit 1; }
	@uv=$$(command -v uv || true); \
	if [ ! -x $(PY) ]; then \
		if [ -n "$$uv" ]; then $$uv venv --quiet --python $(PYTHON) $(VENV); \
		else $(PYTHON) -m venv --without-pip $(VENV); fi; \
	fi; \
	if [ -z "$$uv" ] && [ -x $(VENV)/bin/uv ]; then uv=$(VENV)/bin/uv; fi; \
	if [ -z "$$uv" ] && $(PYTHON) -m pip --python $(PY) install --quiet --disable-pip-version-check \
		uv==$(UV_VERSION) 2>/dev/null; then uv=$(VENV)/bin/uv; fi; \
	if [ -n "$$uv" ] && $$uv pip install --quiet --python $(PY) -r $(1); then :; else \
		echo "uv is not available: installing from $(1) with pip"; \
		$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip >/dev/null; \
		$(PY) -m pip install --quiet --disable-pip-version-check -r $(1); \
	fi
endef

$(VENV)/.installed: requirements.lock
	$(call install_lock,requirements.lock)
	@touch $@ $(VENV)/.installed-run

$(VENV)/.installed-run: requirements-run.lock
	$(call install_lock,requirements-run.lock)
	@touch $@

install: $(VENV)/.installed

## make lock: after editing pyproject.toml's dependencies, bring requirements.lock (and its
## subset requirements-run.lock) in line with it (the pins already in the lock are kept where
## they still fit).
## make upgrade: the same, moving every package to its newest version that fits.
lock upgrade: install
	@uv=$$(command -v uv || echo $(VENV)/bin/uv); \
	test -x "$$uv" || $(PYTHON) -m pip --python $(PY) install --quiet uv==$(UV_VERSION); \
	$$uv $(UV_COMPILE) $(if $(filter upgrade,$@),--upgrade,) && $$uv $(UV_COMPILE_RUN)
	@$(MAKE) --no-print-directory install

## make run: set up everything, then run web + worker (Ctrl-C stops both).
run: $(VENV)/.installed-run
	$(PY) manage.py serve

## make serve-prod: gunicorn + a worker per lane + the webhook sweep on DATABASE_URL, as
## production runs them (docs/operations.md#deploy).
serve-prod: $(VENV)/.installed-run
	$(PY) manage.py serve_prod

## make test: the whole suite on SQLite.
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## make test-pg: the whole suite on PostgreSQL (DATABASE_URL, default $(PG_URL)).
test-pg: install
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} DB_CONN_MAX_AGE=0 $(PY) -m pytest $(PYTEST_ARGS)

## make test-all: SQLite, then PostgreSQL when it answers on 127.0.0.1:5432.
test-all: test
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
		$(MAKE) test-pg; else echo "PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL run"; fi

bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

## make migration-check: a SQLite database made and filled by the previous release
## (MIGRATION_BASE, checked out into a temporary worktree) keeps every row, unchanged, through
## this tree's `manage.py migrate` (docs/operations.md#upgrading-an-existing-database).
MIGRATION_BASE ?= 4ab6eb7

# Run by the previous release on its fresh database: a webhook, sends (one with an
# Idempotency-Key), then the worker delivers, fans out and tries the webhook (nothing listens).
define MIGRATION_SEED
import json
from django.conf import settings
from django.test import Client
key = json.loads((settings.VAR_DIR / "demo.json").read_text())["api_key"]
api = Client(HTTP_HOST="localhost", HTTP_X_API_KEY=key)
hook = {"endpoint_url": "http://127.0.0.1:9/hook", "event_types": ["message"]}
response = api.post("/v3/webhooks", hook, content_type="application/json")
assert response.status_code == 201, response.content
template = {"name": "verification_code", "parameters": {"code": "482913"}}
sends = [(["+14155550112", "+14155550160", "+14155550185"], {"HTTP_IDEMPOTENCY_KEY": "upgrade-1"}),
         (["+14155550160", "+14155550192"], {})]
for to, headers in sends:
    body = {"to": to, "template": template}
    response = api.post("/v3/messages", body, content_type="application/json", **headers)
    assert response.status_code == 202, response.content
print("seeded: a webhook,", sum(len(to) for to, _ in sends), "messages in", len(sends), "sends")
endef

# Every table's row count and a digest of its rows. First run: written to DIGEST_FILE; second
# run: compared with it. Django's bookkeeping tables may only grow (the new migrations are
# recorded, the moved model gets its content type and permissions).
define MIGRATION_DIGEST
import json, os, sys
from collections import Counter
from django.db import connection
GROW_ONLY = {"django_migrations", "django_content_type", "auth_permission"}
def rows(cursor, table, columns):
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    cursor.execute(f"SELECT {names} FROM {connection.ops.quote_name(table)}")
    return [repr(row) for row in cursor.fetchall()]
path = os.environ["DIGEST_FILE"]
with connection.cursor() as cursor:
    tables = sorted(connection.introspection.table_names(cursor))
    columns = {t: [c.name for c in connection.introspection.get_table_description(cursor, t)] for t in tables}
    if not os.path.exists(path):
        json.dump({t: [columns[t], rows(cursor, t, columns[t])] for t in tables}, open(path, "w"))
        print("before:", sum(len(rows(cursor, t, columns[t])) for t in tables), "rows in", len(tables), "tables")
        sys.exit(0)
    before, problems = json.load(open(path)), []
    # Every row of the previous release is still there, with the values of every column it had
    # (columns added since are not compared; rows a data migration adds, e.g. new prices, may come).
    for table, (old_columns, old_rows) in sorted(before.items()):
        if table in GROW_ONLY or not old_rows:
            continue
        missing_columns = [c for c in old_columns if c not in columns.get(table, [])]
        if missing_columns:
            problems.append(f"{table}: columns gone {missing_columns}")
            continue
        lost = Counter(old_rows) - Counter(rows(cursor, table, old_columns))
        note = "same rows" if not lost else f"{sum(lost.values())} ROWS LOST OR CHANGED"
        print(f"  {table:42} {len(old_rows):>5} rows kept? {note}")
        if lost:
            problems.append(table)
from django.apps import apps
from django.db.models import F
Event, Delivery = apps.get_model("sent_project", "Event"), apps.get_model("messaging", "WebhookDelivery")
deliveries = Delivery.objects.count()
linked = Delivery.objects.filter(event__customer=F("endpoint__customer")).count()
print(f"current models: sent_project.Event reads {Event.objects.count()} events from {Event._meta.db_table};",
      f"{linked}/{deliveries} webhook deliveries reach their event")
if problems or linked != deliveries:
    sys.exit(f"migration-check FAILED: {problems}")
print("migration-check OK: no row lost or changed in", len(before), "tables")
endef
export MIGRATION_SEED MIGRATION_DIGEST

migration-check: install
	@set -euo pipefail; \
	tmp=$$(mktemp -d); repo=$(CURDIR); \
	trap 'git -C "$$repo" worktree remove --force "$$tmp/base" 2>/dev/null || true; rm -rf "$$tmp"' EXIT; \
	export SENT_VAR_DIR="$$tmp/var" SQLITE_PATH="$$tmp/sent.sqlite3" DATABASE_URL= DIGEST_FILE="$$tmp/digest.json" \
		SIMULATOR_DELAY_SCALE=0 WEBHOOK_ALLOW_PRIVATE_TARGETS=true; \
	echo "== $(MIGRATION_BASE) ($$(git log -1 --format=%s $(MIGRATION_BASE) | cut -c1-60)): migrate, seed"; \
	git worktree add --quiet --detach "$$tmp/base" $(MIGRATION_BASE); \
	( cd "$$tmp/base" && \
	  $$repo/$(PY) manage.py migrate --no-input -v 0 && \
	  $$repo/$(PY) manage.py bootstrap_demo >/dev/null && \
	  $$repo/$(PY) manage.py shell -v 0 -c "$$MIGRATION_SEED" && \
	  $$repo/$(PY) manage.py db_worker --queue-name '*' --batch --no-reload --no-startup-delay -v 0 && \
	  $$repo/$(PY) manage.py shell -v 0 -c "$$MIGRATION_DIGEST" ); \
	echo "== this tree: migrate the same database"; \
	$(PY) manage.py migrate --no-input; \
	$(PY) manage.py shell -v 0 -c "$$MIGRATION_DIGEST"

clean:
	rm -rf $(VENV) var
