# wingspan — the two commands first: `make demo` and `make test`.
#
# Every cargo step uses the same feature set and the dev/test profile, so clippy,
# nextest and the demo's wingman build share one dependency build in the
# target dir (`target/`, or wherever CARGO_TARGET_DIR points).
#
# The repository is a workspace: the library at the root (package wingspan),
# crates/wingspan-report, crates/test-support (wingspan-test-support) and
# examples/wingman (package wingman: binaries wingman and wingman-load).

CARGO    ?= cargo
PYTHON   ?= python3
FEATURES ?= --all-features

.PHONY: all test demo demo-quickstart services bench fuzz lint fmt fmt-check clippy otel-single py-test registry-check semconv-live-check bench-figures book screenshots clippy-features nextest sdk-conformance doctest rotel clean-demo help \
	backend backend-static alerts-check alerts-render dashboards-check collector-check backend-check e2e-alerts alert-target

all: test

help:
	@echo "make demo       wingman (the reference service) under 30 s of load, tail-sampled at 1 %, exporting to rotel; prints a report (.demo/report.md)"
	@echo "make demo-quickstart  the smallest example (quickstart) against rotel, and what rotel received"
	@echo "make test       the whole gate: fmt, clippy (every feature set), script tests, alert rules, the book, nextest, weaver's live check, doctests, e2e alerting"
	@echo "make book       build the book (docs/, mdBook) into the target dir and check its links, the README's wiring block and SECURITY.md's tests"
	@echo "make services   make sure Postgres (DATABASE_URL) and Redis (REDIS_URL) answer"
	@echo "make bench      run the criterion benches and write BENCHMARKS.md"
	@echo "make sdk-conformance  the official Anthropic Python SDK (pinned, into .venv) against the fake Messages API"
	@echo "make fuzz       the fuzz_ property tests (SQL sanitizer, Redis masker) at 1 000 000 cases each"
	@echo "make semconv-live-check  weaver's live check of the quickstart's and wingman's telemetry: 0 violations (in make test; SKIPPED without weaver on PATH: docs/src/signals.md)"
	@echo "make lint       fmt check + clippy"
	@echo "make fmt        cargo fmt"
	@echo "make backend    alert rules + promtool tests, Alertmanager, dashboards, collector configs, metric names vs a real scrape"
	@echo "make e2e-alerts real Prometheus + Alertmanager: alerts fire, deliver, stay quiet when healthy"
	@echo "make alerts-render  rewrite alerts/wingspan.rules.yml and dashboards/*.json from alerts/thresholds.json"
	@echo "make faults     the fault tests (collector, Postgres, Redis, LLM, hostile input, secrets) with 10 s phases, figures printed"
	@echo "make soak       5 minutes of goose over wingman at a fixed rate: 0 errors, flat RSS, no new metric series"
	@echo "make test-pgbouncer  the db tests and wingman through pgbouncer in transaction mode (DB_STATEMENT_CACHE=off)"
	@echo "make report     the weekly report (wingspan-report) from PROM_URL: Markdown on stdout, HTML and JSON files"

## test: the whole gate, in order; stops at the first failing step.
test: fmt-check clippy clippy-features otel-single py-test registry-check bench-figures book backend-static nextest semconv-live-check sdk-conformance doctest backend-check e2e-alerts

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets $(FEATURES) -- -D warnings

# Every feature set a user can pick of the library: none (the default), each
# feature alone, and the full service stack (`clippy` above covers --all-features,
# every member). Tests,
# benches and examples that need a feature declare it, so each set builds its own
# targets without warnings. Then wingman without its one default feature.
FEATURE_SETS ?= postgres redis llm llm-fake prometheus
clippy-features:
	$(CARGO) clippy -p wingspan --all-targets --no-default-features -- -D warnings
	@for f in $(FEATURE_SETS); do \
		echo "$(CARGO) clippy -p wingspan --all-targets --no-default-features --features $$f -- -D warnings"; \
		$(CARGO) clippy -p wingspan --all-targets --no-default-features --features $$f -- -D warnings || exit 1; \
	done
	$(CARGO) clippy -p wingspan --all-targets --no-default-features --features postgres,redis,llm -- -D warnings
	$(CARGO) clippy -p wingman --all-targets --no-default-features -- -D warnings

