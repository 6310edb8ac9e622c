#!/usr/bin/env bash
# Throwaway PostgreSQL for tests and development (no /etc, no /var, no service).
#
#   scripts/pg.sh up      start a fresh cluster (initdb + pg_ctl), role/database "app"
#   scripts/pg.sh env     print shell exports for it:  eval "$(scripts/pg.sh env)"
#   scripts/pg.sh down    stop it and delete its directory
#   scripts/pg.sh status  exit 0 if it is running
#
# Settings (environment):
#   IVIG_PGDIR  directory for the cluster (data/, logs, socket). Default: one per
#               user and checkout under ${TMPDIR:-/tmp}. Its parents must be
#               traversable by the "postgres" OS user when run as root.
#   PGPORT      TCP port on 127.0.0.1. Default for "up": the first free port from 5433.
#               "env"/"down" read the port that "up" recorded.
#
# As root the server runs as the "postgres" OS user (runuser); otherwise as you.
# It listens on 127.0.0.1 only, keeps its socket in IVIG_PGDIR and runs with
# fsync off: for tests only, never for data you want to keep.
# Recipe: stack notes §4 (cold start to a ready database in under a second).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGDIR=${IVIG_PGDIR:-${TMPDIR:-/tmp}/ivig-pg-$(id -un)-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)}
DATA=$PGDIR/data

say() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

pgbin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$d" ] && [ -x "$d/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
    printf '%s\n' "$d"
}

# Run a PostgreSQL binary as the cluster owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (apt-get install postgresql)"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_free() {
    # true when nothing listens on 127.0.0.1:$1
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Delete $PGDIR, but only if it is empty or looks like one of ours.
wipe() {
    [ -e "$PGDIR" ] || return 0
    if [ -n "$(ls -A "$PGDIR")" ] && [ ! -f "$PGDIR/port" ] && [ ! -f "$DATA/PG_VERSION" ] \
        && [ ! -f "$PGDIR/initdb.log" ]; then
        die "refusing to delete $PGDIR: not a pg.sh cluster directory"
    fi
    rm -rf "$PGDIR"
}

recorded_port() {
    [ -f "$PGDIR/port" ] && cat "$PGDIR/port" || printf '%s\n' "${PGPORT:-5433}"
}

is_running() {
    [ -f "$DATA/postmaster.pid" ] && as_owner "$(pgbin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

cmd_up() {
    local bin port
    bin=$(pgbin)
    if is_running; then
        say "already running on 127.0.0.1:$(recorded_port) (data in $DATA)"
        return 0
    fi
    if [ -n "${PGPORT:-}" ]; then
        port=$PGPORT
        port_free "$port" || die "port $port on 127.0.0.1 is in use (unset PGPORT to pick a free one)"
    else
        port=5433
        while ! port_free "$port"; do
            port=$((port + 1))
            [ "$port" -lt 5533 ] || die "no free port in 5433-5532"
        done
    fi
    wipe
    mkdir -p "$PGDIR"
    chmod 0755 "$PGDIR"
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$PGDIR"
        # A root directory without o+x (a chroot unpacked into a `mktemp -d` folder, mode 0700)
        # lets no unprivileged user run anything, and PostgreSQL refuses to run as root. A real
        # Debian has / at 0755: restore that, and say so.
        if [ "$(( 0$(stat -c %a /) & 01 ))" = 0 ]; then
            say "WARNING: / is mode $(stat -c %a /): the postgres user cannot run any program;"
            say "         chmod o+x / (as on any Debian install) so the test cluster can start"
            chmod o+x /
        fi
        # the postgres user must be able to reach the directory
        runuser -u postgres -- test -x "$PGDIR" \
            || die "$PGDIR is not reachable by the postgres user (set IVIG_PGDIR under /tmp)"
    fi
    say "initdb ($("$bin/postgres" --version | awk '{print $3}')) in $DATA"
    as_owner "$bin/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$PGDIR/server.log" -w -t 30 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null || { tail -n 30 "$PGDIR/server.log" >&2 || true; die "pg_ctl start failed"; }
    printf '%s\n' "$port" >"$PGDIR/port"
    as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE app LOGIN CREATEDB PASSWORD 'app'" \
        -c "CREATE DATABASE app OWNER app" >/dev/null || die "could not create role/database app"
    say "up: postgres://app:app@127.0.0.1:$port/app (data in $DATA)"
}

cmd_down() {
    if is_running; then
        as_owner "$(pgbin)/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null \
            || say "WARNING: pg_ctl stop failed; see $PGDIR/server.log"
        say "stopped"
    fi
    wipe
}

cmd_env() {
    local port
    is_running || die "not running (scripts/pg.sh up first)"
    port=$(recorded_port)
    cat <<EOF
export DATABASE_URL=postgres://app:app@127.0.0.1:$port/app
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=app PGPASSWORD=app PGDATABASE=app
EOF
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    status)
        if is_running; then say "running on 127.0.0.1:$(recorded_port)"; else say "not running"; exit 1; fi ;;
    *) printf 'usage: %s up|down|env|status\n' "$0" >&2; exit 2 ;;
esac
