#!/usr/bin/env python3
"""The report `make demo` prints: what a person wants to know after driving
wingman (examples/wingman/) with the load tool (wingman-load) while it
exported to the rotel collector.

Inputs, all written by scripts/demo.sh:

- the goose JSON report (client side: per-route P50/P95/P99, errors), read
  with scripts/summarize_goose.py;
- rotel's debug dump (server side: every span, metric point and log record
  the agent exported), read with scripts/summarize_rotel.py;
- ``/health/detailed`` documents sampled while the load ran (the in-process
  view: pool utilization now, the alert states it judges);
- alerts/thresholds.json (the thresholds the alert rules use).

Sections: per-route latency, client side (goose) against the agent's
``http.server.request.duration`` histogram (quantiles interpolated within
the exported buckets, as Prometheus' ``histogram_quantile`` does), the
database pool, the cache, the AI calls and their cost, each alert threshold
and its state, what the collector received, tail sampling (spans and CPU per
request, and the share of 5xx and slow requests whose traces arrived), two
example traces as trees, and the page's URL and screenshot.

Usage::

    demo_report.py --goose load.json --rotel rotel.log [--health h1.json ...]
        [--thresholds alerts/thresholds.json] [--page-url URL] [--screenshot PNG]
        [--cpu-seconds S] [--out report.md]

Exits 1 when the essentials are missing (no requests, no spans, no metrics).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import summarize_goose  # noqa: E402
import summarize_rotel  # noqa: E402

HTTP_DURATION = "http.server.request.duration"
LLM_ROUTES = ("/api/coach",)
SAMPLING_TRACES = "wingspan.sampling.traces"
# WINGSPAN_TAIL_SAMPLING_LLM_SLOW_MS's default, in seconds.
LLM_SLOW_S = 10.0


# ------------------------------------------------------------------ histograms
def histogram_quantile(q: float, bounds: list, counts: list) -> float | None:
    """Prometheus' ``histogram_quantile`` over explicit buckets.

    ``counts`` are per bucket (not cumulative), one more than ``bounds`` (the
    last is +Inf). Linear interpolation within the bucket holding the rank,
    from 0 for the first bucket; a rank in +Inf answers the highest bound."""
    total = sum(counts)
    if total == 0 or not bounds:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        if n and seen + n >= rank:
            if i >= len(bounds):
                return float(bounds[-1])
            lower = float(bounds[i - 1]) if i > 0 else 0.0
            upper = float(bounds[i])
            return lower + (upper - lower) * (rank - seen) / n
        seen += n
    return float(bounds[-1])


def merge_histograms(points) -> tuple[list, list, int, float]:
    """Bounds, summed bucket counts, count and sum of histogram points that
    share their bounds (points with other bounds are left out)."""
    bounds, counts, count, total = [], [], 0, 0.0
    for p in points:
        if not p.get("buckets"):
            continue
        if not counts:
            bounds, counts = list(p.get("bounds") or []), [0] * len(p["buckets"])
        if len(p["buckets"]) != len(counts):
            continue
        counts = [a + b for a, b in zip(counts, p["buckets"])]
        count += int(p.get("count") or 0)
        total += float(p.get("sum") or 0)
    return bounds, counts, count, total


def points_of(metrics: dict, name: str) -> list:
    m = metrics.get(name)
    return list(m["points"].values()) if m else []


def attr(p: dict, key: str, default=None):
    return p.get("attributes", {}).get(key, default)


# ------------------------------------------------------------------ sections
def agent_latency(metrics: dict) -> dict:
    """``(method, route)`` -> count and P50/P95/P99 in ms from the exported
    request-duration histogram, every status merged; plus ``("*", "non-LLM")``."""
    by_route = defaultdict(list)
    for p in points_of(metrics, HTTP_DURATION):
        route = attr(p, "http.route")
        if route is None:
            continue
        by_route[(str(attr(p, "http.request.method", "")), str(route))].append(p)
        if attr(p, "wingspan.route.class", "standard") != "llm":
            by_route[("*", "non-LLM")].append(p)
    out = {}
    for key, pts in by_route.items():
        bounds, counts, count, _ = merge_histograms(pts)
        out[key] = {"count": count, "bounds": bounds}
        for q in (0.5, 0.95, 0.99):
            v = histogram_quantile(q, bounds, counts)
            out[key][f"p{int(q * 100)}_ms"] = None if v is None else v * 1000
    return out


def server_errors(metrics: dict) -> tuple[int, int]:
    """(5xx responses, all responses) from the request-duration histogram."""
    errors = total = 0
    for p in points_of(metrics, HTTP_DURATION):
        n = int(p.get("count") or 0)
        total += n
        try:
            if int(attr(p, "http.response.status_code", 0)) >= 500:
                errors += n
        except (TypeError, ValueError):
            pass
    return errors, total


def cache_hits(metrics: dict) -> dict:
    """Cache name -> hits, misses, errors, hit rate; plus ``"all"``."""
    out = defaultdict(lambda: {"hit": 0, "miss": 0, "error": 0})
    for p in points_of(metrics, "wingspan.cache.requests"):
        name = str(attr(p, "wingspan.cache.name", "?"))
        result = str(attr(p, "wingspan.cache.result", "?"))
        v = int(p.get("value") or 0)
        for key in (name, "all"):
            out[key][result] = out[key].get(result, 0) + v
    for row in out.values():
        reads = row["hit"] + row["miss"]
        row["hit_rate"] = row["hit"] / reads if reads else None
    return dict(out)


def llm_usage(metrics: dict) -> dict:
    calls = errors = 0
    error_types = defaultdict(int)
    for p in points_of(metrics, "gen_ai.client.operation.duration"):
        n = int(p.get("count") or 0)
        calls += n
        et = attr(p, "error.type")
        if et:
            errors += n
            error_types[str(et)] += n
    tokens = defaultdict(int)
    for p in points_of(metrics, "gen_ai.client.token.usage"):
        tokens[str(attr(p, "gen_ai.token.type", "?"))] += int(float(p.get("sum") or 0))
    cost = sum(float(p.get("value") or 0) for p in points_of(metrics, "wingspan.gen_ai.cost"))
    cache_read_cost = sum(float(p.get("value") or 0) for p in points_of(metrics, "wingspan.gen_ai.cost")
                          if attr(p, "wingspan.gen_ai.cache") == "read")
    attempts = defaultdict(int)
    for p in points_of(metrics, "http.client.request.duration"):
        attempts[str(attr(p, "http.response.status_code", attr(p, "error.type", "?")))] += int(p.get("count") or 0)
    return {"calls": calls, "errors": errors, "error_types": dict(error_types),
            "tokens": dict(tokens), "cost_usd": cost, "cache_read_cost_usd": cache_read_cost,
            "attempts_by_status": dict(attempts)}


def pool_usage(metrics: dict, health: list, seconds: float) -> dict:
    """Peak utilization sampled from /health/detailed during the load, and the
    mean over the run: the connections' summed hold time (the
    ``db.client.connection.use_time`` histogram's sum) over max × seconds."""
    maxes = [float(p.get("value") or 0) for p in points_of(metrics, "db.client.connection.max")]
    max_conn = max(maxes) if maxes else None
    _, _, holds, held_s = merge_histograms(points_of(metrics, "db.client.connection.use_time"))
    timeouts = sum(int(p.get("value") or 0) for p in points_of(metrics, "db.client.connection.timeouts"))
    samples = [h.get("database", {}).get("pool_utilization") for h in health]
    samples = [s for s in samples if isinstance(s, (int, float))]
    _, _, waits, _ = merge_histograms(points_of(metrics, "db.client.connection.wait_time"))
    mean = held_s / (max_conn * seconds) if max_conn and seconds > 0 else None
    return {"max_connections": max_conn, "acquires": holds, "held_s": held_s,
            "mean_utilization": mean, "peak_sampled": max(samples) if samples else None,
            "samples": len(samples), "timeouts": timeouts, "waits": waits,
            "acquire_wait_p95_ms": max((h.get("database", {}).get("acquire_wait_p95_ms") or 0
                                        for h in health), default=None)}


