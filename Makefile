# Gridwork: `make run` serves the demo, `make test` runs the whole suite,
# `make bench` measures the lists and jobs at district scale (bench/README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs on both cores (pytest-xdist), the longest modules first
# (tests/conftest.py), the 25 slowest tests listed at the end; `make test
# PYTEST_ARGS=...` overrides.
PYTEST_ARGS ?= -n 2 --durations=25
# Every queue of settings.WORKER_QUEUES (queues per job kind, docs/scaling.md).
CELERY_QUEUES := celery,deadlines,io,notifications

# Tests use PostgreSQL (and Redis) when they are reachable and nothing says
# otherwise; CI (.ci/run) always exports both.
PG_DEFAULT_URL := postgres://postgres@127.0.0.1:5432/gridwork
REDIS_DEFAULT_URL := redis://127.0.0.1:6379/0

.PHONY: run test install lint format messages clean backup restore bench

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@export DEBUG=$${DEBUG:-1}; \
	$(BIN)/python manage.py migrate --noinput && \
	$(BIN)/python manage.py seed_demo && \
	$(BIN)/python manage.py setup_schedules && \
	trap 'trap - INT TERM EXIT; kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	$(BIN)/celery -A governance worker --beat --scheduler django_celery_beat.schedulers:DatabaseScheduler \
		-Q $(CELERY_QUEUES) --loglevel=INFO --concurrency=2 --schedule=var/celerybeat-schedule & \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) & \
	wait -n

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if [ -z "$$DATABASE_URL" ] && $(BIN)/python -c "import psycopg2; psycopg2.connect('$(PG_DEFAULT_URL)'.replace('/gridwork', '/postgres'), connect_timeout=2).close()" 2>/dev/null; then \
		export DATABASE_URL=$(PG_DEFAULT_URL); echo "Using PostgreSQL at $(PG_DEFAULT_URL)"; \
	fi; \
	if [ -z "$$REDIS_URL" ] && $(BIN)/python -c "import redis; redis.Redis.from_url('$(REDIS_DEFAULT_URL)', socket_connect_timeout=2).ping()" 2>/dev/null; then \
		export REDIS_URL=$(REDIS_DEFAULT_URL); echo "Using Redis at $(REDIS_DEFAULT_URL)"; \
	fi; \
	$(BIN)/pytest $(PYTEST_ARGS)

# Every bench at district scale on bench databases of the PostgreSQL server at
# DATABASE_URL (default 127.0.0.1:5432); prints JSON, writes bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-extract and compile every app's zh-hans catalogue after changing strings.
# governance's catalogue (LOCALE_PATHS) also holds the project-level templates/, so
# it is extracted from the top, leaving the apps' folders to their own catalogues.
I18N_ENV := DEBUG=1 PYTHONPATH=$(CURDIR) DJANGO_SETTINGS_MODULE=governance.settings
messages: $(STAMP)
	$(I18N_ENV) $(BIN)/django-admin makemessages -l zh_Hans --no-obsolete \
		-i grids -i partyorg -i points -i tickets -i tests -i bench -i docs -i var -i .venv -i '*.egg-info'
	(cd governance && $(I18N_ENV) ../$(BIN)/django-admin compilemessages)
	for app in grids partyorg points tickets; do \
		(cd $$app && $(I18N_ENV) ../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete && \
		 $(I18N_ENV) ../$(BIN)/django-admin compilemessages); \
	done

# Database backups (governance/backups.py; docs/operations.md#backups).
# `make backup` writes var/backups/gridwork-<UTC time>.dump (or .sqlite3) and its
# manifest; `make restore FILE=... [CLEAN=1]` loads one into the configured database
# and checks it against the manifest. Stop the web, worker and beat first.
backup: $(STAMP)
	$(BIN)/python manage.py backup_db $(if $(OUTPUT),--output $(OUTPUT))

restore: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/<dump> [CLEAN=1]"; exit 2; }
	$(BIN)/python manage.py restore_db "$(FILE)" --yes $(if $(CLEAN),--clean)

clean:
	rm -rf $(VENV) var
