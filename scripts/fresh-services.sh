#!/usr/bin/env bash
# Runs a command against brand-new services, as a machine that never ran the
# suite has them: a PostgreSQL cluster just made by initdb (trust auth, the
# databases `postgres` and `test`, no role but `postgres`) and an empty
# redis-server, each on a free port of 127.0.0.1. DATABASE_URL and REDIS_URL
# point at them while the command runs; afterwards both are stopped and their
# data removed, whether the command passed, failed or was interrupted.
#
#   scripts/fresh-services.sh                      # make test
#   scripts/fresh-services.sh cargo nextest run --all-features
#   make test-fresh                                # the same as the first
#
#   FRESH_KEEP=1     keep the data directory (printed) for a post-mortem
#   FRESH_DATABASE   the database DATABASE_URL names, default postgres
#
# Exits with the command's status (or 1 when a service cannot be started).
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` user (as in the tests' private clusters).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[fresh] %s\n' "$*" >&2; }
die() { printf '[fresh] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$#" -gt 0 ] || set -- make test

pg_bindir() { # the highest installed major version
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || return 1
    printf '%s\n' "$d"
}
PG_BIN="$(pg_bindir)" || die "initdb/pg_ctl not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
command -v psql >/dev/null || die "psql not found (apt-get install postgresql-client)"

# Two distinct free ports, held open together so they cannot be the same one.
read -r PG_PORT RD_PORT < <(python3 - <<'PY'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)
[ -n "${RD_PORT:-}" ] || die "no free port"

DIR="$(mktemp -d "${TMPDIR:-/tmp}/wingspan-fresh.XXXXXX")"
chmod 755 "$DIR"
PG_DATA="$DIR/pg"
PG_SOCK="$DIR/sock"
RD_DIR="$DIR/redis"
mkdir -p "$PG_DATA" "$PG_SOCK" "$RD_DIR"

as_pg=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root, but there is no 'postgres' user to own the cluster"
    chown postgres: "$PG_DATA" "$PG_SOCK"
    as_pg=(runuser -u postgres --)
fi
chmod 700 "$PG_DATA"

PG_STARTED=0
RD_PID=""
CMD_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # The command's whole process group (make, cargo, nextest, the tests).
    if [ -n "$CMD_PID" ] && kill -0 "$CMD_PID" 2>/dev/null; then
        log "stopping the command (process group $CMD_PID)"
        kill -TERM -- "-$CMD_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$CMD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$CMD_PID" 2>/dev/null || true
    fi
    if [ -n "$RD_PID" ] && kill -0 "$RD_PID" 2>/dev/null; then
        kill -TERM "$RD_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$RD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$RD_PID" 2>/dev/null || true
    fi
    if [ "$PG_STARTED" = 1 ]; then
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if [ "${FRESH_KEEP:-0}" = 1 ]; then
        log "kept $DIR"
    else
        rm -rf "$DIR"
    fi
    log "services stopped; exit $rc"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "initdb $PG_DATA (trust auth, user postgres)"
"${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    >"$DIR/initdb.log" 2>&1 || die "initdb failed: $(tail -n 20 "$DIR/initdb.log")"
log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
PG_STARTED=1
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_SOCK" start >/dev/null ||
    die "pg_ctl start failed: $(tail -n 20 "$PG_DATA/server.log" 2>/dev/null)"
# What a new machine's cluster has besides the initdb defaults: a `test` database.
psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -X -q -v ON_ERROR_STOP=1 \
    -c 'CREATE DATABASE test' </dev/null >/dev/null || die "CREATE DATABASE test failed"

log "starting redis-server on 127.0.0.1:$RD_PORT (no persistence)"
redis-server --port "$RD_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$RD_DIR" --logfile "$RD_DIR/redis.log" --daemonize no </dev/null >/dev/null 2>&1 &
RD_PID=$!
for i in $(seq 1 100); do
    [ "$(redis-cli -h 127.0.0.1 -p "$RD_PORT" ping 2>/dev/null || true)" = PONG ] && break
    kill -0 "$RD_PID" 2>/dev/null || die "redis-server exited: $(tail -n 20 "$RD_DIR/redis.log" 2>/dev/null)"
    [ "$i" = 100 ] && die "redis-server did not answer on $RD_PORT within 10 s"
    sleep 0.1
done

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/${FRESH_DATABASE:-postgres}"
export REDIS_URL="redis://127.0.0.1:$RD_PORT"
log "DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL"
log "running: $*"
# In a process group of its own, waited for in the background: a signal to
# this script then runs the trap at once, and the trap stops the whole group.
set -m
"$@" &
CMD_PID=$!
set +m +e
wait "$CMD_PID"
rc=$?
set -e
CMD_PID=""
log "command exited $rc"
exit "$rc"