otel-single:
	bash scripts/check-otel-single.sh

py-test:
	$(PYTHON) -m unittest discover -s scripts -p 'test_*.py'

# semconv/ (the registry of wingspan's own names) agrees with src/names/, README.md and the book.
registry-check:
	$(PYTHON) scripts/check_registry.py

# nextest: one process per test, so global OTel providers and tracing
# subscribers cannot leak between tests.
# The workspace's binaries first: the tests spawn wingman, wingman-load and
# wingspan-report from the target dir (same profile as the tests).
BUILD_BINARIES = $(CARGO) build --workspace $(FEATURES)
nextest:
	$(BUILD_BINARIES)
	$(CARGO) nextest run --workspace $(FEATURES) --no-fail-fast

# The official Anthropic Python SDK against the fake Messages API (tests/llm/sdk.rs, ignored by
# plain nextest): scripts/sdk-venv.sh installs the pinned SDK into .venv (PyPI), then the test runs.
sdk-conformance:
	py="$$(bash scripts/sdk-venv.sh)" && WINGSPAN_SDK_PYTHON="$$py" $(CARGO) nextest run -p wingspan $(FEATURES) \
		--run-ignored only -E 'test(official_python_sdk)'

# weaver's live check (tests/telemetry/weaver.rs): the quickstart's and wingman's telemetry
# against semantic conventions v1.44 plus semconv/, 0 violations. Needs `weaver` on PATH
# (docs/src/signals.md says how to get it); the v1.44 model comes from third_party/
# (or WINGSPAN_SEMCONV_MODEL), never from the network. In `make test`, after nextest
# (whose binaries it reuses); without weaver it says SKIPPED and passes.
semconv-live-check:
	@if command -v weaver >/dev/null 2>&1; then \
		$(BUILD_BINARIES) && $(CARGO) build $(FEATURES) --example quickstart && \
		$(CARGO) nextest run $(FEATURES) --run-ignored only --no-capture -E 'test(/weaver_live_check/)'; \
	else \
		echo "semconv-live-check: SKIPPED: no weaver on PATH (docs/src/signals.md: getting weaver)"; \
	fi

# The rustdoc examples (the crate root's wiring, each module's examples) compile and run
# here: nextest runs no doctests.
doctest:
	$(CARGO) test --doc $(FEATURES)

lint: fmt-check clippy

fmt:
	$(CARGO) fmt --all

services:
	bash scripts/services.sh

demo:
	bash scripts/demo.sh

demo-quickstart:
	bash scripts/demo_quickstart.sh

rotel:
	bash scripts/rotel.sh install

bench:
	bash scripts/bench.sh

# Rewrites docs/observability*.png (the README's screenshots) from the browser test.
screenshots:
	WINGSPAN_UPDATE_SCREENSHOTS=1 $(CARGO) nextest run $(FEATURES) -E 'test(/browser/)'

# The book's performance figures are quoted from BENCHMARKS.md.
bench-figures:
	$(PYTHON) scripts/check_bench_figures.py

# The book (docs/; mdBook, which .ci/run installs at the version scripts/check_docs.py pins):
# the README's wiring block is examples/wiring.rs, every setting of src/config/ is documented,
# every test SECURITY.md names exists, the book builds into the target dir, and every link and
# anchor in it resolves (external links are listed, not fetched).
book:
	$(PYTHON) scripts/check_docs.py all $(TARGET_DIR)/book

