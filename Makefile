# Tutorium: `make run` serves the API, `make test` runs the whole suite.
# Both install exactly the versions pinned in the lock files into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
API_HOST ?= 127.0.0.1
API_PORT ?= 8000
EMULATOR_PORT ?= 8787

.PHONY: run test test-scale lint format lock bench clean

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

run: $(VENV)/.runtime-installed
	API_HOST=$(API_HOST) API_PORT=$(API_PORT) EMULATOR_PORT=$(EMULATOR_PORT) \
		$(BIN)/python -m devtools.run_dev

test: $(VENV)/.dev-installed
	$(BIN)/python -m devtools.testdb
	$(BIN)/python -m pytest

# Two API hosts behind HAProxy and PgBouncer (deploy/), each in a network namespace of the
# test's own: needs root, and installs Debian's haproxy and pgbouncer when they are missing.
# A few minutes; README "Scaling out".
test-scale: $(VENV)/.dev-installed
	command -v haproxy >/dev/null && command -v pgbouncer >/dev/null \
		|| (apt-get update && apt-get install -y haproxy pgbouncer)
	TUTORIUM_SCALE_TESTS=1 $(BIN)/python -m pytest tests/scale -q

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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
