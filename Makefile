# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install quantgan, fit on the bundled S&P 500, write report.html
#   make test   create .venv, install quantgan[dev], run the fast test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PIP     = $(BIN)/python -m pip install --constraint constraints.txt
STAMP   = $(VENV)/.quantgan-installed
DEMO_BUDGET ?= 300

.PHONY: install demo test test-slow lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/quantgan demo --time-budget $(DEMO_BUDGET) --output report.html

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check quantgan adapters tests examples benchmarks
	$(BIN)/ruff format --check quantgan adapters tests examples benchmarks

clean:
	rm -rf $(VENV) build *.egg-info report.html
