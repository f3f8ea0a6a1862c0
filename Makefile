# The two commands: `make demo` and `make test`. Both set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: setup demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

## setup: virtualenv with rea and its dev tools, and the pinned restate-server binary
setup: $(STAMP)
	$(BIN)/rea server install

## demo: run examples/demo.py (a rea.app end to end) on an embedded Restate server
demo: setup
	$(BIN)/python examples/demo.py
	$(BIN)/python examples/approval.py
	$(BIN)/python examples/security.py

## test: ruff, mypy --strict, then the whole test suite (unit and integration) on 2 workers
test: lint typecheck
	$(BIN)/pytest -n $(PYTEST_WORKERS)

lint: setup
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: setup
	$(BIN)/mypy

## bench: the performance scripts under bench/
bench: setup
	$(BIN)/python bench/harness_startup.py

clean:
	rm -rf $(VENV) .rea .pytest_cache .mypy_cache .ruff_cache
