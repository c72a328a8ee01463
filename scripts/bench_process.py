#!/usr/bin/env python3
"""Process-level bench: what a service pays for wingspan, whole process.

Run by ``make bench`` (scripts/bench.sh); appends its section to
``$WINGSPAN_BENCH_OUT`` (or ``--out``). The same handlers are built twice
(crates/bench-service: ``bench-plain`` on axum + deadpool-postgres + fred,
``bench-wingspan`` wired as the README says), served on 127.0.0.1 with the
bench profile, and driven at saturation by wrk (64 connections, one wrk
thread) on four routes: JSON without I/O, one query, one query + one Redis
GET, ten queries. The instrumented build exports OTLP/gRPC to a real local
collector, rotel (``--exporter blackhole``: it decodes every request and
drops the data, so what it costs is the receive side alone).

For each run the harness reads, from /proc, the server's utime + stime over
all its threads (and per thread name) and the collector's, from the start of
the load until the instrumented server has flushed what the load produced
(``/_flush`` calls ``Telemetry::force_flush``), so the export of every span
is inside the window it is charged to. Process CPU per request is that CPU
over the requests wrk completed.

Variants: plain; wingspan 100 % sampled; 1 % sampled
(``parentbased_traceidratio``, 0.01); ``OTEL_SDK_DISABLED=true``;
``WINGSPAN_STATS=false``. Each repetition starts every variant afresh, in an
order rotated per repetition; the table gives medians and the spread
(min–max) over the repetitions.

Usage: bench_process.py [--out FILE] [--seconds N] [--reps N] [--only ROUTES]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_service import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
CONNECTIONS = 64

# (key, path, label)
ROUTES = [
    ("json", "/json", "JSON, no I/O"),
    ("query", "/query/42", "one query"),
    ("query_cache", "/query-cache/7", "one query + one cache GET"),
    ("queries10", "/queries10", "ten queries"),
]

# (key, binary, env, label)
VARIANTS = [
    ("plain", "bench-plain", {}, "plain (no wingspan)"),
    ("on", "bench-wingspan", {}, "wingspan, 100 % sampled"),
    ("ratio", "bench-wingspan",
     {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"},
     "wingspan, 1 % sampled"),
    ("disabled", "bench-wingspan", {"OTEL_SDK_DISABLED": "true"}, "wingspan, `OTEL_SDK_DISABLED=true`"),
    ("nostats", "bench-wingspan", {"WINGSPAN_STATS": "false"}, "wingspan, `WINGSPAN_STATS=false`"),
    ("off", "bench-wingspan", {"OTEL_SDK_DISABLED": "true", "WINGSPAN_STATS": "false"},
     "wingspan, all off (`OTEL_SDK_DISABLED=true`, `WINGSPAN_STATS=false`)"),
]

# Targets of issue 19 (µs of process CPU added per request, throughput ratio).
TARGETS = {
    ("query", "on"): (10.0, 0.90),
    ("query", "ratio"): (4.0, 0.97),
    ("json", "on"): (4.0, 0.90),
}
DISABLED_TARGET_US = 1.0


def log(msg: str) -> None:
    print(f"[bench-process] {msg}", file=sys.stderr, flush=True)


# --- pure helpers (tested in scripts/test_bench_process.py) ---------------------


def parse_stat(text: str) -> tuple[str, int]:
    """(comm, utime + stime in ticks) from a /proc/<pid>[/task/<tid>]/stat line.
    comm may hold spaces and parentheses: it ends at the last ')'."""
    start = text.index("(")
    end = text.rindex(")")
    comm = text[start + 1:end]
    fields = text[end + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return comm, int(fields[11]) + int(fields[12])


def thread_group(comm: str) -> str:
    """A thread's name, as the breakdown groups it."""
    if comm.startswith(("tokio-runtime", "tokio-rt-")):
        return "tokio workers"
    if comm.startswith("OpenTelemetry") or comm.startswith("wingspan-otlp"):
        # The SDK's batch processors and periodic reader (15 characters of
        # "OpenTelemetry.Traces.BatchProcessor" etc.), and wingspan's export
        # runtime, where the span exports run.
        return "export threads"
    return "other threads"