def alert_states(th: dict, non_llm_p95_s, pool_util, hit_rate, error_ratio) -> list:
    """The four alerts of alerts/thresholds.json against their values."""
    rows = [
        ("API P95 latency (non-LLM routes)", non_llm_p95_s, th.get("api_latency_threshold_seconds", 0.3), ">",
         lambda v: f"{v * 1000:.1f} ms", lambda t: f"{t * 1000:.0f} ms"),
        ("database pool utilization", pool_util, th.get("pool_utilization_threshold", 0.8), ">",
         lambda v: f"{v * 100:.1f} %", lambda t: f"{t * 100:.0f} %"),
        ("cache hit rate", hit_rate, th.get("cache_hit_ratio_threshold", 0.7), "<",
         lambda v: f"{v * 100:.1f} %", lambda t: f"{t * 100:.0f} %"),
        ("error rate (5xx)", error_ratio, th.get("error_ratio_threshold", 0.05), ">",
         lambda v: f"{v * 100:.2f} %", lambda t: f"{t * 100:.0f} %"),
    ]
    out = []
    for name, value, threshold, op, fv, ft in rows:
        if value is None:
            state, shown = "NO DATA", "-"
        else:
            breached = value > threshold if op == ">" else value < threshold
            state, shown = ("FIRING" if breached else "ok"), fv(value)
        out.append({"alert": name, "threshold": f"{op} {ft(threshold)}", "value": shown, "state": state})
    return out


