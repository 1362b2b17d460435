# Every target bootstraps what it needs from a fresh clone, and no more:
# one virtualenv, and a stamp for each set of extras installed into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: install run test fuzz lint docs docs-build bench load clean \
	redis-server-installed wrk-installed browser-installed

# Two pip runs at once in one virtualenv can break it.
.NOTPARALLEL:

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Order-only: a newer interpreter must not make every stamp stale.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[sample]'
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

install: $(RUN_STAMP) $(DEV_STAMP) $(BENCH_STAMP) $(DOCS_STAMP)

run: $(RUN_STAMP)
	$(BIN)/flask --app sample_app init-db
	$(BIN)/flask --app sample_app run --host 127.0.0.1 --port 5000

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict jwt_blueprint

# The site, into docs/_build/html, with warnings as errors: a Markdown link
# to a page or heading that is gone, a page outside the table of contents or
# a docstring autodoc cannot read fails it. Not nitpicky: a Python
# cross-reference (:class:, :meth:, ...) that resolves to nothing renders as
# plain text without a warning, and links to other sites are not checked.
docs-build: $(DOCS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The site, then every example of the README and the pages, run and checked
# (make test runs those with the rest of the suite).
docs: docs-build $(DEV_STAMP)
	$(BIN)/pytest -q tests/test_docs_examples.py

# Some tests, and the benchmark, need programs pip cannot install. Each
# target below gets Debian's package when we may (root, or sudo without a
# password); otherwise what needs it skips (and, for tests, fails when
# CI=true), so say so loudly here rather than let a skip pass unnoticed.
# $(call apt_install,PACKAGE,TEST THAT IT IS THERE,WHAT GOES WITHOUT IT)
define apt_install
	@if $(2); then \
		:; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		sudo apt-get update -qq \
		&& sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1); \
	else \
		echo '*** WARNING: $(1) is not installed and make cannot install it' \
			'(that needs apt-get and root or sudo without a password):' \
			'$(3). Install it: apt-get install $(1)' >&2; \
	fi
endef

redis-server-installed:
	$(call apt_install,redis-server,command -v redis-server >/dev/null 2>&1 \
		|| [ -x /usr/bin/redis-server ] || [ -x /usr/sbin/redis-server ],the Redis \
		store tests will SKIP and FAIL when CI=true)

# The browser test drives Debian's chromium with Playwright (the dev extra);
# Playwright's own browser download cannot work here, and is never run.
browser-installed:
	$(call apt_install,chromium,[ -x /usr/bin/chromium ],the browser tests \
		will SKIP and FAIL when CI=true)

# The bench extra too: the suite checks that every benchmark contender
# measures what it claims to.
# The suite runs in TEST_JOBS processes (pytest-xdist): the CPUs, at most 4,
# as each starts its own redis-server and browser.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

test: lint docs-build $(BENCH_STAMP) redis-server-installed browser-installed
	$(BIN)/pytest -n $(TEST_JOBS) --cov --cov-report=term-missing -q

# make test runs the property-based tests with few examples, to stay fast;
# this runs them alone with many more (JWT_FUZZ_EXAMPLES, read by the tests).
FUZZ_EXAMPLES ?= 2000

fuzz: $(DEV_STAMP)
	JWT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/test_fuzz.py

# The HTTP part of the benchmark loads gunicorn with wrk.
wrk-installed:
	$(call apt_install,wrk,command -v wrk >/dev/null 2>&1,the HTTP part of \
		the benchmark (gunicorn under wrk) will be SKIPPED)

# The Redis contenders need redis-server, the HTTP part wrk; without them
# those are skipped, loudly.
bench: $(BENCH_STAMP) redis-server-installed wrk-installed
	$(BIN)/python -m benchmarks

# A bounded load test: gunicorn workers sharing a token store, driven by
# virtual users that log in, refresh (some racing, some replaying a spent
# token) and log out. It fails on a 5xx, a revoked or spent token accepted,
# or a lost revocation. Each store in turn: they make a refresh atomic in
# different ways (one SQL UPDATE, a Lua script); both reports, then the
# verdict.
LOAD_SECONDS ?= 20
LOAD_WORKERS ?= 4
LOAD_USERS ?= 32

load: $(DEV_STAMP) $(BENCH_STAMP) redis-server-installed
	@status=0; for store in sqlite redis; do \
		$(BIN)/python -m benchmarks.load --store $$store --seconds $(LOAD_SECONDS) \
			--workers $(LOAD_WORKERS) --users $(LOAD_USERS) || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) .coverage build dist *.egg-info docs/_build
