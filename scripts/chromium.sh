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
  # shellcheck source=lib/apt-install.sh
  . "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
  apt_install chromium
fi
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM is still missing after the install"
log "$("$CHROMIUM" --version 2>/dev/null | head -n 1)"
echo "$CHROMIUM"
