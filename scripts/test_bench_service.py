"""Unit tests of the pure parts of scripts/bench_service.py."""

import json
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_service as bs  # noqa: E402


class RouteKey(unittest.TestCase):
    def test_query_and_method(self):
        self.assertEqual(bs.route_key("GET /api/challenges?difficulty"), "GET /api/challenges")
        self.assertEqual(bs.route_key("GET /api/users/{id}"), "GET /api/users/{id}")
        self.assertEqual(bs.route_key("/api/x"), "/api/x")


class GooseRows(unittest.TestCase):
    """goose_rows over a real goose 0.19 report of wingman (scripts/testdata)."""

    def setUp(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "goose-wingman.json")
        with open(path) as f:
            self.rows = bs.goose_rows(json.load(f))

    def test_routes_are_templates_without_query(self):
        self.assertIn("GET /api/challenges", self.rows)
        self.assertIn("GET /api/users/{id}", self.rows)
        self.assertFalse(any("?" in k for k in self.rows))

    def test_percentiles_keep_microseconds(self):
        # goose's own report says 13 ms for this route's P95; its buckets hold 13.632.
        row = self.rows["GET /api/users/{id}"]
        self.assertEqual((row["count"], row["failures"]), (270, 0))
        self.assertAlmostEqual(row["p95"], 13.632)
        self.assertNotEqual(row["p95"], round(row["p95"]))

    def test_aggregate_is_every_route(self):
        agg = self.rows["Aggregated"]
        self.assertEqual(agg["count"], sum(r["count"] for k, r in self.rows.items() if k != "Aggregated"))
        self.assertAlmostEqual(agg["rps"], 433.0)


class Figures(unittest.TestCase):
    def test_ratio_of_medians(self):
        a, b, r = bs.ratio_row([97, 100, 99], [100, 101, 102])
        self.assertEqual((a, b), (99, 101))
        self.assertAlmostEqual(r, 99 / 101)

    def test_relative_error_and_formatting(self):
        self.assertAlmostEqual(bs.rel_err(11, 10), 0.1)
        self.assertEqual(bs.fmt_pct(0.1234), "+12.3 %")
        self.assertEqual(bs.fmt_pct(float("nan")), "n/a")
        self.assertEqual(bs.fmt_ms(None), "n/a")
        self.assertEqual(bs.fmt_ms(4.321), "4.32 ms")
        self.assertEqual(bs.fmt_ms(43.21), "43.2 ms")

    def test_counter_sums_series_of_one_name(self):
        text = ('# TYPE db_client_connection_timeouts_total counter\n'
                'db_client_connection_timeouts_total{pool="a"} 3\n'
                'db_client_connection_timeouts_total{pool="b"} 2\n'
                'db_client_connection_timeouts_totalx 9\n')
        self.assertEqual(bs.counter(text, "db_client_connection_timeouts_total"), 5.0)


class MergedExponential(unittest.TestCase):
    def test_points_at_different_scales_merge_at_the_smallest(self):
        # Scale 1: bucket i is (2^(i/2), 2^((i+1)/2)]; index 2 -> (2, 2.83], at scale 0 index 1 -> (2, 4].
        a = {"scale": 1, "offset": 2, "counts": [10], "zero_count": 0}
        b = {"scale": 0, "offset": 1, "counts": [10], "zero_count": 0}
        q = bs.merged_exponential_p95([a, b])
        self.assertTrue(2 < q <= 4, q)

    def test_empty(self):
        self.assertTrue(math.isnan(bs.merged_exponential_p95(
            [{"scale": 0, "offset": 0, "counts": [], "zero_count": 0}])))


class TailFigures(unittest.TestCase):
    SCRAPE = """# HELP x
http_server_request_duration_seconds_bucket{http_route="/a",http_response_status_code="200",le="0.3"} 95
http_server_request_duration_seconds_bucket{http_route="/a",http_response_status_code="200",le="+Inf"} 100
http_server_request_duration_seconds_count{http_route="/a",http_response_status_code="200"} 100
http_server_request_duration_seconds_bucket{http_route="/a",http_response_status_code="500",le="0.3"} 1
http_server_request_duration_seconds_count{http_route="/a",http_response_status_code="500"} 2
http_server_request_duration_seconds_bucket{http_route="/c",http_response_status_code="200",wingspan_route_class="llm",le="0.3"} 0
http_server_request_duration_seconds_count{http_route="/c",http_response_status_code="200",wingspan_route_class="llm"} 3
otel_sdk_exporter_span_exported_total{otel_component_name="c/0"} 40
otel_sdk_exporter_span_exported_total{error_type="timeout",otel_component_name="c/0"} 1
otel_sdk_processor_span_processed_total{error_type="queue_full"} 2
otel_sdk_processor_span_processed_total{otel_component_name="b/0"} 41
wingspan_sampling_traces_total{wingspan_sampling_decision="error"} 2
wingspan_sampling_traces_total{wingspan_sampling_decision="slow"} 5
wingspan_sampling_overflow_total 0
"""

    def test_requests_errors_slow_and_decisions(self):
        f = bs.tail_figures(self.SCRAPE)
        self.assertEqual((f["requests"], f["errors"], f["slow"]), (105, 2, 5))
        self.assertEqual((f["exported"], f["lost"]), (40, 3))
        self.assertEqual(f["decisions"], {"error": 2, "slow": 5})
        self.assertEqual(f["overflow"], 0)
        self.assertEqual(bs.tail_figures("")["decisions"], {})


if __name__ == "__main__":
    unittest.main()
