# Samverkan — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

.PHONY: install demo serve test test-sqlite test-postgres test-e2e test-fuzz lint format bench bench-load messages clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Run the product on SQLite (./var/) with the Ystad demo at http://127.0.0.1:8000
## (two-factor log-in is off for the demo only; production refuses to start without it)
demo: install
	@bash scripts/system-deps.sh runtime
	$(BIN)/samverkan migrate --noinput
	SAMVERKAN_OTP_REQUIRED=false $(BIN)/samverkan demo
	SAMVERKAN_OTP_REQUIRED=false $(BIN)/samverkan serve

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
		DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not e2e" -q --ignore=tests/analysis --ignore=tests/faults; \
	else \
		echo "PostgreSQL does not answer on 127.0.0.1:5432: the PostgreSQL run is skipped"; \
	fi

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks: prints a table and writes var/bench/results.json
bench: install
	$(BIN)/python -m bench.run

## Schemathesis against the API's OpenAPI document (every operation as three callers, at least 1,000 cases) and the
## importers fuzzed with hypothesis, at full length
test-fuzz: install
	SAMVERKAN_FUZZ_EXAMPLES=50 SAMVERKAN_FUZZ_PHASES=examples,coverage,fuzzing SAMVERKAN_FUZZ_MIN_CASES=1000 \
		$(BIN)/python -m pytest tests/api/test_schemathesis.py -q -p no:randomly
	SAMVERKAN_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest tests/imports/test_fuzz.py -q -p no:randomly

## Load test: 50 reporters and 20 readers for 5 minutes against gunicorn and PostgreSQL (127.0.0.1:5432);
## writes var/bench/load.json
bench-load: install
	$(BIN)/python -m bench.load.run

## Re-extract and compile the translations (needs gettext's msgfmt)
messages: install
	cd samverkan && ../$(BIN)/samverkan makemessages -l sv --no-obsolete --ignore "static/*"
	cd samverkan && ../$(BIN)/samverkan compilemessages -l sv

clean:
	rm -rf $(VENV) var .pytest_cache
