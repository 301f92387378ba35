# One entry point per job. `make run` and `make test` set themselves up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python


.PHONY: help setup run test test-backend test-mobile lint typecheck fmt web bench screenshots demo-model clean

help:
	@echo "make run    start the whole stack (backend, workers, web) at http://127.0.0.1:8000/"
	@echo "make test   run every test suite against real Postgres, Redis and vLLM"
	@echo "make lint   ruff, mypy and the import contracts (lint-imports, in pyproject.toml)"
	@echo "make fmt    format the Python code"
	@echo "make bench  run the benchmarks and write docs/benchmarks.md"
	@echo "make screenshots  the browser end-to-end run, refreshing docs/screenshots"

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check backend inference bench infra tests conftest.py
	$(VENV)/bin/ruff format --check backend inference bench infra tests conftest.py
	$(VENV)/bin/mypy backend inference bench infra tests
	PYTHONPATH=backend $(VENV)/bin/lint-imports --no-cache

typecheck: setup
	$(VENV)/bin/mypy backend inference bench infra tests

fmt: setup
	$(VENV)/bin/ruff check --fix backend inference bench infra tests conftest.py
	$(VENV)/bin/ruff format backend inference bench infra tests conftest.py

# The browser end-to-end run, writing its screenshots over the committed ones in docs/screenshots.
screenshots: setup
	WHALE_E2E_SCREENSHOTS="$(CURDIR)/docs/screenshots" scripts/e2e.sh

# Every case at 1, 32 and 128 concurrent turns (about 15 minutes on 2 cores), then docs/benchmarks.md.
bench: setup
	@scripts/ensure_redis.sh
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

demo-model: setup
	$(PY) -m inference.demo_model.build
