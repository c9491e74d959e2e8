# Two commands: `make serve` runs the service on embedded defaults, `make test` runs every check
# (`make test-fast`: the tests that need no model and no servers, for the edit-test loop).
# Both set up .venv from pyproject.toml on a fresh machine (Python 3.11 and the package registry).

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv system-deps test test-fast lint typecheck pytest serve bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: venv
	$(BIN)/mypy

# System packages the tests need: espeak-ng synthesises the speech of the analytics
# end-to-end test; chromium runs the console's browser tests (Playwright drives it from
# /usr/bin/chromium). Installed with apt-get when missing (CI runs as root).
SYSTEM_PACKAGES := espeak-ng chromium
system-deps:
	missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	test -z "$$missing" || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing)

pytest: venv system-deps
	$(BIN)/pytest

test: lint typecheck pytest

# No Whisper, no spaCy, no PostgreSQL/Redis/Docker/subprocess service: tests/conftest.py marks
# those `model` and `servers` (and fails a test that loads a model without the mark).
test-fast: venv
	$(BIN)/pytest -m "not model and not servers" -q

# The whole product in one process: SQLite, the queue and the model (tiny.en, CPU) in ./data.
HOST ?= 127.0.0.1
PORT ?= 8000
serve: venv
	$(BIN)/transcribe serve --host $(HOST) --port $(PORT)

bench: venv
	$(BIN)/python bench/asr.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/record.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
