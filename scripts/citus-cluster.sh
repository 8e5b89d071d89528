#!/usr/bin/env bash
# A local Citus cluster for `make test-citus`: a coordinator and two workers,
# each a PostgreSQL 15 cluster run as the `postgres` OS user, TCP on
# 127.0.0.1 only, with the project's shared settings (scripts/masterfile.conf)
# and Citus preloaded before pg_cron. It uses a Citus that is already
# installed into PostgreSQL 15 (docs/scale-out.md says how to get one); it
# never builds or installs Citus itself.
#
#   scripts/citus-cluster.sh start    start if not running; prints DATABASE_URL last
#   scripts/citus-cluster.sh stop
#   scripts/citus-cluster.sh status
#   scripts/citus-cluster.sh check    exit 0 when Citus is installed, else print why and exit 3
#
# MASTERFILE_CITUS_DATA (default .pg-citus/ in the repository) holds the three
# data directories coord/, w1/, w2/; MASTERFILE_CITUS_PORT (default 55440) is
# the coordinator's port, the workers take the next two.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${MASTERFILE_CITUS_DATA:-$repo/.pg-citus}
base_port=${MASTERFILE_CITUS_PORT:-55440}
dbname=${MASTERFILE_DB:-masterfile}
bindir=/usr/lib/postgresql/15/bin
nodes=(coord w1 w2)
url="postgresql://postgres@127.0.0.1:$base_port/$dbname"

die() { echo "citus-cluster: $*" >&2; exit 1; }

as_pg() { runuser -u postgres -- "$@"; }
if [ "$(id -u)" -ne 0 ]; then
  [ "$(id -un)" = postgres ] || as_pg() { sudo -u postgres -- "$@"; }
  [ "$(id -un)" = postgres ] && as_pg() { "$@"; }
fi

port_of() { # node index -> port
  echo $((base_port + $1))
}

# Citus is usable when PostgreSQL 15 has its control file and its library
citus_missing() {
  local share lib
  share=$("$bindir/pg_config" --sharedir 2>/dev/null) || { echo "PostgreSQL 15 (pg_config in $bindir) is not installed"; return 0; }
  lib=$("$bindir/pg_config" --pkglibdir)
  [ -f "$share/extension/citus.control" ] || { echo "Citus is not installed for PostgreSQL 15 (no $share/extension/citus.control)"; return 0; }
  [ -f "$lib/citus.so" ] || { echo "Citus is not installed for PostgreSQL 15 (no $lib/citus.so)"; return 0; }
  return 1
}

