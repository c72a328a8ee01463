#!/usr/bin/env bash
# Make sure PostgreSQL and Redis really answer at DATABASE_URL / REDIS_URL.
#
#   DATABASE_URL  default postgres://postgres@127.0.0.1:5432/postgres
#   REDIS_URL     default redis://127.0.0.1:6379
#
# - checks with `psql "$DATABASE_URL" -c 'SELECT 1'` and `redis-cli -u "$REDIS_URL" ping`;
# - installs Debian's postgresql / redis-server when binaries are missing (root only);
# - starts a local server when none answers (only for 127.0.0.1 / localhost / ::1);
# - creates the database named in DATABASE_URL when it is missing;
# - checks that initdb, pg_ctl and redis-server exist (the tests start private
#   instances of both) and prints where they are.
#
# Idempotent: when both services answer it changes nothing. Every wait is bounded.
# Exits non-zero, with a message saying what failed, when a service cannot be made to answer.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
WAIT_SECS="${SERVICES_WAIT_SECS:-30}"
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}"

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

APT_UPDATED=0
apt_install() {
    is_root || die "need to install $* but not running as root: run 'sudo apt-get install -y $*' first"
    command -v apt-get >/dev/null || die "need to install $* but apt-get is not available"
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

is_local_host() {
    case "$1" in
        127.*|localhost|::1|'[::1]'|'') return 0 ;;
        *) return 1 ;;
    esac
}

# ---------------------------------------------------------------------------
# URL parsing (python3's urllib: handles user:password@, [ipv6], %-escapes)
# ---------------------------------------------------------------------------
parse_url() { # $1 url, $2 default port -> prints "scheme host port user password path" (one per line)
    python3 - "$1" "$2" <<'PY'
import sys, urllib.parse as u
url, default_port = sys.argv[1], sys.argv[2]
p = u.urlsplit(url)
try:
    port = p.port or int(default_port)
except ValueError:
    sys.exit("bad port in URL")
print(p.scheme)
print(p.hostname or "127.0.0.1")
print(port)
print(u.unquote(p.username or ""))
print(u.unquote(p.password or ""))
print(u.unquote(p.path.lstrip("/")))
PY
}

command -v python3 >/dev/null || apt_install python3

# ===========================================================================
# PostgreSQL
# ===========================================================================
mapfile -t PG < <(parse_url "$DATABASE_URL" 5432) || die "cannot parse DATABASE_URL"
[ "${#PG[@]}" -ge 6 ] || die "cannot parse DATABASE_URL"
PG_SCHEME="${PG[0]}" PG_HOST="${PG[1]}" PG_PORT="${PG[2]}" PG_USER="${PG[3]:-postgres}" PG_PASS="${PG[4]}" PG_DB="${PG[5]}"
[ -n "$PG_DB" ] || PG_DB="$PG_USER"
case "$PG_SCHEME" in postgres|postgresql) ;; *) die "DATABASE_URL must start with postgres:// or postgresql:// (got '$PG_SCHEME://')" ;; esac

# The same URL pointed at the `postgres` maintenance database (keeps user, password, query string).
PG_ADMIN_URL="$(python3 - "$DATABASE_URL" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit((p.scheme, p.netloc, "/postgres", p.query, p.fragment)))
PY
)"

PG_INSTALLED_NOW=0

pg_bindir() { # highest installed PostgreSQL major version's bin dir
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && printf '%s\n' "$d"
    return 0
}

ensure_pg_binaries() {
    if ! command -v psql >/dev/null || [ -z "$(pg_bindir)" ]; then
        log "PostgreSQL binaries missing (psql, or initdb/pg_ctl under /usr/lib/postgresql/*/bin)"
        apt_install postgresql postgresql-client
        PG_INSTALLED_NOW=1
    fi
    local bin; bin="$(pg_bindir)"
    [ -n "$bin" ] || die "initdb/pg_ctl not found under /usr/lib/postgresql/*/bin even after installing postgresql"
    log "PostgreSQL binaries: psql=$(command -v psql) initdb=$bin/initdb pg_ctl=$bin/pg_ctl"
}

pg_select1() { psql "$1" -X -q -t -A -v ON_ERROR_STOP=1 -c 'SELECT 1' </dev/null 2>&1; }

pg_server_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3 </dev/null >/dev/null 2>&1; }

wait_pg() {
    local i
    for ((i = 0; i < WAIT_SECS * 2; i++)); do
        pg_server_up && return 0
        sleep 0.5
    done
    return 1
}

