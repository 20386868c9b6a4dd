#!/usr/bin/env bash
# Provides the browser of the browser tests: Debian's `chromium`, driven by playwright-core (which
# cannot download browsers of its own here). Installs it when missing (as root); idempotent and
# cheap to re-run. The executable's path is the last line on stdout, everything else on stderr:
#
#   export NIGHTJAR_CHROMIUM="$(bash scripts/chromium.sh | tail -n 1)"
set -euo pipefail

readonly CHROMIUM=/usr/bin/chromium

log() { echo "chromium.sh: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ ! -x "$CHROMIUM" ]]; then
  [[ $EUID -eq 0 ]] || die "Chromium is not installed; run this script as root to install Debian's chromium (or: sudo apt-get install -y chromium)"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package index only when it cannot serve the install.
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    log "refreshing the package index"
    apt-get update -qq >&2
  fi
  log "installing chromium"
  if ! apt-get install -y -qq --no-install-recommends chromium >&2; then
    log "install failed; refreshing the package index and retrying"
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium >&2
  fi
fi
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM is still missing after the install"
log "$("$CHROMIUM" --version 2>/dev/null | head -n 1)"
echo "$CHROMIUM"
