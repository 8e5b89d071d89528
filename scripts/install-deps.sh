#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those that are missing,
# so that `make db` on a fresh Debian 12 machine needs no manual step and a
# second run costs one dpkg query.
set -euo pipefail

packages=(
  postgresql-15 postgresql-contrib
  postgresql-plpython3-15 postgresql-15-cron postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl
  python3-numpy python3-venv
  postgresql-server-dev-15 gcc make libc6-dev
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