# Trust auth for TCP connections from loopback, as the tests and the demo connect
# without a password. Only for clusters on this machine, and only when needed.
pg_trust_loopback() { # $1 = pg_hba.conf path
    local hba="$1"
    [ -f "$hba" ] || return 0
    if grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
        return 0
    fi
    log "setting trust auth for 127.0.0.1 and ::1 in $hba (dev/CI only)"
    local tmp; tmp="$(mktemp)"
    {
        echo "# added by wingspan scripts/services.sh: loopback trust for local dev/CI"
        echo "host all all 127.0.0.1/32 trust"
        echo "host all all ::1/128 trust"
        cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba"
    rm -f "$tmp"
}

start_pg() {
    is_local_host "$PG_HOST" || die "PostgreSQL at $PG_HOST:$PG_PORT does not answer and is not local: start it yourself"
    is_root || die "PostgreSQL at $PG_HOST:$PG_PORT does not answer; starting it needs root (or start it yourself)"
    local bin; bin="$(pg_bindir)"

    # 1. A Debian cluster configured for this port: start it with pg_ctlcluster.
    local conf ver cluster port
    for conf in /etc/postgresql/*/*/postgresql.conf; do
        [ -f "$conf" ] || continue
        ver="$(basename "$(dirname "$(dirname "$conf")")")"
        cluster="$(basename "$(dirname "$conf")")"
        port="$(sed -nE 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*([0-9]+).*/\1/p' "$conf" | tail -n1)"
        [ "${port:-5432}" = "$PG_PORT" ] || continue
        if [ "$PG_INSTALLED_NOW" = 1 ] || [ "${PG_FIX_AUTH:-0}" = 1 ]; then
            pg_trust_loopback "$(dirname "$conf")/pg_hba.conf"
        fi
        log "starting Debian cluster $ver/$cluster on port $PG_PORT: pg_ctlcluster --skip-systemctl-redirect $ver $cluster start"
        pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start || \
            pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" status >/dev/null || \
            die "pg_ctlcluster $ver $cluster start failed (see /var/log/postgresql/postgresql-$ver-$cluster.log)"
        return 0
    done

    # 2. No Debian cluster for this port: a private cluster owned by the postgres user.
    local data="/var/lib/postgresql/wingspan-$PG_PORT"
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user to run initdb as"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "no cluster for port $PG_PORT: initdb $data (trust auth, as user postgres)"
        mkdir -p "$data"
        chown postgres:postgres "$data"
        chmod 700 "$data"
        runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 >/dev/null
    fi
    local listen="$PG_HOST"
    case "$listen" in localhost|'') listen=127.0.0.1 ;; '[::1]') listen='::1' ;; esac
    log "starting private cluster: pg_ctl -D $data (port $PG_PORT, listen $listen)"
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t "$WAIT_SECS" \
        -o "-p $PG_PORT -c listen_addresses=$listen -k /tmp" start >/dev/null || \
        die "pg_ctl start failed; see $data/server.log"
}

check_pg() {
    log "PostgreSQL: checking $PG_HOST:$PG_PORT database '$PG_DB' as '$PG_USER'"
    local out
    if out="$(pg_select1 "$DATABASE_URL")"; then
        log "PostgreSQL OK (SELECT 1 answered)"
        return 0
    fi

    if ! pg_server_up; then
        log "PostgreSQL does not answer at $PG_HOST:$PG_PORT: $out"
        start_pg
        log "waiting up to ${WAIT_SECS}s for PostgreSQL at $PG_HOST:$PG_PORT"
        wait_pg || die "PostgreSQL at $PG_HOST:$PG_PORT is still not ready after ${WAIT_SECS}s"
        if out="$(pg_select1 "$DATABASE_URL")"; then
            log "PostgreSQL OK (SELECT 1 answered)"
            return 0
        fi
    fi

    # The server answers. Maybe password auth on a fresh Debian cluster (local, no password in the URL).
    if printf '%s' "$out" | grep -Eq 'no password supplied|password authentication failed' \
        && [ -z "$PG_PASS" ] && is_local_host "$PG_HOST" && is_root; then
        local conf
        for conf in /etc/postgresql/*/*/postgresql.conf; do
            [ -f "$conf" ] || continue
            local port; port="$(sed -nE 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*([0-9]+).*/\1/p' "$conf" | tail -n1)"
            [ "${port:-5432}" = "$PG_PORT" ] || continue
            pg_trust_loopback "$(dirname "$conf")/pg_hba.conf"
            local ver cluster
            ver="$(basename "$(dirname "$(dirname "$conf")")")"; cluster="$(basename "$(dirname "$conf")")"
            pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" reload || true
            sleep 1
        done
        out="$(pg_select1 "$DATABASE_URL")" && { log "PostgreSQL OK (SELECT 1 answered)"; return 0; }
    fi

    # The server answers but the database is missing: create it through the `postgres` db.
    if printf '%s' "$out" | grep -q "database \"$PG_DB\" does not exist"; then
        log "database '$PG_DB' does not exist: creating it (via $PG_HOST:$PG_PORT/postgres)"
        local q; q="$(printf '%s' "$PG_DB" | sed 's/"/""/g')"
        local cout
        if ! cout="$(psql "$PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$q\"" </dev/null 2>&1)"; then
            printf '%s' "$cout" | grep -q 'already exists' || die "CREATE DATABASE \"$PG_DB\" failed: $cout"
        fi
        out="$(pg_select1 "$DATABASE_URL")" && { log "PostgreSQL OK (database '$PG_DB' created, SELECT 1 answered)"; return 0; }
    fi

    die "PostgreSQL at $PG_HOST:$PG_PORT answers but 'SELECT 1' on '$PG_DB' fails: $out"
}

