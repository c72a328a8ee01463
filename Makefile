# wingspan — the two commands first: `make demo` and `make test`.
#
# Every cargo step uses the same feature set and the dev/test profile, so clippy,
# nextest and the demo's quickstart build share one dependency build in the
# target dir (/work/target here, via .cargo/config.toml).

CARGO    ?= cargo
PYTHON   ?= python3
FEATURES ?= --all-features

.PHONY: all test demo services bench fuzz lint fmt fmt-check clippy otel-single py-test nextest doctest rotel clean-demo help

all: test

help:
	@echo "make demo       run the quickstart against the rotel collector and summarize what it received"
	@echo "make test       fmt check, clippy -D warnings, single-opentelemetry check, script tests, nextest"
	@echo "make services   make sure Postgres (DATABASE_URL) and Redis (REDIS_URL) answer"
	@echo "make bench      run the criterion benches and write BENCHMARKS.md"
	@echo "make fuzz       the fuzz_ property tests (SQL sanitizer, Redis masker) at 1 000 000 cases each"
	@echo "make lint       fmt check + clippy"
	@echo "make fmt        cargo fmt"

## test: the whole gate, in order; stops at the first failing step.
test: fmt-check clippy otel-single py-test nextest doctest

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets $(FEATURES) -- -D warnings

otel-single:
	bash scripts/check-otel-single.sh

py-test:
	$(PYTHON) -m unittest discover -s scripts -p 'test_*.py'

# nextest: one process per test, so global OTel providers and tracing
# subscribers cannot leak between tests.
nextest:
	$(CARGO) nextest run $(FEATURES) --no-fail-fast

# The crate docs are README.md: its examples compile here (nextest runs no doctests).
doctest:
	$(CARGO) test --doc $(FEATURES)

lint: fmt-check clippy

fmt:
	$(CARGO) fmt --all

services:
	bash scripts/services.sh

demo:
	bash scripts/demo.sh

rotel:
	bash scripts/rotel.sh install

bench:
	bash scripts/bench.sh

# The maskers' fuzz runs: every unit test named fuzz_* reads its case count
# from WINGSPAN_FUZZ_CASES (make test runs them at their small default).
fuzz:
	WINGSPAN_FUZZ_CASES=1000000 $(CARGO) test --release --all-features --lib fuzz_ -- --nocapture

clean-demo:
	-bash scripts/rotel.sh stop
	rm -rf .demo
