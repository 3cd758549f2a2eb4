# The portal's commands: `make run` serves it with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 5000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
# what the venv is installed from: the lock (every version pinned, every file's hash), which
# `make lock` writes from pyproject.toml's ranges
LOCK := requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
FLASK := COURSE_PORTAL_ENV=$${COURSE_PORTAL_ENV:-development} $(BIN)/flask --app course_portal
# compiled catalogs: git ignores *.mo, so run and test build them from the .po files
MO_FILES := translations/zh/LC_MESSAGES/messages.mo translations/ru/LC_MESSAGES/messages.mo
# marked messages beside Babel's defaults (_, gettext, ngettext, ...); tests/test_translations.py
# extracts with the same. No bare "-k ngettext": it would keep only the singular of plurals.
# (with the folders to skip: pybabel skips those starting with "_" too unless told, and
# templates/_macros holds messages of every form and paged list)
BABEL_KEYWORDS := -k _l -k lazy_gettext --ignore-dirs '.*'

# the suite runs in one process per core, at most four (TEST_WORKERS=1 for one process);
# each has its own database and Redis database, see tests/conftest.py
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 4 ? n : 4 )))
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS)

# Debian packages: WeasyPrint's text stack with fast font subsetting and a CJK font;
# the tests also drive Chromium, read PDFs with poppler, run deploy/nginx.conf in nginx and
# the W3C HTML checker (vnu.jar) on Java; Playwright's driver (node) needs libatomic1, which a
# minimal Debian lacks. fonts-dejavu-extra holds DejaVu Serif Italic, in which the certificate
# prints the English programme title: without it Pango slants the upright face instead.
RUN_PACKAGES := python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-dejavu-core fonts-dejavu-extra fontconfig
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils nginx-light libatomic1 openjdk-17-jre-headless
# the page benchmark loads gunicorn with wrk
BENCH_PACKAGES := $(TEST_PACKAGES) wrk

.PHONY: help run test test-fast fresh-check lint lock screenshots bench translations system-packages-run system-packages-test system-packages-bench venv clean

help:
	@echo "make run    install, upgrade the database, load demo data, serve http://$(HOST):$(PORT)"
	@echo "make test   install and run the whole test suite (browser tests included)"
	@echo "make fresh-check   both commands on a minimal Debian built with debootstrap (root)"
	@echo "make lint   ruff and mypy"
	@echo "make lock   pin every dependency, with hashes, from pyproject.toml's ranges"
	@echo "make bench  benchmarks: certificate rendering against headless Chromium, key pages under"
	@echo "            gunicorn + wrk on generated data (BENCH_SCALE=1: 20,000 applications)"
	@echo "make translations   extract the messages and update the zh and ru catalogs"

# --- installation -----------------------------------------------------------

system-packages-run:
	@PACKAGES="$(RUN_PACKAGES)" bash scripts/system-packages.sh

system-packages-test:
	@PACKAGES="$(TEST_PACKAGES)" bash scripts/system-packages.sh

system-packages-bench:
	@PACKAGES="$(BENCH_PACKAGES)" bash scripts/system-packages.sh

$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; this is " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# the locks, from pyproject.toml's ranges: requirements.txt for a production server,
# requirements-dev.txt (with the tests' and lint's tools) for make run, make test and CI.
# Run after changing a dependency in pyproject.toml, or to take newer releases; commit both
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: venv
	$(BIN)/python -m pip install --quiet pip-tools
	$(PIP_COMPILE) --upgrade -o requirements.txt pyproject.toml
	$(PIP_COMPILE) --upgrade --extra dev -o requirements-dev.txt pyproject.toml

# --- the two commands -------------------------------------------------------

run: system-packages-run venv $(MO_FILES)
	@bash scripts/dev-instance.sh
	$(FLASK) db upgrade
	COURSE_PORTAL_BASE_URL=$${COURSE_PORTAL_BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) demo-data --if-empty
	@echo "Serving http://$(HOST):$(PORT)  (Ctrl+C stops)"
	@echo "Timed steps (enrolment, closing, email retries) run inside this process: STEPS=thread"
	@echo "Emails are not sent in development: each is written to this console (and kept in the outbox); open its link here."
	COURSE_PORTAL_STEPS=$${COURSE_PORTAL_STEPS:-thread} COURSE_PORTAL_BASE_URL=$${COURSE_PORTAL_BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) run --host $(HOST) --port $(PORT)

test: system-packages-test venv $(MO_FILES)
	$(PYTEST) $(PYTEST_ARGS)

# without the browser tests, for a quick loop
test-fast: venv $(MO_FILES)
	$(PYTEST) -m "not e2e" $(PYTEST_ARGS)

# the two commands on a minimal Debian built by debootstrap (as root; about 20 minutes, most of
# it downloads): what this machine has and a new one lacks shows here. See scripts/fresh-check.sh
fresh-check:
	@bash scripts/fresh-check.sh

# --- translations -----------------------------------------------------------

# new messages arrive in the catalogs empty (or fuzzy, when close to an old one): translate them,
# then tests/test_translations.py passes again
translations: venv
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --sort-by-file -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --ignore-obsolete

# the compiled catalogs are not in version control: built from the .po files
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d translations -l $* --statistics

# the README's pictures of the main pages, from a throwaway demo instance
screenshots: system-packages-test venv $(MO_FILES)
	$(BIN)/python scripts/screenshots.py

lint: venv
	$(BIN)/ruff check course_portal tests bench
	$(BIN)/mypy

# speed as ratios measured side by side in one run (never asserted as a time in a test);
# BENCH_SCALE, BENCH_DATABASE_URL, BENCH_WORKERS, BENCH_SECONDS: see bench/pages.py
bench: system-packages-bench venv $(MO_FILES)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
