# driftscan developer commands. `make help` lists them.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest-xdist workers for `make test`: `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install demo test lint fmt bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml setup.py
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create the virtual environment and install driftscan with every extra

demo: $(STAMP) ## run the sandbox estate (moto, ARM emulator, SSH hosts), scan it, write a report
	$(BIN)/driftscan demo

test: $(STAMP) ## run the whole test suite
	@# Two workers (xdist), one per core here; a file's tests stay together (tests/conftest.py).
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP) ## ruff (lint + format check), mypy strict, and the import-linter architecture contracts
	$(BIN)/ruff check driftscan tests benchmarks
	$(BIN)/ruff format --check driftscan tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format driftscan tests benchmarks
	$(BIN)/ruff check --fix driftscan tests benchmarks

bench: $(STAMP) ## run the benchmarks and print their figures
	@# Every benchmark runs; one that misses its target makes the whole run exit 1 at the end.
	@missed=""; for b in benchmarks/bench_*.py; do echo "== $$b"; \
		$(BIN)/python $$b || missed="$$missed $$b"; done; \
		if [ -n "$$missed" ]; then echo "targets missed:$$missed"; exit 1; fi

clean: ## remove build output and reports (keeps the virtual environment)
	rm -rf build dist *.egg-info reports/out .pytest_cache .mypy_cache .ruff_cache
