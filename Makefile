# jitu: two commands do all the set-up on a fresh machine (Python 3.11+ and make):
#   make demo   run the portal on embedded defaults (SQLite, local folder, offline payments, synthetic data)
#   make test   install what the tests need, lint, type-check, and run the suite on SQLite and PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SCALE ?= demo
SEED ?= 2026
export JITU_VAR_DIR ?= var
# two test processes (pytest-xdist), one test file each at a time: each has its own database and folder
PYTEST_WORKERS ?= -n 2 --dist loadfile

.PHONY: demo test install install-test lint test-sqlite test-postgres browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The demo only: no role is forced to a second factor (JITU_MFA_REQUIRED_ROLES empty), so the demo
# accounts log in with the printed password alone. The default and docker-compose.yml require TOTP for
# dinsos_admin and dpo (README, "Second factor").
demo: install
	$(BIN)/jitu migrate
	$(BIN)/jitu seed --scale $(SCALE) --seed $(SEED) --if-empty
	JITU_MFA_REQUIRED_ROLES= $(BIN)/jitu demo-accounts
	JITU_MFA_REQUIRED_ROLES= $(BIN)/jitu serve

lint: install-test
	$(BIN)/ruff check marketplace matching storage portal tests
	$(BIN)/mypy

browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: browser tests will fail"

test-sqlite: install-test
	JITU_TEST_DB=sqlite $(BIN)/pytest -q $(PYTEST_WORKERS)

# In CI (CI=true) PostgreSQL is required: the run fails, never skips, when it is unreachable.
test-postgres: install-test
	@if [ "$$CI" = "true" ] || $(BIN)/python -c "import socket,sys; s=socket.socket(); s.settimeout(2); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then \
	  JITU_TEST_DB=postgres $(BIN)/pytest -q $(PYTEST_WORKERS) -m "not browser"; \
	else echo "PostgreSQL not reachable on 127.0.0.1:5432: PostgreSQL run not done (CI=true makes this an error)"; fi

test: install-test browser-deps lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
