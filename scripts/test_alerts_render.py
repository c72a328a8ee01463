"""Tests of the alert and dashboard renderers and the Alertmanager config renderer."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import alerts_render  # noqa: E402
import alerts_render_alertmanager as am  # noqa: E402
import dashboards_render  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


class Rules(unittest.TestCase):
    def test_committed_rules_and_dashboards_are_rendered_from_thresholds(self):
        th = alerts_render.load_thresholds()
        self.assertEqual(read("alerts", "wingspan.rules.yml"), alerts_render.render(th))
        for name, text in dashboards_render.render_all(th).items():
            self.assertEqual(read("dashboards", name), text, name)

    def test_every_alert_has_severity_summary_value_and_a_runbook_section(self):
        runbook = read("alerts", "RUNBOOK.md")
        anchors = {h.strip().lower() for h in re.findall(r"(?m)^#+ (.*)$", runbook)}
        alerts = [r for r in alerts_render.all_rules() if "alert" in r]
        self.assertGreaterEqual(len({a["alert"] for a in alerts}), 11)
        for a in alerts:
            self.assertIn(a["labels"]["severity"], ("critical", "warning"))
            self.assertIn("{{ $value", a["annotations"]["description"], a["alert"])
            self.assertTrue(a["annotations"]["summary"])
            self.assertIn(a["alert"].lower(), anchors, f"RUNBOOK.md has no section {a['alert']}")
            self.assertTrue(a["keep_firing_for"])

    def test_runbook_table_states_each_alerts_for_and_its_test_file(self):
        runbook = read("alerts", "RUNBOOK.md")
        rows = {m[0]: (m[1], m[2]) for m in re.findall(r"(?m)^\| (Wingspan\w+) \|[^|]*\|[^|]*\| ([^|]+) \| `([^`]+)` \|$", runbook)}
        fors = {}
        for r in alerts_render.all_rules():
            if "alert" in r:
                fors.setdefault(r["alert"], []).append(r["for"])
        self.assertEqual(set(rows), set(fors))
        for name, (for_text, test_file) in rows.items():
            self.assertEqual(for_text.strip(), " / ".join(fors[name]), name)
            self.assertIn(name, read("alerts", test_file), f"{test_file} does not test {name}")

    def test_time_scale_shrinks_durations_but_keeps_names_and_thresholds(self):
        th = alerts_render.load_thresholds()
        fast = alerts_render.render(th, time_scale=20)
        self.assertIn("job:http_server_request_duration_seconds:p95_rate5m", fast)
        self.assertIn("[15s]", fast)
        self.assertNotIn("[5m]", fast)
        self.assertIn("> 0.3", fast)
        self.assertRegex(fast, r"(?m)^\s+for: 15s$")

    def test_a_latency_threshold_between_bucket_edges_is_refused(self):
        path = os.path.join(ROOT, "alerts", "thresholds.json")
        th = json.loads(read("alerts", "thresholds.json"))
        th["api_latency_threshold_seconds"] = 0.35
        tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"thresholds-{os.getpid()}.json")
        with open(tmp, "w") as f:
            json.dump(th, f)
        try:
            with self.assertRaisesRegex(ValueError, "bucket edge"):
                alerts_render.load_thresholds(tmp)
        finally:
            os.remove(tmp)
        self.assertTrue(os.path.exists(path))

    def test_durations(self):
        self.assertEqual([alerts_render.duration(s) for s in (300, 86400, 15, 3600, 90)],
                         ["5m", "1d", "15s", "1h", "90s"])


class Dashboards(unittest.TestCase):
    def test_shape_variables_and_datasources(self):
        uids = set()
        for name, d in dashboards_render.build(alerts_render.load_thresholds()).items():
            self.assertNotIn(d["uid"], uids)
            uids.add(d["uid"])
            names = [v["name"] for v in d["templating"]["list"]]
            self.assertEqual(names, ["datasource", "traces", "job"], name)
            ids = [p["id"] for p in d["panels"]]
            self.assertEqual(len(ids), len(set(ids)), name)
            for p in d["panels"]:
                self.assertLessEqual(p["gridPos"]["x"] + p["gridPos"]["w"], 24, (name, p["title"]))
                for t in p.get("targets", []):
                    # Every query goes through a datasource variable, never a fixed UID.
                    self.assertIn(t["datasource"]["uid"], ("${datasource}", "${traces}"), (name, p["title"]))
                    if "expr" in t:
                        self.assertIn('job="$job"', t["expr"], (name, p["title"]))
        self.assertEqual(len(uids), 5)

    def test_threshold_lines_come_from_thresholds_json(self):
        th = alerts_render.load_thresholds()
        th["api_latency_threshold_seconds"] = 0.25
        api = dashboards_render.build(th)["api-performance"]
        steps = api["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        self.assertEqual(steps[-1]["value"], 0.25)
        self.assertIn("250 ms", api["panels"][0]["title"])

    def test_trace_links_keep_grafana_variables(self):
        api = dashboards_render.build(alerts_render.load_thresholds())["api-performance"]
        link = api["panels"][0]["fieldConfig"]["defaults"]["links"][0]["url"]
        self.assertTrue(link.startswith("/explore?"))
        self.assertIn("${__field.labels.http_route}", link)
        self.assertIn("${traces}", link)


class Provisioning(unittest.TestCase):
    def test_provisioning_files_parse_and_point_at_the_dashboards(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML missing")
        ds = yaml.safe_load(read("dashboards", "provisioning", "datasources", "wingspan.yaml"))
        self.assertEqual({d["type"] for d in ds["datasources"]}, {"prometheus", "tempo"})
        prov = yaml.safe_load(read("dashboards", "provisioning", "dashboards", "wingspan.yaml"))
        self.assertEqual(prov["providers"][0]["type"], "file")
        self.assertTrue(prov["providers"][0]["options"]["path"])


class Alertmanager(unittest.TestCase):
    ENV = {"ALERT_EMAIL": "oncall@example.com", "ALERT_SLACK_WEBHOOK": "https://hooks.example.invalid/secret",
           "ALERT_SMTP_PASSWORD": "pw-secret", "ALERT_SMTP_SMARTHOST": "smtp.example.com:587",
           "ALERT_SECRETS_DIR": "/run/secrets/am"}

    def test_render_applies_env_and_moves_secrets_to_files(self):
        text, secrets = am.render(read("alerts", "alertmanager.yml"), self.ENV)
        self.assertIn("to: 'oncall@example.com'", text)
        self.assertIn("smtp_smarthost: 'smtp.example.com:587'", text)
        self.assertIn("slack_api_url_file: '/run/secrets/am/slack_webhook_url'", text)
        self.assertIn("smtp_auth_password_file: '/run/secrets/am/smtp_password'", text)
        self.assertNotIn("secret", text.replace("secrets", "").replace("# secret", ""))
        self.assertEqual(secrets, {"slack_webhook_url": "https://hooks.example.invalid/secret",
                                   "smtp_password": "pw-secret"})

    def test_without_smtp_password_no_password_file_is_configured(self):
        env = {k: v for k, v in self.ENV.items() if k != "ALERT_SMTP_PASSWORD"}
        text, secrets = am.render(read("alerts", "alertmanager.yml"), env)
        self.assertNotRegex(text, r"(?m)^\s+smtp_auth_password_file:")
        self.assertNotIn("smtp_password", secrets)

    def test_missing_email_or_webhook_is_an_error(self):
        for var in am.REQUIRED:
            env = {k: v for k, v in self.ENV.items() if k != var}
            with self.assertRaisesRegex(ValueError, var):
                am.render(read("alerts", "alertmanager.yml"), env)

    def test_timings_override(self):
        text, _ = am.render(read("alerts", "alertmanager.yml"), self.ENV,
                            {"group_wait": "1s", "repeat_interval": "20s"})
        self.assertRegex(text, r"(?m)^  group_wait: 1s$")
        self.assertNotRegex(text, r"repeat_interval: (4h|1h)")


if __name__ == "__main__":
    unittest.main()
