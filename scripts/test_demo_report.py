"""Tests of scripts/demo_report.py against a real rotel dump of wingman
(scripts/testdata/rotel-wingman.log: start-up, then GET /api/users/1, a
challenge and a coach call that miss the cache, a user created, an unknown user)
and the real goose report of test_summarize_goose.

Run from the repository root: python3 -m unittest discover -s scripts -p 'test_*.py'
"""

import contextlib
import io
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import demo_report as dr  # noqa: E402
import summarize_rotel  # noqa: E402

DUMP = os.path.join(HERE, "testdata", "rotel-wingman.log")
GOOSE = os.path.join(HERE, "testdata", "goose-wingman.json")
THRESHOLDS = os.path.join(HERE, "..", "alerts", "thresholds.json")


def dump():
    with open(DUMP, encoding="utf-8") as f:
        return summarize_rotel.Dump.parse(f.read())


class HistogramQuantileTest(unittest.TestCase):
    def test_interpolates_within_the_bucket_as_prometheus_does(self):
        bounds = [0.005, 0.01, 0.025]
        self.assertAlmostEqual(dr.histogram_quantile(0.5, bounds, [10, 0, 0, 0]), 0.0025)
        self.assertAlmostEqual(dr.histogram_quantile(0.5, bounds, [0, 10, 0, 0]), 0.0075)
        # rank 95 of 100: 90 in the first bucket, 5 of the 10 in the second.
        self.assertAlmostEqual(dr.histogram_quantile(0.95, bounds, [90, 10, 0, 0]), 0.0075)

    def test_the_inf_bucket_answers_the_highest_bound_and_empty_is_none(self):
        self.assertEqual(dr.histogram_quantile(0.99, [1.0, 2.0], [1, 0, 99]), 2.0)
        self.assertIsNone(dr.histogram_quantile(0.5, [1.0], [0, 0]))


class AlertStatesTest(unittest.TestCase):
    def test_each_threshold_fires_on_its_side(self):
        with open(THRESHOLDS, encoding="utf-8") as f:
            th = json.load(f)
        rows = dr.alert_states(th, 0.31, 0.5, 0.69, None)
        self.assertEqual([r["state"] for r in rows], ["FIRING", "ok", "FIRING", "NO DATA"])
        self.assertEqual(rows[0]["value"], "310.0 ms")
        rows = dr.alert_states(th, 0.01, 0.81, 0.9, 0.051)
        self.assertEqual([r["state"] for r in rows], ["ok", "FIRING", "ok", "FIRING"])


class RealDumpTest(unittest.TestCase):
    def setUp(self):
        self.dump = dump()
        self.metrics = self.dump.metrics()

    def test_agent_latency_per_route_and_non_llm(self):
        agent = dr.agent_latency(self.metrics)
        self.assertEqual(agent[("GET", "/api/users/{id}")]["count"], 2)
        self.assertEqual(agent[("POST", "/api/coach")]["count"], 1)
        # The coach is an llm-class route: out of the non-LLM merge.
        self.assertEqual(agent[("*", "non-LLM")]["count"], 4)
        p = agent[("GET", "/api/users/{id}")]
        self.assertTrue(0 < p["p50_ms"] <= p["p95_ms"] <= p["p99_ms"] <= 10_000)

    def test_errors_cache_llm_and_pool(self):
        self.assertEqual(dr.server_errors(self.metrics), (0, 5))  # a 404 is no 5xx
        cache = dr.cache_hits(self.metrics)
        self.assertEqual(cache["wm_capture:challenges"]["miss"], 1)
        self.assertEqual(cache["all"]["hit"], 0)
        llm = dr.llm_usage(self.metrics)
        self.assertEqual(llm["calls"], 1)
        self.assertEqual(llm["tokens"], {"input": 1860, "output": 180})
        self.assertGreater(llm["cost_usd"], 0)
        self.assertEqual(llm["attempts_by_status"], {"200": 1})
        pool = dr.pool_usage(self.metrics, [{"database": {"pool_utilization": 0.3}}], 10.0)
        self.assertEqual(pool["max_connections"], 10)
        self.assertEqual(pool["peak_sampled"], 0.3)
        self.assertGreater(pool["acquires"], 0)

    def test_the_two_traces_show_every_layer(self):
        coach, challenge = dr.pick_traces(self.dump.spans)
        coach_tree = "\n".join(dr.tree(coach))
        for part in ("SERVER   POST /api/coach", "GET", "acquire wingman", "SELECT profiles",
                     "chat claude-sonnet-4-5", "POST /v1/messages", "wingspan.cache.hit=false"):
            self.assertIn(part, coach_tree)
        self.assertIn("└─ CLIENT   POST /v1/messages", coach_tree)  # under the chat span
        challenge_tree = "\n".join(dr.tree(challenge))
        for part in ("GET /api/challenges/{id}", "acquire wingman", "SELECT challenges", "SET"):
            self.assertIn(part, challenge_tree)

    def test_tail_sampling_off_in_the_recorded_dump(self):
        t = dr.tail_sampling(self.metrics, self.dump.spans, 0.3, 10.0, 0.5)
        self.assertFalse(t["on"])
        self.assertEqual((t["responses"], t["errors"], t["arrived_errors"]), (5, 0, 0))
        self.assertAlmostEqual(t["spans_per_request"], len(self.dump.spans) / 5)
        self.assertAlmostEqual(t["cpu_ms_per_request"], 100.0)

    def test_the_whole_report(self):
        args = ["--goose", GOOSE, "--rotel", DUMP, "--thresholds", THRESHOLDS,
                "--page-url", "http://127.0.0.1:9188/observability", "--screenshot-note", "none here"]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            self.assertEqual(dr.main(args), 0)
        text = buf.getvalue()
        for section in ("## Latency per route (ms)", "## Database pool", "## Plans of slow statements", "## Cache", "## AI calls",
                        "## Alerts (alerts/thresholds.json)", "## What the collector received (rotel)",
                        "## Tail sampling", "## Two example traces", "## The page"):
            self.assertIn(section, text)
        self.assertIn("| GET /api/users/{id} |", text)
        self.assertIn(f"- spans: {len(self.dump.spans)} in", text)
        self.assertIn("http://127.0.0.1:9188/observability", text)


