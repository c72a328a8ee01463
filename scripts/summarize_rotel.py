#!/usr/bin/env python3
"""Summarize the debug dump of the rotel OpenTelemetry collector.

rotel, started with ``--exporter blackhole --debug-log traces --debug-log metrics
--debug-log logs --debug-log-verbosity detailed``, prints every batch it receives
on stdout in the text layout of the OpenTelemetry Collector's debug exporter::

    ResourceSpans #0                    ResourceMetrics #0               ResourceLog #0
    Resource attributes:                ScopeMetrics #0                  ScopeLogs #0
         -> service.name: Str(x)        Metric #0                        LogRecord #0
    ScopeSpans #0                       Descriptor:                      Timestamp: ...
    InstrumentationScope wingspan 0.1        -> Name: http.server...     SeverityText: INFO
    Span #0                                  -> DataType: Histogram      Body: Str(hello)
        Trace ID       : 5b8e...        HistogramDataPoints #0           Attributes:
        Parent ID      :                Data point attributes:                -> k: Str(v)
        ID             : eee1...             -> http.route: Str(/x)          Trace ID       : 5b8e...
        Name           : GET /x         Count: 2                             Span ID        : eee1...
        Kind           : SPAN_KIND_...  ExplicitBounds #0: 0.005         Flags: 1
    Start time: ...                     Buckets #0, Count: 2
        Status code    : STATUS_...     NumberDataPoints #0
    Attributes:                         Value: 0
         -> http.route: Str(/x)
    Links: / SpanLink #0 / Events: / SpanEvent #0

This script parses that layout (standard library only) and prints what a person
wants to see after ``make demo``: spans per (name, kind) with their key attributes,
the parent/child tree of each trace, every metric with its type, data points and
histogram bucket bounds, and the log records with the trace they belong to.

Usage: summarize_rotel.py DUMP [--json] [--traces N]
                                [--expect-span NAME]... [--expect-bound METRIC=VALUE]...
                                [--expect-log-trace]

With --expect-* the script also prints a Checks section and exits 1 when one fails.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, OrderedDict, defaultdict

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HEADER = re.compile(r"^(?P<kind>[A-Za-z]+) #(?P<n>\d+)$")
ATTR = re.compile(r"^(?P<indent>\s+)-> (?P<key>[^:]+?): ?(?P<value>.*)$")
FIELD = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z ]*?)\s*: ?(?P<value>.*)$")
TYPED = re.compile(r"^(?P<type>Str|Int|Double|Bool|Bytes|Slice|Map|Empty)\((?P<inner>.*)\)$", re.S)
BOUND = re.compile(r"^ExplicitBounds #(\d+): (.*)$")
BUCKET = re.compile(r"^Buckets #(\d+), Count: (\d+)$")

# The attributes shown next to each (name, kind) span group.
KEY_SPAN_ATTRS = (
    "http.route",
    "http.response.status_code",
    "wingspan.route.class",
    "db.system.name",
    "db.query.summary",
    "gen_ai.request.model",
    "error.type",
)
DATA_POINT_HEADERS = {
    "NumberDataPoints",
    "HistogramDataPoints",
    "ExponentialHistogramDataPoints",
    "SummaryDataPoints",
}


def typed_value(raw: str):
    """``Str(x)`` -> 'x', ``Int(3)`` -> 3, ``Double(0.5)`` -> 0.5, ``Bool(true)`` -> True.

    Anything else (Slice, Map, Bytes, untyped) stays the raw text."""
    raw = raw.strip()
    m = TYPED.match(raw)
    if not m:
        return number(raw)
    t, inner = m.group("type"), m.group("inner")
    if t == "Str":
        return inner
    if t == "Int":
        try:
            return int(inner)
        except ValueError:
            return inner
    if t == "Double":
        try:
            return float(inner)
        except ValueError:
            return inner
    if t == "Bool":
        return inner == "true"
    return raw


def number(raw: str):
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


class Dump:
    """Everything parsed from one rotel dump."""

    def __init__(self) -> None:
        self.resources: list[dict] = []
        self.spans: list[dict] = []
        self.metric_blocks: list[dict] = []  # one per `Metric #n` block (one per export)
        self.logs: list[dict] = []
        self.other_lines: list[str] = []  # rotel's own log lines, unknown lines

    # ------------------------------------------------------------------ parse
    @classmethod
    def parse(cls, text: str) -> "Dump":
        d = cls()
        d._parse(text)
        return d

    def _parse(self, text: str) -> None:
        signal = None  # "traces" | "metrics" | "logs"
        resource: dict = {}
        scope = ""
        span = metric = point = log = None
        # Where "-> key: value" lines go: a dict, or a callback for special blocks.
        attr_target: dict | None = None
        sub = None  # "link" | "event" | "exemplar" | "descriptor" | None
        link = event = None

        text = ANSI.sub("", text.replace("\x00", ""))
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            h = HEADER.match(stripped)
            if h and not line.startswith(" "):
                kind = h.group("kind")
                if kind in ("ResourceSpans", "ResourceMetrics", "ResourceLog", "ResourceLogs"):
                    signal = {"ResourceSpans": "traces", "ResourceMetrics": "metrics"}.get(kind, "logs")
                    resource = {}
                    self.resources.append({"signal": signal, "attributes": resource})
                    span = metric = point = log = None
                    attr_target, sub = None, None
                    continue
                if kind in ("ScopeSpans", "ScopeMetrics", "ScopeLogs"):
                    attr_target, sub = None, None
                    continue
                if kind == "Span":
                    span = {
                        "trace_id": "", "parent_id": "", "span_id": "", "name": "", "kind": "",
                        "start": None, "end": None, "status": "", "status_message": "",
                        "attributes": {}, "links": [], "events": [],
                        "scope": scope, "resource": resource,
                    }
                    self.spans.append(span)
                    attr_target, sub = None, None
                    continue
                if kind == "SpanLink" and span is not None:
                    link = {"trace_id": "", "span_id": ""}
                    span["links"].append(link)
                    attr_target, sub = None, "link"
                    continue
                if kind == "SpanEvent" and span is not None:
                    event = {"name": "", "attributes": {}}
                    span["events"].append(event)
                    attr_target, sub = None, "event"
                    continue
                if kind == "Metric":
                    metric = {
                        "name": "", "description": "", "unit": "", "type": "", "monotonic": None,
                        "temporality": "", "points": [], "scope": scope, "resource": resource,
                    }
                    self.metric_blocks.append(metric)
                    point = None
                    attr_target, sub = None, None
                    continue
                if kind in DATA_POINT_HEADERS and metric is not None:
                    point = {"attributes": {}, "bounds": [], "buckets": [], "exemplars": 0}
                    metric["points"].append(point)
                    attr_target, sub = None, None
                    continue
                if kind == "Exemplar" and point is not None:
                    point["exemplars"] += 1
                    attr_target, sub = None, "exemplar"
                    continue
                if kind == "LogRecord":
                    log = {
                        "severity": "", "severity_number": "", "body": "", "trace_id": "",
                        "span_id": "", "attributes": {}, "timestamp": None, "scope": scope,
                        "resource": resource,
                    }
                    self.logs.append(log)
                    attr_target, sub = None, None
                    continue

            if stripped == "Resource attributes:":
                attr_target, sub = resource, None
                continue
            if stripped.startswith("InstrumentationScope"):
                scope = stripped[len("InstrumentationScope"):].strip()
                continue
            if stripped in ("Resource SchemaURL:", "ScopeSpans SchemaURL:", "ScopeMetrics SchemaURL:",
                            "ScopeLogs SchemaURL:") or stripped.endswith("SchemaURL:") \
                    or re.match(r"^\w+ SchemaURL: ", stripped):
                continue
            if stripped == "Attributes:":
                if signal == "traces" and span is not None:
                    attr_target, sub = span["attributes"], None
                elif signal == "logs" and log is not None:
                    attr_target, sub = log["attributes"], None
                continue
            if stripped == "Data point attributes:" and point is not None:
                attr_target, sub = point["attributes"], None
                continue
            if stripped == "Descriptor:" and metric is not None:
                attr_target, sub = None, "descriptor"
                continue
            if stripped in ("Links:", "Events:", "Exemplars:"):
                attr_target, sub = None, None
                continue

            a = ATTR.match(line)
            if a:
                key, value = a.group("key").strip(), a.group("value")
                if sub == "descriptor" and metric is not None:
                    self._descriptor(metric, key, value)
                elif sub == "link" and link is not None:
                    if key == "Trace ID":
                        link["trace_id"] = value.strip()
                    elif key == "ID":
                        link["span_id"] = value.strip()
                elif sub == "event" and event is not None:
                    if key == "Name":
                        event["name"] = value.strip()
                    elif key == "Attributes:":
                        pass
                    elif len(a.group("indent")) > 5:  # nested event attribute
                        event["attributes"][key] = typed_value(value)
                elif sub == "exemplar":
                    pass
                elif attr_target is not None:
                    attr_target[key] = typed_value(value)
                continue

            if signal == "traces" and span is not None:
                f = FIELD.match(line)
                if f:
                    key, value = f.group("key"), f.group("value").strip()
                    if key == "Trace ID":
                        span["trace_id"] = value
                    elif key == "Parent ID":
                        span["parent_id"] = value
                    elif key == "ID":
                        span["span_id"] = value
                    elif key == "Name":
                        span["name"] = value
                    elif key == "Kind":
                        span["kind"] = value.replace("SPAN_KIND_", "")
                    elif key == "Start time":
                        span["start"] = number(value)
                    elif key == "End time":
                        span["end"] = number(value)
                    elif key == "Status code":
                        span["status"] = value.replace("STATUS_CODE_", "")
                    elif key == "Status message":
                        span["status_message"] = value
                    continue

            if signal == "metrics" and point is not None:
                m = BOUND.match(stripped)
                if m:
                    point["bounds"].append(number(m.group(2)))
                    continue
                m = BUCKET.match(stripped)
                if m:
                    point["buckets"].append(int(m.group(2)))
                    continue
                f = FIELD.match(line)
                if f and f.group("key") in ("Count", "Sum", "Min", "Max", "Value", "StartTimestamp",
                                            "Timestamp", "Scale", "ZeroCount"):
                    point[f.group("key").lower()] = number(f.group("value").strip())
                    continue

            if signal == "logs" and log is not None:
                f = FIELD.match(line)
                if f:
                    key, value = f.group("key"), f.group("value").strip()
                    if key == "Trace ID":
                        log["trace_id"] = value
                        continue
                    if key == "Span ID":
                        log["span_id"] = value
                        continue
                    if key == "SeverityText":
                        log["severity"] = value
                        continue
                    if key == "SeverityNumber":
                        log["severity_number"] = value
                        continue
                    if key == "Body":
                        log["body"] = typed_value(value)
                        continue
                    if key == "Timestamp":
                        log["timestamp"] = number(value)
                        continue
                    if key in ("ObservedTimestamp", "Flags", "EventName"):
                        continue

            self.other_lines.append(stripped)

    @staticmethod
    def _descriptor(metric: dict, key: str, value: str) -> None:
        value = value.strip()
        if key == "Name":
            metric["name"] = value
        elif key == "Description":
            metric["description"] = value
        elif key == "Unit":
            metric["unit"] = value
        elif key == "DataType":
            metric["type"] = value
        elif key == "IsMonotonic":
            metric["monotonic"] = value == "true"
        elif key == "AggregationTemporality":
            metric["temporality"] = value.replace("AGGREGATION_TEMPORALITY_", "")

    # -------------------------------------------------------------- analysis
    def metrics(self) -> "OrderedDict[str, dict]":
        """Fold the per-export metric blocks into one entry per metric name.

        Cumulative points: the last export of each attribute set wins.
        Delta points: counts, sums and values add up across exports."""
        out: OrderedDict[str, dict] = OrderedDict()
        for block in self.metric_blocks:
            name = block["name"] or "<unnamed>"
            m = out.setdefault(name, {
                "name": name, "type": block["type"], "unit": block["unit"],
                "description": block["description"], "monotonic": block["monotonic"],
                "temporality": block["temporality"], "exports": 0, "points": OrderedDict(),
                "bounds": [],
            })
            m["exports"] += 1
            if block["type"] and block["type"] != "Empty":
                m["type"] = block["type"]
            for p in block["points"]:
                key = tuple(sorted((k, str(v)) for k, v in p["attributes"].items()))
                if p["bounds"]:
                    m["bounds"] = p["bounds"]
                prev = m["points"].get(key)
                if prev is not None and block["temporality"] == "DELTA":
                    merged = dict(p)
                    for f in ("count", "sum", "value"):
                        if isinstance(prev.get(f), (int, float)) and isinstance(p.get(f), (int, float)):
                            merged[f] = prev[f] + p[f]
                    if prev.get("buckets") and len(prev["buckets"]) == len(p["buckets"]):
                        merged["buckets"] = [x + y for x, y in zip(prev["buckets"], p["buckets"])]
                    p = merged
                m["points"][key] = p
        return out

    def span_groups(self) -> "OrderedDict[tuple, dict]":
        groups: OrderedDict[tuple, dict] = OrderedDict()
        for s in self.spans:
            g = groups.setdefault((s["name"], s["kind"]), {
                "count": 0, "errors": 0, "attrs": defaultdict(Counter),
            })
            g["count"] += 1
            if s["status"] == "ERROR":
                g["errors"] += 1
            for k in KEY_SPAN_ATTRS:
                if k in s["attributes"]:
                    g["attrs"][k][str(s["attributes"][k])] += 1
        return groups

    def as_json(self) -> dict:
        metrics = []
        for m in self.metrics().values():
            metrics.append({
                "name": m["name"], "type": m["type"], "unit": m["unit"], "monotonic": m["monotonic"],
                "temporality": m["temporality"], "exports": m["exports"], "bounds": m["bounds"],
                "points": [
                    {k: v for k, v in p.items() if k not in ("bounds",)} for p in m["points"].values()
                ],
            })
        spans = [{k: v for k, v in s.items() if k != "resource"} for s in self.spans]
        logs = [{k: v for k, v in rec.items() if k != "resource"} for rec in self.logs]
        return {"resources": self.resources, "spans": spans, "metrics": metrics, "logs": logs}


# ---------------------------------------------------------------- rendering
def short(trace_or_span_id: str, n: int = 8) -> str:
    return trace_or_span_id[:n] if trace_or_span_id else "-"


def ms(span: dict) -> str:
    if isinstance(span.get("start"), int) and isinstance(span.get("end"), int) and span["end"] >= span["start"]:
        return f"{(span['end'] - span['start']) / 1e6:.2f} ms"
    return "?"


def fmt_counter(c: Counter) -> str:
    return ", ".join(v if n == 1 else f"{v}×{n}" for v, n in sorted(c.items()))


def fmt_attrs(attrs: dict, limit: int = 6) -> str:
    items = [f"{k}={v}" for k, v in attrs.items()]
    if len(items) > limit:
        items = items[:limit] + [f"+{len(items) - limit} more"]
    return "{" + ", ".join(items) + "}"


def render(d: Dump, max_traces: int = 20) -> str:
    out: list[str] = []
    w = out.append

    services = Counter()
    for r in d.resources:
        a = r["attributes"]
        services[(a.get("service.name", "?"), a.get("service.version", ""))] += 1
    w("== Resources ==")
    if not d.resources:
        w("  (none received)")
    seen = set()
    for r in d.resources:
        key = tuple(sorted((k, str(v)) for k, v in r["attributes"].items()))
        if key in seen:
            continue
        seen.add(key)
        w("  " + ", ".join(f"{k}={v}" for k, v in r["attributes"].items()))

    # ---- traces
    traces: OrderedDict[str, list] = OrderedDict()
    for s in d.spans:
        traces.setdefault(s["trace_id"], []).append(s)
    w("")
    w(f"== Spans: {len(d.spans)} in {len(traces)} trace(s) ==")
    groups = d.span_groups()
    if groups:
        w(f"  {'count':>5}  {'err':>3}  {'kind':<8}  name / key attributes")
        for (name, kind), g in sorted(groups.items(), key=lambda kv: (-kv[1]["count"], kv[0])):
            w(f"  {g['count']:>5}  {g['errors']:>3}  {kind:<8}  {name}")
            for k in KEY_SPAN_ATTRS:
                if k in g["attrs"]:
                    w(f"  {'':>5}  {'':>3}  {'':<8}    {k}: {fmt_counter(g['attrs'][k])}")

    if traces:
        w("")
        w(f"== Traces (parent -> child){'' if len(traces) <= max_traces else f', first {max_traces} of {len(traces)}'} ==")
        by_id = {s["span_id"]: s for s in d.spans}
        for i, (tid, spans) in enumerate(traces.items()):
            if i >= max_traces:
                break
            ids = {s["span_id"] for s in spans}
            children = defaultdict(list)
            roots = []
            for s in sorted(spans, key=lambda s: (s["start"] or 0)):
                if s["parent_id"] and s["parent_id"] in ids:
                    children[s["parent_id"]].append(s)
                else:
                    roots.append(s)
            w(f"  trace {tid}")

            def walk(s, depth):
                bits = [s["kind"], repr(s["name"]), ms(s)]
                st = s["attributes"].get("http.response.status_code")
                if st is not None:
                    bits.append(f"status={st}")
                if s["status"] == "ERROR":
                    bits.append("ERROR" + (f"({s['status_message']})" if s["status_message"] else ""))
                if depth == 0 and s["parent_id"]:
                    where = "in dump" if s["parent_id"] in by_id else "remote/not in dump"
                    bits.append(f"parent={s['parent_id']} ({where})")
                for ln in s["links"]:
                    bits.append(f"link->{ln['trace_id']}/{ln['span_id']}")
                if s["events"]:
                    bits.append("events=" + ",".join(e["name"] for e in s["events"]))
                w("    " + "  " * depth + ("└─ " if depth else "") + " ".join(bits))
                for c in children.get(s["span_id"], []):
                    walk(c, depth + 1)

            for r in roots:
                walk(r, 0)

    # ---- metrics
    metrics = d.metrics()
    w("")
    w(f"== Metrics: {len(metrics)} ==")
    for m in metrics.values():
        kind = m["type"] or "?"
        if kind == "Sum":
            kind = "Sum (counter)" if m["monotonic"] else "Sum (up-down)"
        extra = f", {m['temporality'].lower()}" if m["temporality"] else ""
        w(f"  {m['name']}  [{kind}{extra}, unit {m['unit'] or '-'}]  "
          f"{len(m['points'])} series, {m['exports']} export(s)")
        if m["bounds"]:
            w(f"      bucket bounds: {m['bounds']}")
        for j, p in enumerate(m["points"].values()):
            if j >= 8:
                w(f"      … {len(m['points']) - 8} more series")
                break
            if "count" in p and ("buckets" in p and p["buckets"] or m["type"] in ("Histogram", "ExponentialHistogram", "Summary")):
                val = f"count={p.get('count')} sum={p.get('sum')}"
            else:
                val = f"value={p.get('value')}"
            w(f"      {fmt_attrs(p['attributes'])} {val}")

    # ---- logs
    w("")
    with_trace = sum(1 for r in d.logs if r["trace_id"])
    w(f"== Log records: {len(d.logs)} ({with_trace} with a trace id) ==")
    span_names = {s["span_id"]: s["name"] for s in d.spans}
    for j, r in enumerate(d.logs):
        if j >= 30:
            w(f"  … {len(d.logs) - 30} more")
            break
        where = ""
        if r["trace_id"]:
            where = f" trace={r['trace_id']} span={r['span_id'] or '-'}"
            if r["span_id"] in span_names:
                where += f" ({span_names[r['span_id']]!r})"
        body = str(r["body"])
        if len(body) > 100:
            body = body[:97] + "..."
        w(f"  {r['severity'] or r['severity_number'] or '?':<5} {body!r}{where}")
    return "\n".join(out) + "\n"


def run_checks(d: Dump, expect_spans, expect_bounds, expect_log_trace) -> list[tuple[bool, str]]:
    results = []
    for name in expect_spans:
        hits = [s for s in d.spans if s["name"] == name]
        ok = bool(hits)
        detail = f"{len(hits)} span(s)"
        route = name.split(" ", 1)[1] if " " in name else None
        if ok and route:
            with_route = [s for s in hits if s["attributes"].get("http.route") == route]
            ok = bool(with_route)
            detail += f", {len(with_route)} with http.route={route}"
        results.append((ok, f"span {name!r}: {detail}"))
    metrics = d.metrics()
    for spec in expect_bounds:
        name, _, val = spec.partition("=")
        m = metrics.get(name)
        try:
            want = float(val)
        except ValueError:
            results.append((False, f"bad --expect-bound {spec!r}"))
            continue
        ok = bool(m) and any(abs(float(b) - want) < 1e-12 for b in m["bounds"])
        results.append((ok, f"metric {name} bucket bounds include {val}: "
                            f"{m['bounds'] if m else 'metric not received'}"))
    if expect_log_trace:
        n = sum(1 for r in d.logs if r["trace_id"])
        results.append((n > 0, f"log records carrying a trace id: {n}"))
    # Always: no span named after a raw path (a path segment of digits).
    raw = sorted({s["name"] for s in d.spans if re.search(r"/\d+(/|$)", s["name"])})
    results.append((not raw, "no span named after a raw path" + (f": {raw}" if raw else "")))
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dump", help="rotel stdout dump file ('-' for stdin)")
    ap.add_argument("--json", action="store_true", help="print the parsed dump as JSON")
    ap.add_argument("--traces", type=int, default=20, help="show at most N trace trees")
    ap.add_argument("--expect-span", action="append", default=[], metavar="NAME",
                    help="check that a span with this name exists (and carries http.route)")
    ap.add_argument("--expect-bound", action="append", default=[], metavar="METRIC=VALUE",
                    help="check that a histogram's bucket bounds include VALUE")
    ap.add_argument("--expect-log-trace", action="store_true",
                    help="check that at least one log record carries a trace id")
    args = ap.parse_args(argv)

    if args.dump == "-":
        text = sys.stdin.read()
    else:
        with open(args.dump, encoding="utf-8", errors="replace") as f:
            text = f.read()
    d = Dump.parse(text)
    if args.json:
        json.dump(d.as_json(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(render(d, args.traces))
    if args.expect_span or args.expect_bound or args.expect_log_trace:
        results = run_checks(d, args.expect_span, args.expect_bound, args.expect_log_trace)
        print("\n== Checks ==")
        for ok, msg in results:
            print(f"  {'PASS' if ok else 'FAIL'}  {msg}")
        if not all(ok for ok, _ in results):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
