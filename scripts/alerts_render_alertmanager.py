#!/usr/bin/env python3
"""Writes a deployable Alertmanager config from alerts/alertmanager.yml and the environment.

    ALERT_EMAIL=oncall@example.com ALERT_SLACK_WEBHOOK=https://hooks.slack.com/services/... \
        scripts/alerts_render_alertmanager.py --out /etc/alertmanager/alertmanager.yml

Required: ALERT_EMAIL (where pages go), ALERT_SLACK_WEBHOOK (the incoming-webhook URL).
Optional: ALERT_SMTP_SMARTHOST (host:port), ALERT_SMTP_FROM, ALERT_SMTP_USERNAME,
ALERT_SMTP_PASSWORD, ALERT_SMTP_REQUIRE_TLS (true/false), ALERT_SECRETS_DIR (default
/etc/alertmanager/secrets).

A line of the template marked `# env: VAR` takes VAR's value when VAR is set. A line marked
`# secret: VAR` points at a file in ALERT_SECRETS_DIR that receives VAR's value (mode
0600): the secrets reach Alertmanager through `*_file` settings, never through the config
or git. `--timings group_wait=1s,...` overrides the notification timings (the end-to-end
test only; production keeps the template's).
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "alerts", "alertmanager.yml")
REQUIRED = ("ALERT_EMAIL", "ALERT_SLACK_WEBHOOK")
MARK = re.compile(r"^(?P<lead>\s*(?:- )?[\w-]+:\s*)(?P<value>'[^']*'|\S+)\s*# (?P<kind>env|secret): (?P<var>\w+)\s*$")
TIMINGS = ("group_wait", "group_interval", "repeat_interval")


def render(template, env, timings=None):
    """Returns (config text, {secret file name: value})."""
    missing = [v for v in REQUIRED if not env.get(v)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}: set them in the environment")
    secrets_dir = env.get("ALERT_SECRETS_DIR", "/etc/alertmanager/secrets")
    secrets = {}
    out = []
    for line in template.splitlines():
        m = MARK.match(line)
        if m:
            var, value = m["var"], env.get(m["var"])
            if m["kind"] == "secret":
                name = os.path.basename(m["value"].strip("'"))
                if value:
                    secrets[name] = value
                    line = f"{m['lead']}'{os.path.join(secrets_dir, name)}'"
                else:
                    # No secret given (SMTP without auth): drop the setting.
                    continue
            elif value is not None:
                if "'" in value or "\n" in value:
                    raise ValueError(f"{var} must not contain quotes or newlines")
                line = f"{m['lead']}{value}" if m["value"][0] != "'" else f"{m['lead']}'{value}'"
            else:
                line = f"{m['lead']}{m['value']}"
        out.append(line)
    text = "\n".join(out) + "\n"
    for key, value in (timings or {}).items():
        if key not in TIMINGS:
            raise ValueError(f"unknown timing {key}: expected one of {', '.join(TIMINGS)}")
        text = re.sub(rf"(?m)^(\s*{key}:\s*)\S+$", rf"\g<1>{value}", text)
    return text, secrets


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--template", default=TEMPLATE)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timings", default="", help="e.g. group_wait=1s,group_interval=2s,repeat_interval=20s")
    args = ap.parse_args(argv)
    timings = dict(kv.split("=", 1) for kv in args.timings.split(",") if kv)
    with open(args.template, encoding="utf-8") as f:
        try:
            text, secrets = render(f.read(), os.environ, timings)
        except ValueError as e:
            print(f"alerts_render_alertmanager: {e}", file=sys.stderr)
            return 2
    secrets_dir = os.environ.get("ALERT_SECRETS_DIR", "/etc/alertmanager/secrets")
    if secrets:
        os.makedirs(secrets_dir, mode=0o700, exist_ok=True)
    for name, value in secrets.items():
        path = os.path.join(secrets_dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        os.chmod(path, 0o600)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.out} and {len(secrets)} secret file(s) in {secrets_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
