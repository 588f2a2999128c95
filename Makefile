# notice-relay — plain targets. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RELAY := $(VENV)/bin/relay
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv broker run test test-unit test-integration check lint format typecheck schemas clean-broker

help:
	@echo "make run    - start the broker and the whole system (Ctrl-C stops everything)"
	@echo "make test   - set up and run the whole suite (unit + integration on a real broker)"
	@echo "make check  - ruff, mypy --strict and the tests"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

broker: venv
	$(RELAY) kafka fetch

run: broker
	$(RELAY) run

test: broker
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: venv
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

test-integration: broker
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: venv
	$(VENV)/bin/mypy services schemas tests

check: lint typecheck test

clean-broker:
	-$(RELAY) kafka down
	rm -rf .relay/kafka
