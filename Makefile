# Every target creates .venv on first use and installs the project into it: `make run` only
# what running needs, the other targets the development tools as well.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
# PYTHONWARNINGS reaches the build backend: its editable-install notice is a warning box, not news.
PIP := PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint lab bench clean

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(PIP) -e '.[dev]'
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/vpn-doctor serve

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/python -m pytest -m lab tests/lab

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
