#!/usr/bin/env sh
# Install the services the test suite starts itself: PostgreSQL server binaries
# (tests/test_persistence_postgres.py runs initdb + pg_ctl from /usr/lib/postgresql/*/bin
# on a free loopback port; nothing is started or enabled system-wide here).
#
# Idempotent: does nothing when the binaries are already present. Needs root (or sudo)
# and a reachable Debian/Ubuntu package mirror; without them the Postgres tests skip
# with a message saying so.
set -eu

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "postgresql: already installed ($(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' '))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "postgresql: apt-get not available; install PostgreSQL server binaries by hand" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
$SUDO apt-get update -qq
# --no-install-recommends keeps it to the server, client and the cluster scripts.
$SUDO apt-get install -y -qq --no-install-recommends postgresql
# The Debian package creates and starts a default cluster on port 5432; the tests
# use their own, so stop the default one when a service manager started it.
if command -v pg_ctlcluster >/dev/null 2>&1; then
    for version in $(ls /usr/lib/postgresql); do
        $SUDO pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
    done
fi
echo "postgresql: installed in $(( $(date +%s) - start )) s"
