# Two commands for a new user: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The spark extra (dbt-spark, pyspark: about 500 MB) is for `make test` only, not the demo.
SPARK_STAMP := $(VENV)/.spark-installed-stamp
# No usage telemetry or update check from any tool: the warehouse holds survey answers. The same
# values as pipelines/offline.py TELEMETRY_OFF (tests/test_offline.py keeps them equal).
export DAGSTER_DISABLE_TELEMETRY := yes
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_VERSION_CHECK := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export MARIMO_SKIP_UPDATE_CHECK := 1

.PHONY: install install-spark demo test lint format serve benchmark notebooks clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else "platform-metrics needs Python 3.11 to 3.13; $(PYTHON) is " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

## dbt on Spark (docs/scaling.md#dbt-on-spark): the spark extra too; the tests marked spark need it and Java 17.
install-spark: $(SPARK_STAMP)

## Run the whole pipeline on the embedded demo organisation and print where the site is.
demo: install
	$(BIN)/platform-metrics demo

## Run every test (with the spark extra, so the tests marked spark run where Java is installed).
## --durations: the 30 slowest steps end the log, so a CI run shows where its time went.
## A worker per CPU, at most 4 (each may build the small demo and start a Spark session); a test
## file stays on one worker, so its module fixtures (one Spark session per module) are built once.
## Files go out in the order tests/conftest.py gives them (the longest first), not xdist's default
## of the most tests first, which sent the one-test Spark Thrift file (6 minutes) out last.
## PYTEST_WORKERS=0 runs them in this process, one after another.
PYTEST_WORKERS ?= auto
test: install-spark
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile --no-loadscope-reorder --durations=30

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt

## Dagster UI and daemon (the schedules run) on http://127.0.0.1:3000
serve: install
	$(BIN)/platform-metrics serve

benchmark: install
	$(BIN)/python benchmarks/run_benchmark.py

## marimo notebooks (tune definitions, explore the warehouse, SLOs) on http://127.0.0.1:2718
notebooks: install
	$(BIN)/marimo edit --skip-update-check --host 127.0.0.1 notebooks/

clean:
	rm -rf build dbt/target dbt/logs
