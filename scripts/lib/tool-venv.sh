# Sourced by the tool installers (scripts/api-tools.sh, scripts/deploy-tools.sh), which define
# `say` and `fail`: a virtual environment holding pinned Python tools, installed idempotently.
#   tool_venv <venv dir> <requirement>...
# A stamp of the requirements and the interpreter's version makes a second run return at once.
tool_venv() {
  local venv=$1 py=${PYTHON:-} candidate want stamp
  shift
  if [ -z "$py" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null; then py=$candidate; break; fi
    done
  fi
  [ -n "$py" ] || fail "Python >= 3.10 is required (python3.11 or python3 not found on PATH)"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || fail "Python >= 3.10 is required, found $("$py" --version 2>&1)"
  stamp="$venv/.nightjar-stamp"
  want=$(printf '%s\n' "$@" "$("$py" --version 2>&1)" | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing $* into ${venv#"$PWD"/}"
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
    echo "$want" > "$stamp"
  else
    say "$* up to date"
  fi
}
