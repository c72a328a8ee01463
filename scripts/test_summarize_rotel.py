"""Tests of scripts/summarize_rotel.py against a real rotel dump.

Run from the repository root: python3 -m unittest discover -s scripts -p 'test_*.py'
"""

import contextlib
import io
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import summarize_rotel as sr  # noqa: E402

TESTDATA = os.path.join(HERE, "..", "otel-collector", "testdata")
SAMPLE = os.path.join(TESTDATA, "rotel-sample.log")
RUST_SAMPLE = os.path.join(TESTDATA, "rotel-wingspan-rust.log")
BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]


def load():
    with open(SAMPLE, encoding="utf-8") as f:
        return sr.Dump.parse(f.read())


def run_main(*args):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = sr.main([SAMPLE, *args])
    return rc, buf.getvalue()


class SpansTest(unittest.TestCase):
    def setUp(self):
        self.d = load()

    def test_counts(self):
        self.assertEqual(len(self.d.spans), 15)
        groups = self.d.span_groups()
        self.assertEqual(groups[("GET /api/users/{id}", "SERVER")]["count"], 4)
        self.assertEqual(groups[("GET /api/users/{id}", "SERVER")]["errors"], 1)
        self.assertEqual(groups[("GET", "SERVER")]["count"], 2)
        self.assertEqual(groups[("SELECT users", "CLIENT")]["count"], 4)

    def test_span_fields_and_typed_attributes(self):
        s = next(s for s in self.d.spans if s["attributes"].get("url.path") == "/api/users/42"
                 and s["kind"] == "SERVER")
        self.assertEqual(s["name"], "GET /api/users/{id}")
        self.assertEqual(s["attributes"]["http.route"], "/api/users/{id}")
        self.assertEqual(s["attributes"]["http.response.status_code"], 200)  # Int(200) -> int
        self.assertEqual(s["attributes"]["wingspan.route.class"], "standard")
        self.assertEqual(len(s["trace_id"]), 32)
        self.assertEqual(len(s["span_id"]), 16)
        self.assertEqual(s["parent_id"], "")
        self.assertGreater(s["end"], s["start"])
        self.assertEqual(s["status"], "UNSET")
        self.assertEqual(s["resource"]["service.name"], "quickstart")
        self.assertEqual(s["scope"], "wingspan 0.1.0")

    def test_parent_links(self):
        by_id = {s["span_id"]: s for s in self.d.spans}
        children = [s for s in self.d.spans if s["name"] == "SELECT users"]
        self.assertTrue(children)
        for c in children:
            parent = by_id[c["parent_id"]]
            self.assertEqual(parent["name"], "GET /api/users/{id}")
            self.assertEqual(parent["trace_id"], c["trace_id"])

    def test_remote_parent(self):
        s = next(s for s in self.d.spans if s["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        self.assertEqual(s["parent_id"], "00f067aa0ba902b7")
        self.assertEqual(s["name"], "GET /hello")

    def test_llm_route_class(self):
        s = next(s for s in self.d.spans if s["name"] == "POST /api/coach")
        self.assertEqual(s["attributes"]["wingspan.route.class"], "llm")

    def test_error_status_links_events_and_value_types(self):
        s = next(s for s in self.d.spans if s["status_message"] == "boom")
        self.assertEqual(s["status"], "ERROR")
        self.assertEqual(s["links"], [{"trace_id": "0af7651916cd43dd8448eb211c80319c",
                                       "span_id": "b7ad6b7169203331"}])
        chat = next(s for s in self.d.spans if s["name"] == "chat claude")
        self.assertEqual(chat["status"], "OK")
        self.assertEqual([e["name"] for e in chat["events"]], ["exception"])
        self.assertEqual(chat["events"][0]["attributes"]["exception.message"], "bad: thing")
        self.assertEqual(chat["attributes"]["d"], 1.5)
        self.assertIs(chat["attributes"]["b"], True)
        self.assertEqual(chat["attributes"]["gen_ai.response.finish_reasons"],
                         "Slice(Str(stop), Str(length))")


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.m = load().metrics()

    def test_histogram_bounds_include_0_3(self):
        h = self.m["http.server.request.duration"]
        self.assertEqual(h["type"], "Histogram")
        self.assertEqual(h["unit"], "s")
        self.assertEqual(h["temporality"], "CUMULATIVE")
        self.assertEqual(h["bounds"], BOUNDS)
        self.assertIn(0.3, h["bounds"])
        self.assertEqual(h["exports"], 2)

    def test_histogram_points(self):
        h = self.m["http.server.request.duration"]
        users = [p for p in h["points"].values()
                 if p["attributes"].get("http.route") == "/api/users/{id}"
                 and p["attributes"].get("http.response.status_code") == 200
                 and "url.scheme" in p["attributes"]]
        self.assertEqual(len(users), 1)
        p = users[0]
        self.assertEqual(p["count"], 2)
        self.assertEqual(len(p["buckets"]), len(BOUNDS) + 1)
        self.assertEqual(sum(p["buckets"]), p["count"])
        unmatched = [p for p in h["points"].values() if p["attributes"].get("http.response.status_code") == 404]
        self.assertTrue(unmatched)
        self.assertNotIn("http.route", unmatched[0]["attributes"])

    def test_sums_and_gauges(self):
        active = self.m["http.server.active_requests"]
        self.assertEqual(active["type"], "Sum")
        self.assertIs(active["monotonic"], False)
        self.assertEqual({p["value"] for p in active["points"].values()}, {0})
        cost = self.m["wingspan.gen_ai.cost"]
        self.assertIs(cost["monotonic"], True)
        self.assertEqual(cost["unit"], "{USD}")
        mem = self.m["process.memory.usage"]
        self.assertEqual(mem["type"], "Gauge")
        # Same (empty) attribute set from two exports: the last one wins.
        self.assertEqual([p["value"] for p in mem["points"].values()], [12345678])

    def test_delta_points_add_up(self):
        block = (
            "ResourceMetrics #0\nScopeMetrics #0\nMetric #0\nDescriptor:\n"
            "     -> Name: c\n     -> DataType: Sum\n     -> IsMonotonic: true\n"
            "     -> AggregationTemporality: AGGREGATION_TEMPORALITY_DELTA\n"
            "NumberDataPoints #0\nData point attributes:\n     -> k: Str(v)\nValue: {v}\n"
        )
        d = sr.Dump.parse(block.replace("{v}", "2") + block.replace("{v}", "3"))
        self.assertEqual(list(d.metrics()["c"]["points"].values())[0]["value"], 5)


class LogsTest(unittest.TestCase):
    def test_logs_with_trace_ids(self):
        d = load()
        self.assertEqual(len(d.logs), 6)
        span_ids = {s["span_id"] for s in d.spans}
        traced = [r for r in d.logs if r["trace_id"]]
        self.assertEqual(len(traced), 4)
        for r in traced:
            self.assertIn(r["span_id"], span_ids)
        r = next(r for r in d.logs if r["body"] == "loaded user 42")
        self.assertEqual(r["severity"], "INFO")
        untraced = next(r for r in d.logs if r["body"] == "shutting down")
        self.assertEqual(untraced["trace_id"], "")
        self.assertEqual(untraced["severity"], "WARN")


class RustSdkDumpTest(unittest.TestCase):
    """What opentelemetry-rust 0.33, as wingspan configures it, sent over OTLP/gRPC."""

    def setUp(self):
        with open(RUST_SAMPLE, encoding="utf-8") as f:
            self.d = sr.Dump.parse(f.read())

    def test_resource(self):
        r = self.d.resources[0]["attributes"]
        self.assertEqual(r["telemetry.sdk.language"], "rust")
        self.assertEqual(r["deployment.environment.name"], "development")
        self.assertIn("service.name", r)

    def test_spans(self):
        names = {(s["name"], s["kind"]) for s in self.d.spans}
        self.assertIn(("GET /api/users/{id}", "SERVER"), names)
        self.assertIn(("GET", "SERVER"), names)
        span = next(s for s in self.d.spans if s["name"] == "load_profile")
        self.assertEqual(span["kind"], "INTERNAL")
        self.assertEqual(span["events"][0]["name"], "loaded profile")
        self.assertEqual(span["events"][0]["attributes"]["user"], 42)

    def test_metrics(self):
        m = self.d.metrics()
        self.assertEqual(m["http.server.request.duration"]["bounds"], BOUNDS)
        self.assertEqual(m["process.cpu.time"]["type"], "Sum")
        self.assertTrue(m["process.cpu.time"]["monotonic"])
        self.assertIn("wingspan.telemetry.spans.dropped", m)

    def test_log_carries_trace(self):
        (rec,) = self.d.logs
        span = next(s for s in self.d.spans if s["name"] == "load_profile")
        self.assertEqual(rec["body"], "loaded profile")
        self.assertEqual((rec["trace_id"], rec["span_id"]), (span["trace_id"], span["span_id"]))

    def test_only_rotel_lines_left_over(self):
        self.assertTrue(all("Rotel" in ln or "Shutdown" in ln for ln in self.d.other_lines),
                        self.d.other_lines)


class RenderAndChecksTest(unittest.TestCase):
    def test_render(self):
        rc, out = run_main()
        self.assertEqual(rc, 0)
        for needle in ("== Spans: 15", "GET /api/users/{id}", "http.route: /api/users/{id}",
                       "wingspan.route.class: llm", "└─ CLIENT 'SELECT users'",
                       "remote/not in dump", "bucket bounds: [0.005", "0.25, 0.3, 0.5",
                       "== Log records: 6 (4 with a trace id)"):
            self.assertIn(needle, out)

    def test_checks_pass(self):
        rc, out = run_main("--expect-span", "GET /api/users/{id}",
                           "--expect-bound", "http.server.request.duration=0.3", "--expect-log-trace")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)

    def test_checks_fail(self):
        rc, out = run_main("--expect-span", "GET /nope",
                           "--expect-bound", "http.server.request.duration=0.2")
        self.assertEqual(rc, 1)
        self.assertIn("FAIL  span 'GET /nope'", out)
        self.assertIn("FAIL  metric http.server.request.duration bucket bounds include 0.2", out)

    def test_raw_path_span_names_are_flagged(self):
        d = sr.Dump.parse("ResourceSpans #0\nScopeSpans #0\nSpan #0\n    Name           : GET /api/users/42\n")
        results = sr.run_checks(d, [], [], False)
        self.assertFalse(results[-1][0])

    def test_json(self):
        import json
        rc, out = run_main("--json")
        self.assertEqual(rc, 0)
        data = json.loads(out)
        self.assertEqual(len(data["spans"]), 15)
        self.assertIn("http.server.request.duration", [m["name"] for m in data["metrics"]])

    def test_robust_to_noise(self):
        noisy = "\x00\x00\x1b[2m2026-01-01T00:00:00Z\x1b[0m \x1b[32m INFO\x1b[0m Starting Rotel.\n" \
                "garbage line\n   -> stray: Str(x)\nSpan #0\n"
        d = sr.Dump.parse(noisy)
        self.assertEqual(len(d.spans), 1)
        self.assertEqual(d.spans[0]["name"], "")
        self.assertEqual(d.other_lines[0][:4], "2026")
        sr.render(d)
        sr.render(sr.Dump.parse(""))


if __name__ == "__main__":
    unittest.main()
