#!/usr/bin/env python3
"""Renders wingspan's Grafana dashboards (dashboards/*.json) from the definitions below.

    dashboards_render.py --out dashboards     # write them
    dashboards_render.py --check dashboards   # exit 1 when a committed file differs

Stdlib only. The threshold lines (300 ms, 80 %, 70 %, 5 %) and the SLO targets come from
alerts/thresholds.json, so a dashboard shows exactly what the alerts evaluate. Every
dashboard has the template variables `datasource` (Prometheus), `traces` (Tempo) and
`job` (the service), and every PromQL target is listed by `all_exprs()` for the metric-name
check (scripts/backend_check_metrics.py) and the end-to-end run, which executes each one.
"""

import argparse
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alerts_render  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "dashboards")
RI = "$__rate_interval"
J = 'job="$job"'
PROM = {"type": "prometheus", "uid": "${datasource}"}
TEMPO = {"type": "tempo", "uid": "${traces}"}


def tempo_link(title, traceql):
    """A data link opening Grafana Explore on the traces datasource with a TraceQL query."""
    panes = {
        "t": {
            "datasource": "${traces}",
            "queries": [{"refId": "A", "datasource": {"type": "tempo", "uid": "${traces}"},
                         "queryType": "traceql", "query": traceql}],
            "range": {"from": "${__from}", "to": "${__to}"},
        }
    }
    raw = json.dumps(panes, separators=(",", ":"))
    # Keep Grafana's ${...} variables readable for its interpolation; encode the rest.
    return {"title": title, "url": "/explore?schemaVersion=1&panes=" + urllib.parse.quote(raw, safe="${}_.:")}


def target(expr, legend="", ref="A", fmt=None, instant=False):
    t = {"refId": ref, "datasource": PROM, "expr": expr, "legendFormat": legend or "__auto"}
    if fmt:
        t["format"] = fmt
    if instant:
        t["instant"] = True
        t["range"] = False
    return t


def panel(title, targets, kind="timeseries", unit=None, threshold=None, below=False, desc="",
          links=None, w=12, h=8, minmax=None, extra_options=None):
    steps = [{"color": "green", "value": None}]
    if threshold is not None:
        steps = ([{"color": "red", "value": None}, {"color": "green", "value": threshold}] if below
                 else [{"color": "green", "value": None}, {"color": "red", "value": threshold}])
    defaults = {"thresholds": {"mode": "absolute", "steps": steps}}
    if unit:
        defaults["unit"] = unit
    if minmax:
        defaults["min"], defaults["max"] = minmax
    if kind == "timeseries":
        defaults["custom"] = {"thresholdsStyle": {"mode": "line" if threshold is not None else "off"},
                              "lineWidth": 1, "fillOpacity": 10}
    if links:
        defaults["links"] = links
    p = {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": targets[0].get("datasource", PROM) if targets else PROM,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "gridPos": {"w": w, "h": h},
    }
    if kind == "timeseries":
        p["options"] = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["mean", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}
    elif kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background",
                        "graphMode": "area"}
    elif kind == "heatmap":
        p["options"] = {"calculate": False, "yAxis": {"unit": unit or "s"},
                        "cellGap": 1, "color": {"scheme": "Oranges", "mode": "scheme"}}
    if extra_options:
        p.setdefault("options", {}).update(extra_options)
    return p


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "gridPos": {"w": 24, "h": 1}}


def variables(extra=()):
    v = [
        {"type": "datasource", "name": "datasource", "label": "Prometheus", "query": "prometheus",
         "current": {}, "hide": 0},
        {"type": "datasource", "name": "traces", "label": "Traces (Tempo)", "query": "tempo",
         "current": {}, "hide": 0},
        {"type": "query", "name": "job", "label": "service", "datasource": PROM,
         "query": {"query": "label_values(target_info, job)", "refId": "job"},
         "definition": "label_values(target_info, job)", "refresh": 2, "sort": 1,
         "current": {}, "hide": 0, "includeAll": False, "multi": False},
    ]
    return v + list(extra)


