#!/usr/bin/env bash
# The rotel OpenTelemetry collector (PyPI `rotel`) for `make demo`.
#
#   scripts/rotel.sh install                    create .venv, pip install rotel, print the binary path
#   scripts/rotel.sh path                       print the binary path (installs first if needed)
#   scripts/rotel.sh start GRPC HTTP DUMPFILE   start in the background; PID in .demo/rotel.pid
#   scripts/rotel.sh stop                       stop the instance recorded in .demo/rotel.pid
#
# rotel prints what it receives (`--exporter blackhole` plus `--debug-log ...`) on its
# stdout; `start` sends that to DUMPFILE, which scripts/summarize_rotel.py reads.
# The binary lives inside the wheel (site-packages/rotel/rotel-agent), not on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROTEL_VENV:-$ROOT/.venv}"
STATE="${ROTEL_STATE_DIR:-$ROOT/.demo}"
PIDFILE="$STATE/rotel.pid"
# Pinned so that the dump format the summarizer parses does not move under us.
ROTEL_PIP_SPEC="${ROTEL_PIP_SPEC:-rotel==0.0.1a15}"

log() { printf '[rotel] %s\n' "$*" >&2; }
die() { printf '[rotel] ERROR: %s\n' "$*" >&2; exit 1; }

find_bin() {
    local b
    for b in "$VENV"/lib/python*/site-packages/rotel/rotel-agent; do
        [ -x "$b" ] && { printf '%s\n' "$b"; return 0; }
    done
    return 1
}

install() {
    if find_bin >/dev/null; then
        find_bin
        return 0
    fi
    command -v python3 >/dev/null || die "python3 is missing"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating venv $VENV"
        python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    fi
    log "pip install $ROTEL_PIP_SPEC into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$ROTEL_PIP_SPEC" >&2 \
        || die "pip install $ROTEL_PIP_SPEC failed"
    find_bin || die "rotel installed but $VENV/lib/python*/site-packages/rotel/rotel-agent not found"
}

port_open() { # $1 port -> 0 when something listens on 127.0.0.1:$1
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
}

is_running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
    local grpc="${1:?grpc port}" http="${2:?http port}" dump="${3:?dump file}"
    local bin; bin="$(install)"
    mkdir -p "$STATE" "$(dirname "$dump")"
    if is_running; then
        die "rotel already running (pid $(cat "$PIDFILE")); run '$0 stop' first"
    fi
    local args=(start
        --otlp-grpc-endpoint "127.0.0.1:$grpc"
        --otlp-http-endpoint "127.0.0.1:$http"
        --exporter blackhole
        --debug-log traces --debug-log metrics --debug-log logs
        --debug-log-verbosity detailed
        --pid-file "$STATE/rotel-agent.pid"
        --log-file "$STATE/rotel-agent.log")
    log "starting: $bin ${args[*]} > $dump"
    # NO_COLOR: rotel's own log lines (start/stop) go to the same stdout; keep them plain.
    NO_COLOR=1 "$bin" "${args[@]}" >"$dump" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    local i
    for ((i = 0; i < 100; i++)); do # bounded: 10 s
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            die "rotel exited at start; its output: $(tail -n 20 "$dump" 2>/dev/null)"
        fi
        if port_open "$grpc" && port_open "$http"; then
            log "rotel pid $pid listening: grpc 127.0.0.1:$grpc, http 127.0.0.1:$http; dump $dump"
            return 0
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    die "rotel did not listen on 127.0.0.1:$grpc / :$http within 10 s"
}

stop() {
    [ -f "$PIDFILE" ] || { log "no $PIDFILE: nothing to stop"; return 0; }
    local pid; pid="$(cat "$PIDFILE")"
    # Only ever signal the process we started (guards against a recycled PID).
    if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = rotel-agent ]; then
        log "stopping rotel pid $pid (SIGTERM)"
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do # bounded: 10 s (rotel takes ~2 s to drain)
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "rotel pid $pid still alive after 10 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    install) install ;;
    path) install ;;
    start) shift; start "$@" ;;
    stop) stop ;;
    *) echo "usage: $0 install|path|start GRPC_PORT HTTP_PORT DUMPFILE|stop" >&2; exit 2 ;;
esac
