#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, on loopback with trust auth.
#
#   eval "$(bash .ci/postgres.sh)"     # install if missing, start, export ENSEMBLE_TEST_POSTGRES_URL
#   bash .ci/postgres.sh stop          # stop it and delete its data directory
#
# Idempotent: a second start finds the running server and prints the same URL. Only the
# export line goes to stdout (so `eval` is safe); progress goes to stderr.
# Settings: ENSEMBLE_PG_DIR (data, default /tmp/ensemble-pg), ENSEMBLE_PG_PORT (first port
# tried, default 54329), ENSEMBLE_PG_DB (default ensemble_test).
set -euo pipefail

DATA_DIR="$(realpath -m "${ENSEMBLE_PG_DIR:-/tmp/ensemble-pg}")"
FIRST_PORT="${ENSEMBLE_PG_PORT:-54329}"
DATABASE="${ENSEMBLE_PG_DB:-ensemble_test}"
SUPERUSER=postgres

say() { echo "postgres.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

find_bindir() {
    local initdb
    if initdb="$(command -v initdb 2>/dev/null)"; then
        dirname "$(readlink -f "$initdb")"
        return
    fi
    # Debian keeps the binaries off PATH, one folder per major version; take the newest.
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

install_postgres() {
    [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed and only root can apt-get it"
    say "installing PostgreSQL from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
}

# PostgreSQL refuses to run as root: as root, run the server as the `postgres` user (from /,
# since it may not be allowed into the current directory).
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

ensure_owner_account() {
    [[ "$(id -u)" == 0 ]] || return 0
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/false postgres
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_port() {
    # Line 4 of postmaster.pid is the port of a live server.
    if [[ -f "$DATA_DIR/postmaster.pid" ]] && as_owner "$BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
    then
        sed -n 4p "$DATA_DIR/postmaster.pid"
    fi
}

pick_port() {
    local port
    for ((port = FIRST_PORT; port < FIRST_PORT + 20; port++)); do
        if ! port_in_use "$port"; then
            echo "$port"
            return
        fi
    done
    die "no free port in $FIRST_PORT..$((FIRST_PORT + 19)); set ENSEMBLE_PG_PORT"
}

start() {
    BIN="$(find_bindir || true)"
    if [[ -z "$BIN" ]]; then
        install_postgres
        BIN="$(find_bindir || true)"
        [[ -n "$BIN" ]] || die "initdb still not found after installing postgresql"
    fi
    ensure_owner_account

    local port
    port="$(running_port)"
    if [[ -n "$port" ]]; then
        say "already running on 127.0.0.1:$port ($DATA_DIR)"
    else
        if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
            rm -rf "$DATA_DIR"
            mkdir -p "$DATA_DIR"
            [[ "$(id -u)" == 0 ]] && chown postgres: "$DATA_DIR"
            chmod 700 "$DATA_DIR"
            say "initdb $DATA_DIR ($("$BIN/postgres" --version))"
            as_owner "$BIN/initdb" -D "$DATA_DIR" -U "$SUPERUSER" --auth=trust \
                --encoding=UTF8 --no-locale --no-instructions >/dev/null
        fi
        port="$(pick_port)"
        # Durability is pointless for a throwaway server; turning it off makes tests faster.
        as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -l "$DATA_DIR/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $DATA_DIR -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null || { cat "$DATA_DIR/server.log" >&2; die "the server did not start"; }
        say "started on 127.0.0.1:$port ($DATA_DIR)"
    fi

    local tries
    for ((tries = 0; tries < 60; tries++)); do
        "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        sleep 0.5
    done
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" || die "the server is not accepting connections"

    local psql=("$BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -v ON_ERROR_STOP=1)
    if [[ -z "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]]; then
        "${psql[@]}" -c "CREATE DATABASE \"$DATABASE\"" >/dev/null
        say "created database $DATABASE"
    fi
    echo "export ENSEMBLE_TEST_POSTGRES_URL=postgresql://$SUPERUSER@127.0.0.1:$port/$DATABASE"
}

stop() {
    BIN="$(find_bindir || true)"
    if [[ -n "$BIN" && -n "$(running_port)" ]]; then
        as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w stop >/dev/null
        say "stopped"
    fi
    rm -rf "$DATA_DIR"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 [start|stop]" ;;
esac
