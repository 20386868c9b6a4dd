# Sourced by the installers (scripts/bootstrap.sh, scripts/api-tools.sh, scripts/deploy-tools.sh),
# which define `say` and `fail`.
#
# Slow tool builds live outside the clone, shared by every clone on the machine, so a fresh clone's
# test run does not install them again: NIGHTJAR_TOOLS_CACHE, default /var/cache/nightjar/tools as
# root, else ~/.cache/nightjar/tools. Each build is keyed by what it was built from (versions,
# interpreter) and made under a lock, so clones testing at once share it safely; a build whose
# key changes is made anew beside the old one.
. "$(dirname "${BASH_SOURCE[0]}")/machine-cache.sh"
tools_cache() {
  local cache
  cache=$(machine_cache tools "${NIGHTJAR_TOOLS_CACHE:-}")
  mkdir -p "$cache" || fail "cannot create the tools cache $cache (set NIGHTJAR_TOOLS_CACHE)"
  echo "$cache"
}

# Points <link> (a path in the clone) at <target>: a symbolic link, replacing a directory that an
# older checkout kept there.
link_into_clone() {
  local target=$1 link=$2
  if [ -e "$link" ] && [ ! -L "$link" ]; then rm -rf "$link"; fi
  mkdir -p "$(dirname "$link")"
  ln -sfn "$target" "$link"
}

#   tool_venv <link in the clone> <requirement>...
# A virtual environment holding pinned Python tools, in the tools cache (keyed by the requirements
# and the interpreter's version), linked from <link>. A stamp written after the install makes a
# second run return at once; an install that was interrupted is made again from scratch.
tool_venv() {
  local link=$1 py=${PYTHON:-} candidate want cache venv name
  shift
  if [ -z "$py" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null; then py=$candidate; break; fi
    done
  fi
  [ -n "$py" ] || fail "Python >= 3.10 is required (python3.11 or python3 not found on PATH)"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || fail "Python >= 3.10 is required, found $("$py" --version 2>&1)"
  want=$(printf '%s\n' "$@" "$("$py" --version 2>&1)" | sha256sum | cut -c1-16)
  cache=$(tools_cache)
  name=$(basename "$link")
  venv="$cache/${name#.}-$want"
  (
    flock 9
    if [ "$(cat "$venv/.nightjar-stamp" 2>/dev/null)" != "$want" ]; then
      say "installing $* into $venv"
      rm -rf "$venv"
      "$py" -m venv "$venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
      echo "$want" > "$venv/.nightjar-stamp"
    else
      say "$* up to date ($venv)"
    fi
  ) 9> "$venv.lock"
  link_into_clone "$venv" "$link"
}
