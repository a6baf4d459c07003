# Every target installs what it needs on first use and is quick afterwards.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TARGET ?= unix,pty
PYTEST_ARGS ?=

.PHONY: setup demo test lint format sim report clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

# The main job: the simulated home.
demo: $(STAMP)
	$(BIN)/homeca demo

# Lint, then every test; device tests run on each target in TARGET.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q --target $(TARGET) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

# One simulated device in the foreground: its console and HC-05 ptys are printed.
sim: $(STAMP)
	$(BIN)/homeca sim device build/sim/node

# Heap and timing figures of the firmware on the unix port.
report: $(STAMP)
	$(BIN)/homeca sim device build/sim/report --report --heap-floor --oled-png build/sim/report-oled.png

clean:
	rm -rf build .pytest_cache .ruff_cache
