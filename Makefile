# `make run` and `make test`, the two commands a fresh checkout needs, and the helpers they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test install migration bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	scripts/run.sh

test: install
	scripts/test.sh

migration: install
	scripts/make_migration.sh

bench: install
	$(BIN)/python bench/log_bench.py

clean:
	rm -rf $(VENV) instance/*.sqlite3 .pytest_cache
