#!/usr/bin/env bash
# Install Grafana's TypeScript types (@grafana/schema, oldest and newest supported major) and tsc
# into tests/grafana-schema/ for the dashboard type check (tests/unit/test_dashboard_types.py).
# Exactly what package-lock.json says (npm ci). Without node/npm: a note and the test skips,
# except under CI=true, where that is an error.
set -uo pipefail
dir=${1:-tests/grafana-schema}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "node and npm are required in CI for the Grafana type check (apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "Note: node/npm not installed, so the dashboards are not type-checked against Grafana's" >&2
  echo "      types (tests/unit/test_dashboard_types.py skips). Install: apt-get install nodejs npm" >&2
  exit 0
fi
echo "Installing Grafana's dashboard types into $dir (npm ci)"
if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  echo "npm ci failed in $dir" >&2
  exit 1
fi
touch "$dir/node_modules/.installed"
