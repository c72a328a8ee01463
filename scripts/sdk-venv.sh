#!/usr/bin/env bash
# The official Anthropic Python SDK (PyPI `anthropic`) for the conformance test
# (tests/llm/sdk.rs, `make sdk-conformance`): creates the project-local .venv if
# needed (as scripts/rotel.sh does), installs the pinned SDK, prints the venv's python.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SDK_VENV:-$ROOT/.venv}"
# Pinned: the test checks what this version parses and raises.
SDK_PIP_SPEC="${SDK_PIP_SPEC:-anthropic==2.10.0}"

die() { printf '[sdk-venv] ERROR: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is missing"
if [ ! -x "$VENV/bin/python" ]; then
    printf '[sdk-venv] creating venv %s\n' "$VENV" >&2
    python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi
want="${SDK_PIP_SPEC#*==}"
have="$("$VENV/bin/python" -c 'import anthropic; print(anthropic.__version__)' 2>/dev/null || true)"
if [ "$have" != "$want" ]; then
    printf '[sdk-venv] pip install %s into %s\n' "$SDK_PIP_SPEC" "$VENV" >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$SDK_PIP_SPEC" >&2 \
        || die "pip install $SDK_PIP_SPEC failed"
fi
printf '%s\n' "$VENV/bin/python"
