#!/usr/bin/env python3
"""Per-route latency from a goose JSON report (``--report-file x.json``).

goose 0.19 keeps every request's response times in log-linear microsecond
buckets (``raw_metrics.requests[NAME].raw_data.times_us``: bucket floor ->
count; 64 buckets per power of two, so a bucket is at most 1/64 of its
floor wide). This script reads those buckets and computes each percentile
exactly as goose does (``goose::metrics::buckets::percentile``): the rank is
``round(count * q)``; rank 1 or below is the fastest time, rank ``count`` or
above the slowest, otherwise the middle of the bucket holding that rank,
kept within [fastest, slowest]. So its figures match goose's own, to the
microsecond instead of goose's whole milliseconds in ``raw_response_metrics``.

Usage::

    summarize_goose.py REPORT.json [--json] [--llm-route 'POST /api/coach']...

Prints a Markdown table: one row per request name (``GET /api/users/{id}``,
as wingman-load names them: the route template), then ``all non-LLM``
(every route but the ``--llm-route`` ones, default ``POST /api/coach``) and
``all``, with count, errors (non-2xx or no answer), error %, requests per
second, P50/P95/P99 and max in milliseconds. ``--json`` prints the same rows
as JSON for other scripts (``make demo``'s report, the benches).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys

DEFAULT_LLM_ROUTES = ("POST /api/coach",)
QUANTILES = (0.5, 0.95, 0.99)


def bucket_value(floor_us: int) -> int:
    """The time a bucket reports: its middle (goose's ``bucket_value``)."""
    bits = 0 if floor_us < 128 else floor_us.bit_length() - 1 - 6
    floor = (floor_us >> bits) << bits
    return floor + ((1 << bits) >> 1)


def percentile_us(buckets: dict[int, int], count: int, minimum: int, maximum: int, q: float) -> int:
    """goose's percentile of bucketed times, in microseconds."""
    if count == 0:
        return 0
    rank = int(count * q + 0.5)  # Rust's f64::round: half away from zero
    if rank >= count:
        return maximum
    if rank <= 1:
        return minimum
    seen = 0
    for floor in sorted(buckets):
        seen += buckets[floor]
        if seen >= rank:
            return min(max(bucket_value(floor), minimum), maximum)
    return 0


class Series:
    """One request name's (or a merge of several) times and outcomes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.minimum = 0
        self.maximum = 0
        self.total_us = 0
        self.errors = 0
        self.status: dict[str, int] = {}

    def add(self, raw: dict) -> None:
        data = raw.get("raw_data") or {}
        for floor, n in (data.get("times_us") or {}).items():
            self.buckets[int(floor)] = self.buckets.get(int(floor), 0) + int(n)
        n = int(data.get("counter", 0))
        if n:
            lo = int(data.get("minimum_time_us", data.get("minimum_time", 0) * 1000))
            hi = int(data.get("maximum_time_us", data.get("maximum_time", 0) * 1000))
            self.minimum = lo if self.count == 0 else min(self.minimum, lo)
            self.maximum = max(self.maximum, hi)
        self.count += n
        self.total_us += int(data.get("total_time_us", data.get("total_time", 0) * 1000))
        self.errors += int(raw.get("fail_count", 0))
        for code, k in (raw.get("status_code_counts") or {}).items():
            self.status[str(code)] = self.status.get(str(code), 0) + int(k)

    def row(self, seconds: float) -> dict:
        p = {q: percentile_us(self.buckets, self.count, self.minimum, self.maximum, q) / 1000.0
             for q in QUANTILES}
        # fail_count counts requests goose saw fail, answered or not.
        requests = self.count if self.count else sum(self.status.values())
        return {
            "name": self.name,
            "requests": requests,
            "errors": self.errors,
            "error_ratio": self.errors / requests if requests else 0.0,
            "rps": requests / seconds if seconds > 0 else None,
            "p50_ms": p[0.5],
            "p95_ms": p[0.95],
            "p99_ms": p[0.99],
            "mean_ms": self.total_us / self.count / 1000.0 if self.count else None,
            "max_ms": self.maximum / 1000.0,
            "status_codes": dict(sorted(self.status.items())),
        }


def summarize(report: dict, llm_routes=DEFAULT_LLM_ROUTES) -> dict:
    """Rows per request name, then ``all non-LLM`` and ``all``."""
    raw = report.get("raw_metrics") or {}
    seconds = float(raw.get("duration") or 0)
    rows = []
    non_llm, everything = Series("all non-LLM"), Series("all")
    for name, data in sorted((raw.get("requests") or {}).items()):
        s = Series(name)
        s.add(data)
        rows.append(s.row(seconds))
        everything.add(data)
        if name not in llm_routes:
            non_llm.add(data)
    return {
        "duration_s": seconds,
        "users": raw.get("maximum_users"),
        "started": report.get("started"),
        "ended_by": report.get("ended_by"),
        "routes": rows,
        "non_llm": non_llm.row(seconds),
        "all": everything.row(seconds),
        "goose_errors": report.get("errors") or [],
    }


def fmt(v, spec=".1f") -> str:
    return "-" if v is None else format(v, spec)


def render(summary: dict) -> str:
    out = [
        f"goose: {summary['users']} users, {fmt(summary['duration_s'], '.0f')} s "
        f"(started {summary['started']}, ended by {summary['ended_by']})",
        "",
        "| request | count | errors | error % | req/s | P50 ms | P95 ms | P99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary["routes"] + [summary["non_llm"], summary["all"]]:
        name = r["name"] if r["name"] not in ("all", "all non-LLM") else f"**{r['name']}**"
        out.append(
            f"| {name} | {r['requests']} | {r['errors']} | {100 * r['error_ratio']:.2f} | "
            f"{fmt(r['rps'])} | {fmt(r['p50_ms'], '.2f')} | {fmt(r['p95_ms'], '.2f')} | "
            f"{fmt(r['p99_ms'], '.2f')} | {fmt(r['max_ms'], '.1f')} |"
        )
    for e in summary["goose_errors"]:
        out.append(f"goose error: {e}")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", help="goose JSON report ('-' for stdin)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--llm-route", action="append", default=None, metavar="NAME",
                    help="a request name left out of 'all non-LLM' (default: POST /api/coach)")
    args = ap.parse_args(argv)
    text = sys.stdin.read() if args.report == "-" else open(args.report, encoding="utf-8").read()
    summary = summarize(json.loads(text), tuple(args.llm_route or DEFAULT_LLM_ROUTES))
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
