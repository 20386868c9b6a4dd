# Sourced by the installers of Debian packages (scripts/chromium.sh, scripts/postgres.sh), which
# define `log`: installs one package as root, non-interactively.
#   apt_install <package>
# The package index is refreshed only when it cannot serve the install (no candidate at all), and
# once more when the install fails (a stale index whose files are gone from the mirror).
apt_install() {
  local package=$1
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    log "refreshing the package index"
    apt-get update -qq >&2
  fi
  log "installing $package"
  if ! apt-get install -y -qq --no-install-recommends "$package" >&2; then
    log "install failed; refreshing the package index and retrying"
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "$package" >&2
  fi
}
