#!/usr/bin/env bash
# Installs the tools that drive the trigger API as a third-party client would, idempotently:
#   schemathesis (pinned)   in its own virtual environment, built once per machine in the tools
#                           cache outside the clone (scripts/lib/tool-venv.sh), linked as .cache/api-venv
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

. "$ROOT/scripts/lib/tool-venv.sh"
tool_venv "$VENV" "${PY_TOOLS[@]}"
[ -x "$VENV/bin/st" ] || fail "$VENV/bin/st is missing after install; delete $(readlink -f "$VENV") and run again"
echo "$VENV/bin/st"
