#!/usr/bin/env bash
# `make docker-test`: both images built from a locally made Debian base, the
# system of docker/compose.test.yaml run end to end (migrated, the DEMO
# tenant loaded from the fake ERP and computed by the worker, a
# recommendation read back through a tenant session, the worker's metrics
# scraped), then everything it started stopped.
#
# Docker is Debian's (docker.io, docker-compose 1.29), installed here when
# missing. The script starts a daemon of its own (its socket, state and data
# under /run/masterfile-docker and /var/lib/masterfile-docker) with no bridge
# and no firewall rules, and stops it at the end: no daemon, interface or
# rule is left behind; the images stay cached in its data directory.
set -euo pipefail
cd "$(dirname "$0")/.."

state=/run/masterfile-docker
data=/var/lib/masterfile-docker
export DOCKER_HOST="unix://$state/docker.sock"
docker=/usr/bin/docker  # Debian's client, matching its daemon
compose=(docker-compose -f docker/compose.test.yaml -p masterfile-test)
mirror=http://deb.debian.org/debian
say() { echo "docker-test: $*" >&2; }

if [ ! -x /usr/sbin/dockerd ] || ! command -v docker-compose >/dev/null || ! command -v mmdebstrap >/dev/null; then
  say "installing docker.io, docker-compose and mmdebstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose mmdebstrap >/dev/null
fi

dockerd_pid=""
cleanup() {
  local rc=$?
  if [ -n "$dockerd_pid" ]; then
    "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$dockerd_pid" 2>/dev/null; then kill -9 "$dockerd_pid" 2>/dev/null || true; fi
    # what the daemon leaves in /run: its network namespace mount and empty folders
    if mountpoint -q "$state/exec/netns/default" 2>/dev/null; then umount "$state/exec/netns/default" || true; fi
    rm -rf "$state"
    rmdir /run/docker/plugins /run/docker /run/containerd/s /run/containerd 2>/dev/null || true
    if ip -br link 2>/dev/null | grep -qE '^(docker|veth|br-)'; then
      say "an interface of docker's is left: $(ip -br link | grep -E '^(docker|veth|br-)')"; rc=1
    fi
    if command -v iptables >/dev/null && iptables -S 2>/dev/null | grep -qi docker; then
      say "a firewall rule of docker's is left"; rc=1
    fi
    say "daemon stopped"
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

mkdir -p "$state" "$data"
# a daemon an earlier, interrupted run of this script left (its pid file): stop it first
if [ -f "$state/dockerd.pid" ] && old=$(cat "$state/dockerd.pid") && [ -n "$old" ] \
   && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = dockerd ]; then
  say "stopping the daemon an earlier run left (pid $old)"
  kill "$old"
  for _ in $(seq 60); do kill -0 "$old" 2>/dev/null || break; sleep 0.5; done
fi
rm -f "$state/docker.sock"
dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  -H "$DOCKER_HOST" --data-root "$data" --exec-root "$state/exec" --pidfile "$state/dockerd.pid" \
  >"$state/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 60); do "$docker" info >/dev/null 2>&1 && break; sleep 0.5; done
"$docker" info >/dev/null 2>&1 || { say "dockerd did not start:"; tail -n 20 "$state/dockerd.log" >&2; exit 1; }

if ! "$docker" image inspect debian:bookworm >/dev/null 2>&1; then
  say "making the debian:bookworm base image from $mirror"
  mmdebstrap --quiet --variant=apt bookworm - "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" | "$docker" import - debian:bookworm >/dev/null
fi

# the published file (bridge networking) is not run here, but must be valid
docker-compose -f docker/compose.yaml config -q

say "making the wheels, then building the images"
make -s docker-wheels
"$docker" build -q --network=host -t masterfile-postgres:15 -f docker/db.Dockerfile . >/dev/null
"$docker" build -q --network=host -t masterfile-app -f docker/app.Dockerfile . >/dev/null

say "starting the system"
"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
"${compose[@]}" up -d >/dev/null 2>&1 || { "${compose[@]}" logs --tail=40 >&2; exit 1; }

psql_demo() {  # as the authenticator, switched to the tenant's reader role: a tenant session
  "${compose[@]}" exec -T db psql -X -qtA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 54350 -U masterfile_app -d masterfile \
    -c "SET ROLE t_demo" -c "$1"
}
demo_status() { "$docker" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$("${compose[@]}" ps -q demo)"; }

say "waiting for the DEMO tenant to load"
for _ in $(seq 300); do
  st=$(demo_status 2>/dev/null || echo "missing 0")
  case "$st" in exited\ 0) break ;; exited\ *) break ;; esac
  sleep 1
done
if [ "$st" != "exited 0" ]; then
  say "the demo load did not succeed ($st)"; "${compose[@]}" logs --tail=60 >&2; exit 1
fi

say "waiting for the worker to compute it"
computed=""
for _ in $(seq 300); do
  if [ "$(psql_demo "SELECT (SELECT queued_marks FROM queue_status) = 0 AND (SELECT count(*) FROM recommendations) > 0" \
          2>/dev/null || true)" = t ]; then computed=1; break; fi
  sleep 1
done
if [ -z "$computed" ]; then say "the worker did not compute DEMO"; "${compose[@]}" logs --tail=60 >&2; exit 1; fi

rec=$(psql_demo "SELECT product_id || ' ' || location_id || ' ' || recommended_qty FROM recommendations
                  WHERE recommended_qty IS NOT NULL ORDER BY product_id, location_id LIMIT 1")
[ -n "$rec" ] || { say "no recommendation to read back"; exit 1; }
say "recommendation read back: $rec"
runs=$(psql_demo "SELECT count(*) FROM runs WHERE status = 'succeeded' AND trigger LIKE 'worker%'")
[ "$runs" -gt 0 ] || { say "no run of the worker recorded"; exit 1; }

metrics=$("${compose[@]}" exec -T worker python3 -c \
  "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:54352/metrics').read().decode())")
grep -q '^masterfile_queue_depth{tenant="DEMO"} 0.0' <<<"$metrics" \
  || { say "metrics do not show DEMO's empty queue"; exit 1; }
say "metrics scraped: $(grep -c '^masterfile_' <<<"$metrics") samples"
say "passed"
