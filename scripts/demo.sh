#!/usr/bin/env bash
# `make demo`: wingman (examples/wingman/) under load, exporting to a real collector,
# then a report a person can read.
#
#  1. makes sure Postgres and Redis answer (scripts/services.sh starts them if absent);
#  2. installs the rotel collector into the project-local .venv and starts it on free
#     ports (4317/4318 when free); its debug dump goes to .demo/rotel.log;
#  3. builds wingman and the load tool (one cargo build, the features `make test` uses)
#     and starts wingman exporting to rotel over OTLP/gRPC; the first run migrates and
#     seeds the `wingman` schema, later runs find it;
#  4. drives DEMO_SECONDS (30) of load across every endpoint with wingman-load
#     (goose: DEMO_USERS users, at most DEMO_RPS requests per second), sampling
#     /health/detailed meanwhile;
#  5. screenshots the /observability page when a headless Chromium is present;
#  6. SIGTERM to wingman (it flushes telemetry), then stops rotel;
#  7. prints the report (scripts/demo_report.py) and writes it to .demo/report.md.
# Everything it started is stopped on every exit path (trap), by PID.
#
#   DEMO_SECONDS=30 DEMO_USERS=16 DEMO_RPS=150   the load
#   DEMO_PROFILE=release   build with --release (default: debug, the build `make test` shares)
#   DEMO_KEEP=1            keep wingman running after the load, until Ctrl-C (to browse the page)
#   WINGSPAN_TAIL_SAMPLING=true WINGSPAN_TAIL_SAMPLING_RATIO=0.01
#                          in-process tail sampling at a 1 % base ratio (false: the head sampler
#                          decides); WINGMAN_FAULT_EVERY=199 WINGMAN_DELAY_EVERY=97 give it
#                          5xx answers and slow requests to find; the report's "Tail sampling"
#                          section counts spans and process CPU per request, and the share of
#                          them whose traces reached rotel
#   WINGMAN_*, DB_*, ...   passed on to wingman (examples/wingman/src/main.rs lists them)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STATE="$ROOT/.demo"
DUMP="$STATE/rotel.log"
APP_OUT="$STATE/wingman.out"
APP_LOG="$STATE/wingman.log"
LOAD_JSON="$STATE/load.json"
REPORT="$STATE/report.md"
SHOT="$STATE/observability.png"
SECONDS_OF_LOAD="${DEMO_SECONDS:-30}"
USERS="${DEMO_USERS:-16}"
RPS="${DEMO_RPS:-150}"
mkdir -p "$STATE"

# log, die, stop_pid, free_port
. "$ROOT/scripts/demo_lib.sh"

