#!/usr/bin/env bash
# Create the virtual environment with Python 3.12+ and install gridwatch with its dev tools.
set -euo pipefail
venv=${1:-.venv}

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local candidate
  # A pyenv shim named python3.12 can exist without working, so each candidate is run, not just found.
  for candidate in "${PYTHON:-}" python3.12 python3.13 python3; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.12*/bin/python3.12 "$(pyenv root)"/versions/3.13*/bin/python3.13; do
      if [ -x "$candidate" ] && python_ok "$candidate"; then echo "$candidate"; return 0; fi
    done
  fi
  return 1
}

if [ ! -x "$venv/bin/python" ] || ! python_ok "$venv/bin/python"; then
  if ! python=$(find_python); then
    echo "gridwatch needs Python 3.12 or newer (aiobmsble and python-homewizard-energy require it)." >&2
    echo "None found: tried \$PYTHON, python3.12, python3.13, python3 and pyenv's versions/3.12*." >&2
    echo "Install it (e.g. 'apt-get install python3.12' or 'pyenv install 3.12') and run make again." >&2
    exit 1
  fi
  echo "Creating $venv with $python ($("$python" --version))"
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# Tuya local-protocol mock for the tests and the demo. It pins tinytuya==1.18.1 exactly, so it is
# installed without its dependencies next to our tinytuya 1.20 (it imports only tinytuya).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps tuyamock==0.0.6
touch "$venv/.installed"
