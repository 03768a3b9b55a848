# balance-booking: every command the README names is a target here. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.8
STAMP := $(VENV)/.synced
# axe-core (the accessibility checks in the browser tests), from the npm registry, pinned in
# package-lock.json.
AXE := node_modules/axe-core/axe.min.js
PYTEST_ARGS ?=
# Two processes on the 2-core machine this is measured on; `make test XDIST=0` runs in one.
XDIST ?= 2

export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck fmt bench reliability slow messages clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Re-sync whenever the lock or the project metadata changes; --inexact keeps uv itself.
$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --all-extras --inexact --quiet
	@touch $@

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: $(STAMP) ## start the embedded default (SQLite + in-process worker + demo data)
	$(BIN)/balance-booking demo

test: $(STAMP) $(AXE) ## lint, type-check and run the test suite but the slow scenarios (`make slow`)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint typecheck && \
	$(BIN)/python -m pytest -n $(XDIST) --durations=20 -m "not slow" $(PYTEST_ARGS); status=$$?; \
	echo "make test: wall time $$(( $$(date +%s) - start )) s"; exit $$status

lint: $(STAMP) ## ruff (lint + format check) and import-linter (the layer rule)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP) ## mypy --strict on the package
	$(BIN)/mypy

fmt: $(STAMP) ## apply ruff's formatter and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## run every benchmark in bench/ and print the figures
	$(BIN)/python -m bench

reliability: $(STAMP) $(AXE) ## fault matrix, Schemathesis, races, crash and scale-out tests and the 10-minute soak, in full
	BALANCE_RELIABILITY=full $(BIN)/python -m pytest -n $(XDIST) --durations=20 -m "reliability or slow" $(PYTEST_ARGS)

slow: $(STAMP) $(AXE) ## only the slow scenario tests, in full (what CI adds to `make test`)
	BALANCE_RELIABILITY=full BALANCE_SOAK_SECONDS=$${BALANCE_SOAK_SECONDS:-120} \
		$(BIN)/python -m pytest -n $(XDIST) --durations=20 -m slow $(PYTEST_ARGS)

I18N := src/balance_booking/web/i18n

messages: $(STAMP) ## extract the pages' texts into messages.pot and merge them into the ru/en catalogs
	$(BIN)/pybabel extract -F $(I18N)/babel.cfg -o $(I18N)/messages.pot --no-location --sort-output \
		--width 100 --project balance-booking --copyright-holder balance-booking .
	$(BIN)/pybabel update -i $(I18N)/messages.pot -d $(I18N) -D messages \
		--width 100 --ignore-obsolete --no-fuzzy-matching

clean: ## remove the virtual environment and local state
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache build