# The maskers' fuzz runs: every unit test named fuzz_* reads its case count
# from WINGSPAN_FUZZ_CASES (make test runs them at their small default).
fuzz:
	WINGSPAN_FUZZ_CASES=1000000 $(CARGO) test --release --all-features --lib fuzz_ -- --nocapture

clean-demo:
	-bash scripts/rotel.sh stop
	rm -rf .demo

# --- backend: alerts, dashboards, collector configs (alerts/, dashboards/, otel-collector/) ---

# The alert_target example (feature prometheus): the scrape the metric-name check reads
# and the service the end-to-end run drives.
TARGET_DIR = $(shell $(CARGO) metadata --format-version 1 --no-deps 2>/dev/null | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
ALERT_TARGET = $(TARGET_DIR)/debug/examples/alert_target

backend: backend-static backend-check

# No build needed: rules, unit tests, Alertmanager, dashboards, collector configs.
backend-static: alerts-check dashboards-check collector-check

alerts-check:
	PYTHON=$(PYTHON) bash scripts/alerts_check.sh

alerts-render:
	$(PYTHON) scripts/alerts_render.py --out alerts/wingspan.rules.yml
	$(PYTHON) scripts/dashboards_render.py --out dashboards

dashboards-check:
	$(PYTHON) scripts/dashboards_render.py --check dashboards

# PyYAML: the python3 on PATH, or Debian's python3-yaml under /usr/bin/python3.
YAML_PYTHON = $(or $(shell for p in $(PYTHON) /usr/bin/python3; do $$p -c 'import yaml' 2>/dev/null && { echo $$p; break; }; done),$(PYTHON))

collector-check:
	$(YAML_PYTHON) scripts/backend_check_collector.py

alert-target:
	$(CARGO) build $(FEATURES) --example alert_target

# Every metric and label name of the rules and dashboards against a real scrape of the
# pull endpoint; every dashboard expression through promtool.
backend-check: alert-target
	@mkdir -p $(TARGET_DIR)/backend
	$(ALERT_TARGET) exercise > $(TARGET_DIR)/backend/exposition.txt
	$(PYTHON) scripts/backend_check_metrics.py $(TARGET_DIR)/backend/exposition.txt --promtool

e2e-alerts: alert-target
	$(PYTHON) scripts/alerts_e2e.py --target $(ALERT_TARGET)

# --- the weekly performance report (crates/wingspan-report) ---

PROM_URL ?= http://127.0.0.1:9090
REPORT_DIR ?= $(TARGET_DIR)/report
.PHONY: report
## report: last week against the week before, from PROM_URL (SELECTOR='job="api"' to pick a service,
## REPORT_ARGS for any other option): Markdown on stdout, $(REPORT_DIR)/report.{html,json}
report:
	@mkdir -p $(REPORT_DIR)
	$(CARGO) run --quiet -p wingspan-report -- --prom-url $(PROM_URL) \
		$(if $(SELECTOR),--selector '$(SELECTOR)') \
		--html $(REPORT_DIR)/report.html --json $(REPORT_DIR)/report.json $(REPORT_ARGS)

# --- reliability: faults, soak, transaction pooler (RELIABILITY.md) ---
.PHONY: faults soak test-pgbouncer

# The fault tests of tests/faults/ (in `make test` with 3 s phases) with 10 s
# phases, one at a time; the figures they print go to RELIABILITY.md.
faults:
	$(BUILD_BINARIES)
	@mkdir -p $(TARGET_DIR)
	WINGSPAN_FAULT_PHASE_SECS=10 $(CARGO) nextest run $(FEATURES) --no-capture -E 'test(/^faults::/)' > $(TARGET_DIR)/faults.log 2>&1; \
		rc=$$?; grep -E '^faults::|^ +(PASS|FAIL)' $(TARGET_DIR)/faults.log; echo "log: $(TARGET_DIR)/faults.log"; exit $$rc

# 5 minutes of goose over wingman's whole mix at a fixed rate: 0 errors, flat RSS,
# no new metric series (tests/faults/soak.rs, ignored by `make test`).
SOAK_SECS ?= 300
SOAK_RATE ?= 100
soak:
	$(BUILD_BINARIES)
	@mkdir -p $(TARGET_DIR)
	WINGSPAN_SOAK_SECS=$(SOAK_SECS) WINGSPAN_SOAK_RATE=$(SOAK_RATE) $(CARGO) nextest run $(FEATURES) --run-ignored only --no-capture -E 'test(/faults::soak::/)' > $(TARGET_DIR)/soak.log 2>&1; \
		rc=$$?; grep -E '^faults::soak|^ +(PASS|FAIL)' $(TARGET_DIR)/soak.log; echo "log: $(TARGET_DIR)/soak.log"; exit $$rc

# The database tests through a private pgbouncer in transaction mode (scripts/pgbouncer.sh,
# port 6543 like Supavisor) with DB_STATEMENT_CACHE=off, then wingman under load through
# one beside a direct one. Left out, because they watch or need what a pooler hides:
#   backends by application_name (pg_stat_activity, pg_terminate_backend): direct_mode_opens,
#     max_lifetime_replaces, pool_heals_after_its_backends, reaper_closes_idle, reaper_opens_a_new;
#   the upstream's port in server.port: spans_carry_semconv;
#   a server-side statement_timeout (57014; startup `options` do not pass the pooler, the
#     client-side bound stands in): statement_timeout_bounds;
#   TLS to the server (this pgbouncer serves none): tls_follows_sslmode;
#   private clusters (they never go through the pooler): outage::, tls::;
#   a login role of the test's own (pgbouncer logs every client in as one user):
#     owning_a_table_whose_rls.
# The RLS tests log in as their authenticator role: a database alias (wingspan_rls) logs in
# upstream (the default 127.0.0.1:5432) as that role; WINGSPAN_TEST_AUTHENTICATOR_URL points
# them at it.
PGBOUNCER_EXCLUDED = direct_mode_opens|max_lifetime_replaces|pool_heals_after_its_backends|reaper_closes_idle|reaper_opens_a_new|spans_carry_semconv|statement_timeout_bounds|tls_follows_sslmode|db::outage::|db::tls::|owning_a_table_whose_rls
PGBOUNCER_RLS_DB = wingspan_rls = host=127.0.0.1 port=5432 dbname=postgres user=wingspan_test_authenticator password=wingspan-test-authenticator
test-pgbouncer:
	$(BUILD_BINARIES)
	PGBOUNCER_DATABASES="$(PGBOUNCER_RLS_DB)" bash scripts/pgbouncer.sh start
	DATABASE_URL="$$(bash scripts/pgbouncer.sh url)" DB_STATEMENT_CACHE=off \
		WINGSPAN_TEST_AUTHENTICATOR_URL="$$(bash scripts/pgbouncer.sh url | sed 's|//[^@]*@|//wingspan_test_authenticator@|; s|/[^/]*$$|/wingspan_rls|')" \
		$(CARGO) nextest run $(FEATURES) --no-fail-fast \
		-E 'test(/^db::/) & !test(/$(PGBOUNCER_EXCLUDED)/)'; rc=$$?; bash scripts/pgbouncer.sh stop; [ $$rc = 0 ] || exit $$rc
	$(CARGO) nextest run $(FEATURES) --no-capture -E 'test(/faults_wingman_through_pgbouncer/)'

# --- the suite on a machine that never ran it ---
.PHONY: test-fresh
## test-fresh: `make test` against a brand-new PostgreSQL cluster and an empty Redis, each on a
## free port (scripts/fresh-services.sh), stopped and removed afterwards; FRESH_CMD runs
## something else, e.g. FRESH_CMD='cargo nextest run --all-features'.
FRESH_CMD ?= $(MAKE) test
test-fresh:
	bash scripts/fresh-services.sh $(FRESH_CMD)
