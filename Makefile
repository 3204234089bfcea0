# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make run` and `make ui` share this instance (set up by `dtsen instance` from deploy/local/dagster.yaml).
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_DISABLE_TELEMETRY := 1
export GX_ANALYTICS_ENABLED := false
# Playwright (dev extras) drives the system chromium (/usr/bin/chromium): never a browser download.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install run test lint ui sample bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,spark,k8s]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/dtsen run

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# The artifact server (Data Docs, reports, charts, review files) runs beside the UI and stops with it.
ui: install
	$(BIN)/dtsen instance
	$(BIN)/dtsen serve-artifacts & server=$$!; \
	trap 'kill $$server 2>/dev/null' EXIT INT TERM; \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The whole nightly job against a plain pandas + Splink script on the same files (640,000 persons by
# default; the sample is generated once under data/bench/). BENCH_ARGS="--persons 20000" for a quick look.
bench: install
	$(BIN)/python benchmarks/bench_night.py $(BENCH_ARGS)

sample: install
	$(BIN)/python -m dtsen_pipeline.sample --persons 20000 --seed 1 --out data/landing

clean:
	rm -rf data .dagster_home
