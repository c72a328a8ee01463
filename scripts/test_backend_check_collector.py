"""Tests of scripts/backend_check_collector.py on small configs: each kind of mistake fails."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import yaml  # noqa: F401
    import backend_check_collector as cc
except (ImportError, SystemExit):  # the checker itself reports a missing PyYAML
    cc = None

GOOD = {
    "extensions": {"health_check": {}},
    "receivers": {"otlp": {}},
    "processors": {"memory_limiter": {}, "batch": {}},
    "exporters": {"prometheusremotewrite": {}, "otlp/tempo": {}},
    "service": {
        "extensions": ["health_check"],
        "pipelines": {
            "metrics": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"],
                        "exporters": ["prometheusremotewrite"]},
            "traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["otlp/tempo"]},
        },
    },
}


@unittest.skipIf(cc is None, "PyYAML missing")
class Collector(unittest.TestCase):
    def setUp(self):
        self.known = cc.load_components()

    def check(self, cfg):
        return cc.check_config(cfg, self.known, "t")

    def test_a_good_config_passes(self):
        self.assertEqual(self.check(GOOD), [])

    def test_a_misspelled_component_type_fails(self):
        cfg = cc.merge(GOOD, {"exporters": {"prometheus_remote_write_v3": {}}})
        self.assertIn("not in the contrib distribution", " ".join(self.check(cfg)))

    def test_an_undefined_exporter_in_a_pipeline_fails(self):
        cfg = cc.merge(GOOD, {"service": {"pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["debug"]}}}})
        self.assertIn("uses exporter 'debug', which is not defined", " ".join(self.check(cfg)))

    def test_an_unused_component_and_a_misplaced_batch_fail(self):
        cfg = cc.merge(GOOD, {"exporters": {"debug": {}},
                              "service": {"pipelines": {"traces": {"processors": ["batch", "memory_limiter"]}}}})
        text = " ".join(self.check(cfg))
        self.assertIn("'debug' is defined but no pipeline uses it", text)
        self.assertIn("memory_limiter must come first", text)
        self.assertIn("batch must come last", text)

    def test_merge_replaces_lists_and_merges_maps(self):
        merged = cc.merge({"a": {"x": [1, 2], "y": 1}}, {"a": {"x": [3]}})
        self.assertEqual(merged, {"a": {"x": [3], "y": 1}})


if __name__ == "__main__":
    unittest.main()