def dashboard(uid, title, description, panels, tags=("wingspan",)):
    # Lay panels out left to right in rows of 24 columns.
    x = y = rowh = 0
    for i, p in enumerate(panels, start=1):
        p["id"] = i
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if p["type"] == "row" or x + w > 24:
            x, y = 0, y + rowh
            rowh = 0
        p["gridPos"].update({"x": x, "y": y})
        x += w
        rowh = max(rowh, h)
        if p["type"] == "row":
            x, y, rowh = 0, y + h, 0
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": list(tags),
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": variables()},
        "annotations": {"list": [{
            "name": "Alerts", "datasource": PROM, "enable": True, "iconColor": "red",
            "expr": f'ALERTS{{alertstate="firing",{J}}}', "titleFormat": "{{alertname}}",
            "textFormat": "{{severity}}", "step": "60s",
        }]},
        "links": [{"type": "dashboards", "tags": ["wingspan"], "asDropdown": True, "title": "wingspan"}],
        "panels": panels,
    }


def build(th):
    lat = th["api_latency_threshold_seconds"]
    lat_ms = int(round(lat * 1000))
    le = alerts_render.number(th["slo_latency_threshold_seconds"])
    pool_max = th["pool_utilization_threshold"]
    hit_min = th["cache_hit_ratio_threshold"]
    err_max = th["error_ratio_threshold"]
    avail_budget = alerts_render.number(1 - th["slo_availability_target"])
    lat_budget = alerts_render.number(1 - th["slo_latency_target"])
    q = alerts_render.number(th["api_latency_quantile"])
    pct = int(round(th["api_latency_quantile"] * 100))
    bucket = "http_server_request_duration_seconds_bucket"
    count = "http_server_request_duration_seconds_count"
    slow_traces = tempo_link(
        "Slow traces of ${__field.labels.http_route}",
        '{ resource.service.name = "${job}" && span.http.route = "${__field.labels.http_route}" '
        f"&& kind = server && duration > {lat_ms}ms }}",
    )
    error_traces = tempo_link(
        "Failed requests in traces",
        '{ resource.service.name = "${job}" && kind = server && status = error }',
    )

    api = dashboard("wingspan-api", "wingspan / API performance",
                    f"P{pct} by route against the {lat_ms} ms objective (LLM routes apart), "
                    "request and error rates, the latency distribution.", [
        panel(f"P{pct} by route (non-LLM) vs {lat_ms} ms",
              [target(f"histogram_quantile({q}, sum by (le, http_route) (rate({bucket}{{{J},wingspan_route_class!=\"llm\"}}[{RI}])))",
                      "{{http_route}}")],
              unit="s", threshold=lat, links=[slow_traces],
              desc="Read at the 0.3 s bucket edge, so the line is exact, not interpolated. "
                   "Click a series to open its slow traces."),
        panel(f"P{pct} of LLM routes",
              [target(f"histogram_quantile({q}, sum by (le, http_route) (rate({bucket}{{{J},wingspan_route_class=\"llm\"}}[{RI}])))",
                      "{{http_route}}")],
              unit="s", desc="LLM routes have no 300 ms objective; see the AI dashboard."),
        panel("Request rate by route",
              [target(f"sum by (http_route, wingspan_route_class) (rate({count}{{{J}}}[{RI}]))",
                      "{{http_route}} ({{wingspan_route_class}})")], unit="reqps"),
        panel("Error rate (5xx and failed handlers)",
              [target(f"(sum(rate({count}{{{J},error_type!=\"\"}}[{RI}])) or sum(rate({count}{{{J}}}[{RI}])) * 0) "
                      f"/ sum(rate({count}{{{J}}}[{RI}]))",
                      "all routes")],
              unit="percentunit", threshold=err_max, links=[error_traces]),
        panel("Responses by status code",
              [target(f"sum by (http_response_status_code) (rate({count}{{{J}}}[{RI}]))",
                      "{{http_response_status_code}}")], unit="reqps"),
        panel("In-flight requests",
              [target(f"sum(http_server_active_requests{{{J}}})", "in flight")], unit="short"),
        panel("Latency distribution (non-LLM)",
              [target(f"sum by (le) (increase({bucket}{{{J},wingspan_route_class!=\"llm\"}}[{RI}]))",
                      "{{le}}", fmt="heatmap")],
              kind="heatmap", unit="s", w=24, h=9),
    ])

    pool_by = "db_client_connection_pool_name"
    op = "db_client_operation_duration_seconds"
    db = dashboard("wingspan-db", "wingspan / Database pool",
                   f"Pool utilization against {int(pool_max * 100)} %, acquire waits and timeouts, "
                   "query latency by operation and table, leaks, slowest statements (traces).", [
        panel(f"Pool utilization vs {int(pool_max * 100)} %",
              [target(f"sum by ({pool_by}) (db_client_connection_count{{{J},db_client_connection_state=\"used\"}}) "
                      f"/ sum by ({pool_by}) (db_client_connection_max{{{J}}})", "{{" + pool_by + "}}")],
              unit="percentunit", threshold=pool_max, minmax=(0, 1)),
        panel("Connections by state",
              [target(f"sum by ({pool_by}, db_client_connection_state) (db_client_connection_count{{{J}}})",
                      "{{" + pool_by + "}} {{db_client_connection_state}}"),
               target(f"sum by ({pool_by}) (db_client_connection_max{{{J}}})", "{{" + pool_by + "}} max", ref="B"),
               target(f"sum by ({pool_by}) (db_client_connection_idle_min{{{J}}})", "{{" + pool_by + "}} min", ref="C")],
              unit="short"),
        panel(f"Acquire wait P{pct}",
              [target(f"histogram_quantile({q}, sum by (le, {pool_by}) (rate(db_client_connection_wait_time_seconds_bucket{{{J}}}[{RI}])))",
                      "{{" + pool_by + "}}")], unit="s"),
        panel("Acquire timeouts",
              [target(f"sum by ({pool_by}) (increase(db_client_connection_timeouts_total{{{J}}}[{RI}]))",
                      "{{" + pool_by + "}}")], unit="short", threshold=1,
              desc="Each one is a request that failed with DbError::PoolTimeout (503)."),
        panel("Callers waiting for a connection",
              [target(f"sum by ({pool_by}) (db_client_connection_pending_requests{{{J}}})", "{{" + pool_by + "}}")],
              unit="short"),
        panel(f"Connection hold time P{pct}",
              [target(f"histogram_quantile({q}, sum by (le, {pool_by}) (rate(db_client_connection_use_time_seconds_bucket{{{J}}}[{RI}])))",
                      "{{" + pool_by + "}} held")], unit="s", w=8),
        # Connections are opened rarely (start-up, growth, refill after reaping), most of
        # them before the first scrape: the histogram since process start, not a rate,
        # or the panel is empty most of the time.
        panel(f"Connection open time P{pct} (since start)",
              [target(f"histogram_quantile({q}, sum by (le, {pool_by}) (db_client_connection_create_time_seconds_bucket{{{J}}}))",
                      "{{" + pool_by + "}}", instant=True)], kind="stat", unit="s", w=4),
        panel(f"Query P{pct} by operation and table",
              [target(f"histogram_quantile({q}, sum by (le, db_operation_name, db_collection_name) "
                      f"(rate({op}_bucket{{{J},db_system_name=\"postgresql\"}}[{RI}])))",
                      "{{db_operation_name}} {{db_collection_name}}")],
              unit="s", links=[tempo_link(
                  "Slow queries of ${__field.labels.db_operation_name}",
                  '{ resource.service.name = "${job}" && span.db.system.name = "postgresql" '
                  '&& span.db.operation.name = "${__field.labels.db_operation_name}" } | select(span.db.query.summary, span.db.query.text)')]),
        panel("Queries by operation; failures by SQLSTATE",
              [target(f"sum by (db_operation_name) (rate({op}_count{{{J},db_system_name=\"postgresql\"}}[{RI}]))",
                      "{{db_operation_name}}"),
               target(f"sum by (db_response_status_code) (rate({op}_count{{{J},db_system_name=\"postgresql\",error_type!=\"\"}}[{RI}]))",
                      "failed {{db_response_status_code}}", ref="B")], unit="ops"),
        panel("Leaked connections (held past DB_LEAK_THRESHOLD) by call site",
              [target(f"sum by ({pool_by}, code_file_path, code_line_number) "
                      f"(increase(wingspan_db_connection_leaks_total{{{J}}}[$__range]))", "", fmt="table", instant=True)],
              kind="table", unit="short"),
        {**panel("Slowest statements (traces)",
                 [{"refId": "A", "datasource": TEMPO, "queryType": "traceql", "tableType": "spans", "limit": 20,
                   "query": '{ resource.service.name = "${job}" && span.db.system.name = "postgresql" } '
                            "| select(span.db.query.summary, span.db.query.text)"}],
                 kind="table", unit="s",
                 desc="From the traces datasource: db.query.summary is a span attribute, not a metric "
                      "label (it would multiply series). Sort by duration."),
         "datasource": TEMPO},
    ])

    cache_by = "wingspan_cache_name"
    cache = dashboard("wingspan-cache", "wingspan / Cache",
                      f"Hit ratio by cache name against {int(hit_min * 100)} %, Redis memory, evictions "
                      "and expirations, command latency.", [
        panel(f"Hit ratio by cache name vs {int(hit_min * 100)} %",
              [target(f"sum by ({cache_by}) (rate(wingspan_cache_requests_total{{{J},wingspan_cache_result=\"hit\"}}[{RI}])) "
                      f"/ sum by ({cache_by}) (rate(wingspan_cache_requests_total{{{J},wingspan_cache_result=~\"hit|miss\"}}[{RI}]))",
                      "{{" + cache_by + "}}")],
              unit="percentunit", threshold=hit_min, below=True, minmax=(0, 1),
              desc="Errors are not reads: an outage shows in the next panel, not here."),
        panel("Reads by cache name and result",
              [target(f"sum by ({cache_by}, wingspan_cache_result) (rate(wingspan_cache_requests_total{{{J}}}[{RI}]))",
                      "{{" + cache_by + "}} {{wingspan_cache_result}}")], unit="reqps"),
        panel("Redis memory used",
              [target(f"max(redis_memory_used_bytes{{{J}}})", "used")], unit="bytes"),
        panel("Evictions and expirations",
              [target(f"sum(rate(redis_keys_evicted_total{{{J}}}[{RI}]))", "evicted"),
               target(f"sum(rate(redis_keys_expired_total{{{J}}}[{RI}]))", "expired", ref="B")], unit="ops"),
        panel("Keys, keys with a TTL, average TTL",
              [target(f"max by (db_namespace) (redis_db_keys{{{J}}})", "keys db{{db_namespace}}"),
               target(f"max by (db_namespace) (redis_db_expires{{{J}}})", "with TTL db{{db_namespace}}", ref="B"),
               target(f"max by (db_namespace) (redis_db_avg_ttl_milliseconds{{{J}}}) / 1000", "avg TTL (s) db{{db_namespace}}", ref="C")],
              unit="short"),
        panel(f"Command latency P{pct} by command",
              [target(f"histogram_quantile({q}, sum by (le, db_operation_name) "
                      f"(rate({op}_bucket{{{J},db_system_name=\"redis\"}}[{RI}])))", "{{db_operation_name}}")],
              unit="s"),
        panel("Server keyspace hit ratio (all clients)",
              [target(f"sum(rate(redis_keyspace_hits_total{{{J}}}[{RI}])) / "
                      f"(sum(rate(redis_keyspace_hits_total{{{J}}}[{RI}])) + sum(rate(redis_keyspace_misses_total{{{J}}}[{RI}])))",
                      "server")], unit="percentunit", minmax=(0, 1)),
        panel("Connected clients",
              [target(f"max(redis_clients_connected{{{J}}})", "clients")], unit="short"),
    ])

    dur = "gen_ai_client_operation_duration_seconds"
    model = "gen_ai_request_model"
    ai = dashboard("wingspan-ai", "wingspan / AI cost & performance",
                   "LLM spend by model and task, tokens, latency and time to first chunk, errors.", [
        panel("Spend by model (USD/h)",
              [target(f"sum by ({model}) (rate(wingspan_gen_ai_cost_total{{{J}}}[{RI}])) * 3600", "{{" + model + "}}")],
              unit="currencyUSD"),
        panel("Spend by task over the range (USD)",
              [target(f"sum by (wingspan_gen_ai_task) (increase(wingspan_gen_ai_cost_total{{{J}}}[$__range]))",
                      "{{wingspan_gen_ai_task}}", instant=True)],
              kind="bargauge", unit="currencyUSD"),
        panel("Tokens by type (per second)",
              [target(f"sum by (gen_ai_token_type, {model}) (rate(gen_ai_client_token_usage_sum{{{J}}}[{RI}]))",
                      "{{" + model + "}} {{gen_ai_token_type}}")], unit="short"),
        panel(f"Call latency P{pct} by model",
              [target(f"histogram_quantile({q}, sum by (le, {model}) (rate({dur}_bucket{{{J}}}[{RI}])))",
                      "{{" + model + "}}")],
              unit="s", links=[tempo_link(
                  "LLM calls of ${__field.labels." + model + "}",
                  '{ resource.service.name = "${job}" && span.gen_ai.request.model = "${__field.labels.' + model + '}" }')]),
        panel(f"Time to first chunk P{pct} by model",
              [target(f"histogram_quantile({q}, sum by (le, {model}) "
                      f"(rate(gen_ai_client_operation_time_to_first_chunk_seconds_bucket{{{J}}}[{RI}])))",
                      "{{" + model + "}}")], unit="s"),
        panel(f"Time per output chunk P{pct} by model",
              [target(f"histogram_quantile({q}, sum by (le, {model}) "
                      f"(rate(gen_ai_client_operation_time_per_output_chunk_seconds_bucket{{{J}}}[{RI}])))",
                      "{{" + model + "}}")], unit="s"),
        panel("Calls by requested and answering model (routing)",
              [target(f"sum by ({model}, gen_ai_response_model) (rate({dur}_count{{{J}}}[{RI}]))",
                      "{{" + model + "}} → {{gen_ai_response_model}}")], unit="ops"),
        panel("Failed calls by error type (overloads, rate limits, timeouts)",
              [target(f"sum by (gen_ai_provider_name, error_type) (rate({dur}_count{{{J},error_type!=\"\"}}[{RI}]))",
                      "{{gen_ai_provider_name}} {{error_type}}")], unit="ops"),
        panel("Calls with no price (cost unknown)",
              [target(f"sum by ({model}) (increase(wingspan_gen_ai_unpriced_total{{{J}}}[{RI}]))", "{{" + model + "}}")],
              unit="short"),
        panel(f"LLM routes: P{pct} seen by users",
              [target(f"histogram_quantile({q}, sum by (le, http_route) (rate({bucket}{{{J},wingspan_route_class=\"llm\"}}[{RI}])))",
                      "{{http_route}}")], unit="s"),
    ])

    stat = dict(kind="stat", w=6, h=5)
    overview = dashboard("wingspan-overview", "wingspan / Overview & SLO",
                         "The four alert thresholds, the error budgets left, and the agent's own health.", [
        row("The four thresholds (as the alerts see them)"),
        panel(f"API P{pct} (non-LLM) vs {lat_ms} ms",
              [target(f'job:http_server_request_duration_seconds:p{pct}_rate5m{{{J}}}', "P95")],
              unit="s", threshold=lat, **stat),
        panel(f"Busiest pool vs {int(pool_max * 100)} %",
              [target(f"max(job_pool:db_client_connection:utilization{{{J}}})", "pool")],
              unit="percentunit", threshold=pool_max, **stat),
        panel(f"Worst cache hit ratio vs {int(hit_min * 100)} %",
              [target(f"min(job_cache:wingspan_cache_hit:ratio_rate5m{{{J}}})", "hit ratio")],
              unit="percentunit", threshold=hit_min, below=True, **stat),
        panel(f"Error rate vs {alerts_render.number(err_max * 100)} %",
              [target(f"job:http_server_request_errors:ratio_rate5m{{{J}}}", "errors")],
              unit="percentunit", threshold=err_max, **stat),
        row("Error budgets (30 days)"),
        panel(f"Availability budget left ({alerts_render.number(th['slo_availability_target'] * 100)} %)",
              [target(f"1 - ((sum(rate({count}{{{J},error_type!=\"\"}}[30d])) or sum(rate({count}{{{J}}}[30d])) * 0) "
                      f"/ sum(rate({count}{{{J}}}[30d]))) / {avail_budget}",
                      "left")], unit="percentunit", threshold=0, below=True, **stat),
        panel(f"Latency budget left ({alerts_render.number(th['slo_latency_target'] * 100)} % within {lat_ms} ms)",
              [target(f"1 - (1 - sum(rate({bucket}{{{J},wingspan_route_class!=\"llm\",le=\"{le}\"}}[30d])) "
                      f"/ sum(rate({count}{{{J},wingspan_route_class!=\"llm\"}}[30d]))) / {lat_budget}", "left")],
              unit="percentunit", threshold=0, below=True, **stat),
        panel("Burn rates (1 = spending exactly the budget)",
              [target(f"job:http_server_request_errors:ratio_rate1h{{{J}}} / {avail_budget}", "availability 1h"),
               target(f"job:http_server_request_errors:ratio_rate5m{{{J}}} / {avail_budget}", "availability 5m", ref="B"),
               target(f"job:http_server_request_slow:ratio_rate1h{{{J}}} / {lat_budget}", "latency 1h", ref="C"),
               target(f"job:http_server_request_slow:ratio_rate5m{{{J}}} / {lat_budget}", "latency 5m", ref="D")],
              unit="short", threshold=th["slo_burn_windows"][0]["burn_rate"]),
        row("Alerts and the agent's health"),
        panel("Alerts firing",
              [target(f'sum by (alertname, severity) (ALERTS{{alertstate="firing",{J}}})', "{{alertname}} ({{severity}})")],
              unit="short"),
        panel("Scrape target up",
              [target(f"up{{{J}}}", "{{instance}}")], unit="short", minmax=(0, 1), threshold=1, below=True),
        panel("Telemetry dropped before export (per second)",
              [target(f"sum by (error_type) (rate(otel_sdk_processor_span_processed_total{{{J},error_type!=\"\"}}[{RI}]))",
                      "spans {{error_type}}"),
               target(f"sum by (error_type) (rate(otel_sdk_processor_log_processed_total{{{J},error_type!=\"\"}}[{RI}]))",
                      "logs {{error_type}}", ref="B")], unit="short"),
        panel("Export failures (per second)",
              [target(f"sum(rate(otel_sdk_exporter_span_exported_total{{{J},error_type!=\"\"}}[{RI}]))", "spans"),
               target(f"sum(rate(otel_sdk_exporter_metric_data_point_exported_total{{{J},error_type!=\"\"}}[{RI}]))",
                      "metric points", ref="B"),
               target(f"sum(rate(otel_sdk_exporter_log_exported_total{{{J},error_type!=\"\"}}[{RI}]))", "logs", ref="C")],
              unit="short"),
        panel("Process CPU and memory",
              [target(f"sum(rate(process_cpu_time_seconds_total{{{J}}}[{RI}]))", "CPU (cores)"),
               target(f"max(process_memory_usage_bytes{{{J}}}) / 1e9", "RSS (GB)", ref="B")], unit="short"),
    ])
    return {"api-performance": api, "database-pool": db, "cache": cache, "ai-cost-performance": ai,
            "overview-slo": overview}


def render_all(th=None):
    th = th or alerts_render.load_thresholds()
    return {f"{name}.json": json.dumps(d, indent=2, ensure_ascii=False) + "\n" for name, d in build(th).items()}


def all_exprs(th=None):
    """(dashboard file, panel title, PromQL) for every Prometheus target and annotation."""
    th = th or alerts_render.load_thresholds()
    out = []
    for name, d in build(th).items():
        for a in d["annotations"]["list"]:
            out.append((f"{name}.json", "annotation " + a["name"], a["expr"]))
        for p in d["panels"]:
            for t in p.get("targets", []):
                if "expr" in t:
                    out.append((f"{name}.json", p["title"], t["expr"]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    ap.add_argument("--check")
    args = ap.parse_args(argv)
    files = render_all()
    if args.check:
        stale = []
        for name, text in files.items():
            path = os.path.join(args.check, name)
            if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
                stale.append(path)
        if stale:
            print(f"stale dashboards (run `make dashboards-render`): {', '.join(stale)}", file=sys.stderr)
            return 1
        print(f"{len(files)} dashboards up to date")
        return 0
    out = args.out or OUT
    os.makedirs(out, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)
    print(f"wrote {len(files)} dashboards to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
