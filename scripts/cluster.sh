#!/usr/bin/env bash
# The project-local PostgreSQL 15 cluster: data and log under .pg/ in the
# repository, TCP on 127.0.0.1 only (no Unix socket: socket paths are limited
# to 107 bytes and clones live in arbitrary folders), its own port, run as the
# `postgres` OS user because PostgreSQL refuses to run as root.
#
#   scripts/cluster.sh start   start if not running; prints DATABASE_URL last
#   scripts/cluster.sh stop
#   scripts/cluster.sh status
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
port=${MASTERFILE_PGPORT:-54329}
dbname=${MASTERFILE_DB:-masterfile}
pgroot="$repo/.pg"
pgdata="$pgroot/data"
pglog="$pgroot/postgresql.log"
bindir=/usr/lib/postgresql/15/bin
url="postgresql://postgres@127.0.0.1:$port/$dbname"

die() { echo "cluster: $*" >&2; exit 1; }

as_pg() { runuser -u postgres -- "$@"; }
if [ "$(id -u)" -ne 0 ]; then
  [ "$(id -un)" = postgres ] || as_pg() { sudo -u postgres -- "$@"; }
  [ "$(id -un)" = postgres ] && as_pg() { "$@"; }
fi

port_taken() {
  # true when something accepts TCP connections on 127.0.0.1:$port
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

running() { [ -f "$pgdata/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; }

ensure_reachable() {
  # The postgres user must traverse every folder above the data directory;
  # a clone under a private folder would otherwise fail with a bare EACCES.
  local d="$repo"
  while [ "$d" != / ]; do
    if ! as_pg test -x "$d"; then
      echo "cluster: granting o+x on $d so the postgres user can reach $pgroot" >&2
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

# The shared settings (scripts/masterfile.conf) are copied into the data
# directory at every start, so a cluster made before a change gets it at its
# next start; a cluster made before the file existed gets the include line.
cluster_settings_upgrade() {
  local conf="$pgdata/postgresql.conf"
  install -o postgres -m 0644 "$repo/scripts/masterfile.conf" "$pgdata/masterfile.conf"
  if ! grep -q "^include 'masterfile.conf'" "$conf"; then
    printf "\n# --- masterfile: the shared settings, then this cluster's own ---\ninclude 'masterfile.conf'\nport = %s\ncron.database_name = '%s'\n" \
      "$port" "$dbname" >>"$conf"
  fi
  # a developer's cluster logs each pg_cron job's start and end: what the
  # tests that wait on the real scheduler show when they time out
  if ! grep -q "^cron.log_min_messages" "$conf"; then
    printf "cron.log_min_messages = 'log'\n" >>"$conf"
  fi
}

init_cluster() {
  mkdir -p "$pgroot"
  chown postgres: "$pgroot"
  as_pg "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$pgroot/initdb.log" 2>&1 || die "initdb failed, see $pgroot/initdb.log"
  cat >>"$pgdata/postgresql.conf" <<CONF

# --- masterfile: the shared settings, then this cluster's own ---
include 'masterfile.conf'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
cron.database_name = '$dbname'
cron.log_min_messages = 'log'
CONF
  # trust on loopback only: this cluster is a developer's, never reachable
  # from another machine (listen_addresses above).
  cat >"$pgdata/pg_hba.conf" <<HBA
host all all 127.0.0.1/32 trust
HBA
}

start() {
  "$repo/scripts/install-deps.sh"
  [ -x "$bindir/postgres" ] || die "PostgreSQL 15 server binaries not found in $bindir"
  ensure_reachable
  if running; then
    :
  else
    if port_taken; then
      die "port $port on 127.0.0.1 is taken by another process; stop it or set MASTERFILE_PGPORT"
    fi
    [ -f "$pgdata/PG_VERSION" ] || init_cluster
    cluster_settings_upgrade
    if [ -f "$pgdata/postmaster.pid" ]; then
      echo "cluster: removing stale $pgdata/postmaster.pid (no server is running)" >&2
      rm -f "$pgdata/postmaster.pid"
    fi
    as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pglog" -w -t 60 start >/dev/null \
      || die "the server did not start; last log lines:
$(tail -n 15 "$pglog" 2>/dev/null)"
  fi
  psql_admin() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
  if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" != 1 ]; then
    psql_admin -d postgres -c "CREATE DATABASE \"$dbname\""
  fi
  psql_admin -d "$dbname" -c "CREATE EXTENSION IF NOT EXISTS pg_cron" 2>/dev/null \
    || die "pg_cron could not be created in $dbname: is shared_preload_libraries set? see $pglog"
  echo "DATABASE_URL=$url"
}

stop() {
  if running; then as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null; fi
  echo "cluster: stopped"
}

status() {
  if running; then echo "cluster: running on 127.0.0.1:$port ($pgdata)"; echo "DATABASE_URL=$url";
  else echo "cluster: not running"; return 3; fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
