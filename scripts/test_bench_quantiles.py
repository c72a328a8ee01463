"""Unit tests of scripts/bench_quantiles.py (quantiles as Prometheus computes them)."""

import math
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_quantiles as bq  # noqa: E402


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 1:
        return key + payload
    return key + varint(len(payload)) + payload


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def exp_request(metric, route, scale, offset, counts, zero=0):
    attr = field(1, 2, field(1, 2, b"http.route") + field(2, 2, field(1, 2, route.encode())))
    buckets = field(1, 0, zigzag(offset)) + field(2, 2, b"".join(varint(c) for c in counts))
    dp = (
        attr
        + field(3, 1, struct.pack("<Q", 123))
        + field(4, 1, struct.pack("<Q", sum(counts) + zero))
        + field(5, 1, struct.pack("<d", 1.5))
        + field(6, 0, zigzag(scale))
        + field(7, 1, struct.pack("<Q", zero))
        + field(8, 2, buckets)
    )
    hist = field(1, 2, dp) + field(2, 0, 2)
    m = field(1, 2, metric.encode()) + field(3, 2, b"s") + field(10, 2, hist)
    other = field(1, 2, b"app.counter") + field(7, 2, b"")
    sm = field(2, 2, other) + field(2, 2, m)
    rm = field(2, 2, sm)
    return field(1, 2, rm)


class BucketQuantile(unittest.TestCase):
    def test_linear_interpolation_inside_the_bucket(self):
        # 100 observations: 50 in (0, 1], 50 in (1, 2].
        b = [(1.0, 50), (2.0, 100), (math.inf, 100)]
        self.assertAlmostEqual(bq.bucket_quantile(0.5, b), 1.0)
        self.assertAlmostEqual(bq.bucket_quantile(0.95, b), 1.9)
        self.assertAlmostEqual(bq.bucket_quantile(0.25, b), 0.5)  # lowest bucket starts at 0

    def test_first_bucket_reads_about_its_edge(self):
        # The symptom: everything under 5 ms reads P95 ≈ 4.75 ms.
        b = [(0.005, 1000), (0.01, 1000), (math.inf, 1000)]
        self.assertAlmostEqual(bq.bucket_quantile(0.95, b), 0.00475)

    def test_rank_in_inf_bucket_returns_highest_finite_bound(self):
        b = [(1.0, 10), (2.0, 10), (math.inf, 100)]
        self.assertEqual(bq.bucket_quantile(0.95, b), 2.0)

    def test_empty_and_out_of_range(self):
        self.assertTrue(math.isnan(bq.bucket_quantile(0.5, [(1.0, 0), (math.inf, 0)])))
        self.assertEqual(bq.bucket_quantile(1.5, [(1.0, 1), (math.inf, 1)]), math.inf)
        self.assertEqual(bq.bucket_quantile(-1, [(1.0, 1), (math.inf, 1)]), -math.inf)

    def test_non_monotonic_counts_are_fixed_up(self):
        b = [(1.0, 10), (2.0, 9.999), (math.inf, 20)]
        self.assertEqual(bq.bucket_quantile(0.9, b), 2.0)


class ExponentialQuantile(unittest.TestCase):
    def test_scale_zero_buckets_are_powers_of_two(self):
        # Bucket 0 is (1, 2], bucket 1 is (2, 4].
        q = bq.exponential_quantile(0.5, 0, 0, [1, 1])
        self.assertAlmostEqual(q, 2.0)
        q = bq.exponential_quantile(0.75, 0, 0, [1, 1])
        self.assertAlmostEqual(q, 2.0 * 2**0.5)  # halfway in log space

    def test_offset_and_zero_bucket(self):
        # Offset -10 at scale 0: bucket (2^-10, 2^-9].
        q = bq.exponential_quantile(1.0, 0, -10, [4])
        self.assertAlmostEqual(q, 2.0**-9)
        self.assertEqual(bq.exponential_quantile(0.5, 0, 0, [1], zero_count=3), 0.0)

    def test_relative_error_is_bounded_by_the_bucket_width(self):
        scale = 4
        base = 2 ** (2**-scale)
        values = [0.0007 * 1.01**i for i in range(300)]
        idx = [math.ceil(math.log(v, base)) - 1 for v in values]
        offset = min(idx)
        counts = [0] * (max(idx) - offset + 1)
        for i in idx:
            counts[i - offset] += 1
        true = sorted(values)[math.ceil(0.95 * len(values)) - 1]
        got = bq.exponential_quantile(0.95, scale, offset, counts)
        self.assertLess(abs(got - true) / true, base - 1)

    def test_empty(self):
        self.assertTrue(math.isnan(bq.exponential_quantile(0.5, 3, 0, [])))


class PrometheusText(unittest.TestCase):
    TEXT = """# HELP x
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{http_route="/a",http_response_status_code="200",le="0.001"} 3
http_server_request_duration_seconds_bucket{http_route="/a",http_response_status_code="200",le="+Inf"} 4
http_server_request_duration_seconds_bucket{http_route="/a",http_response_status_code="404",le="0.001"} 1
http_server_request_duration_seconds_bucket{http_route="/a",http_response_status_code="404",le="+Inf"} 1
http_server_request_duration_seconds_bucket{http_route="/b",le="0.001"} 0
http_server_request_duration_seconds_bucket{http_route="/b",le="+Inf"} 2
http_server_request_duration_seconds_sum{http_route="/a"} 0.5
other_bucket{http_route="/a",le="+Inf"} 9
"""

    def test_sums_over_other_labels(self):
        got = bq.parse_prometheus_buckets(
            self.TEXT, "http_server_request_duration_seconds", "http_route"
        )
        self.assertEqual(got["/a"], [(0.001, 4.0), (math.inf, 5.0)])
        self.assertEqual(got["/b"], [(0.001, 0.0), (math.inf, 2.0)])

    def test_where_filters_series(self):
        got = bq.parse_prometheus_buckets(
            self.TEXT,
            "http_server_request_duration_seconds",
            "http_route",
            {"http_response_status_code": "404"},
        )
        self.assertEqual(list(got), ["/a"])
        self.assertEqual(got["/a"], [(0.001, 1.0), (math.inf, 1.0)])


class OtlpDecode(unittest.TestCase):
    def test_exponential_points_of_one_metric(self):
        body = exp_request("http.server.request.duration", "/api/x", -2, -5, [0, 7, 300], zero=2)
        points = bq.decode_exponential_points(body, "http.server.request.duration")
        self.assertEqual(len(points), 1)
        p = points[0]
        self.assertEqual(p["attributes"], {"http.route": "/api/x"})
        self.assertEqual(p["scale"], -2)
        self.assertEqual(p["offset"], -5)
        self.assertEqual(p["counts"], [0, 7, 300])
        self.assertEqual(p["zero_count"], 2)
        self.assertEqual(p["count"], 309)
        self.assertEqual(p["time"], 123)
        self.assertEqual(bq.decode_exponential_points(body, "other"), [])


if __name__ == "__main__":
    unittest.main()
