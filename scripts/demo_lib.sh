# Shared by scripts/demo.sh and scripts/demo_quickstart.sh (sourced, not run).

log() { printf '\n[demo] %s\n' "$*"; }
die() { printf '[demo] ERROR: %s\n' "$*" >&2; exit 1; }

stop_pid() { # $1 pid, $2 name: SIGTERM, up to 15 s, then SIGKILL
    local pid="$1" i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    echo "[demo] stopping $2 pid $pid" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "[demo] $2 pid $pid still alive after 15 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

free_port() { # $1 preferred port -> prints it when free, else a free ephemeral port
    python3 - "$1" <<'PY'
import socket, sys
def free(p):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no obstacle
    try:
        s.bind(("127.0.0.1", p))
        return s.getsockname()[1]
    except OSError:
        return None
    finally:
        s.close()
print(free(int(sys.argv[1])) or free(0))
PY
}
