# Sourced by the scripts that keep slow builds outside the clone (scripts/k8s.sh, scripts/kafka.sh,
# scripts/lib/tool-venv.sh): where a machine-wide cache lives, shared by every clone on the machine.
#   machine_cache <name> <override>
# prints <override> when it is set (the NIGHTJAR_*_CACHE variable the caller documents), else
# /var/cache/nightjar/<name> as root, else $XDG_CACHE_HOME (~/.cache)/nightjar/<name>. It creates
# nothing: each caller makes its directory when it first writes there.
machine_cache() {
  local name=$1 override=${2:-}
  if [ -n "$override" ]; then echo "$override"
  elif [ "$(id -u)" = 0 ]; then echo "/var/cache/nightjar/$name"
  else echo "${XDG_CACHE_HOME:-$HOME/.cache}/nightjar/$name"; fi
}
