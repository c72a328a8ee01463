#!/usr/bin/env python3
"""End-to-end alerting on real parts (`make e2e-alerts`), all on 127.0.0.1, stdlib only.

    alerts_e2e.py --target examples/alert_target binary [--keep DIR]

1. Starts the wingspan-instrumented alert_target (`serve`), a real Prometheus (Debian's,
   scraping its pull endpoint every second and evaluating the rules rendered with every
   duration / TIME_SCALE), a real Alertmanager (alerts/alertmanager.yml rendered with
   short notification timings), a webhook receiver standing in for Slack and an SMTP sink
   standing in for email.
2. Healthy phase: realistic traffic (cache hits and misses, a slow LLM route, 404s, 1 %
   slow requests). Every second it reads Prometheus' /api/v1/alerts; an alert firing is a
   false positive, and nothing may be delivered (pending blips, held back by `for:`, are
   counted and reported).
3. Slow phase: 30 % of non-LLM requests take 450 ms until WingspanApiLatencyHigh fires;
   Slack (not email) receives it.
4. Error phase: 20 % of requests fail until WingspanHighErrorRate fires; then a burst of
   connection holds exhausts the pool (WingspanDbPoolAcquireTimeouts). Email and Slack
   receive the page, email receives no warning, the P95 and pool warnings are inhibited
   in Alertmanager; the page is not repeated before repeat_interval, and is after it.
5. Every PromQL target of every dashboard runs against that Prometheus with the template
   variables filled in and must return data (expressions over metrics the agent does not
   emit yet, PENDING_METRICS of backend_check_metrics.py, are listed as skipped).
Everything is bounded in time and every process is stopped on the way out.
"""

import argparse
import email
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alerts_render  # noqa: E402
import alerts_render_alertmanager  # noqa: E402
import backend_check_metrics  # noqa: E402
import dashboards_render  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIME_SCALE = 20  # 5m -> 15s, for: 5m -> 15s, 1h window -> 3m
JOB = "wingspan-e2e"
REPEAT_INTERVAL = 20  # s, Alertmanager's repeat_interval in this run
GROUP_INTERVAL = 2  # s
HEALTHY_SECONDS = 45  # longer than any scaled `for:` (the cache's 30 s) plus its window
DEADLINE = 300  # s, the whole run


class Failed(Exception):
    pass


