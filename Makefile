# Every target installs what it needs: a local .venv with the pinned dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench run doctor clean messages

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "interview-bridge needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)  ## built-in interview server + terminal chat, no credentials
	$(BIN)/interview-bridge demo

# Two workers (pytest-xdist), a test file each at a time: most tests wait on sockets and subprocesses, so two
# halve the wall time on a 2-core machine. TEST_WORKERS=0 runs the suite in this one process.
TEST_WORKERS ?= 2
test: lint  ## lint, types, architecture rules, then the whole suite
	$(BIN)/pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

lint: $(STAMP)  ## ruff, ruff format, mypy strict, import-linter (the architecture rules)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)  ## prints the speed and memory table
	$(BIN)/python -m bench

# The text catalogue (README "Languages"): collect every sentence into messages.pot, then merge it into each
# language's messages.po (new sentences appear untranslated, changed ones fuzzy). Keywords as in babel.cfg.
LOCALES := bot/locales
messages: $(STAMP)  ## extract the bot's sentences (messages.pot) and update every language's messages.po
	$(BIN)/pybabel extract --no-default-keywords -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k locale_str \
		-F $(LOCALES)/babel.cfg --sort-by-file --add-comments=Translators: --width=120 --project=interview-bridge \
		-o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -D messages -i $(LOCALES)/messages.pot -d $(LOCALES) --width=120 --ignore-obsolete

run: $(STAMP)
	$(BIN)/interview-bridge run

doctor: $(STAMP)
	$(BIN)/interview-bridge doctor

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
