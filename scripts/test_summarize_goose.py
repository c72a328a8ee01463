"""Tests of scripts/summarize_goose.py: against a real goose 0.19 JSON report of
wingman-load driving wingman (scripts/testdata/goose-wingman.json), and against
hand-made buckets whose percentiles are known.

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

import summarize_goose as sg  # noqa: E402

SAMPLE = os.path.join(HERE, "testdata", "goose-wingman.json")


def load():
    with open(SAMPLE, encoding="utf-8") as f:
        return json.load(f)


def report(times_us, fail=0, duration=10, name="GET /x"):
    """A minimal goose report with one request name and these response times."""
    buckets = {}
    for t in times_us:
        bits = 0 if t < 128 else t.bit_length() - 1 - 6
        floor = (t >> bits) << bits
        buckets[str(floor)] = buckets.get(str(floor), 0) + 1
    return {
        "started": "2026-11-27T00:00:00Z", "ended_by": "completed",
        "raw_metrics": {
            "duration": duration, "maximum_users": 1,
            "requests": {name: {
                "raw_data": {
                    "counter": len(times_us), "times_us": buckets,
                    "minimum_time_us": min(times_us), "maximum_time_us": max(times_us),
                    "total_time_us": sum(times_us),
                },
                "fail_count": fail, "success_count": len(times_us) - fail,
                "status_code_counts": {"200": len(times_us) - fail, "500": fail},
            }},
        },
    }


class PercentileTest(unittest.TestCase):
    def test_bucket_value_is_the_middle_of_a_log_linear_bucket(self):
        self.assertEqual(sg.bucket_value(5), 5)        # exact below 128 µs
        self.assertEqual(sg.bucket_value(127), 127)
        self.assertEqual(sg.bucket_value(128), 129)    # 2 µs wide from 128
        self.assertEqual(sg.bucket_value(16384), 16512)  # 256 µs wide from 16 384

    def test_exact_below_128_us_and_the_ends_are_the_extremes(self):
        s = sg.summarize(report(list(range(1, 101))))["routes"][0]
        self.assertEqual(s["requests"], 100)
        self.assertAlmostEqual(s["p50_ms"], 0.050)
        self.assertAlmostEqual(s["p95_ms"], 0.095)
        self.assertAlmostEqual(s["p99_ms"], 0.099)
        self.assertAlmostEqual(s["max_ms"], 0.100)
        one = sg.summarize(report([777]))["routes"][0]
        self.assertAlmostEqual(one["p50_ms"], 0.777)  # rank <= 1: the fastest

    def test_within_a_bucket_width_of_the_true_value_above_128_us(self):
        times = [1000 * i for i in range(1, 201)]  # 1..200 ms
        s = sg.summarize(report(times))["routes"][0]
        for key, true_ms in (("p50_ms", 100), ("p95_ms", 190), ("p99_ms", 198)):
            self.assertLess(abs(s[key] - true_ms) / true_ms, 1 / 64, key)

    def test_errors_rate_and_status_codes(self):
        s = sg.summarize(report([1000] * 20, fail=2, duration=4))["routes"][0]
        self.assertEqual(s["errors"], 2)
        self.assertAlmostEqual(s["error_ratio"], 0.1)
        self.assertAlmostEqual(s["rps"], 5.0)
        self.assertEqual(s["status_codes"], {"200": 18, "500": 2})


class RealReportTest(unittest.TestCase):
    def setUp(self):
        self.report = load()
        self.summary = sg.summarize(self.report)

    def test_every_route_of_the_mix_is_a_row(self):
        names = {r["name"] for r in self.summary["routes"]}
        self.assertEqual(names, {
            "GET /api/users/{id}", "GET /api/users/{id}/profile", "GET /api/users/{id}/matches",
            "GET /api/challenges/{id}", "GET /api/challenges", "GET /api/sessions/{token}",
            "POST /api/sessions", "POST /api/matches", "POST /api/users", "POST /api/coach",
        })

    def test_percentiles_agree_with_goose_own_milliseconds(self):
        # goose's raw_response_metrics truncate the same percentiles to whole ms.
        goose = {r["name"]: r for r in self.report["raw_response_metrics"]}
        for row in self.summary["routes"]:
            g = goose[row["name"].split(" ", 1)[1]]
            for mine, theirs in (("p50_ms", "percentile_50"), ("p95_ms", "percentile_95"),
                                 ("p99_ms", "percentile_99")):
                self.assertEqual(int(row[mine]), g[theirs], (row["name"], mine))

    def test_non_llm_leaves_the_coach_out_and_all_adds_up(self):
        routes = self.summary["routes"]
        coach = next(r for r in routes if r["name"] == "POST /api/coach")
        self.assertEqual(self.summary["all"]["requests"], sum(r["requests"] for r in routes))
        self.assertEqual(self.summary["non_llm"]["requests"],
                         self.summary["all"]["requests"] - coach["requests"])
        self.assertLess(self.summary["non_llm"]["p99_ms"], coach["p50_ms"])

    def test_markdown_and_json_output(self):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            self.assertEqual(sg.main([SAMPLE]), 0)
        text = buf.getvalue()
        self.assertIn("| GET /api/users/{id} |", text)
        self.assertIn("| **all non-LLM** |", text)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            self.assertEqual(sg.main([SAMPLE, "--json"]), 0)
        parsed = json.loads(buf.getvalue())
        self.assertEqual(parsed["non_llm"]["name"], "all non-LLM")


if __name__ == "__main__":
    unittest.main()