running() { # data directory
  [ -f "$1/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$1" status >/dev/null 2>&1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

psql_at() { # port, database, psql arguments...
  local port=$1 db=$2; shift 2
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

ensure_reachable() {
  # the postgres user must traverse every folder above the data directories
  local d=$root
  while [ "$d" != / ]; do
    if [ -d "$d" ] && ! as_pg test -x "$d"; then
      echo "citus-cluster: granting o+x on $d so the postgres user can reach $root" >&2
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

init_node() { # data directory, port
  local data=$1 port=$2
  as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$data.initdb.log" 2>&1 || die "initdb failed, see $data.initdb.log"
  # trust on loopback only: the nodes talk to each other as postgres and as
  # the tenants' roles, none of which has a password here
  printf 'host all all 127.0.0.1/32 trust\n' >"$data/pg_hba.conf"
  chown postgres: "$data/pg_hba.conf"
}

# the settings are rewritten at every start, as scripts/cluster.sh does, so a
# cluster made before a change gets it
node_settings() { # data directory, port
  local data=$1 port=$2
  install -o postgres -m 0644 "$repo/scripts/masterfile.conf" "$data/masterfile.conf"
  cat >"$data/citus.conf" <<CONF
# written by scripts/citus-cluster.sh at every start
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
# Citus must be the first preloaded library
shared_preload_libraries = 'citus,pg_cron'
cron.database_name = '$dbname'
# a Citus maintenance daemon per database that has the extension, beside
# pg_cron's jobs and the tests' clones
max_worker_processes = 64
# the nodes open connections to each other for every distributed statement
max_connections = 300
# logical replication moves tenants (citus_schema_move)
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
# docs/scale-out.md: jit per node, functions' SET jit does not reach workers
jit = off
# docs/scale-out.md: the tenants' tables carry triggers
citus.enable_unsafe_triggers = on
CONF
  chown postgres: "$data/citus.conf"
  local conf="$data/postgresql.conf"
  if ! grep -q "^include 'citus.conf'" "$conf"; then
    printf "\n# --- masterfile: the shared settings, then this node's own ---\ninclude 'masterfile.conf'\ninclude 'citus.conf'\n" >>"$conf"
  fi
}

# The nodes' ports lie in Linux's ephemeral range (32768-60999): a client
# connection that drew one as its own port leaves it in TIME-WAIT for a
# minute after it closes, and the node then cannot bind it ("Address
# already in use"). Wait that out, then give up.
start_node() {
  local tries
  for tries in 1 2 3 4 5 6 7 8; do
    as_pg "$bindir/pg_ctl" -D "$1" -l "$1.log" -w -t 60 start >/dev/null && return 0
    tail -n 5 "$1.log" 2>/dev/null | grep -q "Address already in use" || return 1
    echo "citus-cluster: port of $1 still held by a closed connection (TIME-WAIT); retrying in 10 s" >&2
    sleep 10
  done
  return 1
}

start() {
  local why
  if why=$(citus_missing); then die "$why"; fi
  mkdir -p "$root"
  chown postgres: "$root"
  ensure_reachable
  local i data port
  for i in 0 1 2; do
    data="$root/${nodes[$i]}"; port=$(port_of "$i")
    running "$data" && continue
    port_taken "$port" && die "port $port on 127.0.0.1 is taken by another process; set MASTERFILE_CITUS_PORT"
    [ -f "$data/PG_VERSION" ] || init_node "$data" "$port"
    node_settings "$data" "$port"
    rm -f "$data/postmaster.pid"
    start_node "$data" || die "node ${nodes[$i]} did not start; last log lines:
$(tail -n 15 "$data.log" 2>/dev/null)"
  done
  # the masterfile database on every node, Citus and pg_cron in each (pg_cron
  # runs its jobs on the coordinator; the workers have it so that the nodes
  # have the same extensions)
  for i in 0 1 2; do
    port=$(port_of "$i")
    if [ "$(psql_at "$port" postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" != 1 ]; then
      psql_at "$port" postgres -c "CREATE DATABASE \"$dbname\""
    fi
    # only when missing: a worker that has the coordinator's metadata
    # refuses even a CREATE EXTENSION IF NOT EXISTS that would do nothing
    for ext in citus pg_cron; do
      if [ "$(psql_at "$port" "$dbname" -tAc "SELECT 1 FROM pg_extension WHERE extname = '$ext'")" != 1 ]; then
        psql_at "$port" "$dbname" -c "CREATE EXTENSION $ext"
      fi
    done
  done
  # the coordinator knows itself and both workers (idempotent)
  psql_at "$base_port" "$dbname" -c "SELECT citus_set_coordinator_host('127.0.0.1', $base_port)" >/dev/null
  for i in 1 2; do
    psql_at "$base_port" "$dbname" -c "SELECT citus_add_node('127.0.0.1', $(port_of "$i"))" >/dev/null
  done
  echo "DATABASE_URL=$url"
}

stop() {
  local i data
  for i in 2 1 0; do
    data="$root/${nodes[$i]}"
    if running "$data"; then as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
  done
  echo "citus-cluster: stopped"
}

status() {
  local i data rc=0
  for i in 0 1 2; do
    data="$root/${nodes[$i]}"
    if running "$data"; then echo "citus-cluster: ${nodes[$i]} running on 127.0.0.1:$(port_of "$i")";
    else echo "citus-cluster: ${nodes[$i]} not running"; rc=3; fi
  done
  [ $rc -eq 0 ] && echo "DATABASE_URL=$url"
  return $rc
}

check() {
  local why
  if why=$(citus_missing); then echo "$why"; return 3; fi
  echo "citus-cluster: Citus is installed for PostgreSQL 15"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  check) check ;;
  *) die "usage: $0 start|stop|status|check" ;;
esac
