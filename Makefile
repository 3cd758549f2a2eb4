# The portal's commands: `make run` serves it with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 5000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
FLASK := COURSE_PORTAL_ENV=$${COURSE_PORTAL_ENV:-development} $(BIN)/flask --app course_portal

# Debian packages: WeasyPrint's text stack with fast font subsetting and a CJK font;
# the tests also drive Chromium and read PDFs with poppler.
RUN_PACKAGES := python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-dejavu-core fontconfig
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils

.PHONY: help run test test-fast lint system-packages-run system-packages-test venv clean

help:
	@echo "make run    install, upgrade the database, load demo data, serve http://$(HOST):$(PORT)"
	@echo "make test   install and run the whole test suite (browser tests included)"
	@echo "make lint   ruff"

# --- installation -----------------------------------------------------------

system-packages-run:
	@PACKAGES="$(RUN_PACKAGES)" bash scripts/system-packages.sh

system-packages-test:
	@PACKAGES="$(TEST_PACKAGES)" bash scripts/system-packages.sh

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; this is " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# --- the two commands -------------------------------------------------------

run: system-packages-run venv
	@bash scripts/dev-instance.sh
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	@echo "Serving http://$(HOST):$(PORT)  (Ctrl+C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: system-packages-test venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# without the browser tests, for a quick loop
test-fast: venv
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check course_portal tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