# ------------------------------------------------------------------ traces
def traces_by_id(spans: list) -> dict:
    out = defaultdict(list)
    for s in spans:
        out[s["trace_id"]].append(s)
    return out


def root_of(spans: list):
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if not s["parent_id"] or s["parent_id"] not in ids]
    return roots[0] if len(roots) == 1 else None


def pick_traces(spans: list) -> list:
    """Two complete traces that show the layers: a coach call whose profile
    missed the cache (HTTP → cache GET → acquire → query → SET → LLM call →
    HTTP attempt), and a challenge read that missed (HTTP → cache → acquire →
    query → SET). Falls back to the traces with the most span names."""
    wanted = [
        ("POST /api/coach", ("GET", "acquire", "SELECT", "chat")),
        ("GET /api/challenges/{id}", ("GET", "acquire", "SELECT")),
    ]
    traces = traces_by_id(spans)
    chosen = []
    for root_name, parts in wanted:
        best = None
        for tid, ts in traces.items():
            root = root_of(ts)
            if root is None or root["name"] != root_name or tid in chosen:
                continue
            names = [s["name"] for s in ts]
            if all(any(n.startswith(p) for n in names) for p in parts):
                best = tid
                break
        if best:
            chosen.append(best)
    if len(chosen) < 2:
        ranked = sorted(traces, key=lambda t: -len({s["name"] for s in traces[t]}))
        for tid in ranked:
            if tid not in chosen and root_of(traces[tid]) is not None:
                chosen.append(tid)
            if len(chosen) == 2:
                break
    return [traces[t] for t in chosen]


