#!/bin/sh
# The database container: on a new volume, make the cluster, the masterfile
# database with pg_cron and plpython3u, and the authenticator role with its
# password; then, at every start, take the image's settings and run postgres.
#
#   POSTGRES_PASSWORD         the superuser's (required on a new volume)
#   MASTERFILE_APP_PASSWORD   the authenticator's (masterfile_app), which
#                             tenant sessions log in as (required on a new volume)
#   PGPORT                    default 5432
#   LISTEN_ADDRESSES          default '*' (the test, on the host's network: 127.0.0.1)
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
port=${PGPORT:-5432}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD for a new database volume}"
  : "${MASTERFILE_APP_PASSWORD:?set MASTERFILE_APP_PASSWORD for a new database volume}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  cat >>"$PGDATA/postgresql.conf" <<CONF

# --- masterfile: the shared settings, then this server's own ---
include 'masterfile.conf'
CONF
  # the socket and loopback are the container's own (pg_cron's jobs come in
  # over loopback as the pipeline roles, which have no password); anything
  # from outside the container needs a password
  cat >"$PGDATA/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
host  all all all scram-sha-256
HBA
  cp /etc/masterfile/masterfile.conf "$PGDATA/masterfile.conf"
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p $port" start >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -p "$port" -U postgres -d postgres -v app_password="$MASTERFILE_APP_PASSWORD" <<'SQL'
CREATE DATABASE masterfile;
\connect masterfile
CREATE EXTENSION pg_cron;
CREATE EXTENSION plpython3u;
-- `pyloader migrate` gives it its attributes and grants; the password is set here only
CREATE ROLE masterfile_app LOGIN NOINHERIT PASSWORD :'app_password';
SQL
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "masterfile-db: new cluster made in $PGDATA"
fi

# the image's settings win at every start (a newer image brings its own)
cp /etc/masterfile/masterfile.conf "$PGDATA/masterfile.conf"
exec postgres -D "$PGDATA" -p "$port" -c listen_addresses="${LISTEN_ADDRESSES:-*}"
