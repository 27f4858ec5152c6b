# The two commands a new user runs: `make demo` and `make test`. Both set everything up first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Grafana's TypeScript types for the dashboard type check; reinstalled only when the lock changes.
GRAFANA_TYPES := tests/grafana-schema/node_modules/.installed

.PHONY: demo test test-clock lint bench soak system-deps setup clean grafana-types compose-check

$(INSTALLED): pyproject.toml scripts/bootstrap.sh
	@scripts/bootstrap.sh $(VENV)

setup: $(INSTALLED) system-deps

system-deps:
	@scripts/system-deps.sh

$(GRAFANA_TYPES): tests/grafana-schema/package.json tests/grafana-schema/package-lock.json scripts/grafana-schema.sh
	@scripts/grafana-schema.sh tests/grafana-schema

grafana-types: $(GRAFANA_TYPES)

demo: setup
	$(VENV)/bin/gridwatch demo

lint: $(INSTALLED)
	$(VENV)/bin/ruff check exporter tests bench
	$(VENV)/bin/ruff format --check exporter tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict bench

# Two workers: most integration tests wait on peers, so the 2-core machines CI uses finish in
# about half the time (README → Suite time). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: setup lint grafana-types
	$(PY) -m pytest --cov --cov-report=term -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The clock-sensitive tests at several fixed instants (README → Development). Not in CI.
test-clock: setup
	scripts/test-clock.sh $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench

# Not in CI: an hour of faults against the full household (bench/README.md).
# Shorter: make soak SOAK_MINUTES=5 SOAK_ARGS='--fault-every 60'
SOAK_MINUTES ?= 60
soak: setup
	$(PY) -m bench.soak --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

# Docker Compose >= 2.24 reads docker-compose.yml; older ones (Debian 12's 1.29) do not.
compose-check:
	@scripts/check-compose.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis tests/grafana-schema/node_modules