class PlansSectionTest(unittest.TestCase):
    def test_a_statement_with_its_plan_and_advice(self):
        plan = {"captured_at_ms": 1700000000000, "nodes": [],
                "text": "Limit  (cost=1.00 rows=10)\n      ->  Seq Scan on matches  (cost=900.00 rows=100)\n"
                        "            Filter: (challenge_id = $1)\n"}
        row = {"summary": "SELECT matches", "calls": 40, "p95_ms": 12.5, "plan": plan}
        health = {"slow_queries": {"by_p95": [row, {"summary": "SELECT users", "calls": 9, "p95_ms": 1, "plan": None}],
                                   "by_total_time": [row]},
                  "recommendations": [{"kind": "slow_statement", "message": "consider an index on matches (challenge_id)",
                                       "figures": {"summary": "SELECT matches"}}]}
        text = "\n".join(dr.plans_section(health))
        self.assertIn("- `SELECT matches`: 40 calls, P95 12.50 ms", text)
        self.assertIn("  - advice: consider an index on matches (challenge_id)", text)
        self.assertIn("->  Seq Scan on matches", text)
        self.assertNotIn("SELECT users", text)
        self.assertEqual(text.count("```text"), 1)

    def test_the_slowest_three_are_printed(self):
        rows = [{"summary": f"SELECT t{i}", "calls": 5, "p95_ms": 10 - i,
                 "plan": {"captured_at_ms": 1, "nodes": [], "text": f"Seq Scan on t{i}\n"}} for i in range(5)]
        text = "\n".join(dr.plans_section({"slow_queries": {"by_p95": rows}}))
        self.assertEqual(text.count("```text"), 3)
        self.assertIn("Seq Scan on t2", text)
        self.assertNotIn("Seq Scan on t3", text)
        self.assertIn("2 more statement(s) with a plan", text)

    def test_none_captured_says_so(self):
        self.assertIn("No plan captured", dr.plans_section({})[0])
def hist_point(status: int, buckets: list, klass: str = "standard") -> dict:
    bounds = [0.1, 0.3, 1.0, 10.0]
    return {"attributes": {"http.response.status_code": status, "wingspan.route.class": klass},
            "bounds": bounds, "buckets": buckets, "count": sum(buckets)}


def server_span(code: int, ms: float, parent: str = "", klass: str = "standard") -> dict:
    return {"parent_id": parent, "kind": "SERVER", "start": 0, "end": int(ms * 1e6),
            "attributes": {"http.response.status_code": code, "wingspan.route.class": klass}}


class TailSamplingTest(unittest.TestCase):
    def test_errors_and_slow_requests_against_the_traces_that_arrived(self):
        metrics = {
            dr.HTTP_DURATION: {"points": {
                1: hist_point(200, [90, 5, 3, 1, 1]),       # 5 slow: 3 ≤ 1 s, 1 ≤ 10 s, 1 above
                2: hist_point(500, [2, 0, 1, 0, 0]),        # 3 errors, one slow (counted as error)
                3: hist_point(200, [0, 0, 4, 1, 1], "llm"),  # one LLM call above 10 s
            }},
            dr.SAMPLING_TRACES: {"points": {
                1: {"attributes": {"wingspan.sampling.decision": "error"}, "value": 3},
                2: {"attributes": {"wingspan.sampling.decision": "drop"}, "value": 90},
            }},
        }
        spans = [server_span(500, 5), server_span(503, 400), server_span(200, 450),
                 server_span(200, 12_000, klass="llm"), server_span(200, 2_000, klass="llm"),
                 server_span(200, 900, parent="abc"), {**server_span(200, 900), "kind": "INTERNAL"}]
        t = dr.tail_sampling(metrics, spans, 0.3, 10.0, None)
        self.assertTrue(t["on"])
        self.assertEqual((t["errors"], t["arrived_errors"]), (3, 2))
        self.assertEqual((t["slow"], t["arrived_slow"]), (6, 2))
        self.assertEqual(t["decisions"], {"error": 3, "drop": 90})
        self.assertIsNone(t["cpu_ms_per_request"])
        self.assertEqual(dr.share(2, 3), "2 of 3 (66.7 %)")
        self.assertEqual(dr.share(0, 0), "0 of 0")


if __name__ == "__main__":
    unittest.main()
