#!/usr/bin/env bash
# Provides the PostgreSQL that the reporting store (and its integration tests) use: a dedicated
# Debian cluster `nightjar` on port 55432, with role and database `nightjar`. Installs Debian's
# server packages when they are missing. Idempotent and cheap to re-run; the connection URL is
# the last line on stdout, everything else goes to stderr:
#
#   export NIGHTJAR_TEST_PG_URL="$(bash scripts/postgres.sh | tail -n 1)"
set -euo pipefail

readonly CLUSTER=nightjar
readonly PORT=55432
readonly ROLE=nightjar
readonly PASSWORD=nightjar
readonly DATABASE=nightjar
readonly URL="postgres://${ROLE}:${PASSWORD}@127.0.0.1:${PORT}/${DATABASE}"
readonly WAIT_SECONDS=30

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# Runs a command as the cluster owner (peer authentication over the local socket).
as_postgres() {
  if [[ "$(id -un)" == postgres ]]; then
    "$@"
  elif [[ $EUID -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    sudo -n -u postgres -- "$@"
  fi
}

server_installed() {
  command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

install_server() {
  [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; run this script as root to install it"
  # shellcheck source=lib/apt-install.sh
  . "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
  apt_install postgresql
}

# The major version that holds the `nightjar` cluster, if it exists.
cluster_version() {
  pg_lsclusters --no-header 2>/dev/null | awk -v c="$CLUSTER" '$2 == c { print $1; exit }'
}

newest_server_version() {
  local server dir
  for server in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x "$server" ]] || continue
    dir=${server%/bin/postgres}
    echo "${dir##*/}"
  done | sort -V | tail -n 1
}

accepting_connections() {
  pg_isready -q -h 127.0.0.1 -p "$PORT" -d "$DATABASE" >/dev/null 2>&1
}

wait_until_ready() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until accepting_connections; do
    ((SECONDS < deadline)) || die "cluster $1/$CLUSTER is not accepting connections on port $PORT after ${WAIT_SECONDS}s (see /var/log/postgresql/postgresql-$1-$CLUSTER.log)"
    sleep 0.2
  done
}

psql_admin() {
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres -At "$@"
}

if ! server_installed; then
  install_server
  server_installed || die "postgresql was installed but pg_ctlcluster or the server binaries are still missing"
fi

version=$(cluster_version)
if [[ -z "$version" ]]; then
  version=$(newest_server_version)
  [[ -n "$version" ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
  log "creating cluster $version/$CLUSTER on port $PORT"
  pg_createcluster --port "$PORT" --locale C.UTF-8 --encoding UTF8 "$version" "$CLUSTER" >&2
fi

if ! pg_ctlcluster "$version" "$CLUSTER" status >/dev/null 2>&1; then
  log "starting cluster $version/$CLUSTER"
  pg_ctlcluster "$version" "$CLUSTER" start >&2
fi
wait_until_ready "$version"

if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]]; then
  log "creating role $ROLE"
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi
# The reliability tests give every run a database of its own.
if [[ "$(psql_admin -c "SELECT rolcreatedb FROM pg_roles WHERE rolname = '$ROLE'")" != t ]]; then
  log "letting $ROLE create databases"
  psql_admin -c "ALTER ROLE $ROLE CREATEDB"
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]]; then
  log "creating database $DATABASE"
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE"
fi

# Proves the URL itself works (password authentication over TCP), not just the socket.
PGCONNECT_TIMEOUT=5 psql -X -q -At -d "$URL" -c 'SELECT 1' >/dev/null \
  || die "cannot connect as $ROLE to $URL"

echo "$URL"