APP_PID=""
SAMPLER_PID=""
cleanup() {
    local rc=$?
    stop_pid "$SAMPLER_PID" "health sampler"
    stop_pid "$APP_PID" wingman
    bash "$ROOT/scripts/rotel.sh" stop >/dev/null 2>&1 || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in cargo python3 curl; do
    command -v "$tool" >/dev/null || die "$tool is missing: install it first (Rust from rustup.rs or Debian's cargo; python3, curl from Debian)"
done

# --- 1. services ---------------------------------------------------------------------
log "Postgres and Redis (scripts/services.sh)"
bash "$ROOT/scripts/services.sh" || die "Postgres/Redis unavailable: wingman needs both"

# --- 2. rotel ------------------------------------------------------------------------
log "installing rotel (project-local .venv)"
bash "$ROOT/scripts/rotel.sh" stop >/dev/null 2>&1 || true # a previous run killed hard
bash "$ROOT/scripts/rotel.sh" install >/dev/null
GRPC_PORT="$(free_port 4317)"
HTTP_PORT="$(free_port 4318)"
[ "$HTTP_PORT" != "$GRPC_PORT" ] || HTTP_PORT="$(free_port 0)"
rm -f "$DUMP" "$STATE"/health-*.json "$LOAD_JSON" "$SHOT" "$REPORT"
bash "$ROOT/scripts/rotel.sh" start "$GRPC_PORT" "$HTTP_PORT" "$DUMP"

# --- 3. build and start wingman ----------------------------------------------------------
PROFILE_FLAG=()
PROFILE_DIR=debug
if [ "${DEMO_PROFILE:-debug}" = release ]; then PROFILE_FLAG=(--release); PROFILE_DIR=release; fi
log "building: cargo build --all-features ${PROFILE_FLAG[*]} -p wingman (binaries wingman and wingman-load)"
cargo build --all-features "${PROFILE_FLAG[@]}" -p wingman
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
WINGMAN="$TARGET_DIR/$PROFILE_DIR/wingman"
LOAD="$TARGET_DIR/$PROFILE_DIR/wingman-load"
[ -x "$WINGMAN" ] && [ -x "$LOAD" ] || die "built binaries missing: $WINGMAN, $LOAD"

export OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$GRPC_PORT"
export OTEL_EXPORTER_OTLP_PROTOCOL=grpc
export OTEL_METRIC_EXPORT_INTERVAL=2000
export OTEL_BSP_SCHEDULE_DELAY=200
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-wingman}"
export WINGSPAN_PROMETHEUS=true # /metrics on the admin listener, beside OTLP
# Every 5th coach call meets a 529 (the adapter retries), every 20th three (it degrades):
# a 30 s run shows both.
export WINGMAN_LLM_OVERLOAD_EVERY="${WINGMAN_LLM_OVERLOAD_EVERY:-5}"
# The deliberate N+1 route, which the load hits too: the health page's "N+1 queries"
# table and the wingspan.db.n_plus_one counter show it.
export WINGMAN_N_PLUS_ONE_ROUTE="${WINGMAN_N_PLUS_ONE_ROUTE:-true}"
# The deliberately slow route (a sequential scan of matches), and the capture of its plan:
# the report's "Plans of slow statements" and the page show it beside the statement.
export WINGMAN_SLOW_ROUTE="${WINGMAN_SLOW_ROUTE:-true}"
export DB_PLAN_CAPTURE="${DB_PLAN_CAPTURE:-true}"
export DB_PLAN_THRESHOLD_MS="${DB_PLAN_THRESHOLD_MS:-2}"
export DB_PLAN_INTERVAL="${DB_PLAN_INTERVAL:-2}"
# In-process tail sampling at a 1 % base ratio: every 5xx and every slow request (> 300 ms;
# LLM routes > 10 s) should reach rotel, and about 1 % of the rest. The injected faults give
# it some of each: every 199th request answers 500, every 97th waits 400 ms.
export WINGSPAN_TAIL_SAMPLING="${WINGSPAN_TAIL_SAMPLING:-true}"
export WINGSPAN_TAIL_SAMPLING_RATIO="${WINGSPAN_TAIL_SAMPLING_RATIO:-0.01}"
export WINGMAN_FAULT_EVERY="${WINGMAN_FAULT_EVERY:-199}"
export WINGMAN_DELAY_EVERY="${WINGMAN_DELAY_EVERY:-97}"
export APP_ADDR="127.0.0.1:$(free_port 8080)"
export WINGSPAN_ADMIN_ADDR="127.0.0.1:$(free_port 9188)"
log "starting wingman (API $APP_ADDR, admin $WINGSPAN_ADMIN_ADDR), exporting to $OTEL_EXPORTER_OTLP_ENDPOINT; its log: $APP_LOG"
"$WINGMAN" >"$APP_OUT" 2>"$APP_LOG" </dev/null &
APP_PID=$!
API="" ADMIN=""
for _ in $(seq 1 1200); do # bounded: 120 s (the first run seeds the schema)
    kill -0 "$APP_PID" 2>/dev/null || { tail -n 30 "$APP_LOG" >&2; die "wingman exited during start-up"; }
    API="$(sed -n 's/^listening //p' "$APP_OUT")"
    ADMIN="$(sed -n 's/^admin //p' "$APP_OUT")"
    [ -n "$API" ] && [ -n "$ADMIN" ] && break
    sleep 0.1
done
[ -n "$API" ] && [ -n "$ADMIN" ] || { tail -n 30 "$APP_LOG" >&2; die "wingman printed no addresses within 120 s"; }
SEEDED="$(sed 's/\x1b\[[0-9;]*m//g' "$APP_LOG" | grep -o 'seeded=[a-z]*' | head -n1 || true)"
case "$SEEDED" in
    seeded=true) SEEDED="schema wingman migrated and seeded now" ;;
    seeded=false) SEEDED="schema wingman found from an earlier run" ;;
    *) SEEDED="see $APP_LOG" ;;
esac
echo "[demo] wingman: API $API, admin $ADMIN ($SEEDED)"