# ===========================================================================
# Redis
# ===========================================================================
mapfile -t RD < <(parse_url "$REDIS_URL" 6379) || die "cannot parse REDIS_URL"
[ "${#RD[@]}" -ge 5 ] || die "cannot parse REDIS_URL"
RD_SCHEME="${RD[0]}" RD_HOST="${RD[1]}" RD_PORT="${RD[2]}" RD_PASS="${RD[4]}"
case "$RD_SCHEME" in redis|rediss) ;; *) die "REDIS_URL must start with redis:// or rediss:// (got '$RD_SCHEME://')" ;; esac

ensure_redis_binaries() {
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
        log "Redis binaries missing (redis-server / redis-cli)"
        apt_install redis-server redis-tools
    fi
    command -v redis-server >/dev/null || die "redis-server not found even after installing redis-server"
    log "Redis binaries: redis-server=$(command -v redis-server) redis-cli=$(command -v redis-cli)"
}

redis_ping() { timeout 5 redis-cli -u "$REDIS_URL" ping </dev/null 2>&1 || true; }

check_redis() {
    log "Redis: checking $RD_HOST:$RD_PORT"
    local out; out="$(redis_ping)"
    if printf '%s' "$out" | grep -q '^PONG'; then
        log "Redis OK (PING answered PONG)"
        return 0
    fi
    log "Redis does not answer at $RD_HOST:$RD_PORT: $out"
    [ "$RD_SCHEME" = redis ] || die "REDIS_URL uses TLS (rediss://): start that Redis yourself"
    is_local_host "$RD_HOST" || die "Redis at $RD_HOST:$RD_PORT is not local: start it yourself"
    if printf '%s' "$out" | grep -Eq 'NOAUTH|WRONGPASS|ERR'; then
        die "a Redis at $RD_HOST:$RD_PORT answers but refuses the credentials in REDIS_URL: $out"
    fi
    local bind="127.0.0.1 -::1"
    case "$RD_HOST" in 127.*) [ "$RD_HOST" = 127.0.0.1 ] || bind="$RD_HOST" ;; esac
    local args=(--daemonize yes --bind $bind --port "$RD_PORT" --save "" --appendonly no
        --logfile "/tmp/wingspan-redis-$RD_PORT.log" --pidfile "/tmp/wingspan-redis-$RD_PORT.pid")
    [ -n "$RD_PASS" ] && args+=(--requirepass "$RD_PASS")
    log "starting: redis-server --daemonize yes --bind $bind --port $RD_PORT --save \"\" --appendonly no"
    redis-server "${args[@]}" || die "redis-server failed to start (see /tmp/wingspan-redis-$RD_PORT.log)"
    local i
    for ((i = 0; i < WAIT_SECS * 2; i++)); do
        out="$(redis_ping)"
        if printf '%s' "$out" | grep -q '^PONG'; then
            log "Redis OK (started; PING answered PONG)"
            return 0
        fi
        sleep 0.5
    done
    die "Redis at $RD_HOST:$RD_PORT still does not answer after ${WAIT_SECS}s: $out (see /tmp/wingspan-redis-$RD_PORT.log)"
}

# ===========================================================================
ensure_pg_binaries
check_pg
ensure_redis_binaries
check_redis
log "all services answer: DATABASE_URL=postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB REDIS_URL=$RD_SCHEME://$RD_HOST:$RD_PORT"
