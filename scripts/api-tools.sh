#!/usr/bin/env bash
# Installs the tools that drive the trigger API as a third-party client would, idempotently:
#   schemathesis (pinned)   in its own virtual environment .cache/api-venv
# Progress goes to stderr; the LAST line on stdout is the schemathesis executable, so callers can
#   NIGHTJAR_SCHEMATHESIS=$(bash scripts/api-tools.sh | tail -n1)
# A second run checks the stamp only and returns in a second.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
say() { printf 'api-tools: %s\n' "$*" >&2; }
fail() { printf 'api-tools: ERROR: %s\n' "$*" >&2; exit 1; }

PY_TOOLS=(schemathesis==4.32.5)
VENV="$ROOT/.cache/api-venv"

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null; then PY=$candidate; break; fi
  done
fi
[ -n "$PY" ] || fail "Python >= 3.10 is required (python3.11 or python3 not found on PATH)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || fail "Python >= 3.10 is required, found $("$PY" --version 2>&1)"

STAMP="$VENV/.nightjar-stamp"
want=$(printf '%s\n' "${PY_TOOLS[@]}" "$("$PY" --version 2>&1)" | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  say "installing ${PY_TOOLS[*]} into .cache/api-venv"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_TOOLS[@]}" >&2
  echo "$want" > "$STAMP"
else
  say "schemathesis up to date"
fi
[ -x "$VENV/bin/st" ] || fail "$VENV/bin/st is missing after install; delete .cache/api-venv and run again"
echo "$VENV/bin/st"