def parse_wrk(text: str) -> dict:
    """requests, seconds, req/s, p50/p99 (ms), errors from ``wrk --latency``."""

    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]

    out: dict = {"errors": 0}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", text)
    if not m:
        raise ValueError(f"no request count in wrk's output:\n{text}")
    out["requests"] = int(m.group(1))
    out["seconds"] = ms(m.group(2), m.group(3)) / 1e3
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["rps"] = float(m.group(1)) if m else out["requests"] / out["seconds"]
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        out[f"p{pct}"] = ms(m.group(1), m.group(2)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["errors"] += sum(int(x) for x in m.groups())
    return out


def spread(xs: list[float], fmt, unit: str = "") -> str:
    """median with its unit, then (min–max): the median reads as a figure
    the book can quote (`26.5 µs`)."""
    if not xs:
        return "n/a"
    med = statistics.median(xs)
    if len(xs) == 1:
        return f"{fmt(med)}{unit}"
    return f"{fmt(med)}{unit} ({fmt(min(xs))}–{fmt(max(xs))})"


def goal(ok: bool) -> str:
    return "met" if ok else "**missed**"


# --- processes -------------------------------------------------------------------


def terminate(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM (the servers drain and flush), then SIGKILL after `timeout`."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def threads_cpu(pid: int) -> dict[str, int]:
    """Ticks of CPU per thread group of a live process (threads that ended
    are in the process's own stat, not here: see ``process_cpu``)."""
    out: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm, ticks = parse_stat((task / "stat").read_text())
        except (OSError, ValueError):
            continue
        g = thread_group(comm)
        out[g] = out.get(g, 0) + ticks
    return out


def process_cpu(pid: int) -> int:
    """Ticks of CPU of the whole process, every thread, ended ones included."""
    return parse_stat(Path(f"/proc/{pid}/stat").read_text())[1]


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def get(url: str, timeout: float = 30) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


class Server:
    def __init__(self, exe: Path, env: dict[str, str], log_path: Path):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([str(exe)], env=env, stdout=subprocess.PIPE,
                                     stderr=self.log, cwd=ROOT)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        self.url = None
        while self.url is None:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{exe.name} not ready after 60 s (log: {log_path})")
            line = self.proc.stdout.readline().decode(errors="replace")
            if not line:
                self.stop()
                raise RuntimeError(f"{exe.name} exited before it was ready (log: {log_path})")
            m = re.match(r"listening (http://\S+)", line.strip())
            if m:
                self.url = m.group(1)

    def counts(self) -> dict:
        return json.loads(get(f"{self.url}/_counts"))

    def flush(self) -> None:
        get(f"{self.url}/_flush", timeout=60)

    def stop(self) -> None:
        terminate(self.proc, 20)
        self.log.close()


def wrk(url: str, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout
    return parse_wrk(out)


def rotel_bin() -> str:
    out = subprocess.run(["bash", str(ROOT / "scripts/rotel.sh"), "path"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def start_rotel(work: Path) -> tuple[subprocess.Popen, int, int]:
    grpc, http = free_port(), free_port()
    proc = subprocess.Popen(
        [rotel_bin(), "start", "--otlp-grpc-endpoint", f"127.0.0.1:{grpc}",
         "--otlp-http-endpoint", f"127.0.0.1:{http}", "--exporter", "blackhole"],
        stdout=open(work / "rotel.log", "ab"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", grpc), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rotel did not start (log: {work / 'rotel.log'})")
            time.sleep(0.1)
    return proc, grpc, http


# --- the bench -------------------------------------------------------------------


def build() -> Path:
    log("cargo build --profile bench -p wingspan-bench-service")
    subprocess.run(["cargo", "build", "--profile", "bench", "-p", "wingspan-bench-service"],
                   cwd=ROOT, check=True)
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    # The bench profile builds into the release directory.
    return Path(meta["target_directory"]) / "release"


def measure(server: Server, rotel_pid: int, path: str, seconds: int) -> dict:
    pid = server.proc.pid
    wrk(server.url + path, 1)  # warm-up: connections, prepared statements, caches
    server.flush()
    c0 = server.counts()
    cpu0, thr0, col0 = process_cpu(pid), threads_cpu(pid), process_cpu(rotel_pid)
    r = wrk(server.url + path, seconds)
    server.flush()
    cpu1, thr1, col1 = process_cpu(pid), threads_cpu(pid), process_cpu(rotel_pid)
    c1 = server.counts()
    n = max(r["requests"], 1)
    us = 1e6 / CLK_TCK / n
    r["cpu_us"] = (cpu1 - cpu0) * us
    r["collector_us"] = (col1 - col0) * us
    r["threads_us"] = {g: (thr1.get(g, 0) - thr0.get(g, 0)) * us for g in thr1}
    r["thread_ticks"] = {g: thr1.get(g, 0) - thr0.get(g, 0) for g in thr1}
    for k in ("spans_exported", "spans_queue_full", "spans_export_failed"):
        r[k] = c1.get(k, 0) - c0.get(k, 0)
    return r


def run(args) -> dict:
    release = build()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (scripts/bench.sh installs it)")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rotel, grpc, http = start_rotel(work)
    schema = f"wingspan_bench_proc_{os.getpid()}"
    base = dict(os.environ)
    for k in list(base):
        if k.startswith(("OTEL_", "WINGSPAN_", "DB_", "REDIS_")):
            del base[k]
    base.update({
        "APP_ADDR": "127.0.0.1:0",
        "BENCH_SCHEMA": schema,
        "BENCH_CONNECTIONS": str(CONNECTIONS),
        "REDIS_POOL_SIZE": "4",
        "OTEL_SERVICE_NAME": "bench-wingspan",
        # Both builds connect without TLS: the plain one uses NoTls, and
        # wingspan (like libpq) encrypts when the server offers it.
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres").split("?")[0] + "?sslmode=disable",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{grpc if args.protocol == 'grpc' else http}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": args.protocol,
        "WINGSPAN_CONSOLE_LOG": "false",
    })
    base.update(dict(kv.split("=", 1) for kv in args.env))
    routes = [r for r in ROUTES if not args.only or r[0] in args.only]
    results: dict = {}
    rss: dict = {}
    callgrind = ""
    try:
        for rep in range(args.reps):
            chosen = [v for v in VARIANTS if not args.variants or v[0] in args.variants]
            order = chosen[rep % len(chosen):] + chosen[:rep % len(chosen)]
            for key, exe, env, _ in order:
                e = dict(base)
                e.update(env)
                server = Server(release / exe, e, work / f"{key}.log")
                try:
                    for rkey, path, _ in routes:
                        r = measure(server, rotel.pid, path, args.seconds)
                        results.setdefault((rkey, key), []).append(r)
                        log(f"rep {rep + 1} {key:8} {rkey:11} {r['rps']:8.0f} req/s "
                            f"{r['cpu_us']:6.1f} µs CPU/req, collector {r['collector_us']:5.1f} µs, "
                            f"dropped {r['spans_queue_full']}, errors {r['errors']}")
                    rss.setdefault(key, []).append(peak_rss_kib(server.proc.pid))
                finally:
                    server.stop()
        if args.callgrind and shutil.which("valgrind"):
            callgrind = callgrind_section(release, base, grpc, work)
    finally:
        terminate(rotel, 10)
        subprocess.run(["psql", os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                        "-qc", f"DROP SCHEMA IF EXISTS {schema} CASCADE"], check=False,
                       capture_output=True)
    return {"results": results, "rss": rss, "routes": routes, "callgrind": callgrind}


# --- instructions per request, whole process (callgrind) ------------------------

# Inclusive counts of these functions, per request, explain the totals:
# where the export path and the request path spend (a substring of the
# function's name in callgrind_annotate's output, and its label).
CG_PARTS = [
    ("wingspan::telemetry::otlp::encode::trace_request", "OTLP encoding (wingspan's encoder)"),
    ("wingspan::telemetry::otlp::SpanExporter as opentelemetry_sdk::trace::export::SpanExporter>::export",
     "span export call (encoding, freeing the batch)"),
    ("HttpService<S> as tower_service::Service", "HTTP layer: request start"),
    ("RequestGuard as core::ops::drop::Drop>::drop", "HTTP layer: request end"),
    ("wingspan::db::handle::Pool::get::{{closure}}", "pool acquire"),
    ("wingspan::db::query::start_call", "query call start (span, N+1 count)"),
    ("wingspan::instrument::client_call::ClientCall<M>::ok", "query call end (durations, span end)"),
]


def callgrind_run(exe: Path, env: dict[str, str], path: str, n: int, work: Path, key: str) -> dict:
    """Instructions per request over every thread of the server (callgrind
    counts user-space instructions; the kernel's work is not in them):
    instrumentation starts after a warm-up of 200 requests, then ``n``
    requests on one keep-alive connection, a flush, and a dump."""
    import http.client
    out = work / f"callgrind.{key}"
    for f in work.glob(f"callgrind.{key}*"):
        f.unlink()
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
         str(exe)], env=env, stdout=subprocess.PIPE, stderr=open(work / f"{key}.callgrind.log", "ab"),
        cwd=ROOT)
    assert proc.stdout is not None
    url = None
    deadline = time.monotonic() + 300
    while url is None:
        line = proc.stdout.readline().decode(errors="replace")
        if not line or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{exe.name} under callgrind did not start")
        m = re.match(r"listening http://(\S+):(\d+)", line.strip())
        if m:
            url = (m.group(1), int(m.group(2)))

    def requests(count: int) -> None:
        c = http.client.HTTPConnection(*url, timeout=120)
        for _ in range(count):
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"{path}: {r.status}")
        c.close()

    try:
        requests(200)
        get(f"http://{url[0]}:{url[1]}/_flush", timeout=120)
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True,
                       capture_output=True)
        requests(n)
        get(f"http://{url[0]}:{url[1]}/_flush", timeout=120)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
    finally:
        terminate(proc, 60)
    dump = next(iter(sorted(work.glob(f"callgrind.{key}.*.1"))), None)
    if dump is None:
        raise RuntimeError("callgrind wrote no dump")
    total = 0
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith("summary:"):
            total = int(line.split()[1])
            break
    parts = {}
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--auto=no",
                          str(dump)], capture_output=True, text=True).stdout
    for needle, label in CG_PARTS:
        best = 0
        for line in ann.splitlines():
            if needle in line:
                m = re.match(r"\s*([\d,]+)", line)
                if m:
                    best = max(best, int(m.group(1).replace(",", "")))
        parts[label] = best / n
    return {"per_request": total / n, "parts": parts}


