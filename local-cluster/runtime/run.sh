#!/usr/bin/env bash
# The local container runtime for the local plane's nodes (demo and test support).
#   bash local-cluster/runtime/run.sh start   compiles, starts it in the background (idempotent),
#                                              last line: the state directory (logs under logs/<ns>/<pod>/)
#   bash local-cluster/runtime/run.sh stop    stops it: every pod process it started is killed
#   bash local-cluster/runtime/run.sh status
# Needs the plane (scripts/k8s.sh up) and the checkout's .venv (scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=${NIGHTJAR_RUNTIME_STATE:-$PWD/.cache/local-runtime}
PIDFILE=$STATE/runtime.pid
say() { printf 'local-runtime: %s\n' "$*" >&2; }
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2> /dev/null; }

start() {
  mkdir -p "$STATE"
  exec 9> "$STATE/start.lock"
  flock 9
  if running; then say "already running (pid $(cat "$PIDFILE"))"; echo "$STATE"; return; fi
  local kubeconfig
  kubeconfig=$(bash scripts/k8s.sh status 2> /dev/null | tail -n1) || { say "the local plane is not running (bash scripts/k8s.sh up)"; exit 1; }
  npx tsc -p local-cluster/runtime/tsconfig.json
  : > "$STATE/runtime.out"
  # Without the lock's descriptor (9>&-): a runtime that kept it would hold the lock for its whole
  # life, and the next start would wait on it forever instead of finding it running.
  setsid node .cache/local-runtime-build/main.js --kubeconfig "$kubeconfig" --checkout "$PWD" --state-dir "$STATE" \
    >> "$STATE/runtime.out" 2> "$STATE/runtime.log" < /dev/null 9>&- &
  echo $! > "$PIDFILE"
  local i
  for i in $(seq 1 100); do
    if grep -q '^ready ' "$STATE/runtime.out"; then say "$(grep '^ready ' "$STATE/runtime.out")"; echo "$STATE"; return; fi
    running || { say "it exited:"; cat "$STATE/runtime.log" >&2; exit 1; }
    sleep 0.2
  done
  say "not ready after 20 s; see $STATE/runtime.log"; exit 1
}

stop() {
  running || { rm -f "$PIDFILE"; return 0; }
  local pid i
  pid=$(cat "$PIDFILE")
  kill -TERM "$pid"
  for i in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2> /dev/null && kill -KILL "$pid"
  rm -f "$PIDFILE"
  # A runtime killed outright cannot kill its pods: whatever is still in its memory groups goes now.
  local group
  for group in /sys/fs/cgroup/memory/nightjar-local-runtime/local/*/; do
    [ -f "$group/cgroup.procs" ] || continue
    xargs -r kill -KILL < "$group/cgroup.procs" 2> /dev/null || true
    rmdir "$group" 2> /dev/null || true
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then say "running"; echo "$STATE"; else say "not running"; exit 3; fi ;;
  *) echo "usage: bash local-cluster/runtime/run.sh start|stop|status" >&2; exit 2 ;;
esac
