# One Makefile for developers and CI.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: dev lint test test-fast bench clean

$(BIN)/rampart: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

dev: $(BIN)/rampart

lint: dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: dev
	$(BIN)/pytest -n 2

test-fast: dev
	$(BIN)/pytest -n 2 -m "not slow and not peer"

bench: dev
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
