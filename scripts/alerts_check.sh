#!/usr/bin/env bash
# The static checks of alerts/ (`make alerts-check`, part of `make test`):
#   1. alerts/wingspan.rules.yml is what alerts/thresholds.json renders (not hand-edited, not stale);
#   2. promtool check rules: every rule parses and is well-formed;
#   3. promtool test rules: the unit tests of alerts/tests/ (every alert, firing and not),
#      and the same tests against mutated thresholds, which they must reject;
#   4. amtool check-config on the committed Alertmanager config and on a rendered one;
#   5. amtool config routes test: where each kind of alert is delivered.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"

"$PYTHON" scripts/alerts_render.py --check alerts/wingspan.rules.yml
promtool check rules alerts/wingspan.rules.yml
promtool test rules alerts/tests/*.yml

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The unit tests must be able to fail: each mutant below (a threshold moved, the
# anti-flapping hold removed) renders rules that some test has to reject.
mkdir -p "$tmp/mutant/tests"
cp alerts/tests/*.yml "$tmp/mutant/tests/"
mutant() { # mutant KEY JSON_VALUE TEST_FILE... (the files expected to catch it)
    local key="$1" value="$2"
    shift 2
    "$PYTHON" -c 'import json,sys; t=json.load(open("alerts/thresholds.json")); t[sys.argv[1]]=json.loads(sys.argv[2]); json.dump(t,open(sys.argv[3],"w"))' \
        "$key" "$value" "$tmp/mutant/thresholds.json"
    "$PYTHON" scripts/alerts_render.py --thresholds "$tmp/mutant/thresholds.json" --out "$tmp/mutant/wingspan.rules.yml"
    if (cd "$tmp/mutant/tests" && promtool test rules "$@" >/dev/null 2>&1); then
        echo "the promtool tests ($*) still pass with $key=$value: they cannot see that change" >&2
        exit 1
    fi
    printf '  mutant rejected by %s: %s=%s\n' "$*" "$key" "$value"
}
# Control: the same set-up with the real thresholds passes, so a rejection below is the
# mutation's doing, not the set-up's.
"$PYTHON" scripts/alerts_render.py --out "$tmp/mutant/wingspan.rules.yml"
(cd "$tmp/mutant/tests" && promtool test rules ./*.yml >/dev/null) || { echo "control run of the mutant set-up failed" >&2; exit 1; }
mutant error_ratio_threshold 0.052 errors.yml
mutant api_latency_threshold_seconds 0.5 api_latency.yml
mutant api_latency_for_seconds 60 api_latency.yml
mutant pool_utilization_threshold 0.9 db.yml
mutant cache_hit_ratio_threshold 0.5 cache.yml
mutant cache_min_reads_per_second 0.005 cache.yml
mutant keep_firing_for_seconds 0 db.yml
mutant min_requests_per_second 0 api_latency.yml errors.yml
mutant slo_availability_target 0.999 errors.yml
mutant slo_latency_target 0.95 slo_latency.yml
mutant telemetry_loss_for_seconds 60 agent.yml
mutant target_down_for_seconds 30 agent.yml
mutant database_down_for_seconds 600 db.yml

amtool check-config alerts/alertmanager.yml >/dev/null
ALERT_EMAIL=oncall@example.com ALERT_SLACK_WEBHOOK=https://hooks.example.invalid/T000/B000 \
    ALERT_SMTP_USERNAME=alertmanager ALERT_SMTP_PASSWORD=not-a-real-one ALERT_SECRETS_DIR="$tmp/secrets" \
    "$PYTHON" scripts/alerts_render_alertmanager.py --out "$tmp/alertmanager.yml" >/dev/null
amtool check-config "$tmp/alertmanager.yml" >/dev/null
# The rendered config carries no secret, only the paths of the files holding them.
if grep -q -e 'hooks.example.invalid' -e 'not-a-real-one' "$tmp/alertmanager.yml"; then
    echo "a secret leaked into the rendered Alertmanager config" >&2
    exit 1
fi
[ "$(stat -c %a "$tmp/secrets/slack_webhook_url")" = 600 ] || { echo "secret file is not 0600" >&2; exit 1; }
grep -q "to: 'oncall@example.com'" "$tmp/alertmanager.yml" || { echo "ALERT_EMAIL not applied" >&2; exit 1; }

routes() { # routes EXPECTED_RECEIVERS LABEL=VALUE...
    local expected="$1"
    shift
    amtool config routes test --config.file=alerts/alertmanager.yml --verify.receivers="$expected" "$@" >/dev/null 2>&1 \
        || { echo "route test failed: $* -> expected $expected, got $(amtool config routes test --config.file=alerts/alertmanager.yml "$@" 2>/dev/null)" >&2; exit 1; }
    printf '  routes: %-70s -> %s\n' "$*" "$expected"
}
# Pages go to email and Slack; warnings to Slack only; an alert without severity
# (someone else's rule) still reaches a human through Slack.
routes email,slack alertname=WingspanHighErrorRate severity=critical job=api
routes email,slack alertname=WingspanDatabaseDown severity=critical job=api db_client_connection_pool_name=main
routes email,slack alertname=WingspanAvailabilityBudgetBurn severity=critical job=api long_window=1h short_window=5m
routes email,slack alertname=WingspanTargetDown severity=critical job=api
routes slack alertname=WingspanApiLatencyHigh severity=warning job=api
routes slack alertname=WingspanCacheHitRateLow severity=warning job=api wingspan_cache_name=users
routes slack alertname=WingspanAvailabilityBudgetBurn severity=warning job=api long_window=1d short_window=2h
routes slack alertname=SomethingElse job=api
echo "alerts: rules, unit tests, Alertmanager config and routes OK"