def callgrind_section(release: Path, base: dict[str, str], rotel_grpc: int, work: Path) -> str:
    n = 1000
    path = "/query/42"
    rows = []
    for key, exe, env, label in VARIANTS:
        if key == "nostats":
            continue
        e = dict(base)
        e.update(env)
        log(f"callgrind: {label}, {n} requests of {path}")
        rows.append((key, label, callgrind_run(release / exe, e, path, n, work, key)))
    plain = rows[0][2]["per_request"]
    lines = [
        "## Process: instructions per request (callgrind, all threads)",
        "",
        "The breakdown that explains the CPU figures, deterministic where they are noisy: "
        f"the same services and collector, {n} requests of the one-query route "
        "(`GET /query/42`) in a row on one connection after a warm-up of 200, then a flush; "
        "callgrind counts the user-space instructions of every thread of the server (the "
        "kernel's share, the same system calls in every variant, is not in them). "
        "Command: `python3 scripts/bench_process.py` (in `make bench`).",
        "",
        "| variant | instructions / request | added |",
        "|---|---|---|",
    ]
    for key, label, r in rows:
        added = "—" if key == "plain" else f"+{r['per_request'] - plain:,.0f}"
        lines.append(f"| {label} | {r['per_request']:,.0f} | {added} |")
    lines += ["", "Where they go (inclusive instructions per request of the functions named; "
              "parts nest, so they do not add up):", "",
              "| part | " + " | ".join(label for k, label, _ in rows if k != "plain") + " |",
              "|---|" + "---|" * (len(rows) - 1)]
    for _, part in CG_PARTS:
        lines.append(f"| {part} | " + " | ".join(
            f"{r['parts'].get(part, 0):,.0f}" for k, _, r in rows if k != "plain") + " |")
    lines.append("")
    return "\n".join(lines) + "\n"


