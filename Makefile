# Sent — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?= -n 2

# The first Python >= 3.12 on PATH.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 python; do \
	if $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then echo $$p; break; fi; done)

.PHONY: run test test-pg test-all bench install lint clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 is required (python3.12 not found on PATH)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

## make run: set up everything, then run web + worker (Ctrl-C stops both).
run: install
	$(PY) manage.py serve

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

clean:
	rm -rf $(VENV) var
