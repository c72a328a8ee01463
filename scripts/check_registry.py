#!/usr/bin/env python3
"""Check the semantic-conventions registry in semconv/ against the code and the docs.

wingspan declares the names the OpenTelemetry semantic conventions do not define
(every ``wingspan.*`` attribute and metric, and the redis receiver's ``redis.*``
metrics, whose database index is the conventions' ``db.namespace``) in a registry of its own, in the
conventions' YAML model format (``groups:`` of ``attribute_group``, ``metric``,
``span`` ...). This script keeps three lists in step:

* the catalogue ``src/names/*.rs`` (the only place the code spells a name):
  every ``pub const X: &str = "wingspan.…"`` / ``"redis.…"`` is declared, as a
  metric when its doc comment starts with an instrument kind and a unit
  (``/// Counter `{request}`: …``), else as an attribute; and every declared
  name is still defined there (a rename or removal fails);
* the docs (README.md and the book's chapters, docs/src/*.md, read as one
  text): every ``wingspan.*`` / ``redis.*`` name they mention is declared,
  every declared name is mentioned, and where a table row of a metric states
  its type and unit (``| `redis.memory.used` | gauge, `By` | …``) they agree;
* the registry itself: the structural rules of the model format that
  ``weaver registry check`` enforces (types, stability, briefs, examples of
  string attributes, metric fields, span kinds, refs that resolve).

Two exceptions to "wingspan.* and redis.* only": ``gen_ai.yaml`` may declare the
four GenAI client metrics as copies of v1.41.1's definitions (COPIED_UPSTREAM),
and ``wingman.yaml`` holds the reference service's ``wingman.*`` names, which
only it may declare and which are not in src/names/ (the library's catalogue).

Standard library only: the registry files are written in a subset of YAML
(block mappings and sequences, plain or quoted scalars, one-line flow lists,
``>``/``|`` block scalars) that ``yaml_subset.parse_yaml`` reads; it rejects
anything else.

Usage: check_registry.py [--root DIR]   (exit 1 and one line per problem on failure)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys

from yaml_subset import YamlError, parse_yaml

# ---------------------------------------------------------------------------
# Instrument kinds, as the code's doc comments and README tables spell them
# ---------------------------------------------------------------------------

INSTRUMENTS = ("counter", "updowncounter", "gauge", "histogram")

# The phrase that starts first wins ("non-monotonic sum" holds "monotonic sum");
# on a tie, the earlier entry.
_KIND_PHRASES = [
    (re.compile(r"\bhistogram\b", re.I), "histogram"),
    (re.compile(r"\bup-?down[ -]?(?:counter|sum)\b|\bupdowncounter\b|\bnon-monotonic sum\b", re.I),
     "updowncounter"),
    (re.compile(r"\bcounter\b|\bmonotonic sum\b", re.I), "counter"),
    (re.compile(r"\bgauge\b", re.I), "gauge"),
]


def instrument_in(text: str) -> tuple[str, int] | None:
    """The instrument a phrase names and where the phrase ends, if any."""
    best = None
    for pattern, kind in _KIND_PHRASES:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[2]):
            best = (kind, m.end(), m.start())
    return (best[0], best[1]) if best else None


def _first_code_span(text: str) -> str | None:
    m = re.search(r"`([^`]+)`", text)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------
# The catalogue of names: src/names/*.rs
# ---------------------------------------------------------------------------

OWN_PREFIXES = ("wingspan.", "redis.")
# Names of the reference service (examples/wingman), not of the library: declared
# only in this file, and not in src/names/ (the library's catalogue).
SERVICE_FILE = "wingman.yaml"
SERVICE_PREFIX = "wingman."

_CONST = re.compile(
    r"((?:[ \t]*///[^\n]*\n)*)"
    r"[ \t]*pub(?:\([^)]*\))?\s+const\s+([A-Z0-9_]+)\s*:\s*&(?:'static\s+)?str\s*=\s*\"([^\"]*)\"\s*;"
)


@dataclasses.dataclass
class CodeName:
    name: str
    const: str
    file: str
    kind: str  # "metric" | "attribute" | "value"
    instrument: str | None = None
    unit: str | None = None


def parse_names(sources: dict[str, str]) -> dict[str, CodeName]:
    """Every string constant of the catalogue files, by value.

    A constant is a metric when the first line of its doc comment starts with an
    instrument kind, followed by its unit in backticks: ``/// Gauge `By`: …``;
    a value of an attribute, not a name, when it starts with that attribute's key
    and "of": ``/// `otel.component.type` of an exporter …``; else an attribute.
    """
    out: dict[str, CodeName] = {}
    for file, text in sorted(sources.items()):
        for m in _CONST.finditer(text):
            docs, const, value = m.group(1), m.group(2), m.group(3)
            doc_lines = [re.sub(r"^\s*///\s?", "", d) for d in docs.splitlines() if d.strip()]
            first = doc_lines[0] if doc_lines else ""
            entry = CodeName(value, const, file, "attribute")
            found = instrument_in(first)
            if _VALUE_DOC.match(first):
                entry.kind = "value"
            elif found and first[: found[1]].strip().lower() in _LEADING_KIND_WORDS:
                entry.kind, entry.instrument = "metric", found[0]
                entry.unit = _first_code_span(first[found[1]:])
            out.setdefault(value, entry)
    return out


_VALUE_DOC = re.compile(r"^`[a-z0-9_]+(?:\.[a-z0-9_]+)+` of\b")

# A doc comment classes its constant as a metric only when it starts with one of
# these (so an attribute's doc that mentions "the counter" later is not one).
_LEADING_KIND_WORDS = {
    "counter", "histogram", "gauge", "up-down counter", "updown counter", "up-down sum",
    "updowncounter", "monotonic sum", "non-monotonic sum",
}


# ---------------------------------------------------------------------------
# The registry: semconv/*.yaml
# ---------------------------------------------------------------------------

GROUP_TYPES = ("attribute_group", "metric", "span", "entity", "event")
STABILITIES = ("stable", "development", "alpha", "beta", "release_candidate")
SIMPLE_TYPES = ("string", "int", "double", "boolean", "any",
                "string[]", "int[]", "double[]", "boolean[]")
SPAN_KINDS = ("client", "server", "producer", "consumer", "internal")
REQUIREMENT_LEVELS = ("required", "recommended", "opt_in", "conditionally_required")
# Names declared here without a wingspan./redis. prefix: none. (The redis receiver's bare
# `db` would be the namespace of the conventions' db.* attributes, which weaver's live check
# reports as illegal_namespace on every one of them: wingspan emits db.namespace instead.)
BARE_NAMES: tuple[str, ...] = ()
# Upstream namespaces that semantic conventions v1.44 excludes from dependency
# resolution (moved to their own registries): a `ref` to them cannot resolve.
# gen_ai.* is the exception: the registry's second dependency, v1.41.1's
# model/gen-ai/registry.yaml kept in the repository (VENDORED_GENAI), defines it,
# so a gen_ai.* ref resolves when that file defines the attribute.
EXCLUDED_UPSTREAM = ("mcp.", "openai.")
GENAI_PREFIX = "gen_ai."
# Upstream metrics declared here as copies, in this file only: the GenAI client
# metrics wingspan records, copied from v1.41.1's model/gen-ai/metrics.yaml
# because weaver 0.25.1 cannot import them (v1.44's excluded deprecated copies
# shadow them: "marked as excluded from dependency resolution and cannot be used
# by 'imports'").
COPIED_UPSTREAM = {
    "gen_ai.yaml": frozenset({
        ("metric", "gen_ai.client.token.usage"),
        ("metric", "gen_ai.client.operation.duration"),
        ("metric", "gen_ai.client.operation.time_to_first_chunk"),
        ("metric", "gen_ai.client.operation.time_per_output_chunk"),
    }),
}
VENDORED_GENAI = os.path.join("third_party", "semconv-genai-v1.41.1", "model", "gen-ai", "registry.yaml")


def genai_attributes(text: str) -> set[str]:
    """The attribute ids the vendored GenAI registry defines (`- id: gen_ai.…`)."""
    return set(re.findall(r"(?m)^\s*- id: (gen_ai\.[a-z0-9_.]+)\s*$", text))
# The only group keys of the v1 model format that this registry may use.
GROUP_KEYS = {"id", "type", "brief", "note", "stability", "deprecated", "display_name",
              "attributes", "extends", "annotations", "span_kind", "events", "metric_name",
              "instrument", "unit", "name", "body", "entity_associations"}
ATTRIBUTE_KEYS = {"id", "ref", "type", "brief", "note", "examples", "stability", "deprecated",
                  "requirement_level", "sampling_relevant", "tag", "annotations", "role"}


@dataclasses.dataclass
class Declared:
    name: str
    kind: str  # "metric" | "attribute"
    file: str
    instrument: str | None = None
    unit: str | None = None
    stability: str | None = None


@dataclasses.dataclass
class Registry:
    declared: dict[tuple[str, str], Declared]  # by (kind, name): a name may be both
    errors: list[str]

    def names(self) -> set[str]:
        return {name for _, name in self.declared}

    def of_kind(self, kind: str) -> dict[str, Declared]:
        return {name: d for (k, name), d in self.declared.items() if k == kind}


def load_registry(files: dict[str, str], genai: set[str] | frozenset = frozenset()) -> Registry:
    """Parse and structurally check the registry files (name -> text); `genai`: the
    gen_ai.* attributes the vendored GenAI dependency defines."""
    declared: dict[tuple[str, str], Declared] = {}
    errors: list[str] = []
    group_ids: dict[str, str] = {}
    refs: list[tuple[str, str, str]] = []  # (file, group id, ref)
    for file, text in sorted(files.items()):
        try:
            doc = parse_yaml(text)
        except YamlError as e:
            errors.append(f"{file}: {e}")
            continue
        if doc is None:
            continue
        if not isinstance(doc, dict) or set(doc) - {"groups", "imports"}:
            errors.append(f"{file}: the top level holds only `groups:` and `imports:`")
            continue
        groups = doc.get("groups") or []
        if not isinstance(groups, list):
            errors.append(f"{file}: `groups:` is not a list")
            continue
        for group in groups:
            _check_group(file, group, declared, errors, group_ids, refs)
    for file, gid, ref in refs:
        if ("attribute", ref) in declared:
            continue
        if ref.startswith(OWN_PREFIXES + (SERVICE_PREFIX,)) or ref in BARE_NAMES:
            errors.append(f"{file}: group {gid}: ref {ref} names no attribute declared here")
        elif ref.startswith(GENAI_PREFIX) and ref not in genai:
            errors.append(f"{file}: group {gid}: ref {ref} names no attribute of {VENDORED_GENAI}")
        elif ref.startswith(EXCLUDED_UPSTREAM):
            errors.append(
                f"{file}: group {gid}: ref {ref}: semantic conventions v1.44 excludes "
                f"this namespace from dependency resolution; name it in the note instead"
            )
    attributes = sorted(name for kind, name in declared if kind == "attribute")
    for name in attributes:
        for other in attributes:
            if other.startswith(name + "."):
                errors.append(f"{declared['attribute', name].file}: attribute {name} is also the namespace of "
                              f"attribute {other}; weaver live-check reports {other} as illegal_namespace")
    return Registry(declared, errors)


def _check_group(file, group, declared, errors, group_ids, refs) -> None:
    if not isinstance(group, dict) or not isinstance(group.get("id"), str):
        errors.append(f"{file}: every group is a mapping with an `id`")
        return
    gid, gtype = group["id"], group.get("type")
    where = f"{file}: group {gid}"
    if gid in group_ids:
        errors.append(f"{where}: id already used in {group_ids[gid]}")
    group_ids[gid] = file
    for key in sorted(set(group) - GROUP_KEYS):
        errors.append(f"{where}: unknown field `{key}`")
    if gtype not in GROUP_TYPES:
        errors.append(f"{where}: type must be one of {', '.join(GROUP_TYPES)}")
        return
    if not _text(group.get("brief")):
        errors.append(f"{where}: no brief")
    if gtype != "attribute_group" and group.get("stability") is None:
        errors.append(f"{where}: no stability")
    if group.get("stability") is not None and group.get("stability") not in STABILITIES:
        errors.append(f"{where}: stability must be one of {', '.join(STABILITIES)}")
    if gtype != "metric" and not group.get("attributes") and not group.get("extends"):
        errors.append(f"{where}: a {gtype} group needs attributes or extends")
    if gtype == "span" and group.get("span_kind") not in SPAN_KINDS:
        errors.append(f"{where}: span_kind must be one of {', '.join(SPAN_KINDS)}")
    if gtype != "span" and "span_kind" in group:
        errors.append(f"{where}: span_kind on a group that is not a span")
    if gtype == "metric":
        _check_metric(where, gid, group, file, declared, errors)
    attributes = group.get("attributes") or []
    if not isinstance(attributes, list):
        errors.append(f"{where}: attributes is not a list")
        return
    for attr in attributes:
        _check_attribute(where, gtype, attr, file, declared, errors, refs, gid)


def _check_metric(where, gid, group, file, declared, errors) -> None:
    name = group.get("metric_name")
    if not isinstance(name, str) or not name:
        errors.append(f"{where}: a metric needs metric_name")
        return
    if gid != f"metric.{name}":
        errors.append(f"{where}: the id of metric {name} is metric.{name}")
    if group.get("instrument") not in INSTRUMENTS:
        errors.append(f"{where}: instrument must be one of {', '.join(INSTRUMENTS)}")
    if not isinstance(group.get("unit"), str) or not group.get("unit"):
        errors.append(f"{where}: a metric needs a unit (a string, quoted if it has braces)")
    _declare(Declared(name, "metric", file, group.get("instrument"), group.get("unit"),
                      group.get("stability")), where, declared, errors)


def _check_attribute(where, gtype, attr, file, declared, errors, refs, gid) -> None:
    if not isinstance(attr, dict):
        errors.append(f"{where}: every attribute is a mapping")
        return
    for key in sorted(set(attr) - ATTRIBUTE_KEYS):
        errors.append(f"{where}: attribute {attr.get('id') or attr.get('ref')}: unknown field `{key}`")
    _check_requirement(where, attr, errors)
    if "ref" in attr:
        if "id" in attr or "type" in attr:
            errors.append(f"{where}: ref {attr['ref']} also has id or type")
        refs.append((file, gid, str(attr["ref"])))
        return
    aid = attr.get("id")
    here = f"{where}: attribute {aid}"
    if not isinstance(aid, str) or not aid:
        errors.append(f"{where}: an attribute needs an id or a ref")
        return
    if gtype != "attribute_group" or not gid.startswith("registry."):
        errors.append(f"{here}: define attributes in an attribute_group whose id starts with registry.")
    if not _text(attr.get("brief")):
        errors.append(f"{here}: no brief")
    stability = attr.get("stability")
    if stability not in STABILITIES:
        errors.append(f"{here}: stability must be one of {', '.join(STABILITIES)}")
    atype = attr.get("type")
    if isinstance(atype, dict):
        _check_enum(here, atype, errors)
    elif atype not in SIMPLE_TYPES:
        errors.append(f"{here}: type must be an enum (members:) or one of {', '.join(SIMPLE_TYPES)}")
    _check_examples(here, atype, attr.get("examples"), errors)
    _declare(Declared(aid, "attribute", file, stability=stability), where, declared, errors)


def _check_enum(here, atype, errors) -> None:
    members = atype.get("members")
    if set(atype) != {"members"} or not isinstance(members, list) or not members:
        errors.append(f"{here}: an enum type is `members:` with a list of members")
        return
    for member in members:
        if not isinstance(member, dict) or not member.get("id") or "value" not in member:
            errors.append(f"{here}: every enum member has an id and a value")
        elif member.get("stability") not in STABILITIES:
            errors.append(f"{here}: enum member {member['id']} has no valid stability")


def _check_examples(here, atype, examples, errors) -> None:
    if examples is None:
        if atype in ("string", "string[]"):
            errors.append(f"{here}: a string attribute needs examples")
        return
    values = examples if isinstance(examples, list) else [examples]
    base = "string" if isinstance(atype, dict) else str(atype).removesuffix("[]")
    fits = {
        "string": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }.get(base)
    if fits is not None and not all(fits(v) for v in values):
        errors.append(f"{here}: examples do not match type {base if isinstance(atype, str) else 'enum'}")


def _check_requirement(where, attr, errors) -> None:
    level = attr.get("requirement_level")
    if level is None:
        return
    name = attr.get("id") or attr.get("ref")
    if isinstance(level, dict):
        ok = len(level) == 1 and next(iter(level)) in REQUIREMENT_LEVELS and _text(next(iter(level.values())))
    else:
        ok = level in ("required", "recommended", "opt_in")
    if not ok:
        errors.append(f"{where}: attribute {name}: requirement_level is required, recommended, "
                      f"opt_in, or a mapping `conditionally_required: <condition>`")


def _declare(entry: Declared, where, declared, errors) -> None:
    key = (entry.kind, entry.name)
    if key in declared:
        errors.append(f"{where}: {entry.kind} {entry.name} is already declared in {declared[key].file}")
        return
    copied = (entry.kind, entry.name) in COPIED_UPSTREAM.get(entry.file, frozenset())
    service = entry.file == SERVICE_FILE
    if service and not entry.name.startswith(SERVICE_PREFIX):
        errors.append(f"{where}: {entry.name} is not a {SERVICE_PREFIX}* name: {SERVICE_FILE} "
                      f"holds the reference service's names only")
    elif not service and not (entry.name.startswith(OWN_PREFIXES) or entry.name in BARE_NAMES or copied):
        hint = f" ({SERVICE_PREFIX}* names go in {SERVICE_FILE})" if entry.name.startswith(SERVICE_PREFIX) else ""
        errors.append(f"{where}: {entry.name} is not a wingspan.* or redis.* name: upstream names "
                      f"come from the dependency, not from this registry{hint}")
    if entry.stability is not None and entry.stability != "development":
        errors.append(f"{where}: {entry.name} is {entry.stability}; wingspan's own names are development")
    declared[key] = entry


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


# ---------------------------------------------------------------------------
# README.md
# ---------------------------------------------------------------------------

_MENTION = re.compile(r"(?<![\w.:/-])((?:wingspan|redis)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)")
_FILE_SUFFIXES = {"rs", "md", "toml", "yaml", "yml", "py", "sh", "json"}


def readme_mentions(text: str) -> set[str]:
    """Every wingspan.* / redis.* name the text mentions (file names excluded)."""
    return {m for m in _MENTION.findall(text) if m.rsplit(".", 1)[-1] not in _FILE_SUFFIXES}


def readme_metric_rows(text: str, metrics: set[str]) -> dict[str, list[tuple[str, str | None, int]]]:
    """(instrument, unit, line) stated by each table row whose first cell is a metric."""
    rows: dict[str, list[tuple[str, str | None, int]]] = {}
    for no, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`([^`]+)`", cells[0]) if cells else None
        if not m or m.group(1) not in metrics:
            continue
        for cell in cells[1:]:
            found = instrument_in(cell)
            if found:
                rows.setdefault(m.group(1), []).append(
                    (found[0], _first_code_span(cell[found[1]:]), no))
                break
    return rows


# ---------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Inputs:
    registry: dict[str, str]  # semconv/*.yaml except the manifest: name -> text
    names: dict[str, str]  # src/names/*.rs: name -> text
    readme: str  # the docs, README.md first, as one text
    manifest: str | None = None
    crate_version: str | None = None
    # Where each file of `readme` starts: (path, first line), in order; empty: README.md alone.
    sources: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    # The gen_ai.* attributes of the vendored GenAI dependency (VENDORED_GENAI).
    genai: set[str] = dataclasses.field(default_factory=set)

    def where(self, line: int) -> str:
        """`path:line` of a line of `readme`."""
        path, first = "README.md", 1
        for name, start in self.sources:
            if start <= line:
                path, first = name, start
        return f"{path}:{line - first + 1}"


def check(inp: Inputs) -> list[str]:
    """Every problem found, one line each; empty when all agree."""
    reg = load_registry(inp.registry, inp.genai)
    errors = list(reg.errors)
    names = parse_names(inp.names)
    errors += _check_names(reg, names)
    values = {name for name, code in names.items() if code.kind == "value"}
    errors += _check_readme(reg, inp.readme, values, inp.where)
    if inp.manifest is not None:
        errors += _check_manifest(inp.manifest, inp.crate_version, inp.readme)
    return errors


def _check_names(reg: Registry, names: dict[str, CodeName]) -> list[str]:
    """The catalogue and the registry name the same things, as the same kind.

    A name declared both as a metric and as an attribute (a counter whose name
    is also a span attribute) matches a constant of either kind.
    """
    errors = []
    declared_names = reg.names()
    for name, code in sorted(names.items()):
        if code.kind != "value" and name.startswith(OWN_PREFIXES) and name not in declared_names:
            errors.append(f"src/names/{code.file} {code.const} = {name!r}: not declared in "
                          f"semconv/ (add it as {_a(code.kind)})")
    for (kind, name), decl in sorted(reg.declared.items()):
        if decl.file == SERVICE_FILE:
            continue  # the reference service's: not in the library's catalogue
        code = names.get(name)
        if code is None:
            errors.append(f"semconv/{decl.file} declares {kind} {name}, which src/names/ does not "
                          f"define: renamed or removed? (update or drop the declaration)")
        elif code.kind == "value":
            errors.append(f"semconv/{decl.file} declares {kind} {name}, which src/names/{code.file} "
                          f"{code.const} documents as a value (`key` of ...), not a name")
        elif code.kind == kind:
            errors += _compare_instrument(f"src/names/{code.file} {code.const} = {name!r}", code, decl)
        elif (code.kind, name) not in reg.declared:
            hint = ("its doc comment starts with an instrument kind" if code.kind == "metric" else
                    "its doc comment does not start with an instrument kind and unit, "
                    "like /// Counter `{request}`: ...")
            errors.append(f"src/names/{code.file} {code.const} = {name!r}: {_a(code.kind)} in the "
                          f"code ({hint}) but {_a(kind)} in semconv/{decl.file}")
    return errors


def _compare_instrument(where: str, code: CodeName, reg: Declared) -> list[str]:
    errors = []
    if code.instrument and reg.instrument and code.instrument != reg.instrument:
        errors.append(f"{where}: doc comment says {code.instrument}, semconv/{reg.file} says {reg.instrument}")
    if code.unit and reg.unit and code.unit != reg.unit:
        errors.append(f"{where}: doc comment says unit {code.unit}, semconv/{reg.file} says {reg.unit}")
    return errors


def _check_readme(reg: Registry, readme: str, values: set[str] = frozenset(),
                  where=lambda line: f"README.md:{line}") -> list[str]:
    errors = []
    mentioned = readme_mentions(readme)
    for name in sorted(mentioned - reg.names() - values):
        at = next((where(no) for no, line in enumerate(readme.splitlines(), 1)
                   if name in readme_mentions(line)), "README.md").split(":")[0]
        errors.append(f"{at} mentions {name}, which semconv/ does not declare "
                      f"(stale name in the docs, or a missing declaration)")
    files = {name: decl.file for (_, name), decl in sorted(reg.declared.items(), reverse=True)}
    for name, file in sorted(files.items()):
        present = name in mentioned if name.startswith(OWN_PREFIXES) else f"`{name}`" in readme
        if not present:
            errors.append(f"semconv/{file} declares {name}, which the docs' telemetry "
                          f"reference (README.md, docs/src/) does not mention")
    metrics = reg.of_kind("metric")
    for name, rows in sorted(readme_metric_rows(readme, set(metrics)).items()):
        reg = metrics[name]
        for instrument, unit, no in rows:
            if instrument != reg.instrument:
                errors.append(f"{where(no)}: {name} is {_a(instrument)} there, "
                              f"{_a(str(reg.instrument))} in semconv/{reg.file}")
            if unit is not None and unit != reg.unit:
                errors.append(f"{where(no)}: {name} has unit {unit} there, "
                              f"{reg.unit} in semconv/{reg.file}")
    return errors


def _check_manifest(text: str, crate_version: str | None, readme: str) -> list[str]:
    try:
        doc = parse_yaml(text)
    except YamlError as e:
        return [f"semconv/manifest.yaml: {e}"]
    if not isinstance(doc, dict):
        return ["semconv/manifest.yaml: not a mapping"]
    errors = []
    url = doc.get("schema_url")
    if not isinstance(url, str) or not re.match(r"^https?://[^/]+/.+/[^/]+$", url):
        errors.append("semconv/manifest.yaml: schema_url must be http[s]://host/path/<version>")
    elif crate_version and url.rsplit("/", 1)[1] != crate_version:
        errors.append(f"semconv/manifest.yaml: schema_url version {url.rsplit('/', 1)[1]} is not "
                      f"the crate's version {crate_version}")
    deps = doc.get("dependencies")
    if not isinstance(deps, list) or not deps:
        return errors + ["semconv/manifest.yaml: no dependencies (the upstream conventions)"]
    versions = []
    for dep in deps:
        if not isinstance(dep, dict) or not isinstance(dep.get("schema_url"), str):
            errors.append("semconv/manifest.yaml: every dependency has a schema_url")
            continue
        versions.append(dep["schema_url"].rsplit("/", 1)[-1])
    stated = re.search(r"Semantic conventions v(\d+\.\d+)", readme)
    if stated and not any(v == stated.group(1) or v.startswith(stated.group(1) + ".") for v in versions):
        errors.append(f"semconv/manifest.yaml: the docs state semantic conventions "
                      f"v{stated.group(1)}, the dependencies are {', '.join(versions)}")
    return errors


# ---------------------------------------------------------------------------
# Reading the repository
# ---------------------------------------------------------------------------

MANIFEST = "manifest.yaml"


def _read_dir(path: str, suffix: str) -> dict[str, str]:
    out = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(suffix):
            with open(os.path.join(path, name), encoding="utf-8") as f:
                out[name] = f.read()
    return out


def read_inputs(root: str) -> Inputs:
    registry = _read_dir(os.path.join(root, "semconv"), ".yaml")
    manifest = registry.pop(MANIFEST, None)
    readme, sources = read_docs(root)
    version = None
    cargo = os.path.join(root, "Cargo.toml")
    if os.path.exists(cargo):
        with open(cargo, encoding="utf-8") as f:
            m = re.search(r'(?ms)^\[package\].*?^version\s*=\s*"([^"]+)"', f.read())
            version = m.group(1) if m else None
    genai = set()
    if os.path.exists(os.path.join(root, VENDORED_GENAI)):
        with open(os.path.join(root, VENDORED_GENAI), encoding="utf-8") as f:
            genai = genai_attributes(f.read())
    return Inputs(registry, _read_dir(os.path.join(root, "src", "names"), ".rs"), readme,
                  manifest if manifest is not None else "", version, sources, genai)


def read_docs(root: str) -> tuple[str, list[tuple[str, int]]]:
    """README.md and docs/src/*.md (sorted) as one text, and where each file starts."""
    paths = ["README.md"]
    book = os.path.join(root, "docs", "src")
    if os.path.isdir(book):
        paths += [f"docs/src/{n}" for n in sorted(os.listdir(book)) if n.endswith(".md")]
    parts, sources, line = [], [], 1
    for rel in paths:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        if not text.endswith("\n"):
            text += "\n"
        sources.append((rel, line))
        parts.append(text)
        line += text.count("\n")
    return "".join(parts), sources


def literals_outside_names(root: str) -> list[str]:
    """`"wingspan.…"`/`"redis.…"` string literals in src/ outside src/names/ (advisory)."""
    hits = []
    src = os.path.join(root, "src")
    for dirpath, _, files in os.walk(src):
        if os.path.relpath(dirpath, src).split(os.sep)[0] == "names":
            continue
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as f:
                for no, line in enumerate(f, 1):
                    for m in re.finditer(r'"((?:wingspan|redis)\.[a-z0-9_.]+)"', line):
                        hits.append(f"{os.path.relpath(path, root)}:{no}: {m.group(1)}")
    return hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = ap.parse_args(argv)
    inp = read_inputs(args.root)
    errors = check(inp)
    for hit in literals_outside_names(args.root):
        print(f"registry-check: warning: name spelled outside src/names/: {hit}", file=sys.stderr)
    if errors:
        for e in errors:
            print(f"registry-check: {e}", file=sys.stderr)
        print(f"registry-check: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    reg = load_registry(inp.registry, inp.genai)
    metrics, attributes = len(reg.of_kind("metric")), len(reg.of_kind("attribute"))
    print(f"registry-check: ok: {metrics} metrics and {attributes} attributes declared "
          f"in semconv/ agree with src/names/, README.md and docs/src/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