def med(rs: list[dict], k: str) -> float:
    return statistics.median(r[k] for r in rs)


def render(data: dict, args) -> str:
    res, rss, routes = data["results"], data["rss"], data["routes"]
    us = lambda x: f"{x:.1f}"  # noqa: E731
    lines = [
        "## Process: CPU per request with a real collector",
        "",
        "The headline figure: what a service pays, whole process. The same handlers built "
        "twice (crates/bench-service: `bench-plain` on axum + deadpool-postgres + fred, "
        "`bench-wingspan` wired as the README says), bench profile, 2 tokio workers, "
        f"a pool of {CONNECTIONS} connections, driven at saturation by wrk (1 thread, "
        f"{CONNECTIONS} connections) on 127.0.0.1; the instrumented build exports OTLP/gRPC "
        "to rotel (`--exporter blackhole`). Process CPU is the server's utime + stime, all "
        "threads, from the start of the load until the server has flushed every span the "
        "load produced, over the requests completed; collector CPU is rotel's over the same "
        f"window. {args.seconds} s per run after a 1 s warm-up, {args.reps} repetitions, "
        "each starting every variant afresh in a rotated order; medians, (min–max) over the "
        "repetitions. Server, collector and wrk share the 2 cores, so throughput is the "
        "noisiest figure and CPU per request the one to compare. "
        "Command: `python3 scripts/bench_process.py` (in `make bench`).",
        "",
        "| route | variant | req/s | throughput ratio | process CPU / req | added CPU / req | collector CPU / req | P50 | P99 | spans exported / req | spans dropped |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rkey, _, rlabel in routes:
        plain = res.get((rkey, "plain"), [])
        p_rps = med(plain, "rps") if plain else float("nan")
        p_cpu = med(plain, "cpu_us") if plain else float("nan")
        for vkey, _, _, vlabel in VARIANTS:
            rs = res.get((rkey, vkey))
            if not rs:
                continue
            rps = [r["rps"] for r in rs]
            ratio = [r["rps"] / p_rps for r in rs]
            cpu = [r["cpu_us"] for r in rs]
            added = [c - p_cpu for c in cpu]
            dropped = sum(r["spans_queue_full"] + r["spans_export_failed"] for r in rs)
            produced = dropped + sum(r["spans_exported"] for r in rs)
            spans = [r["spans_exported"] / max(r["requests"], 1) for r in rs]
            lines.append(
                f"| {rlabel} | {vlabel} | {spread(rps, lambda x: f'{x:.0f}')} | "
                f"{spread(ratio, lambda x: f'{x:.3f}')} | {spread(cpu, us, ' µs')} | "
                f"{'—' if vkey == 'plain' else spread(added, us, ' µs')} | "
                f"{spread([r['collector_us'] for r in rs], us, ' µs')} | "
                f"{med(rs, 'p50'):.2f} ms | {med(rs, 'p99'):.2f} ms | "
                f"{'—' if vkey == 'plain' else f'{statistics.median(spans):.2f}'} | "
                f"{'—' if vkey == 'plain' else f'{dropped} of {produced}'} |"
            )
    lines += ["", "Peak RSS (VmHWM) per variant, median over the repetitions: " + ", ".join(
        f"{vlabel} {statistics.median(rss[vkey]) / 1024:.0f} MiB"
        for vkey, _, _, vlabel in VARIANTS if vkey in rss) + ".", ""]

    # Targets.
    lines += ["| target (issue 19) | figure | goal |", "|---|---|---|"]
    for (rkey, vkey), (max_us, min_ratio) in TARGETS.items():
        rs, plain = res.get((rkey, vkey)), res.get((rkey, "plain"))
        if not rs or not plain:
            continue
        added = med(rs, "cpu_us") - med(plain, "cpu_us")
        ratio = med(rs, "rps") / med(plain, "rps")
        name = dict((k, l) for k, _, l in routes)[rkey]
        vname = dict((k, l) for k, _, _, l in VARIANTS)[vkey]
        lines.append(f"| {name}, {vname}: added CPU ≤ {max_us:g} µs | {added:.1f} µs | {goal(added <= max_us)} |")
        lines.append(f"| {name}, {vname}: throughput ratio ≥ {min_ratio:.2f} | {ratio:.3f} | {goal(ratio >= min_ratio)} |")
    for rkey, _, rlabel in routes:
        rs, plain = res.get((rkey, "disabled")), res.get((rkey, "plain"))
        if rs and plain:
            added = med(rs, "cpu_us") - med(plain, "cpu_us")
            lines.append(f"| {rlabel}, `OTEL_SDK_DISABLED=true`: added CPU ≤ {DISABLED_TARGET_US:g} µs | {added:.1f} µs | {goal(added <= DISABLED_TARGET_US)} |")
    for rkey, _, rlabel in routes:
        rs, plain = res.get((rkey, "off")), res.get((rkey, "plain"))
        if rs and plain:
            added = med(rs, "cpu_us") - med(plain, "cpu_us")
            lines.append(f"| {rlabel}, all off (SDK disabled, no view): added CPU ≤ {DISABLED_TARGET_US:g} µs | {added:.1f} µs | {goal(added <= DISABLED_TARGET_US)} |")
    for rkey in ("query", "queries10"):
        rs = res.get((rkey, "on"))
        if rs:
            dropped = sum(r["spans_queue_full"] + r["spans_export_failed"] for r in rs)
            name = dict((k, l) for k, _, l in routes)[rkey]
            lines.append(f"| {name}, 100 % sampled: 0 spans dropped with the default settings | {dropped} | {goal(dropped == 0)} |")
    lines.append("")

    # Per-thread breakdown and the export rate.
    lines += [
        "Where the instrumented build's CPU goes, 100 % sampled (µs per request by thread "
        "group, medians; the export threads are the SDK's batch span processor, log "
        "processor and metric reader, and wingspan's export runtime (`wingspan-otlp`), where "
        "the span exports run), and the export threads' rate:",
        "",
        "| route | tokio workers | export threads | other threads | plain: tokio workers | spans exported per second of export-thread CPU |",
        "|---|---|---|---|---|---|",
    ]
    for rkey, _, rlabel in routes:
        rs, plain = res.get((rkey, "on")), res.get((rkey, "plain"))
        if not rs:
            continue

        def grp(rs, g):
            return statistics.median(r["threads_us"].get(g, 0.0) for r in rs)

        rate = []
        for r in rs:
            secs = r["thread_ticks"].get("export threads", 0) / CLK_TCK
            rate.append(r["spans_exported"] / secs if secs else float("nan"))
        lines.append(
            f"| {rlabel} | {grp(rs, 'tokio workers'):.1f} µs | {grp(rs, 'export threads'):.1f} µs | "
            f"{grp(rs, 'other threads'):.1f} µs | "
            f"{grp(plain, 'tokio workers'):.1f} µs | {statistics.median(rate):.0f} |"
            if plain else
            f"| {rlabel} | {grp(rs, 'tokio workers'):.1f} µs | {grp(rs, 'export threads'):.1f} µs | "
            f"{grp(rs, 'other threads'):.1f} µs | n/a | {statistics.median(rate):.0f} |"
        )
    lines.append("")
    return "\n".join(lines) + "\n" + data.get("callgrind", "")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.environ.get("WINGSPAN_BENCH_OUT"))
    p.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_PROCESS_SECONDS", "5")))
    p.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_PROCESS_REPS", "3")))
    p.add_argument("--only", type=lambda s: s.split(","), default=None,
                   help="routes: " + ",".join(r[0] for r in ROUTES))
    p.add_argument("--protocol", choices=("grpc", "http/protobuf"), default="grpc")
    p.add_argument("--variants", type=lambda s: s.split(","), default=None,
                   help="variants: " + ",".join(v[0] for v in VARIANTS))
    p.add_argument("--env", action="append", default=[],
                   help="NAME=VALUE for the instrumented build (experiments), repeatable")
    p.add_argument("--no-callgrind", dest="callgrind", action="store_false",
                   help="skip the instruction counts (valgrind)")
    p.add_argument("--work", default=str(ROOT / "target" / "bench-process"))
    args = p.parse_args()
    text = render(run(args), args)
    if args.out:
        with open(args.out, "a") as f:
            f.write(text)
        log(f"appended to {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