# --- 4. load, with /health/detailed sampled every 2 s ---------------------------------------
(
    n=0
    while true; do
        n=$((n + 1))
        curl -s --max-time 2 -o "$STATE/health-$(printf '%03d' "$n").json" "$ADMIN/health/detailed" || true
        sleep 2
    done
) &
SAMPLER_PID=$!
# wingman's CPU time (utime + stime, clock ticks) around the load, for the report's CPU per
# request; the fields after the command name, which is in parentheses.
cpu_ticks() { sed 's/^.*) //' "/proc/$APP_PID/stat" | awk '{print $12 + $13}'; }
CPU_BEFORE="$(cpu_ticks)"
log "load: $USERS users, ${SECONDS_OF_LOAD} s, at most $RPS req/s, every endpoint (wingman-load; goose output in $STATE/load.log)"
"$LOAD" -H "$API" -u "$USERS" -r "$USERS" -t "${SECONDS_OF_LOAD}s" --throttle-requests "$RPS" \
    --no-reset-metrics --report-file "$LOAD_JSON" --report-file "$STATE/load.html" -q >"$STATE/load.log" 2>&1 \
    || { tail -n 20 "$STATE/load.log" >&2; die "the load tool failed"; }
CPU_AFTER="$(cpu_ticks)"
CPU_SECONDS="$(awk -v a="$CPU_BEFORE" -v b="$CPU_AFTER" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')"
stop_pid "$SAMPLER_PID" "health sampler"
SAMPLER_PID=""
curl -s --max-time 5 -o "$STATE/metrics.txt" "$ADMIN/metrics" || true

# --- 5. screenshot of the page ---------------------------------------------------------------
PAGE="$ADMIN/observability"
SHOT_ARGS=()
CHROMIUM="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -n "$CHROMIUM" ]; then
    log "screenshot of $PAGE ($CHROMIUM)"
    if timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --virtual-time-budget=8000 --window-size=1280,2200 --screenshot="$SHOT" "$PAGE" \
        >"$STATE/chromium.log" 2>&1 && [ -s "$SHOT" ]; then
        SHOT_ARGS=(--screenshot "$SHOT")
    else
        SHOT_ARGS=(--screenshot-note "chromium failed (see $STATE/chromium.log)")
    fi
else
    SHOT_ARGS=(--screenshot-note "no chromium on PATH (apt-get install chromium)")
fi

if [ "${DEMO_KEEP:-0}" = 1 ]; then
    log "DEMO_KEEP=1: wingman keeps running; the page is $PAGE. Ctrl-C to stop and print the report."
    KEEP_DONE=""
    trap 'KEEP_DONE=1' INT
    while [ -z "$KEEP_DONE" ] && kill -0 "$APP_PID" 2>/dev/null; do sleep 1; done
    trap 'exit 130' INT
fi

# --- 6. stop: wingman first (flushes), then rotel ------------------------------------------
log "SIGTERM to wingman pid $APP_PID (it flushes telemetry on shutdown)"
kill -TERM "$APP_PID" 2>/dev/null || true
app_rc=""
for _ in $(seq 1 200); do # bounded: 20 s (10 s drain + 5 s flush, at most)
    kill -0 "$APP_PID" 2>/dev/null || { wait "$APP_PID" && app_rc=0 || app_rc=$?; break; }
    sleep 0.1
done
[ -n "$app_rc" ] || die "wingman did not exit within 20 s of SIGTERM"
APP_PID=""
echo "[demo] wingman exited with status $app_rc"
sleep 1 # rotel batches for 200 ms before printing
bash "$ROOT/scripts/rotel.sh" stop

# --- 7. the report ---------------------------------------------------------------------------
log "report ($REPORT)"
HEALTH=("$STATE"/health-*.json)
[ -e "${HEALTH[0]}" ] || HEALTH=()
python3 "$ROOT/scripts/demo_report.py" --goose "$LOAD_JSON" --rotel "$DUMP" \
    --health "${HEALTH[@]}" --thresholds "$ROOT/alerts/thresholds.json" \
    --page-url "$PAGE" "${SHOT_ARGS[@]}" --cpu-seconds "$CPU_SECONDS" --out "$REPORT" || die "the report found problems (above)"
[ "$app_rc" = 0 ] || die "wingman exited with status $app_rc (log: $APP_LOG)"
log "demo OK. Report: $REPORT; goose: $STATE/load.html; raw dump: $DUMP; wingman log: $APP_LOG"
