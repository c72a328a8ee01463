#!/usr/bin/env python3
"""Checks every metric and label name used by the alert rules and the dashboards against
what the agent really emits.

    backend_check_metrics.py EXPOSITION.txt [--promtool]

EXPOSITION.txt is the text of a real scrape of the pull endpoint (`make backend-check`
writes it with `cargo run --example alert_target -- exercise`). The check fails when:
  - an expression names a metric that is neither emitted, nor recorded by a rule, nor
    Prometheus' own (up, ALERTS), nor listed in PENDING_METRICS below;
  - it matches or groups by a label that no emitted series carries (nor PENDING_LABELS);
  - a name in PENDING_METRICS / PENDING_LABELS is emitted by now (empty the list);
  - with --promtool, a dashboard expression does not parse (each is checked by
    `promtool check rules` as a recording rule, template variables filled in).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alerts_render  # noqa: E402
import dashboards_render  # noqa: E402

# Names the dashboards and rules use that this branch does not emit yet, because the
# code that emits them lands with other issues (gen_ai instrumentation; the SDK
# self-observability names that replace wingspan.telemetry.*). Empty these sets once
# that code is merged: the check then fails on any of them that is still missing, and
# fails right away on any that is emitted but still listed here.
PENDING_METRICS: set = set()
PENDING_LABELS: set = set()

# Series Prometheus makes itself, and labels it (or the scrape) adds.
BUILTIN_METRICS = {"up", "ALERTS", "ALERTS_FOR_STATE"}
BUILTIN_LABELS = {"job", "instance", "le", "__name__", "alertname", "alertstate", "severity"}

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "offset", "inf", "nan", "atan2", "start", "end"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
MATCHER_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)")
TOKEN = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-zA-Z]*|[A-Za-z_:][A-Za-z0-9_:]*|\S")

# Grafana's variables, as the end-to-end run fills them in.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s"}


def fill_vars(expr, job="wingspan"):
    for k, v in GRAFANA_VARS.items():
        expr = expr.replace(k, v)
    return expr.replace("$job", job)


def names_in(expr):
    """(metric names, label names) an expression refers to."""
    labels = set()
    # String literals carry values, not names (and may hold anything).
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range and subquery durations

    def matchers(m):
        labels.update(name for name, _op in MATCHER_LABEL.findall(m.group(1)))
        return " "

    expr = re.sub(r"\{([^{}]*)\}", matchers, expr)

    def grouping(m):
        labels.update(x.strip() for x in m.group(2).split(",") if x.strip())
        return " "

    expr = GROUPING.sub(grouping, expr)
    metrics = set()
    tokens = TOKEN.findall(expr)
    for i, tok in enumerate(tokens):
        if not re.match(r"[A-Za-z_:]", tok) or tok.lower() in KEYWORDS:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt == "(":
            continue  # a function or an aggregation
        metrics.add(tok)
    return metrics, labels


def emitted(exposition_text):
    """(metric names, label names) present in a Prometheus text exposition."""
    metrics, labels = set(), set()
    for line in exposition_text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s", line)
        if not m:
            continue
        metrics.add(m.group(1))
        if m.group(3):
            labels.update(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="', m.group(3)))
    return metrics, labels


def sources(th=None):
    """(where, expr) for every rule and dashboard expression."""
    out = []
    for r in alerts_render.all_rules(th):
        out.append((f"alerts/wingspan.rules.yml {r.get('record') or r.get('alert')}", r["expr"]))
    for f, title, expr in dashboards_render.all_exprs(th):
        out.append((f"dashboards/{f} {title!r}", expr))
    return out


def check(exposition_text, srcs=None, pending_metrics=PENDING_METRICS, pending_labels=PENDING_LABELS):
    """Returns a list of problems (empty when consistent)."""
    srcs = srcs if srcs is not None else sources()
    have_metrics, have_labels = emitted(exposition_text)
    recorded = {r["record"] for r in alerts_render.all_rules() if "record" in r}
    problems = []
    for name in sorted(pending_metrics & have_metrics):
        problems.append(f"{name} is emitted now: remove it from PENDING_METRICS in {__file__}")
    for name in sorted(pending_labels & have_labels):
        problems.append(f"label {name} is emitted now: remove it from PENDING_LABELS in {__file__}")
    known_metrics = have_metrics | recorded | BUILTIN_METRICS | pending_metrics
    known_labels = have_labels | BUILTIN_LABELS | pending_labels
    for where, expr in srcs:
        metrics, labels = names_in(expr)
        for m in sorted(metrics - known_metrics):
            problems.append(f"{where}: metric {m} is not emitted by the agent")
        for lbl in sorted(labels - known_labels):
            problems.append(f"{where}: label {lbl} is on no emitted series")
    return problems


def promtool_parse(srcs):
    """Every dashboard expression through `promtool check rules` (as recording rules)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard-exprs.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("groups:\n  - name: dashboard-exprs\n    rules:\n")
            for i, (where, expr) in enumerate(srcs):
                f.write(f"      - record: dashboard_expr_{i}\n        expr: {alerts_render.q(fill_vars(expr))}\n")
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        if r.returncode != 0:
            return [f"promtool rejects a dashboard expression:\n{r.stdout}{r.stderr}"]
    return []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("exposition")
    ap.add_argument("--promtool", action="store_true", help="also parse every dashboard expression with promtool")
    args = ap.parse_args(argv)
    with open(args.exposition, encoding="utf-8") as f:
        text = f.read()
    srcs = sources()
    problems = check(text, srcs)
    if args.promtool:
        problems += promtool_parse([s for s in srcs if s[0].startswith("dashboards/")])
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"{len(problems)} problem(s): dashboards/rules and the agent disagree", file=sys.stderr)
        return 1
    used = set()
    for _, expr in srcs:
        used |= names_in(expr)[0]
    waiting = sorted(used & PENDING_METRICS)
    print(f"{len(srcs)} expressions, {len(used)} metric names: all emitted, recorded or built in"
          + (f"; {len(waiting)} still pending: {', '.join(waiting)}" if waiting else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
