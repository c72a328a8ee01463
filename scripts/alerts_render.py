#!/usr/bin/env python3
"""Renders alerts/wingspan.rules.yml from alerts/thresholds.json (stdlib only).

    alerts_render.py                      # print the rules to stdout
    alerts_render.py --out FILE           # write them
    alerts_render.py --check FILE         # exit 1 when FILE differs from the rendering
    alerts_render.py --time-scale 20 ...  # every window, `for:` and keep_firing_for / 20

Thresholds and SLO targets live in thresholds.json only; this script is the one place
that turns them into PromQL. `--time-scale` exists for the end-to-end run
(scripts/alerts_e2e.py), which cannot wait five minutes for a `for:`: it shrinks every
duration but keeps the rule names, thresholds and expressions' shape, so the e2e run
exercises the same rules at a higher speed.
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
THRESHOLDS = os.path.join(ROOT, "alerts", "thresholds.json")
RUNBOOK = "alerts/RUNBOOK.md"

HTTP_BUCKET = "http_server_request_duration_seconds_bucket"
HTTP_COUNT = "http_server_request_duration_seconds_count"
NOT_LLM = 'wingspan_route_class!="llm"'
IS_ERROR = 'error_type!=""'
POOL = "db_client_connection_pool_name"
CACHE = "wingspan_cache_name"


def load_thresholds(path=THRESHOLDS):
    with open(path, encoding="utf-8") as f:
        th = json.load(f)
    for key in ("api_latency_threshold_seconds", "slo_latency_threshold_seconds"):
        # The latency alerts read a bucket edge: between edges histogram_quantile
        # interpolates and the alert would fire on a guess.
        if th[key] not in th["http_duration_buckets"]:
            raise ValueError(f"{key}={th[key]} is not an http.server.request.duration bucket edge")
    return th


def duration(seconds):
    """Seconds as a Prometheus duration: 300 -> 5m, 86400 -> 1d, 15 -> 15s."""
    seconds = max(1, int(round(seconds)))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def number(x):
    """A float as PromQL/YAML shows it, without binary noise (0.072, not 0.07200000000000001)."""
    return f"{round(x, 10):g}"


def anchor(alertname):
    # GitHub's heading anchors: lower case, so "## WingspanApiLatencyHigh" -> #wingspanapilatencyhigh.
    return f"{RUNBOOK}#{alertname.lower()}"


class Rules:
    def __init__(self, th, time_scale=1.0):
        self.th = th
        self.scale = float(time_scale)
        self.svc = th["service_label"]

    def d(self, key_or_seconds):
        """A duration from thresholds.json (by key) or in seconds, divided by the time scale."""
        s = self.th[key_or_seconds] if isinstance(key_or_seconds, str) else key_or_seconds
        return duration(s / self.scale)

    # The recording rules are named after the production window (rate5m, ratio_rate1h)
    # whatever the time scale, so dashboards and alerts name one set of series.
    def name_window(self, seconds):
        return duration(seconds)

    def windows(self):
        ws = {self.th["error_ratio_window_seconds"], self.th["api_latency_window_seconds"]}
        for b in self.th["slo_burn_windows"]:
            ws.add(b["long_seconds"])
            ws.add(b["short_seconds"])
        return sorted(ws)

    def recording(self):
        svc, th = self.svc, self.th
        q = number(th["api_latency_quantile"])
        qname = f"p{int(round(th['api_latency_quantile'] * 100))}"
        lw = th["api_latency_window_seconds"]
        slo_le = number(th["slo_latency_threshold_seconds"])
        http = [
            {
                "record": f"{svc}:http_server_request_duration_seconds:{qname}_rate{self.name_window(lw)}",
                "expr": f"histogram_quantile({q}, sum by ({svc}, le) (rate({HTTP_BUCKET}{{{NOT_LLM}}}[{self.d(lw)}])))",
            },
            {
                "record": f"{svc}_http_route:http_server_request_duration_seconds:{qname}_rate{self.name_window(lw)}",
                "expr": f"histogram_quantile({q}, sum by ({svc}, http_route, le) (rate({HTTP_BUCKET}{{{NOT_LLM}}}[{self.d(lw)}])))",
            },
            {
                "record": f"{svc}:http_server_requests:rate{self.name_window(th['error_ratio_window_seconds'])}",
                "expr": f"sum by ({svc}) (rate({HTTP_COUNT}[{self.d('error_ratio_window_seconds')}]))",
            },
            {
                "record": f"{svc}:http_server_requests_not_llm:rate{self.name_window(lw)}",
                "expr": f"sum by ({svc}) (rate({HTTP_COUNT}{{{NOT_LLM}}}[{self.d(lw)}]))",
            },
        ]
        for w in self.windows():
            # Availability: every route counts, LLM ones too (a failed answer is a failure).
            # `or ... * 0`: a service that has never failed has no error series; its
            # ratio is 0, not absent (dashboards show 0, and absence means "no traffic").
            http.append({
                "record": f"{svc}:http_server_request_errors:ratio_rate{self.name_window(w)}",
                "expr": (
                    f"(\n  sum by ({svc}) (rate({HTTP_COUNT}{{{IS_ERROR}}}[{self.d(w)}]))\n"
                    f"  or\n  sum by ({svc}) (rate({HTTP_COUNT}[{self.d(w)}])) * 0\n)\n"
                    f"/\nsum by ({svc}) (rate({HTTP_COUNT}[{self.d(w)}]))"
                ),
            })
        for w in self.windows():
            # Latency: the share of non-LLM requests slower than the objective, read at
            # the bucket edge (no interpolation).
            http.append({
                "record": f"{svc}:http_server_request_slow:ratio_rate{self.name_window(w)}",
                "expr": (
                    f"1 - (\n  sum by ({svc}) (rate({HTTP_BUCKET}{{{NOT_LLM},le=\"{slo_le}\"}}[{self.d(w)}]))\n"
                    f"  /\n  sum by ({svc}) (rate({HTTP_COUNT}{{{NOT_LLM}}}[{self.d(w)}]))\n)"
                ),
            })
        db = [
            {
                "record": f"{svc}_pool:db_client_connection:utilization",
                "expr": (
                    f'sum by ({svc}, {POOL}) (db_client_connection_count{{db_client_connection_state="used"}})\n'
                    f"/\nsum by ({svc}, {POOL}) (db_client_connection_max)"
                ),
            },
        ]
        cw = th["cache_window_seconds"]
        cache = [
            {
                "record": f"{svc}_cache:wingspan_cache_reads:rate{self.name_window(cw)}",
                "expr": f'sum by ({svc}, {CACHE}) (rate(wingspan_cache_requests_total{{wingspan_cache_result=~"hit|miss"}}[{self.d(cw)}]))',
            },
            {
                # Errors stay out of the denominator: an outage shows as errors, not as
                # a collapsing hit rate (and the cache falls back to the loader anyway).
                "record": f"{svc}_cache:wingspan_cache_hit:ratio_rate{self.name_window(cw)}",
                "expr": (
                    f'sum by ({svc}, {CACHE}) (rate(wingspan_cache_requests_total{{wingspan_cache_result="hit"}}[{self.d(cw)}]))\n'
                    f"/\n{svc}_cache:wingspan_cache_reads:rate{self.name_window(cw)}"
                ),
            },
        ]
        return [
            {"name": "wingspan.http.recording", "rules": http},
            {"name": "wingspan.db.recording", "rules": db},
            {"name": "wingspan.cache.recording", "rules": cache},
        ]

    def alert(self, name, expr, for_, severity, summary, description, extra_labels=None):
        labels = {"severity": severity}
        labels.update(extra_labels or {})
        return {
            "alert": name,
            "expr": expr,
            "for": for_,
            "keep_firing_for": self.d("keep_firing_for_seconds"),
            "labels": labels,
            "annotations": {
                "summary": summary,
                "description": description,
                "runbook_url": anchor(name),
            },
        }

    def alerts(self):
        svc, th = self.svc, self.th
        qname = f"p{int(round(th['api_latency_quantile'] * 100))}"
        lw = self.name_window(th["api_latency_window_seconds"])
        ew = self.name_window(th["error_ratio_window_seconds"])
        cw = self.name_window(th["cache_window_seconds"])
        min_rps = number(th["min_requests_per_second"])
        lat_ms = int(round(th["api_latency_threshold_seconds"] * 1000))
        guard_not_llm = f"and on ({svc}) {svc}:http_server_requests_not_llm:rate{lw} >= {min_rps}"
        guard_all = f"and on ({svc}) {svc}:http_server_requests:rate{ew} >= {min_rps}"
        svc_ref = "{{ $labels." + svc + " }}"

        api = [
            self.alert(
                "WingspanApiLatencyHigh",
                f"{svc}:http_server_request_duration_seconds:{qname}_rate{lw} > {number(th['api_latency_threshold_seconds'])}\n{guard_not_llm}",
                self.d("api_latency_for_seconds"),
                "warning",
                f"{svc_ref}: API {qname.upper()} above {lat_ms} ms (LLM routes excluded)",
                f"{qname.upper()} of non-LLM requests over the last {self.d(th['api_latency_window_seconds'])} is {{{{ $value | humanizeDuration }}}} "
                f"(objective {lat_ms} ms), for {self.d('api_latency_for_seconds')} at least.",
            ),
            self.alert(
                "WingspanHighErrorRate",
                f"{svc}:http_server_request_errors:ratio_rate{ew} > {number(th['error_ratio_threshold'])}\n{guard_all}",
                self.d("error_ratio_for_seconds"),
                "critical",
                f"{svc_ref}: more than {number(th['error_ratio_threshold'] * 100)} % of requests fail",
                f"{{{{ $value | humanizePercentage }}}} of requests over the last {self.d('error_ratio_window_seconds')} ended in a 5xx or a failed handler "
                f"(threshold {number(th['error_ratio_threshold'] * 100)} %).",
            ),
        ]

        db = [
            self.alert(
                "WingspanDbPoolSaturated",
                f"avg_over_time({svc}_pool:db_client_connection:utilization[{self.d('pool_utilization_smoothing_seconds')}]) > {number(th['pool_utilization_threshold'])}",
                self.d("pool_utilization_for_seconds"),
                "warning",
                f"{svc_ref}: database pool {{{{ $labels.{POOL} }}}} above {number(th['pool_utilization_threshold'] * 100)} % in use",
                f"{{{{ $value | humanizePercentage }}}} of the pool's maximum connections are checked out "
                f"(threshold {number(th['pool_utilization_threshold'] * 100)} %); callers start waiting soon.",
            ),
            self.alert(
                "WingspanDbPoolAcquireTimeouts",
                f"sum by ({svc}, {POOL}) (increase(db_client_connection_timeouts_total[{self.d('pool_timeouts_window_seconds')}])) > 0",
                "0s",
                "warning",
                f"{svc_ref}: callers timed out waiting for a connection from pool {{{{ $labels.{POOL} }}}}",
                f"About {{{{ $value | printf \"%.0f\" }}}} acquires timed out (DB_CONNECTION_TIMEOUT) in the last "
                f"{self.d('pool_timeouts_window_seconds')}; each one failed its request.",
            ),
            self.alert(
                "WingspanDatabaseDown",
                f"sum by ({svc}, {POOL}) (db_client_connection_count) == 0\n"
                f"and on ({svc}, {POOL}) sum by ({svc}, {POOL}) (db_client_connection_idle_min) > 0",
                self.d("database_down_for_seconds"),
                "critical",
                f"{svc_ref}: pool {{{{ $labels.{POOL} }}}} holds no connection to the database",
                f"The pool keeps a minimum of open connections, yet {{{{ $value }}}} are open: the database is "
                f"unreachable or refuses connections. Latency alerts it causes are inhibited.",
            ),
        ]

        cache = [
            self.alert(
                "WingspanCacheHitRateLow",
                f"{svc}_cache:wingspan_cache_hit:ratio_rate{cw} < {number(th['cache_hit_ratio_threshold'])}\n"
                f"and {svc}_cache:wingspan_cache_reads:rate{cw} >= {number(th['cache_min_reads_per_second'])}",
                self.d("cache_for_seconds"),
                "warning",
                f"{svc_ref}: cache {{{{ $labels.{CACHE} }}}} hit rate below {number(th['cache_hit_ratio_threshold'] * 100)} %",
                f"Hit rate {{{{ $value | humanizePercentage }}}} over the last {self.d('cache_window_seconds')} "
                f"(threshold {number(th['cache_hit_ratio_threshold'] * 100)} %, counted only above "
                f"{number(th['cache_min_reads_per_second'])} reads/s).",
            ),
        ]

        slo = []
        for kind, record, target_key, what in (
            ("Availability", "http_server_request_errors", "slo_availability_target", "failed requests"),
            ("Latency", "http_server_request_slow", "slo_latency_target", "non-LLM requests slower than the objective"),
        ):
            target = th[target_key]
            budget = 1 - target
            for b in th["slo_burn_windows"]:
                long_w, short_w = self.name_window(b["long_seconds"]), self.name_window(b["short_seconds"])
                limit = number(b["burn_rate"] * budget)
                slo.append(self.alert(
                    f"Wingspan{kind}BudgetBurn",
                    f"{svc}:{record}:ratio_rate{long_w} > {limit}\n"
                    f"and {svc}:{record}:ratio_rate{short_w} > {limit}\n{guard_not_llm if kind == 'Latency' else guard_all}",
                    self.d(b["for_seconds"]),
                    b["severity"],
                    f"{svc_ref}: {kind.lower()} error budget burning {number(b['burn_rate'])}x too fast ({long_w}/{short_w})",
                    f"{{{{ $value | humanizePercentage }}}} {what} over the last {self.d(b['long_seconds'])} "
                    f"(and the last {self.d(b['short_seconds'])}); "
                    f"the {number(target * 100)} % objective allows {number(budget * 100)} %. At this rate the 30-day "
                    f"budget lasts {number(30 / b['burn_rate'])} days.",
                    {"long_window": long_w, "short_window": short_w},
                ))

        lw_t = self.d("telemetry_loss_window_seconds")

        def by_signal(metric, signal):
            return (
                f'label_replace(sum by ({svc}) (increase({metric}{{{IS_ERROR}}}[{lw_t}])), "signal", "{signal}", "", "") > 0'
            )

        agent = [
            self.alert(
                "WingspanTelemetryDropped",
                by_signal("otel_sdk_processor_span_processed_total", "traces")
                + "\nor\n"
                + by_signal("otel_sdk_processor_log_processed_total", "logs"),
                self.d("telemetry_loss_for_seconds"),
                "warning",
                f"{svc_ref}: the SDK drops {{{{ $labels.signal }}}} before export",
                f"{{{{ $value | printf \"%.0f\" }}}} {{{{ $labels.signal }}}} items were dropped in the last {lw_t} "
                f"(export queue full): traces or logs are missing; metrics are unaffected.",
            ),
            self.alert(
                "WingspanTelemetryExportFailing",
                by_signal("otel_sdk_exporter_span_exported_total", "traces")
                + "\nor\n"
                + by_signal("otel_sdk_exporter_metric_data_point_exported_total", "metrics")
                + "\nor\n"
                + by_signal("otel_sdk_exporter_log_exported_total", "logs"),
                self.d("telemetry_loss_for_seconds"),
                "warning",
                f"{svc_ref}: OTLP export of {{{{ $labels.signal }}}} is failing",
                f"{{{{ $value | printf \"%.0f\" }}}} {{{{ $labels.signal }}}} items failed to export in the last {lw_t}: "
                f"the collector is down, slow or refusing.",
            ),
            self.alert(
                "WingspanTargetDown",
                "up == 0",
                self.d("target_down_for_seconds"),
                "critical",
                f"{svc_ref}: Prometheus cannot scrape {{{{ $labels.instance }}}}",
                f"The scrape of {{{{ $labels.instance }}}} has failed for {self.d('target_down_for_seconds')} "
                f"(up = {{{{ $value }}}}): the process is down or its metrics endpoint does not answer.",
            ),
        ]
        return [
            {"name": "wingspan.api.alerts", "rules": api},
            {"name": "wingspan.db.alerts", "rules": db},
            {"name": "wingspan.cache.alerts", "rules": cache},
            {"name": "wingspan.slo.alerts", "rules": slo},
            {"name": "wingspan.agent.alerts", "rules": agent},
        ]

    def groups(self):
        # Each alert shares its group with the recording rules it reads: rules in a group
        # run in order, groups in no defined order, so an alert in another group may read
        # a recording rule's previous value (one interval late, at random).
        rec = {g["name"].split(".")[1]: g["rules"] for g in self.recording()}
        al = {g["name"].split(".")[1]: g["rules"] for g in self.alerts()}
        return [
            {"name": "wingspan.http", "rules": rec["http"] + al["api"] + al["slo"]},
            {"name": "wingspan.db", "rules": rec["db"] + al["db"]},
            {"name": "wingspan.cache", "rules": rec["cache"] + al["cache"]},
            {"name": "wingspan.agent", "rules": al["agent"]},
        ]


def q(s):
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(s, ensure_ascii=False)


def emit(groups, header):
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    out.append("groups:")
    for g in groups:
        out.append(f"  - name: {q(g['name'])}")
        out.append("    rules:")
        for r in g["rules"]:
            first = True
            for key in ("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"):
                if key not in r:
                    continue
                lead = "      - " if first else "        "
                first = False
                v = r[key]
                if key == "expr":
                    out.append(f"{lead}expr: |-")
                    out.extend(f"          {line}" for line in v.splitlines())
                elif isinstance(v, dict):
                    out.append(f"{lead}{key}:")
                    out.extend(f"          {k}: {q(val)}" for k, val in v.items())
                else:
                    out.append(f"{lead}{key}: {q(v) if key in ('record', 'alert') else v}")
    return "\n".join(out) + "\n"


HEADER = """Generated by scripts/alerts_render.py from alerts/thresholds.json: edit those, not this file
(`make alerts-render` rewrites it; `make test` fails when it is stale).
Series are grouped by `{svc}`: the service, on both paths (the collector's remote write
maps service.name to job; a scrape of the pull endpoint names the job after the service)."""


def render(th, time_scale=1.0):
    header = HEADER.format(svc=th["service_label"])
    if time_scale != 1:
        header += f"\nTIME-SCALED VARIANT (durations / {number(time_scale)}) for the end-to-end test only."
    return emit(Rules(th, time_scale).groups(), header)


def all_rules(th=None):
    """Every rule (recording and alerting) as dicts, for the consistency checker."""
    th = th or load_thresholds()
    return [r for g in Rules(th).groups() for r in g["rules"]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--thresholds", default=THRESHOLDS)
    ap.add_argument("--time-scale", type=float, default=1.0)
    ap.add_argument("--out")
    ap.add_argument("--check")
    args = ap.parse_args(argv)
    text = render(load_thresholds(args.thresholds), args.time_scale)
    if args.check:
        with open(args.check, encoding="utf-8") as f:
            if f.read() != text:
                print(f"{args.check} is stale: run `make alerts-render` (scripts/alerts_render.py --out {args.check})",
                      file=sys.stderr)
                return 1
        print(f"{args.check}: up to date with alerts/thresholds.json")
        return 0
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
