#!/usr/bin/env bash
# `make bench`: run every criterion bench in benches/ and write BENCHMARKS.md.
#
# BENCHMARKS.md starts with the machine (CPU, cores, rustc, date, commit) and the
# command; then each bench appends its own section to $WINGSPAN_BENCH_OUT (an
# absolute path to a temporary file that replaces BENCHMARKS.md once every bench
# has passed, so a failed run leaves the previous BENCHMARKS.md intact).
#
#   BENCHES="http db"   run only these benches (default: every benches/*.rs, then
#                       `service`; `stats` is the in-process view's cost per record,
#                       `llm` runs against the fake Messages API, feature llm-fake,
#                       `request` is one full request, `process` is the whole
#                       process at saturation with a real collector:
#                       scripts/bench_process.py, `service` is wingman under
#                       goose load: scripts/bench_service.py)
#   BENCH_PROCESS_SECONDS=N, BENCH_PROCESS_REPS=N  the process bench's run length
#                       (default 5 s) and repetitions (default 3)
#   BENCH_SERVICE_SECONDS=N  seconds per service run (default 10)
#   BENCH_ARGS="..."    extra arguments for the bench binaries (after `--`)
#   BENCH_OUT=path      where to write (default: BENCHMARKS.md in the repo root)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

OUT="${BENCH_OUT:-$ROOT/BENCHMARKS.md}"
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac

if [ -n "${BENCHES:-}" ]; then
    read -r -a benches <<<"$BENCHES"
else
    benches=()
    for f in benches/*.rs; do
        [ -f "$f" ] && benches+=("$(basename "$f" .rs)")
    done
    benches=(process "${benches[@]}" service)
fi
if [ "${#benches[@]}" -eq 0 ]; then
    echo "[bench] no benches/*.rs found: nothing to run" >&2
    exit 1
fi

TMP="$(mktemp "${OUT}.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
export WINGSPAN_BENCH_OUT="$TMP"
# Exact instruction counts for the HTTP breakdown (timing differences of
# ~100 ns parts are noise on a shared 2-core box); skipped without valgrind.
if command -v valgrind >/dev/null 2>&1; then
    export WINGSPAN_BENCH_CALLGRIND="${WINGSPAN_BENCH_CALLGRIND:-1}"
fi

cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n1)"
mem="$(awk '/^MemTotal:/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || true)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
# BENCHMARKS.md names the commit it measured, and the book quotes it: a run on
# uncommitted src/ or benches/ would measure code no commit holds.
if [ -n "$(git status --porcelain --untracked-files=no -- src benches examples scripts/bench_service.py Cargo.toml Cargo.lock 2>/dev/null || true)" ]; then
    if [ "${BENCH_ALLOW_DIRTY:-0}" != 1 ]; then
        echo "[bench] src/, benches/, examples/ or Cargo.* have uncommitted changes: commit first (or BENCH_ALLOW_DIRTY=1 for a scratch run)" >&2
        exit 1
    fi
    commit="$commit (dirty)"
fi
{
    echo "# Benchmarks"
    echo
    echo "Written by \`make bench\` (scripts/bench.sh); every number below comes from that run."
    echo
    echo "| machine | |"
    echo "|---|---|"
    echo "| CPU | ${cpu:-unknown} |"
    echo "| cores (nproc) | $(nproc) |"
    echo "| memory | ${mem:-unknown} |"
    echo "| kernel | $(uname -sr) |"
    echo "| rustc | $(rustc -V) |"
    echo "| date (UTC) | $(date -u '+%Y-%m-%d %H:%M') |"
    echo "| commit | $commit |"
    echo
    echo "Command: \`cargo bench --all-features --bench <name>\` for each of: ${benches[*]}"
    echo "(\`process\`: \`python3 scripts/bench_process.py\`, the whole process at saturation with a real"
    echo "collector; \`service\`: \`python3 scripts/bench_service.py\`, wingman under goose load)."
    echo "Wall-clock medians on this shared machine drift by up to 20 %; thread CPU time"
    echo "(\`CLOCK_THREAD_CPUTIME_ID\`) by well under 1 %, so CPU time is the figure to compare."
    echo "Not measured, by design: the capture of slow statements' plans (\`DB_PLAN_CAPTURE\`, off by"
    echo "default) adds one relaxed atomic add to a call while on; off the request path, it costs one"
    echo "view snapshot and at most one plan (a few planning round trips on an idle connection) per"
    echo "\`DB_PLAN_INTERVAL\`."
    echo
} >"$WINGSPAN_BENCH_OUT"

for b in "${benches[@]}"; do
    if [ "$b" = process ]; then
        # wrk drives the process bench (Debian's package).
        if ! command -v wrk >/dev/null 2>&1; then
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
                apt-get install -y wrk >/dev/null || { apt-get update -q >/dev/null && apt-get install -y wrk >/dev/null; }
            else
                echo "[bench] wrk is missing: apt-get install wrk" >&2
                exit 1
            fi
        fi
        echo "[bench] python3 scripts/bench_process.py"
        "${PYTHON:-python3}" scripts/bench_process.py
        continue
    fi
    if [ "$b" = service ]; then
        echo "[bench] python3 scripts/bench_service.py"
        "${PYTHON:-python3}" scripts/bench_service.py
        continue
    fi
    echo "[bench] cargo bench --all-features --bench $b -- ${BENCH_ARGS:-}"
    # shellcheck disable=SC2086
    cargo bench --all-features --bench "$b" -- ${BENCH_ARGS:-}
done

mv "$TMP" "$OUT"
trap - EXIT
echo "[bench] wrote $OUT"
