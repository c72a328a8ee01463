#!/usr/bin/env python3
"""Static checks of the collector configs in otel-collector/ (`make collector-check`).

For each deployment (a config, or a config plus an overlay, merged as the collector
merges `--config` files: maps merge, lists are replaced):
  - the YAML parses and has `service.pipelines`;
  - every component named (receivers, processors, exporters, connectors, extensions) is a
    type of the collector-contrib distribution (otel-collector/contrib-components.txt);
  - every component a pipeline or `service.extensions` uses is defined, every component
    defined is used, every pipeline has a receiver and an exporter;
  - memory_limiter comes first and batch last in every pipeline that has them.
Needs PyYAML (Debian python3-yaml).
"""

import os
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - reported, not hidden
    print("PyYAML missing: apt-get install python3-yaml", file=sys.stderr)
    sys.exit(2)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "otel-collector")
COMPONENTS = os.path.join(DIR, "contrib-components.txt")
KINDS = {"receivers": "receiver", "processors": "processor", "exporters": "exporter",
         "connectors": "connector", "extensions": "extension"}
# Each deployment the docs describe (otel-collector/README.md, the book's scaling
# chapter): the files passed as --config, in order.
# The collector ignores a component no pipeline uses; here that is an error (a forgotten
# wire), except where an overlay replaces a pipeline's exporter on purpose.
DEPLOYMENTS = [
    (["agent.yaml"], set()),
    # The overlay sends traces to the gateways instead of Tempo.
    (["agent.yaml", "agent-loadbalancing.yaml"], {"otlp/tempo"}),
    (["gateway.yaml"], set()),
    (["onebox.yaml"], set()),
]


def load_components(path=COMPONENTS):
    known = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                kind, name = line.split()
                known.setdefault(kind, set()).add(name)
    return known


def merge(a, b):
    """The collector's merge of two --config files: maps merge recursively, the rest is replaced."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(a[k], v) if k in a else v
        return out
    return b


def component_type(component_id):
    return component_id.split("/", 1)[0]


def check_config(cfg, known, name, unused_ok=frozenset()):
    problems = []
    if not isinstance(cfg, dict) or "service" not in cfg or "pipelines" not in (cfg.get("service") or {}):
        return [f"{name}: no service.pipelines"]
    defined = {section: set((cfg.get(section) or {}).keys()) for section in KINDS}
    for section, kind in KINDS.items():
        for cid in defined[section]:
            t = component_type(cid).replace("_", "")
            if t not in known.get(kind, set()):
                problems.append(f"{name}: {kind} {cid!r}: type {component_type(cid)!r} is not in the contrib distribution")
    used = {section: set() for section in KINDS}
    for pname, p in cfg["service"]["pipelines"].items():
        p = p or {}
        for section in ("receivers", "processors", "exporters"):
            for cid in p.get(section) or []:
                # A connector is an exporter of one pipeline and a receiver of another.
                if section in ("receivers", "exporters") and cid in defined["connectors"]:
                    used["connectors"].add(cid)
                    continue
                used[section].add(cid)
                if cid not in defined[section]:
                    problems.append(f"{name}: pipeline {pname} uses {section[:-1]} {cid!r}, which is not defined")
        if not p.get("receivers") or not p.get("exporters"):
            problems.append(f"{name}: pipeline {pname} needs at least one receiver and one exporter")
        procs = [component_type(c) for c in p.get("processors") or []]
        if "memory_limiter" in procs and procs[0] != "memory_limiter":
            problems.append(f"{name}: pipeline {pname}: memory_limiter must come first")
        if "batch" in procs and procs[-1] != "batch":
            problems.append(f"{name}: pipeline {pname}: batch must come last")
    for cid in cfg["service"].get("extensions") or []:
        used["extensions"].add(cid)
        if cid not in defined["extensions"]:
            problems.append(f"{name}: service.extensions names {cid!r}, which is not defined")
    for section in KINDS:
        for cid in sorted(defined[section] - used[section] - set(unused_ok)):
            problems.append(f"{name}: {section[:-1]} {cid!r} is defined but no pipeline uses it")
    return problems


def main():
    known = load_components()
    problems = []
    for files, unused_ok in DEPLOYMENTS:
        cfg = {}
        for f in files:
            with open(os.path.join(DIR, f), encoding="utf-8") as fh:
                try:
                    cfg = merge(cfg, yaml.safe_load(fh))
                except yaml.YAMLError as e:
                    problems.append(f"{f}: invalid YAML: {e}")
        found = check_config(cfg, known, " + ".join(files), unused_ok)
        problems += found
        if not found:
            pipes = ", ".join(f"{p}: {' -> '.join((cfg['service']['pipelines'][p].get('receivers') or []))} => "
                              f"{', '.join(cfg['service']['pipelines'][p].get('exporters') or [])}"
                              for p in cfg["service"]["pipelines"])
            print(f"  {' + '.join(files)}: OK ({pipes})")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
