# Alliance: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The long-running processes. docker-compose.yml runs exactly these commands (a test checks).
WEB_COMMAND := gunicorn alliance.wsgi:application --config gunicorn_config.py --bind 0.0.0.0:8000 --workers 2
WORKER_COMMAND := celery -A alliance worker --loglevel=INFO --concurrency=2 --max-tasks-per-child=50
BEAT_COMMAND := celery -A alliance beat --loglevel=INFO --schedule=/tmp/alliance-celerybeat-schedule

.PHONY: help install run test lint typecheck pytest bench screenshots lock audit web worker beat migrate clean

help:
	@echo "make run    set up .venv, migrate, seed the demo and serve http://$(HOST):$(PORT) (SQLite, no other service)"
	@echo "make test   ruff, mypy and pytest (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set, else SQLite)"
	@echo "make bench  throughput and latency against a floor measured in the same run (PostgreSQL, gunicorn, wrk)"
	@echo "make screenshots  retake docs/screenshots/*.png in headless Chromium (the README shows them)"
	@echo "make backup [BACKUP_DIR=var/backups]  signed backup of the database and stored files (docs/operations.md)"
	@echo "make restore BACKUP=var/backups/alliance-...  restore into an empty database and prove it"
	@echo "make audit  known vulnerabilities in the locked dependencies (pip-audit; needs the network)"

$(VENV)/.installed: requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	touch $@

install: $(VENV)/.installed

run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Alliance is at http://$(HOST):$(PORT)/ (sign in with one of the logins above)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

pytest: install
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/run.py

# The accessibility test visits the main pages; with this variable it also photographs them.
screenshots: install
	ALLIANCE_SCREENSHOTS=1 $(BIN)/pytest -q tests/browser/test_accessibility.py tests/browser/test_compliance_page.py -k wcag

# Regenerate the lock files after changing pyproject.toml.
lock: install
	$(BIN)/pip-compile --quiet --strip-extras --generate-hashes -o requirements/base.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --generate-hashes --extra dev -o requirements/dev.lock pyproject.toml

# Backup and restore (docs/operations.md): each backup is a new folder under BACKUP_DIR.
.PHONY: backup restore
BACKUP_DIR ?= var/backups
backup: install
	$(BIN)/python manage.py backup $(BACKUP_DIR)

restore: install
	@test -n "$(BACKUP)" || { echo "Name the backup: make restore BACKUP=$(BACKUP_DIR)/alliance-..."; exit 2; }
	$(BIN)/python manage.py restore $(BACKUP)

# Known vulnerabilities in both lock files, from the advisory service AUDIT_SERVICE (pypi or
# osv). Not part of `make test`: it needs the network. --strict: a package the service cannot
# look up fails the audit instead of passing unchecked.
AUDIT_SERVICE ?= pypi
audit: install
	$(BIN)/pip-audit --strict --disable-pip --progress-spinner off --vulnerability-service $(AUDIT_SERVICE) -r requirements/base.lock
	$(BIN)/pip-audit --strict --disable-pip --progress-spinner off --vulnerability-service $(AUDIT_SERVICE) -r requirements/dev.lock

migrate: install
	$(BIN)/python manage.py migrate --noinput

web: install
	$(BIN)/$(WEB_COMMAND)

worker: install
	$(BIN)/$(WORKER_COMMAND)

beat: install
	$(BIN)/$(BEAT_COMMAND)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .mypy_cache .ruff_cache
