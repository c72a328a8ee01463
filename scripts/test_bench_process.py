"""Unit tests of scripts/bench_process.py's parsers (run by `make py-test`)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_process as bp  # noqa: E402

# wrk 4.1.0's output, as Debian's package prints it with --latency.
WRK = """Running 5s test @ http://127.0.0.1:40321/query/42
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.03ms  21.40ms   81.22%
    Req/Sec    12.51k   402.11    13.10k    78.00%
  Latency Distribution
     50%    4.98ms
     75%    5.51ms
     90%    6.20ms
     99%    9.87ms
  62250 requests in 5.00s, 10.39MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  12449.20
Transfer/sec:      2.08MB
"""


class ParseWrk(unittest.TestCase):
    def test_counts_rate_percentiles_and_errors(self):
        r = bp.parse_wrk(WRK)
        self.assertEqual(r["requests"], 62250)
        self.assertAlmostEqual(r["seconds"], 5.0)
        self.assertAlmostEqual(r["rps"], 12449.20)
        self.assertAlmostEqual(r["p50"], 4.98)
        self.assertAlmostEqual(r["p99"], 9.87)
        self.assertEqual(r["errors"], 3)

    def test_microseconds_and_socket_errors(self):
        text = WRK.replace("     50%    4.98ms", "     50%  812.00us").replace(
            "  Non-2xx or 3xx responses: 3\n",
            "  Socket errors: connect 0, read 2, write 0, timeout 1\n")
        r = bp.parse_wrk(text)
        self.assertAlmostEqual(r["p50"], 0.812)
        self.assertEqual(r["errors"], 3)

    def test_no_count_is_an_error(self):
        with self.assertRaises(ValueError):
            bp.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


class ParseStat(unittest.TestCase):
    def test_comm_with_spaces_and_parentheses(self):
        # fields 14 and 15 (utime, stime) are 120 and 30.
        line = "4242 (tokio (w) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 120 30 0 0 20 0 4 0 1 2 3"
        self.assertEqual(bp.parse_stat(line), ("tokio (w) x", 150))

    def test_thread_groups(self):
        self.assertEqual(bp.thread_group("tokio-runtime-w"), "tokio workers")
        self.assertEqual(bp.thread_group("tokio-rt-worker"), "tokio workers")
        self.assertEqual(bp.thread_group("OpenTelemetry.T"), "export threads")
        self.assertEqual(bp.thread_group("wingspan-otlp"), "export threads")
        self.assertEqual(bp.thread_group("bench-wingspan"), "other threads")


class Spread(unittest.TestCase):
    def test_median_and_range(self):
        self.assertEqual(bp.spread([3.0, 1.0, 2.0], lambda x: f"{x:.1f}"), "2.0 (1.0–3.0)")
        self.assertEqual(
            bp.spread([3.0, 1.0, 2.0], lambda x: f"{x:.1f}", " µs"), "2.0 µs (1.0–3.0)"
        )
        self.assertEqual(bp.spread([4.0], lambda x: f"{x:.1f}"), "4.0")
        self.assertEqual(bp.spread([], str), "n/a")


if __name__ == "__main__":
    unittest.main()
