#!/usr/bin/env bash
# Builds the master file's C kernel (ext/) against PostgreSQL 15 and installs
# it into the server's $libdir when the installed copy differs, so `make db`
# on a fresh machine needs no manual step and a second run installs nothing.
# Needs postgresql-server-dev-15 and gcc (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

pg_config=/usr/lib/postgresql/15/bin/pg_config
make -s -C ext PG_CONFIG="$pg_config"
libdir=$("$pg_config" --pkglibdir)
cmp -s ext/masterfile_kernel.so "$libdir/masterfile_kernel.so" && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-kernel: need root or sudo to write $libdir" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-kernel: installing masterfile_kernel.so into $libdir" >&2
$sudo make -s -C ext PG_CONFIG="$pg_config" install
