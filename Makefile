# Samverkan — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

.PHONY: install demo serve test test-sqlite test-postgres test-e2e lint format bench messages clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Run the product on SQLite (./var/) with the Ystad demo at http://127.0.0.1:8000
demo: install
	@bash scripts/system-deps.sh runtime
	$(BIN)/samverkan migrate --noinput
	$(BIN)/samverkan demo
	$(BIN)/samverkan serve

serve: install
	$(BIN)/samverkan serve

## Lint, then the whole suite on SQLite, then the database tests again on PostgreSQL when it answers
test: install system-deps lint test-sqlite test-postgres

system-deps:
	@bash scripts/system-deps.sh test

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not e2e" -q
	$(BIN)/python -m pytest -m e2e -q -p no:randomly

test-postgres: install
	@if bash scripts/postgres-up.sh; then \
		DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not e2e" -q --ignore=tests/analysis; \
	else \
		echo "PostgreSQL does not answer on 127.0.0.1:5432: the PostgreSQL run is skipped"; \
	fi

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks: prints a table and writes var/bench/results.json
bench: install
	$(BIN)/python -m bench.run

## Re-extract and compile the translations (needs gettext's msgfmt)
messages: install
	cd samverkan && ../$(BIN)/samverkan makemessages -l sv --no-obsolete --ignore "static/*"
	cd samverkan && ../$(BIN)/samverkan compilemessages -l sv

clean:
	rm -rf $(VENV) var .pytest_cache