SPAN_DETAIL = ("http.response.status_code", "db.query.summary", "wingspan.cache.hit",
               "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "error.type")


def tree(spans: list) -> list[str]:
    children = defaultdict(list)
    for s in sorted(spans, key=lambda s: s["start"] or 0):
        children[s["parent_id"]].append(s)
    root = root_of(spans)
    lines = [f"trace {root['trace_id'] if root else '?'}"]

    def walk(s, depth):
        bits = [f"{s['kind']:<8}", s["name"], f"({summarize_rotel.ms(s)})"]
        for k in SPAN_DETAIL:
            v = s["attributes"].get(k)
            if v is not None and not (k == "db.query.summary" and v == s["name"]):
                bits.append(f"{k}={str(v).lower() if isinstance(v, bool) else v}")
        lines.append("  " + "   " * depth + ("└─ " if depth else "") + " ".join(bits))
        for c in children.get(s["span_id"], []):
            walk(c, depth + 1)

    if root:
        walk(root, 0)
    return lines


def slow_requests(metrics: dict, api_slow_s: float, llm_slow_s: float) -> int:
    """Requests slower than their class's threshold and not 5xx (those count as
    errors), from the exported histogram: the counts of the buckets above the
    threshold's bound (the bounds hold 0.3 and 10, wingspan's thresholds)."""
    slow = 0
    for p in points_of(metrics, HTTP_DURATION):
        try:
            if int(attr(p, "http.response.status_code", 0)) >= 500:
                continue
        except (TypeError, ValueError):
            pass
        limit = llm_slow_s if attr(p, "wingspan.route.class", "standard") == "llm" else api_slow_s
        bounds, buckets = p.get("bounds") or [], p.get("buckets") or []
        above = [i + 1 for i, b in enumerate(bounds) if float(b) >= limit - 1e-9]
        if above and len(buckets) == len(bounds) + 1:
            slow += sum(int(n) for n in buckets[above[0]:])
    return slow


def tail_sampling(metrics: dict, spans: list, api_slow_s: float, llm_slow_s: float,
                  cpu_seconds: float | None) -> dict:
    """What tail sampling kept against what it should have: the 5xx and slow
    requests the histogram counted, and the traces whose local root (a SERVER
    span with no parent) arrived with a 5xx or above its class's threshold;
    the decisions counted by ``wingspan.sampling.traces``; spans and process
    CPU per request."""
    errors, responses = server_errors(metrics)
    slow = slow_requests(metrics, api_slow_s, llm_slow_s)
    arrived_errors = arrived_slow = 0
    for s in spans:
        if s["parent_id"] or s["kind"] != "SERVER":
            continue
        a = s["attributes"]
        try:
            code = int(a.get("http.response.status_code", 0))
        except (TypeError, ValueError):
            code = 0
        if code >= 500:
            arrived_errors += 1
            continue
        limit = llm_slow_s if a.get("wingspan.route.class") == "llm" else api_slow_s
        if isinstance(s["start"], int) and isinstance(s["end"], int) and (s["end"] - s["start"]) / 1e9 > limit:
            arrived_slow += 1
    decisions = {str(attr(p, "wingspan.sampling.decision")): int(p.get("value") or 0)
                 for p in points_of(metrics, SAMPLING_TRACES)}
    return {
        "on": bool(decisions),
        "responses": responses,
        "spans": len(spans),
        "spans_per_request": len(spans) / responses if responses else None,
        "cpu_ms_per_request": cpu_seconds * 1000 / responses if responses and cpu_seconds is not None else None,
        "cpu_seconds": cpu_seconds,
        "errors": errors,
        "arrived_errors": arrived_errors,
        "slow": slow,
        "arrived_slow": arrived_slow,
        "decisions": decisions,
    }


def share(arrived: int, expected: int) -> str:
    return f"{arrived} of {expected}" + (f" ({arrived / expected * 100:.1f} %)" if expected else "")


# ------------------------------------------------------------------ render
# The slowest statements (by P95) whose plan the report prints.
PLANS_SHOWN = 3


def plans_section(last_health: dict) -> list[str]:
    """The statements of the last `/health/detailed` sample that carry a
    captured plan (`DB_PLAN_CAPTURE`), the PLANS_SHOWN slowest by P95, each
    with its plan and what the advice says of it."""
    rows = {}
    for key in ("by_p95", "by_total_time"):
        for r in (last_health.get("slow_queries") or {}).get(key) or []:
            if r.get("plan"):
                rows.setdefault(r["summary"], r)
    advice = {r["figures"].get("summary"): r["message"]
              for r in last_health.get("recommendations") or []
              if r.get("kind") == "slow_statement"}
    out = []
    if not rows:
        out.append("No plan captured (`DB_PLAN_CAPTURE` off, or no statement past "
                   "`DB_PLAN_THRESHOLD_MS` and the advice floors).")
        return out
    shown = list(rows.items())[:PLANS_SHOWN]
    for summary, r in shown:
        plan = r["plan"]
        out.append(f"- `{summary}`: {r['calls']} calls, P95 {fmt(r['p95_ms'], '.2f')} ms, "
                   f"plan captured at {plan['captured_at_ms']} ms since the epoch")
        if summary in advice:
            out.append(f"  - advice: {advice[summary]}")
        out.append("")
        out.append("```text")
        out.extend(plan["text"].rstrip("\n").split("\n"))
        out.append("```")
        out.append("")
    if len(rows) > len(shown):
        out.append(f"{len(rows) - len(shown)} more statement(s) with a plan in `/health/detailed`.")
    return out


def fmt(v, spec=".1f", suffix=""):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:{spec}}{suffix}"


