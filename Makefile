# Every target installs what it needs: a local .venv with the pinned dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench run doctor clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "interview-bridge needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)  ## built-in interview server + terminal chat, no credentials
	$(BIN)/interview-bridge demo

test: lint  ## lint, types, architecture rules, then the whole suite
	$(BIN)/pytest -q

lint: $(STAMP)  ## ruff, ruff format, mypy strict, import-linter (the architecture rules)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)  ## prints the speed and memory table
	$(BIN)/python -m bench

run: $(STAMP)
	$(BIN)/interview-bridge run

doctor: $(STAMP)
	$(BIN)/interview-bridge doctor

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
