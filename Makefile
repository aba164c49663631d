# Boxset — `make run` serves the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app run
STAMP := $(VENV)/.installed
# A .env next to docker-compose.yml is for the containers, never for local flask commands.
export FLASK_SKIP_DOTENV := 1
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test test-postgres test-sqlite lint format worker bench migrate init clean help

help:
	@echo "make run     serve Boxset on http://$${HOST:-127.0.0.1}:$${PORT:-5000} (SQLite, no services needed)"
	@echo "make test    run the whole test suite (PostgreSQL and SQLite)"
	@echo "make lint    ruff"
	@echo "make worker  run a standalone job consumer (needs REDIS_URL)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt $(STAMP)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	mkdir -p $(VENV)/docker/cli-plugins
	ln -sf "$$($(BIN)/python -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')" \
		$(VENV)/docker/cli-plugins/docker-compose
	touch $@

migrate: $(STAMP)
	$(FLASK) boxset upgrade

init: migrate
	$(FLASK) boxset init

run: init
	$(BIN)/python run.py

worker: $(STAMP)
	$(FLASK) boxset worker

test: $(DEV_STAMP)
	$(BIN)/python -m tests.runner

test-postgres: $(DEV_STAMP)
	$(BIN)/python -m tests.runner postgres

test-sqlite: $(DEV_STAMP)
	$(BIN)/python -m tests.runner sqlite

# Extra options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--items 20000 --no-concurrency"
bench: $(DEV_STAMP)
	$(BIN)/python -m bench --sqlite $(BENCH_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