def build(goose: dict, dump, health: list, thresholds: dict, page_url: str | None,
          screenshot: str | None, screenshot_note: str | None,
          cpu_seconds: float | None = None) -> tuple[str, list[str]]:
    """The Markdown report and a list of problems (empty when complete)."""
    problems = []
    client = summarize_goose.summarize(goose, tuple(f"POST {r}" for r in LLM_ROUTES))
    metrics = dump.metrics()
    seconds = float(client["duration_s"] or 0)
    agent = agent_latency(metrics)
    errors5xx, responses = server_errors(metrics)
    cache = cache_hits(metrics)
    llm = llm_usage(metrics)
    pool = pool_usage(metrics, health, seconds)
    last_health = health[-1] if health else {}

    out = []
    w = out.append
    w("# wingman demo report")
    w("")
    a = client["all"]
    w(f"Load: {client['users']} goose users for {fmt(seconds, '.0f')} s: {a['requests']} requests "
      f"({fmt(a['rps'])} req/s), {a['errors']} errors ({a['error_ratio'] * 100:.2f} %). "
      f"The agent exported {responses} HTTP server measurements, {errors5xx} of them 5xx.")
    w("")
    w("## Latency per route (ms)")
    w("")
    w("Client side: goose, from its microsecond buckets. Agent: the exported "
      "`http.server.request.duration` histogram, quantiles interpolated within its buckets "
      "(`histogram_quantile`); below the first bucket bound the agent's figure is an "
      "interpolation, not a measurement.")
    w("")
    w("| route | requests | errors | client P50 | client P95 | client P99 | agent count | agent P50 | agent P95 | agent P99 |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = client["routes"] + [client["non_llm"]]
    for r in rows:
        if r["name"] == "all non-LLM":
            key = ("*", "non-LLM")
            label = "**all non-LLM**"
        else:
            method, _, route = r["name"].partition(" ")
            key, label = (method, route), r["name"]
        g = agent.get(key, {})
        w(f"| {label} | {r['requests']} | {r['errors']} | {fmt(r['p50_ms'], '.2f')} | "
          f"{fmt(r['p95_ms'], '.2f')} | {fmt(r['p99_ms'], '.2f')} | {g.get('count', '-')} | "
          f"{fmt(g.get('p50_ms'), '.2f')} | {fmt(g.get('p95_ms'), '.2f')} | {fmt(g.get('p99_ms'), '.2f')} |")
    bounds = next((v["bounds"] for v in agent.values() if v.get("bounds")), [])
    if bounds:
        w("")
        w(f"Agent bucket bounds (s): {bounds}")

    w("")
    w("## Database pool")
    w("")
    w(f"- max connections: {fmt(pool['max_connections'], '.0f')}; acquires: {pool['acquires']}; "
      f"acquire timeouts: {pool['timeouts']}")
    w(f"- utilization, mean over the run (Σ hold time ÷ (max × {fmt(seconds, '.0f')} s)): "
      f"{fmt(None if pool['mean_utilization'] is None else pool['mean_utilization'] * 100, '.1f', ' %')}")
    w(f"- utilization, peak of {pool['samples']} `/health/detailed` samples during the load: "
      f"{fmt(None if pool['peak_sampled'] is None else pool['peak_sampled'] * 100, '.1f', ' %')}; "
      f"acquire wait P95 (in-process view): {fmt(pool['acquire_wait_p95_ms'], '.2f', ' ms')}")

    w("")
    w("## Plans of slow statements")
    w("")
    w("Generic plans wingspan captured off the request path (`DB_PLAN_CAPTURE`), from the last "
      "`/health/detailed` sample; literals masked as `?`, parameters as `$n`.")
    w("")
    out.extend(plans_section(last_health))

    w("")
    w("## Cache")
    w("")
    w("| cache name | hits | misses | errors | hit rate |")
    w("|---|---:|---:|---:|---:|")
    for name, row in sorted(cache.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        label = "**all**" if name == "all" else name
        w(f"| {label} | {row['hit']} | {row['miss']} | {row['error']} | "
          f"{fmt(None if row['hit_rate'] is None else row['hit_rate'] * 100, '.1f', ' %')} |")

    w("")
    w("## AI calls")
    w("")
    per_call = llm["cost_usd"] / llm["calls"] if llm["calls"] else None
    w(f"- calls: {llm['calls']} ({llm['errors']} failed: {llm['error_types'] or 'none'}); "
      f"HTTP attempts by status: {llm['attempts_by_status'] or '-'}")
    w(f"- tokens: {llm['tokens'] or '-'}")
    w(f"- cost: ${llm['cost_usd']:.4f} (${fmt(per_call, '.5f')} per call; prompt-cache reads "
      f"${llm['cache_read_cost_usd']:.4f}), list prices from wingspan's pricing table")

    w("")
    w("## Alerts (alerts/thresholds.json)")
    w("")
    non_llm = agent.get(("*", "non-LLM"), {}).get("p95_ms")
    states = alert_states(
        thresholds,
        None if non_llm is None else non_llm / 1000,
        pool["peak_sampled"] if pool["peak_sampled"] is not None else pool["mean_utilization"],
        cache.get("all", {}).get("hit_rate"),
        errors5xx / responses if responses else None,
    )
    w("| alert | fires when | value | state |")
    w("|---|---|---:|---|")
    for s in states:
        w(f"| {s['alert']} | {s['threshold']} | {s['value']} | {s['state']} |")
    w("")
    w("Latency from the agent's histogram (non-LLM routes merged), pool from the peak sample, "
      "cache and errors from the exported counters. The service's own judgement "
      f"(`/health/detailed`, last sample): status `{last_health.get('status', '-')}`, "
      f"breached {last_health.get('breached', '-')}.")

    w("")
    w("## What the collector received (rotel)")
    w("")
    traces = traces_by_id(dump.spans)
    points = sum(len(b["points"]) for b in dump.metric_blocks)
    with_trace = sum(1 for r in dump.logs if r["trace_id"])
    w(f"- spans: {len(dump.spans)} in {len(traces)} traces")
    w(f"- metric data points: {points} ({len(metrics)} metrics, {len(dump.metric_blocks)} metric blocks)")
    w(f"- log records: {len(dump.logs)} ({with_trace} with a trace id)")

    tail = tail_sampling(metrics, dump.spans, float(thresholds["api_latency_threshold_seconds"]),
                         LLM_SLOW_S, cpu_seconds)
    w("")
    w("## Tail sampling")
    w("")
    if tail["on"]:
        d = tail["decisions"]
        w("In-process tail sampling (`WINGSPAN_TAIL_SAMPLING=true`): every local trace recorded, "
          "kept when a span failed or the root answered 5xx, when the root was slower than "
          f"{thresholds['api_latency_threshold_seconds'] * 1000:.0f} ms (LLM routes: {LLM_SLOW_S:.0f} s), "
          "or by the base ratio (`WINGSPAN_TAIL_SAMPLING_RATIO`).")
    else:
        w("Tail sampling was off (`WINGSPAN_TAIL_SAMPLING`): the head sampler decided.")
    w("")
    w(f"- spans exported per request: {fmt(tail['spans_per_request'], '.3f')} "
      f"({tail['spans']} spans for {tail['responses']} requests)")
    w(f"- process CPU per request (utime + stime of wingman over the load ÷ requests): "
      f"{fmt(tail['cpu_ms_per_request'], '.3f', ' ms')} ({fmt(tail['cpu_seconds'], '.2f', ' s')} in all)")
    w(f"- 5xx requests whose trace arrived: {share(tail['arrived_errors'], tail['errors'])}")
    w(f"- slow requests (not 5xx) whose trace arrived: {share(tail['arrived_slow'], tail['slow'])}")
    if tail["on"]:
        w(f"- decisions (`wingspan.sampling.traces`): "
          + ", ".join(f"{k} {d.get(k, 0)}" for k in ("error", "slow", "parent", "ratio", "drop")))

    w("")
    w("## Two example traces")
    w("")
    w("```text")
    for t in pick_traces(dump.spans):
        out.extend(tree(t))
        w("")
    w("```")

    w("")
    w("## The page")
    w("")
    w(f"- {page_url or '-'} (the embedded dashboard; served while the demo ran)")
    if screenshot:
        w(f"- screenshot: {screenshot}")
    elif screenshot_note:
        w(f"- no screenshot: {screenshot_note}")

    if a["requests"] == 0:
        problems.append("the load made no requests")
    if not dump.spans:
        problems.append("rotel received no spans")
    if not metrics.get(HTTP_DURATION):
        problems.append(f"rotel received no {HTTP_DURATION}")
    return "\n".join(out) + "\n", problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--goose", required=True, help="goose JSON report")
    ap.add_argument("--rotel", required=True, help="rotel debug dump")
    ap.add_argument("--health", nargs="*", default=[], help="/health/detailed samples, oldest first")
    ap.add_argument("--thresholds", default=os.path.join(HERE, "..", "alerts", "thresholds.json"))
    ap.add_argument("--page-url")
    ap.add_argument("--screenshot")
    ap.add_argument("--screenshot-note", help="why there is no screenshot")
    ap.add_argument("--cpu-seconds", type=float, help="wingman's utime + stime over the load, in s")
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args(argv)
    with open(args.goose, encoding="utf-8") as f:
        goose = json.load(f)
    with open(args.rotel, encoding="utf-8", errors="replace") as f:
        dump = summarize_rotel.Dump.parse(f.read())
    health = []
    for path in args.health:
        try:
            with open(path, encoding="utf-8") as f:
                health.append(json.load(f))
        except (OSError, ValueError):
            pass  # a sample cut short by the end of the load
    with open(args.thresholds, encoding="utf-8") as f:
        thresholds = json.load(f)
    report, problems = build(goose, dump, health, thresholds, args.page_url, args.screenshot,
                             args.screenshot_note, args.cpu_seconds)
    sys.stdout.write(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(report)
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
