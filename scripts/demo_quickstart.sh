#!/usr/bin/env bash
# `make demo-quickstart`: the quickstart (the smallest example) exporting to a real collector.
#
#  1. starts the rotel collector in the background on free ports (4317/4318 when
#     free), its debug dump going to .demo/rotel.log;
#  2. builds and runs examples/quickstart.rs against it (OTLP/gRPC) and drives a few
#     requests with curl;
#  3. sends SIGTERM to the quickstart (it flushes telemetry on shutdown), waits for
#     it, then stops rotel by PID;
#  4. prints a summary of what rotel received (scripts/summarize_rotel.py) and checks
#     the essentials: a span `GET /api/users/{id}` with http.route, and the 0.3 s
#     bucket bound of http.server.request.duration.
# Background processes are stopped on every exit path (trap).
#
#   DEMO_PROFILE=release   build the quickstart with --release (default: debug, which
#                          reuses the dependencies `make test` already built)
#   QUICKSTART_BIN=path    run this program instead of building examples/quickstart.rs
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STATE="$ROOT/.demo"
DUMP="$STATE/rotel.log"
APP_LOG="$STATE/quickstart.log"
mkdir -p "$STATE"

# log, die, stop_pid, free_port
. "$ROOT/scripts/demo_lib.sh"

APP_PID=""
cleanup() {
    local rc=$?
    stop_pid "$APP_PID" quickstart
    bash "$ROOT/scripts/rotel.sh" stop >/dev/null 2>&1 || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 0. services (the quickstart may use them; the demo goes on without them) ---
if ! bash "$ROOT/scripts/services.sh"; then
    echo "[demo] WARNING: Postgres/Redis not available; continuing (the quickstart may not need them)" >&2
fi

# --- 1. rotel --------------------------------------------------------------------
log "installing rotel (project-local .venv)"
bash "$ROOT/scripts/rotel.sh" install >/dev/null
GRPC_PORT="$(free_port 4317)"
HTTP_PORT="$(free_port 4318)"
[ "$HTTP_PORT" != "$GRPC_PORT" ] || HTTP_PORT="$(free_port 0)"
rm -f "$DUMP"
bash "$ROOT/scripts/rotel.sh" start "$GRPC_PORT" "$HTTP_PORT" "$DUMP"

# --- 2. quickstart -----------------------------------------------------------------
if [ -n "${QUICKSTART_BIN:-}" ]; then
    BIN="$QUICKSTART_BIN"
else
    PROFILE_FLAG=()
    PROFILE_DIR=debug
    if [ "${DEMO_PROFILE:-debug}" = release ]; then PROFILE_FLAG=(--release); PROFILE_DIR=release; fi
    log "building: cargo build --all-features ${PROFILE_FLAG[*]} --example quickstart"
    cargo build --all-features "${PROFILE_FLAG[@]}" --example quickstart
    TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
    BIN="$TARGET_DIR/$PROFILE_DIR/examples/quickstart"
fi
[ -x "$BIN" ] || die "$BIN is missing or not executable"

APP_PORT="$(free_port 8080)"
APP="127.0.0.1:$APP_PORT"
export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$GRPC_PORT"
export OTEL_EXPORTER_OTLP_PROTOCOL=grpc
export OTEL_METRIC_EXPORT_INTERVAL=1000
export OTEL_BSP_SCHEDULE_DELAY=200
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-quickstart}"
export APP_ADDR="$APP"
export WINGSPAN_LLM_ROUTES=/api/coach
log "starting quickstart on $APP, exporting to $OTEL_EXPORTER_OTLP_ENDPOINT (grpc); its output: $APP_LOG"
"$BIN" >"$APP_LOG" 2>&1 </dev/null &
APP_PID=$!

ready=0
for _ in $(seq 1 300); do # bounded: 30 s
    kill -0 "$APP_PID" 2>/dev/null || { tail -n 30 "$APP_LOG" >&2; die "quickstart exited during start-up"; }
    if curl -s -o /dev/null --max-time 1 "http://$APP/hello"; then ready=1; break; fi
    sleep 0.1
done
[ "$ready" = 1 ] || { tail -n 30 "$APP_LOG" >&2; die "quickstart did not answer on $APP within 30 s"; }

FAILED=0
VALID_TP="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
# request EXPECTED_STATUS LABEL curl-args... : prints status and the response traceparent
request() {
    local want="$1" label="$2"; shift 2
    local headers status tp
    headers="$(curl -s -D - -o /dev/null --max-time 10 "$@" || true)"
    status="$(printf '%s' "$headers" | sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' | tail -n1)"
    tp="$(printf '%s' "$headers" | tr -d '\r' | sed -n 's/^[Tt]raceparent: //p' | tail -n1)"
    local mark=ok
    if [ "$status" != "$want" ]; then mark="UNEXPECTED (want $want)"; FAILED=1; fi
    printf '  %-52s -> %s %s  traceparent: %s\n' "$label" "${status:-no answer}" "$mark" "${tp:--}"
    LAST_TRACEPARENT="$tp"
}

log "driving requests against http://$APP"
request 200 "GET /hello" "http://$APP/hello"
request 200 "GET /api/users/42" "http://$APP/api/users/42"
request 200 "GET /api/users/7" "http://$APP/api/users/7"
request 200 "POST /api/coach" -X POST -H 'content-type: application/json' \
    --data '{"question":"how do I improve my serve?"}' "http://$APP/api/coach"
request 404 "GET /nope (no route)" "http://$APP/nope"
request 200 "GET /hello, garbage traceparent" -H 'traceparent: garbage-00-zz' "http://$APP/hello"
request 200 "GET /api/users/42, valid traceparent" -H "traceparent: $VALID_TP" "http://$APP/api/users/42"
case "$LAST_TRACEPARENT" in
    00-4bf92f3577b34da6a3ce929d0e0e4736-*) echo "  the response continues the incoming trace 4bf92f3577b34da6a3ce929d0e0e4736" ;;
    "") echo "  (no traceparent on the response)" ;;
    *) echo "  NOTE: the response traceparent is not in the incoming trace (trust switched off?)" ;;
esac

# --- 3. stop: quickstart first (flushes), then rotel ---------------------------------
sleep 1.5 # let one periodic metric export (1 s) happen while the app runs
log "SIGTERM to quickstart pid $APP_PID (it flushes telemetry on shutdown)"
kill -TERM "$APP_PID"
stopped=0
for _ in $(seq 1 150); do # bounded: 15 s
    kill -0 "$APP_PID" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
done
if [ "$stopped" = 1 ]; then
    wait "$APP_PID" && app_rc=0 || app_rc=$?
    echo "[demo] quickstart exited with status $app_rc"
    [ "$app_rc" = 0 ] || FAILED=1
else
    echo "[demo] quickstart did not exit within 15 s of SIGTERM: killing it" >&2
    kill -KILL "$APP_PID" 2>/dev/null || true
    FAILED=1
fi
APP_PID=""
sleep 1 # rotel batches for 200 ms before printing
bash "$ROOT/scripts/rotel.sh" stop

# --- 4. summary ------------------------------------------------------------------------
log "what rotel received ($DUMP):"
python3 "$ROOT/scripts/summarize_rotel.py" "$DUMP" \
    --expect-span 'GET /api/users/{id}' \
    --expect-bound 'http.server.request.duration=0.3' || FAILED=1

if [ "$FAILED" != 0 ]; then
    die "demo finished with failures (see above; app output in $APP_LOG, raw dump in $DUMP)"
fi
log "demo OK. Raw dump: $DUMP; quickstart output: $APP_LOG"
