#!/usr/bin/env bash
# `make test-clock`: run the clock-sensitive tests (marker "clock") at several fixed instants —
# mornings and afternoons around the 13:00 CET price publication, a Saturday, the last minutes of
# a month, midnight in Kyiv and both DST changes. Each instant is given to the tests' injected
# clocks (GRIDWATCH_TEST_AT) and, through libfaketime, to every process of the run, so a test or
# module that still read the machine's clock fails here. Prometheus and Alertmanager are static
# Go binaries and keep the real time; panels and rules query instants, so that is fine.
#
#   scripts/test-clock.sh [pytest args…]     e.g. scripts/test-clock.sh -m "clock or not clock"
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

INSTANTS=(
  "2026-01-14T06:00:00+01:00"  # weekday morning: tomorrow's prices not yet published
  "2026-01-14T13:05:00+01:00"  # weekday afternoon: published; effektavgift window
  "2026-01-17T10:00:00+01:00"  # Saturday
  "2026-01-14T22:59:00+01:00"  # midnight in Kyiv (23:59 EET)
  "2026-01-31T23:58:00+01:00"  # the last minutes of a month (and of a Saturday)
  "2025-10-26T02:30:00+02:00"  # autumn DST day, the first 02:30
  "2025-10-26T02:30:00+01:00"  # autumn DST day, the repeated 02:30
  "2026-03-29T01:59:00+01:00"  # spring DST day, a minute before 02:00 becomes 03:00
  "2026-07-15T13:05:00+02:00"  # summer weekday: outside the effektavgift months
)

lib=""
for candidate in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
  [ -e "$candidate" ] && lib=$candidate && break
done
if [ -z "$lib" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing faketime with apt-get (moves the whole process clock)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; }
  for candidate in /usr/lib/*/faketime/libfaketime.so.1; do [ -e "$candidate" ] && lib=$candidate; done
fi
[ -z "$lib" ] && echo "Note: libfaketime not installed (apt-get install faketime): only the" \
  "tests' injected clocks move, the machine's clock stays." >&2

args=("$@")
[ ${#args[@]} -eq 0 ] && args=(-m clock)
failed=()
for at in "${INSTANTS[@]}"; do
  echo "=== $at ==="
  env_args=(GRIDWATCH_TEST_AT="$at")
  if [ -n "$lib" ]; then
    # An offset rather than a start time: every process of the run shares one moving clock.
    offset=$(( $(date -d "$at" +%s) - $(date +%s) ))
    env_args+=(LD_PRELOAD="$lib" FAKETIME="$offset" FAKETIME_NO_CACHE=1)
  fi
  if ! env "${env_args[@]}" "$PY" -m pytest -q -p no:cacheprovider "${args[@]}"; then
    failed+=("$at")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-clock: failed at ${failed[*]}" >&2
  exit 1
fi
echo "test-clock: passed at all ${#INSTANTS[@]} instants"
