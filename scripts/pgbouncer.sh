#!/usr/bin/env bash
# A private pgbouncer in transaction mode in front of the Postgres at
# DATABASE_URL: the setting of Supabase's Supavisor on port 6543, where a
# server connection is lent to a client for one transaction only.
#
#   scripts/pgbouncer.sh start   start it (idempotent); prints its URL
#   scripts/pgbouncer.sh url     print postgres://USER@127.0.0.1:PORT/DB
#   scripts/pgbouncer.sh stop    stop it and remove its directory
#
#   DATABASE_URL     the upstream, default postgres://postgres@127.0.0.1:5432/postgres
#   PGBOUNCER_PORT   where it listens, default 6543 (Supavisor's transaction port)
#   PGBOUNCER_DIR    its ini, pid, log and socket, default ${TMPDIR:-/tmp}/wingspan-pgbouncer-$PGBOUNCER_PORT
#   PGBOUNCER_POOL   server connections per user and database, default 20
#   PGBOUNCER_DATABASES  more [databases] lines, one per line (such as an alias
#                    with connect_query='SET search_path TO app': startup
#                    `options` do not pass a transaction pooler)
#
# auth_type=any: the client's user and password are not checked, every
# server connection logs in as the upstream URL's user (the local Postgres
# trusts 127.0.0.1). pgbouncer refuses to run as root, so as root it runs as
# the `postgres` user. Every wait is bounded.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${PGBOUNCER_PORT:-6543}"
DIR="${PGBOUNCER_DIR:-${TMPDIR:-/tmp}/wingspan-pgbouncer-$PORT}"
POOL="${PGBOUNCER_POOL:-20}"

log() { printf '[pgbouncer] %s\n' "$*" >&2; }
die() { printf '[pgbouncer] ERROR: %s\n' "$*" >&2; exit 1; }

# host port user dbname of DATABASE_URL, one per line.
read -r -d '' UP_HOST UP_PORT UP_USER UP_DB < <(python3 - "$DATABASE_URL" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(p.hostname or "127.0.0.1")
print(p.port or 5432)
print(u.unquote(p.username or "postgres"))
print((p.path or "/postgres").lstrip("/") or "postgres")
PY
) || true

url() { printf 'postgres://%s@127.0.0.1:%s/%s\n' "$UP_USER" "$PORT" "$UP_DB"; }

running() { [ -f "$DIR/pgbouncer.pid" ] && kill -0 "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null; }

start() {
    command -v pgbouncer >/dev/null || die "pgbouncer not found: apt-get install pgbouncer"
    if running; then
        url
        return
    fi
    mkdir -p "$DIR"
    cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
* = host=$UP_HOST port=$UP_PORT user=$UP_USER
${PGBOUNCER_DATABASES:-}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir = $DIR
pidfile = $DIR/pgbouncer.pid
logfile = $DIR/pgbouncer.log
auth_type = any
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = 1000
; tokio-postgres sends these at startup; pgbouncer tracks the usual ones itself.
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
server_check_delay = 1
EOF
    local as=()
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$DIR"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" pgbouncer -d "$DIR/pgbouncer.ini" || die "pgbouncer did not start; log: $(tail -n 20 "$DIR/pgbouncer.log" 2>/dev/null)"
    for _ in $(seq 1 100); do
        if PGCONNECT_TIMEOUT=2 psql "$(url)" -Atqc 'SELECT 1' >/dev/null 2>&1; then
            log "transaction mode on 127.0.0.1:$PORT -> $UP_HOST:$UP_PORT (dir $DIR)"
            url
            return
        fi
        sleep 0.1
    done
    die "pgbouncer on $PORT does not answer; log: $(tail -n 20 "$DIR/pgbouncer.log" 2>/dev/null)"
}

stop() {
    if running; then
        local pid
        pid="$(cat "$DIR/pgbouncer.pid")"
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) url ;;
    *) die "usage: $0 start|stop|url" ;;
esac
