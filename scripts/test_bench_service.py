"""Unit tests of the pure parts of scripts/bench_service.py."""

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
    REPORT = {
        "raw_request_metrics": [
            {"method": "GET", "name": "/api/users/{id}", "number_of_requests": 100,
             "number_of_failures": 2, "requests_per_second": {"value": 10.5}},
            {"method": "", "name": "Aggregated", "number_of_requests": 300,
             "number_of_failures": 2, "requests_per_second": "30.0"},
        ],
        "raw_response_metrics": [
            {"method": "GET", "name": "/api/users/{id}", "percentile_50": 1,
             "percentile_95": {"value": 4, "delta": None}, "percentile_99": 7},
            {"method": "", "name": "Aggregated", "percentile_50": 2, "percentile_95": 5,
             "percentile_99": 9},
        ],
    }

    def test_name_holding_the_method_is_not_prefixed_twice(self):
        rows = bs.goose_rows({"raw_request_metrics": [
            {"method": "GET", "name": "GET /api/challenges?difficulty", "number_of_requests": 1,
             "number_of_failures": 0, "requests_per_second": 1}]})
        self.assertEqual(list(rows), ["GET /api/challenges"])

    def test_rows_by_route_and_aggregate(self):
        rows = bs.goose_rows(self.REPORT)
        self.assertEqual(rows["GET /api/users/{id}"],
                         {"count": 100, "failures": 2, "rps": 10.5, "p50": 1, "p95": 4, "p99": 7})
        self.assertEqual(rows["Aggregated"]["rps"], 30.0)
        self.assertEqual(rows["Aggregated"]["p95"], 5)


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


if __name__ == "__main__":
    unittest.main()
