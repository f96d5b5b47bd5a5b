# Tanggap — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
# Test processes side by side: one per core ("auto"), or 0 to run the suite in this process.
TEST_WORKERS ?= auto
export TANGGAP_DATABASE_URL ?= sqlite:///./var/tanggap.db

.DEFAULT_GOAL := help
.PHONY: help install dev browser run serve test test-sqlite lint layers format messages clean

help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/tanggap: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.dev-installed: $(BIN)/tanggap
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(BIN)/tanggap ## Create .venv and install Tanggap

dev: $(VENV)/.dev-installed ## Install the development dependencies too

browser: ## Make sure Debian's Chromium is there for the browser tests
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "browser tests need $(CHROMIUM): run 'sudo apt-get install -y chromium'" >&2; exit 1; fi; }

run: install ## Migrate ./var/tanggap.db, load the demo once, serve on http://127.0.0.1:$(PORT)
	$(BIN)/tanggap db upgrade
	@echo "Demo tokens (use them as 'Authorization: Bearer <token>'):"
	@$(BIN)/tanggap demo load
	$(BIN)/tanggap serve --host 127.0.0.1 --port $(PORT)

test: dev browser ## Check the layers, then run every test on SQLite and PostgreSQL (pgserver unless TANGGAP_TEST_DATABASE_URL)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-sqlite: dev ## Run the tests on SQLite only (quick)
	TANGGAP_TEST_DATABASES=sqlite $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: dev ## ruff (lint and format check), mypy, and the layer contracts (lint-imports)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

layers: dev ## Check the layer contracts only (pyproject.toml, docs/architecture.md)
	$(BIN)/lint-imports

format: dev ## Format the code
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

messages: dev ## Re-extract the portal's strings and merge them into the Indonesian catalogue
	$(BIN)/pybabel extract -F babel.cfg -k gettext -k ngettext:1,2 -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d src/tanggap/web/locales -D messages -l id --no-wrap

clean: ## Remove the virtual environment, the database and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
