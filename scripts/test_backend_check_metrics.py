"""Tests of scripts/backend_check_metrics.py: that it finds the names in PromQL, and that a
renamed metric or label, on either side, fails the check."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backend_check_metrics as chk  # noqa: E402


def exposition_for(srcs, drop=(), rename=None):
    """A text exposition holding every name the expressions use (but `drop`), as if the
    agent emitted exactly what the dashboards and rules ask for."""
    rename = rename or {}
    metrics, labels = set(), set()
    for _, expr in srcs:
        m, lbl = chk.names_in(expr)
        metrics |= m
        labels |= lbl
    recorded = {r["record"] for r in chk.alerts_render.all_rules() if "record" in r}
    metrics -= recorded | chk.BUILTIN_METRICS | chk.PENDING_METRICS
    labels -= chk.BUILTIN_LABELS | chk.PENDING_LABELS
    label_text = ",".join(f'{rename.get(lbl, lbl)}="x"' for lbl in sorted(labels))
    return "".join(f"{rename.get(m, m)}{{{label_text}}} 1\n" for m in sorted(metrics - set(drop)))


class NamesIn(unittest.TestCase):
    def test_metrics_and_labels_of_a_quantile(self):
        m, lbl = chk.names_in(
            'histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket'
            '{job="$job",wingspan_route_class!="llm"}[$__rate_interval])))')
        self.assertEqual(m, {"http_server_request_duration_seconds_bucket"})
        self.assertEqual(lbl, {"le", "http_route", "job", "wingspan_route_class"})

    def test_strings_durations_keywords_and_functions_are_not_names(self):
        m, lbl = chk.names_in(
            'label_replace(sum by (job) (increase(a_total{error_type!=""}[10m])), "signal", "traces", "", "") > 0\n'
            "or on (job) b offset 5m and ignoring (x) c_total > bool 1e-3 unless up == 0")
        self.assertEqual(m, {"a_total", "b", "c_total", "up"})
        self.assertEqual(lbl, {"job", "error_type", "x"})

    def test_recording_rule_names_with_colons(self):
        m, _ = chk.names_in('job:http_server_request_errors:ratio_rate1h{job="$job"} / 0.005')
        self.assertEqual(m, {"job:http_server_request_errors:ratio_rate1h"})

    def test_aggregation_with_trailing_by(self):
        m, lbl = chk.names_in("sum(rate(x_total[5m])) by (pool)")
        self.assertEqual((m, lbl), ({"x_total"}, {"pool"}))


class Check(unittest.TestCase):
    def setUp(self):
        self.srcs = chk.sources()

    def test_everything_emitted_passes(self):
        self.assertEqual(chk.check(exposition_for(self.srcs), self.srcs), [])

    def test_a_metric_the_agent_renames_fails(self):
        text = exposition_for(self.srcs, rename={"db_client_connection_max": "db_client_connections_max"})
        problems = chk.check(text, self.srcs)
        self.assertTrue(any("metric db_client_connection_max is not emitted" in p for p in problems), problems)
        # Both the recording rule and the dashboard panel are named.
        self.assertTrue(any(p.startswith("alerts/wingspan.rules.yml job_pool:") for p in problems), problems)
        self.assertTrue(any(p.startswith("dashboards/database-pool.json") for p in problems), problems)

    def test_a_label_the_agent_renames_fails(self):
        text = exposition_for(self.srcs, rename={"wingspan_route_class": "wingspan_route_kind"})
        problems = chk.check(text, self.srcs)
        self.assertTrue(any("label wingspan_route_class is on no emitted series" in p for p in problems), problems)

    def test_a_dashboard_typo_fails(self):
        srcs = self.srcs + [("dashboards/x.json 'typo'", 'rate(http_server_request_duration_second_count{job="$job"}[5m])')]
        problems = chk.check(exposition_for(self.srcs), srcs)
        self.assertEqual(problems, ["dashboards/x.json 'typo': metric http_server_request_duration_second_count "
                                    "is not emitted by the agent"])

    def test_a_pending_name_that_is_emitted_must_leave_the_list(self):
        text = exposition_for(self.srcs) + 'wingspan_gen_ai_cost_total{gen_ai_request_model="m"} 1\n'
        problems = chk.check(
            text,
            self.srcs,
            pending_metrics={"wingspan_gen_ai_cost_total"},
            pending_labels={"gen_ai_request_model"},
        )
        self.assertIn("wingspan_gen_ai_cost_total is emitted now", " ".join(problems))
        self.assertIn("label gen_ai_request_model is emitted now", " ".join(problems))

    def test_the_exposition_parser_reads_names_and_labels(self):
        m, lbl = chk.emitted('# HELP x y\n# TYPE x counter\nx_total{a="1",b="q\\"uote"} 3\nup 1\n')
        self.assertEqual((m, lbl), ({"x_total", "up"}, {"a", "b"}))


if __name__ == "__main__":
    unittest.main()
