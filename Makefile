# The two commands a new user runs: `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint bench soak system-deps setup clean

$(INSTALLED): pyproject.toml scripts/bootstrap.sh
	@scripts/bootstrap.sh $(VENV)

setup: $(INSTALLED) system-deps

system-deps:
	@scripts/system-deps.sh

demo: setup
	$(VENV)/bin/gridwatch demo

lint: $(INSTALLED)
	$(VENV)/bin/ruff check exporter tests bench
	$(VENV)/bin/ruff format --check exporter tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict bench

test: setup lint
	$(PY) -m pytest --cov --cov-report=term $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
