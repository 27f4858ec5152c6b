#!/usr/bin/env bash
# Install the system programs gridwatch runs beside it: Prometheus, Alertmanager (and promtool,
# amtool), dbus-daemon (fake BlueZ in tests and the demo), chromium (the live page's
# browser tests) and VictoriaMetrics (victoria-metrics, vmauth, vmagent, vmalert: the fleet's
# central side, docs/fleet.md; 1.79 or later). Only as root; otherwise explain.
set -uo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
{ command -v prometheus-alertmanager || command -v alertmanager; } >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
for program in victoria-metrics vmauth vmagent vmalert; do
  command -v "$program" >/dev/null 2>&1 || { missing+=(victoria-metrics); break; }
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Note: ${missing[*]} not installed and not running as root, so not installing them." >&2
  echo "      Run: sudo apt-get install -y ${missing[*]}" >&2
  echo "      Without them the demo runs without Prometheus and tests that need them are skipped." >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Note: ${missing[*]} missing and apt-get is not available; install them with your package manager." >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 0
fi
echo "Installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "apt-get could not install ${missing[*]}" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
exit 0
