# Every target bootstraps what it needs from a fresh clone, and no more:
# one virtualenv, and a stamp for each set of extras installed into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install run test lint bench clean

# Two pip runs at once in one virtualenv can break it.
.NOTPARALLEL:

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Order-only: a newer interpreter must not make every stamp stale.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

install: $(RUN_STAMP) $(DEV_STAMP) $(BENCH_STAMP)

run: $(RUN_STAMP)
	$(BIN)/flask --app sample_app init-db
	$(BIN)/flask --app sample_app run --host 127.0.0.1 --port 5000

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict jwt_blueprint

# The bench extra too: the suite checks that every benchmark contender
# measures what it claims to.
test: lint $(BENCH_STAMP)
	$(BIN)/pytest --cov --cov-report=term-missing -q

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .coverage build dist *.egg-info
