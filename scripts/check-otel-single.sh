#!/usr/bin/env bash
# Exactly one version of each opentelemetry crate in the normal dependency graph
# of the whole workspace (the library, wingspan-report, wingman and its load tool,
# the test support).
# Two versions compile fine but silently split the world: spans from one
# `opentelemetry` never reach a provider of the other (tracing-opentelemetry 0.34
# pairs with opentelemetry 0.33). Fails when:
#   - `cargo tree -d` (duplicates) lists opentelemetry, _sdk, -otlp, -proto,
#     -semantic-conventions or -appender-tracing;
#   - `cargo tree -i opentelemetry` shows more than one version.
# Duplicates among dev-dependencies (the bench's peer crates) are reported as a warning.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PATTERN='^opentelemetry(_sdk|-otlp|-proto|-semantic-conventions|-appender-tracing)? v'
fail=0

echo "[otel-single] cargo tree --workspace -d -e normal --all-features --depth 0 --prefix none"
dups="$(cargo tree --workspace -d -e normal --all-features --depth 0 --prefix none)"
if bad="$(printf '%s\n' "$dups" | grep -E "$PATTERN")"; then
    echo "[otel-single] FAIL: duplicated OpenTelemetry crates in the normal dependency graph:" >&2
    printf '%s\n' "$bad" | sort -u | sed 's/^/    /' >&2
    fail=1
fi

echo "[otel-single] cargo tree --workspace -e normal --all-features -i opentelemetry"
if ! inv="$(cargo tree --workspace -e normal --all-features -i opentelemetry --depth 0 --prefix none 2>&1)"; then
    echo "[otel-single] FAIL: cargo tree -i opentelemetry failed (more than one version makes the spec ambiguous):" >&2
    printf '%s\n' "$inv" | sed 's/^/    /' >&2
    fail=1
else
    versions="$(printf '%s\n' "$inv" | grep -E '^opentelemetry v' | sort -u)"
    n="$(printf '%s\n' "$versions" | grep -c . || true)"
    if [ "$n" -ne 1 ]; then
        echo "[otel-single] FAIL: expected exactly one opentelemetry version, found $n:" >&2
        printf '%s\n' "$versions" | sed 's/^/    /' >&2
        fail=1
    else
        echo "[otel-single] $versions"
    fi
fi

# Informational: the dev graph (benches compare against peer crates).
if devbad="$(cargo tree --workspace -d --all-features --depth 0 --prefix none 2>/dev/null | grep -E "$PATTERN")"; then
    echo "[otel-single] WARNING: dev-dependencies bring a second OpenTelemetry version:" >&2
    printf '%s\n' "$devbad" | sort -u | sed 's/^/    /' >&2
fi

if [ "$fail" -ne 0 ]; then
    exit 1
fi
echo "[otel-single] OK: one version of each OpenTelemetry crate"