def log(msg):
    print(f"[e2e {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


T0 = time.monotonic()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def wait_until(what, predicate, timeout, interval=0.5):
    """Polls predicate() until it returns a truthy value; fails after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (urllib.error.URLError, ConnectionError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise Failed(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- stand-ins for Slack and email -------------------------------------------------------

class Inbox:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []  # (monotonic time, dict)

    def add(self, item):
        with self.lock:
            self.items.append((time.monotonic(), item))

    def snapshot(self):
        with self.lock:
            return list(self.items)


def start_slack(inbox):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            payload = json.loads(body)
            att = (payload.get("attachments") or [{}])[0]
            inbox.add({"title": att.get("title", ""), "text": att.get("text", ""), "path": self.path})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def start_smtp(inbox):
    """A minimal SMTP server (RFC 5321's required commands): enough for Alertmanager."""

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line):
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self):
            self.reply("220 sink ESMTP")
            rcpt, mail_from = [], None
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                cmd = line.decode("utf-8", "replace").strip()
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 sink")
                elif verb == "MAIL":
                    mail_from, rcpt = cmd[10:].strip(), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    rcpt.append(cmd[8:].strip().strip("<>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = []
                    while True:
                        dl = self.rfile.readline()
                        if not dl or dl in (b".\r\n", b".\n"):
                            break
                        data.append(dl[1:] if dl.startswith(b"..") else dl)
                    msg = email.message_from_bytes(b"".join(data))
                    inbox.add({"from": mail_from, "to": rcpt, "subject": str(msg.get("Subject", ""))})
                    self.reply("250 OK queued")
                elif verb in ("RSET", "NOOP"):
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not implemented")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- traffic -----------------------------------------------------------------------------

class Traffic:
    """Worker threads sending a deterministic mix of requests (no randomness: the healthy
    phase must not be flaky). `mix` is a list of paths cycled through."""

    def __init__(self, base, workers=8):
        self.base = base
        self.mix = ["/api/items/1"]
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.i = 0
        self.fresh = 0
        # Fresh ids stay in i32 (the route's type) and differ from earlier runs' (the
        # cache keeps keys 10 minutes).
        self.fresh_base = (int(time.time()) % 2_000_000) * 1000
        self.sent = 0
        self.statuses = {}
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(workers)]

    def set_mix(self, mix):
        with self.lock:
            self.mix, self.i = mix, 0

    def next_path(self):
        with self.lock:
            path = self.mix[self.i % len(self.mix)]
            self.i += 1
            self.fresh += 1
            # A key never read before: a miss, then a load from Postgres.
            return path.replace("{fresh}", str(self.fresh_base + self.fresh % 1000))

    def request(self, path):
        method = "POST" if path.startswith("/api/coach") else "GET"
        req = urllib.request.Request(self.base + path, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        with self.lock:
            self.sent += 1
            self.statuses[status] = self.statuses.get(status, 0) + 1
        return status

    def run(self):
        while not self.stop.is_set():
            try:
                self.request(self.next_path())
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
            # ~25 requests/s from 8 workers: enough for every traffic guard.
            time.sleep(0.3)

    def start(self):
        for t in self.threads:
            t.start()

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)


def healthy_mix():
    # 100 requests: 88 cache reads, 72 over 10 hot keys and 16 of keys never seen (a hit
    # ratio near 82 %, misses loading from Postgres), 1 slow (450 ms, so 1 % above the
    # objective), 2 holding a connection 150 ms, 5 LLM calls of 600 ms (excluded from
    # latency; one of them with a model the pricing table lacks, one overloaded past the
    # retries, which the route answers with a fallback), 4 unknown paths (404).
    mix = [f"/api/items/{i % 10 + 1}" for i in range(72)] + ["/api/items/{fresh}"] * 16
    mix += ["/api/slow?ms=450"] + ["/api/hold?ms=150"] * 2 + ["/api/coach?ms=600"] * 3
    mix += ["/api/coach?ms=600&unpriced=1", "/api/coach?ms=600&fail=1"] + ["/nope"] * 4
    # Spread the rare ones instead of bunching them at the end of the cycle.
    return [mix[(i * 37) % 100] for i in range(100)]


def slow_mix():
    mix = [f"/api/items/{i % 10 + 1}" for i in range(65)] + ["/api/slow?ms=450"] * 30 + ["/api/coach?ms=600"] * 5
    return [mix[(i * 37) % 100] for i in range(100)]


def error_mix():
    mix = ([f"/api/items/{i % 10 + 1}" for i in range(45)] + ["/api/slow?ms=450"] * 30 + ["/api/fail"] * 20
           + ["/api/coach?ms=600"] * 5)
    return [mix[(i * 37) % 100] for i in range(100)]


# --- the run -----------------------------------------------------------------------------

class Run:
    def __init__(self, target_bin, workdir):
        self.target_bin = target_bin
        self.dir = workdir
        self.procs = []
        self.slack, self.mail = Inbox(), Inbox()
        self.servers = []

    def spawn(self, name, args, env=None, stdout=None):
        log_path = os.path.join(self.dir, f"{name}.log")
        out = open(log_path, "w")
        p = subprocess.Popen(args, stdout=stdout or out, stderr=out, env=env, cwd=self.dir,
                             start_new_session=True)
        self.procs.append((name, p, out))
        return p

    def stop_all(self):
        for name, p, out in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
            out.close()
        for s in self.servers:
            s.shutdown()
            s.server_close()

    def prom(self, path, **params):
        url = f"{self.prom_url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        body = http_json(url)
        if body.get("status") != "success":
            raise Failed(f"Prometheus {path}: {body}")
        return body["data"]

    def alerts(self):
        return [a for a in self.prom("/api/v1/alerts")["alerts"] if a["labels"].get("job") == JOB]

    def firing(self, name):
        return [a for a in self.alerts() if a["labels"]["alertname"] == name and a["state"] == "firing"]

    def value(self, expr):
        res = self.prom("/api/v1/query", query=expr)["result"]
        return [float(r["value"][1]) for r in res]

    def start(self):
        slack = start_slack(self.slack)
        smtp = start_smtp(self.mail)
        self.servers = [slack, smtp]

        # The service.
        app_port = free_port()
        env = dict(os.environ)
        env.update({
            "APP_ADDR": f"127.0.0.1:{app_port}", "OTEL_SERVICE_NAME": JOB, "WINGSPAN_PROMETHEUS": "true",
            "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none",
            "WINGSPAN_CONSOLE_LOG": "false", "DB_POOL_SIZE": "2", "DB_MAX_CONNECTIONS": "4",
            "DB_CONNECTION_TIMEOUT": "1", "DB_LEAK_THRESHOLD": "1", "RUST_LOG": "warn",
        })
        app_log = os.path.join(self.dir, "alert_target.stdout")
        with open(app_log, "w") as out:
            self.spawn("alert_target", [self.target_bin, "serve"], env=env, stdout=out)
        self.app_url = wait_until("alert_target to listen",
                                  lambda: _listening_line(app_log), timeout=30, interval=0.1)
        log(f"alert_target serving at {self.app_url}")

        # Alertmanager, configured from the committed template as a deployment would be.
        am_port = free_port()
        secrets = os.path.join(self.dir, "secrets")
        am_env = {"ALERT_EMAIL": "oncall@example.com",
                  "ALERT_SLACK_WEBHOOK": f"http://127.0.0.1:{slack.server_address[1]}/slack",
                  "ALERT_SMTP_SMARTHOST": f"127.0.0.1:{smtp.server_address[1]}",
                  "ALERT_SMTP_FROM": "alertmanager@e2e.local", "ALERT_SMTP_REQUIRE_TLS": "false",
                  "ALERT_SECRETS_DIR": secrets}
        with open(os.path.join(ROOT, "alerts", "alertmanager.yml"), encoding="utf-8") as f:
            am_text, am_secrets = alerts_render_alertmanager.render(
                f.read(), am_env,
                {"group_wait": "1s", "group_interval": f"{GROUP_INTERVAL}s", "repeat_interval": f"{REPEAT_INTERVAL}s"})
        os.makedirs(secrets, mode=0o700)
        for name, value in am_secrets.items():
            with open(os.path.join(secrets, name), "w") as f:
                f.write(value)
        am_cfg = os.path.join(self.dir, "alertmanager.yml")
        with open(am_cfg, "w") as f:
            f.write(am_text)
        self.am_url = f"http://127.0.0.1:{am_port}"
        self.spawn("alertmanager", ["prometheus-alertmanager", f"--config.file={am_cfg}",
                                    f"--storage.path={os.path.join(self.dir, 'am-data')}",
                                    f"--web.listen-address=127.0.0.1:{am_port}",
                                    "--cluster.listen-address=", "--log.level=warn"])

        # Prometheus, with the time-scaled rules.
        rules = os.path.join(self.dir, "wingspan.rules.yml")
        with open(rules, "w") as f:
            f.write(alerts_render.render(alerts_render.load_thresholds(), TIME_SCALE))
        host = self.app_url.split("//", 1)[1]
        prom_cfg = os.path.join(self.dir, "prometheus.yml")
        with open(prom_cfg, "w") as f:
            f.write(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                f"rule_files: [{json.dumps(rules)}]\n"
                "alerting:\n  alertmanagers:\n    - static_configs:\n"
                f"        - targets: ['127.0.0.1:{am_port}']\n"
                "scrape_configs:\n"
                f"  - job_name: {JOB}\n    static_configs:\n      - targets: ['{host}']\n"
            )
        prom_port = free_port()
        self.prom_url = f"http://127.0.0.1:{prom_port}"
        self.spawn("prometheus", ["prometheus", f"--config.file={prom_cfg}",
                                  f"--storage.tsdb.path={os.path.join(self.dir, 'prom-data')}",
                                  f"--web.listen-address=127.0.0.1:{prom_port}",
                                  # Re-send firing alerts every second: the repeat check
                                  # needs Alertmanager to be told again and again.
                                  "--rules.alert.resend-delay=1s", "--log.level=warn"])
        wait_until("Alertmanager ready", lambda: _ok(f"{self.am_url}/-/ready"), timeout=30)
        wait_until("Prometheus ready", lambda: _ok(f"{self.prom_url}/-/ready"), timeout=30)
        log(f"Prometheus {self.prom_url}, Alertmanager {self.am_url}, Slack stand-in :{slack.server_address[1]}, "
            f"SMTP sink :{smtp.server_address[1]}")
        n_rules = sum(len(g["rules"]) for g in self.prom("/api/v1/rules")["groups"])
        if n_rules != len(alerts_render.all_rules()):
            raise Failed(f"Prometheus loaded {n_rules} rules, expected {len(alerts_render.all_rules())}")

    def main(self):
        self.start()
        traffic = Traffic(self.app_url)
        report = {}
        try:
            traffic.set_mix(healthy_mix())
            traffic.start()
            wait_until("the first scrape with requests",
                       lambda: self.value(f'sum(http_server_request_duration_seconds_count{{job="{JOB}"}})'),
                       timeout=20)

            # --- healthy ---
            log(f"healthy phase: {HEALTHY_SECONDS}s, polling /api/v1/alerts every second")
            seen, polls = {}, 0
            end = time.monotonic() + HEALTHY_SECONDS
            while time.monotonic() < end:
                for a in self.alerts():
                    key = (a["labels"]["alertname"], a["state"], json.dumps(a["labels"], sort_keys=True))
                    seen[key] = seen.get(key, 0) + 1
                polls += 1
                time.sleep(1)
            # The quiet is not vacuous: every signal the alerts read had a value.
            evaluated = {
                "P95 (non-LLM)": f'job:http_server_request_duration_seconds:p95_rate5m{{job="{JOB}"}}',
                "error ratio": f'job:http_server_request_errors:ratio_rate5m{{job="{JOB}"}}',
                "pool utilization": f'job_pool:db_client_connection:utilization{{job="{JOB}"}}',
                "cache hit ratio": f'job_cache:wingspan_cache_hit:ratio_rate5m{{job="{JOB}"}}',
                "cache reads/s": f'job_cache:wingspan_cache_reads:rate5m{{job="{JOB}"}}',
                "slow ratio 1h": f'job:http_server_request_slow:ratio_rate1h{{job="{JOB}"}}',
                "LLM P95 (excluded)": f'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{{job="{JOB}",wingspan_route_class="llm"}}[15s])))',
            }
            values = {k: self.value(v) for k, v in evaluated.items()}
            for k, v in values.items():
                if not v:
                    raise Failed(f"healthy phase: {k} has no value, so the quiet proves nothing")
            log("healthy signals: " + ", ".join(f"{k}={v[0]:.3g}" for k, v in values.items()))
            if not 0.7 < values["cache hit ratio"][0] < 0.99:
                raise Failed(f"the healthy mix should miss the cache now and then, above 70 %: {values['cache hit ratio']}")
            if values["LLM P95 (excluded)"][0] <= 0.3:
                raise Failed("the LLM route should be slow in the healthy phase (it must be excluded, not absent)")
            delivered = self.slack.snapshot() + self.mail.snapshot()
            # A false positive is an alert that fires (and so notifies). Pending is the
            # `for:` holding back a blip (a slow second on a busy 2-core box), reported
            # but allowed: that is what `for:` is for.
            fired = sorted({k[2] for k in seen if k[1] == "firing"})
            pending = sorted({(k[0], json.loads(k[2]).get("long_window", "")) for k in seen if k[1] == "pending"})
            report["healthy"] = {"seconds": HEALTHY_SECONDS, "polls": polls,
                                 "false_positive_alerts": len(fired), "firing": fired,
                                 "pending_blips": [f"{a} {w}".strip() for a, w in pending],
                                 "pending_polls": sum(n for k, n in seen.items() if k[1] == "pending"),
                                 "notifications": len(delivered)}
            log(f"healthy phase: {polls} polls, {len(fired)} alerts firing, pending blips {pending} "
                f"({report['healthy']['pending_polls']} polls), {len(delivered)} notifications")
            if fired or delivered:
                raise Failed(f"false positives on a healthy service: firing {fired} / notifications {delivered}")

            # --- slow ---
            t = time.monotonic()
            traffic.set_mix(slow_mix())
            log("slow phase: 30 % of non-LLM requests take 450 ms")
            fired = wait_until("WingspanApiLatencyHigh firing", lambda: self.firing("WingspanApiLatencyHigh"),
                               timeout=90)
            report["slow"] = {"fired_after_s": round(time.monotonic() - t, 1),
                              "value": fired[0]["value"], "annotations": fired[0]["annotations"]["description"]}
            log(f"WingspanApiLatencyHigh firing after {report['slow']['fired_after_s']}s: "
                f"{fired[0]['annotations']['description']}")
            wait_until("Slack to receive WingspanApiLatencyHigh",
                       lambda: self.notifications(self.slack, "WingspanApiLatencyHigh"), timeout=20)
            log("Slack stand-in received WingspanApiLatencyHigh")

            # --- errors ---
            t = time.monotonic()
            traffic.set_mix(error_mix())
            log("error phase: 20 % of requests fail")
            fired = wait_until("WingspanHighErrorRate firing", lambda: self.firing("WingspanHighErrorRate"),
                               timeout=60)
            report["errors"] = {"fired_after_s": round(time.monotonic() - t, 1),
                                "annotations": fired[0]["annotations"]["description"]}
            log(f"WingspanHighErrorRate firing after {report['errors']['fired_after_s']}s: "
                f"{fired[0]['annotations']['description']}")
            # Now exhaust the pool: its warning fires while the page is active, so the
            # inhibition below has two warnings to silence.
            burst = [threading.Thread(target=traffic.request, args=("/api/hold?ms=1500",)) for _ in range(8)]
            for b in burst:
                b.start()
            log("8 concurrent holds on a pool of 4 (acquire timeout 1 s)")
            wait_until("WingspanDbPoolAcquireTimeouts firing",
                       lambda: self.firing("WingspanDbPoolAcquireTimeouts"), timeout=30)
            for b in burst:
                b.join(timeout=10)
            first_mail = wait_until("email for WingspanHighErrorRate",
                                    lambda: self.notifications(self.mail, "WingspanHighErrorRate"), timeout=20)
            first_slack = wait_until("Slack for WingspanHighErrorRate",
                                     lambda: self.notifications(self.slack, "WingspanHighErrorRate"), timeout=20)
            t_first = first_slack[0][0]
            log(f"email ({first_mail[0][1]['subject']!r} to {first_mail[0][1]['to']}) and Slack "
                f"({first_slack[0][1]['title']!r}) received WingspanHighErrorRate")

            # Routing: the warnings reached no mailbox.
            mailed_warnings = [m for _, m in self.mail.snapshot()
                               if "WingspanApiLatencyHigh" in m["subject"] or "WingspanDbPoolAcquireTimeouts" in m["subject"]]
            if mailed_warnings:
                raise Failed(f"warnings were emailed: {mailed_warnings}")

            # Inhibition: the critical error alert silences the same service's warnings.
            inhibited = wait_until("the P95 and pool warnings to be inhibited", self.inhibited_warnings, timeout=15)
            log(f"inhibited in Alertmanager by the critical alert: {sorted(inhibited)}")
            report["inhibited"] = sorted(inhibited)

            # Repeat: told again and again by Prometheus, Alertmanager does not re-send
            # before repeat_interval...
            received_before = self.am_received()
            margin = GROUP_INTERVAL + 1
            time.sleep(max(0, t_first + REPEAT_INTERVAL - margin - time.monotonic()))
            early = self.notifications(self.slack, "WingspanHighErrorRate", status="FIRING")
            told = self.am_received() - received_before
            if len(early) != 1:
                raise Failed(f"{len(early)} Slack notifications of WingspanHighErrorRate within "
                             f"{REPEAT_INTERVAL - margin}s, expected 1 (repeat_interval {REPEAT_INTERVAL}s)")
            if told < 5:
                raise Failed(f"Prometheus re-sent the alerts only {told} times: the repeat check proves nothing")
            # ...and does re-send after it (so the check above can see a repeat).
            again = wait_until("the repeat after repeat_interval",
                               lambda: len(self.notifications(self.slack, "WingspanHighErrorRate", status="FIRING")) >= 2
                               and self.notifications(self.slack, "WingspanHighErrorRate", status="FIRING"),
                               timeout=REPEAT_INTERVAL + 10)
            gap = again[1][0] - again[0][0]
            # 1 s for delivery jitter: the receipt times, not Alertmanager's clock, are measured.
            if gap < REPEAT_INTERVAL - 1:
                raise Failed(f"repeated after {gap:.1f}s, before repeat_interval {REPEAT_INTERVAL}s")
            report["repeat"] = {"alerts_received_by_alertmanager": told, "notifications_before_interval": 1,
                                "repeat_after_s": round(gap, 1)}
            log(f"Alertmanager got the alerts {told} more times, notified once; repeated after {gap:.1f}s "
                f"(repeat_interval {REPEAT_INTERVAL}s)")

            # While traffic still flows: the recorded 15 s ratios need recent requests.
            report["dashboards"] = self.dashboard_queries()
        finally:
            traffic.close()

        report["traffic"] = {"requests": traffic.sent, "statuses": traffic.statuses}
        return report

    def notifications(self, inbox, alertname, status=None):
        out = []
        for t, item in inbox.snapshot():
            text = item.get("title") or item.get("subject") or ""
            if alertname in text and (status is None or status in text.upper()):
                out.append((t, item))
        return out

    def am_received(self):
        with urllib.request.urlopen(f"{self.am_url}/metrics", timeout=5) as r:
            total = 0.0
            for line in r.read().decode().splitlines():
                if line.startswith("alertmanager_alerts_received_total"):
                    total += float(line.rsplit(" ", 1)[1])
            return total

    def inhibited_warnings(self):
        alerts = http_json(f"{self.am_url}/api/v2/alerts?inhibited=true&active=true")
        names = {a["labels"]["alertname"] for a in alerts
                 if a["status"]["inhibitedBy"] and a["labels"].get("job") == JOB}
        return names if {"WingspanApiLatencyHigh", "WingspanDbPoolAcquireTimeouts"} <= names else None

    def dashboard_queries(self):
        ok, empty, skipped = 0, [], []
        for f, title, expr in dashboards_render.all_exprs():
            metrics, _ = backend_check_metrics.names_in(expr)
            if metrics & backend_check_metrics.PENDING_METRICS:
                skipped.append(f"{f} {title!r}")
                continue
            # Grafana's variables: the service, and windows covering this run of a few
            # minutes (rare events, such as a connection being opened, happened early).
            q = expr.replace("$__rate_interval", "2m").replace("$__range", "5m").replace("$job", JOB)
            res = self.prom("/api/v1/query", query=q)["result"]
            finite = [r for r in res if r["value"][1] not in ("NaN", "+Inf", "-Inf")]
            if finite:
                ok += 1
            else:
                empty.append(f"{f} {title!r}: {q} -> {res}")
        log(f"dashboards: {ok} queries returned data, {len(skipped)} skipped (metrics not emitted yet)")
        if empty:
            raise Failed("dashboard queries without data:\n  " + "\n  ".join(empty))
        return {"queries_with_data": ok, "skipped_pending": len(skipped)}


def _listening_line(path):
    with open(path) as f:
        for line in f:
            if line.startswith("listening "):
                return line.split(" ", 1)[1].strip()
    return None


def _ok(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.status == 200


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="the alert_target example binary")
    ap.add_argument("--keep", help="keep the logs and data in this directory")
    args = ap.parse_args(argv)
    for tool in ("prometheus", "prometheus-alertmanager"):
        if not shutil.which(tool):
            print(f"{tool} not found: apt-get install prometheus prometheus-alertmanager", file=sys.stderr)
            return 2
    workdir = args.keep or tempfile.mkdtemp(prefix="wingspan-e2e-")
    os.makedirs(workdir, exist_ok=True)
    run = Run(os.path.abspath(args.target), workdir)
    # A hard bound on the whole run: SIGALRM interrupts any wait.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Failed(f"run exceeded {DEADLINE}s")))
    signal.alarm(DEADLINE)
    try:
        report = run.main()
        signal.alarm(0)
        print(json.dumps(report, indent=2))
        print(f"e2e-alerts OK in {time.monotonic() - T0:.0f}s: false positives over the healthy run: "
              f"{report['healthy']['false_positive_alerts']}")
        return 0
    except Failed as e:
        signal.alarm(0)
        print(f"e2e-alerts FAILED: {e}\nlogs kept in {workdir}", file=sys.stderr)
        args.keep = workdir
        return 1
    finally:
        run.stop_all()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
