"""Tests of scripts/check_registry.py on small fixtures: each failure mode, and the passing case.

Run from the repository root: python3 -m unittest discover -s scripts -p 'test_*.py'
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check_registry as cr  # noqa: E402

NAMES = '''\
//! Cache names.

/// `hit`, `miss` or `error`.
pub const WINGSPAN_CACHE_RESULT: &str = "wingspan.cache.result";
/// Counter `{request}`: reads by result.
pub const WINGSPAN_CACHE_REQUESTS: &str = "wingspan.cache.requests";
/// Gauge `{key}` per `db.namespace`: keys in the keyspace.
pub const REDIS_DB_KEYS: &str =
    "redis.db.keys";
/// Upstream: `db.namespace`, not checked.
pub const REDIS_DB: &str = super::db::DB_NAMESPACE;
/// `error.type` of a dropped call: a value, not a name.
pub const ERROR_CANCELED: &str = "canceled";
'''

REGISTRY = '''\
# A comment.
groups:
  - id: registry.wingspan.cache
    type: attribute_group
    brief: Cache attributes.
    attributes:
      - id: wingspan.cache.result
        type:
          members:
            - id: hit
              value: "hit"
              stability: development
            - id: miss
              value: "miss"
              stability: development
        stability: development
        brief: The outcome of a read.
        examples: ["hit", "miss"]
        requirement_level: required
  - id: metric.wingspan.cache.requests
    type: metric
    metric_name: wingspan.cache.requests
    stability: development
    brief: Cache reads.
    instrument: counter
    unit: "{request}"
    attributes:
      - ref: wingspan.cache.result
        requirement_level:
          conditionally_required: If it is a read.
  - id: metric.redis.db.keys
    type: metric
    metric_name: redis.db.keys
    stability: development
    brief: Keys.
    instrument: gauge
    unit: "{key}"
    attributes:
      - ref: db.namespace
'''

README = '''\
# x

Semantic conventions v1.44.

| OTel instrument | type, unit | attributes |
|---|---|---|
| `wingspan.cache.requests` | counter, `{request}` | `wingspan.cache.result` = `hit`/`miss` |
| `redis.db.keys` | gauge, `{key}` | `db.namespace` (`"0"`, ...) |

`wingspan::cache::Cache::builder(&telemetry, cfg.redis.clone())` and `src/wingspan.rs` are not names.
'''

MANIFEST = '''\
schema_url: https://wingspan.example/schemas/0.1.0
dependencies:
  - schema_url: https://opentelemetry.io/schemas/1.44.0
    registry_path: https://example.com/v1.44.0.zip[model]
'''


def run(names=NAMES, registry=REGISTRY, readme=README, manifest=MANIFEST, version="0.1.0"):
    return cr.check(cr.Inputs({"cache.yaml": registry}, {"cache.rs": names}, readme, manifest, version))


def group(text):
    """A registry with one more group appended."""
    return REGISTRY + text


class PassingTest(unittest.TestCase):
    def test_fixture_agrees(self):
        self.assertEqual(run(), [])

    def test_readme_table_layout_does_not_matter(self):
        readme = README.replace(
            "| `redis.db.keys` | gauge, `{key}` | `db.namespace` (`\"0\"`, ...) |",
            "| `redis.db.keys` | `db.namespace` | Gauge (observed) `{key}` | extra | cells |",
        )
        self.assertEqual(run(readme=readme), [])

    def test_readme_row_without_a_type_is_not_checked(self):
        readme = README.replace("gauge, `{key}`", "see below")
        self.assertEqual(run(readme=readme), [])

    def test_name_mentioned_outside_tables_counts(self):
        readme = README.replace("| `redis.db.keys` | gauge, `{key}` | `db.namespace` (`\"0\"`, ...) |\n", "")
        readme += "\nThe receiver's `redis.db.keys` carries `db.namespace`.\n"
        self.assertEqual(run(readme=readme), [])


class CodeAndRegistryTest(unittest.TestCase):
    def test_renamed_in_code_fails_both_ways(self):
        errors = run(names=NAMES.replace('"wingspan.cache.requests"', '"wingspan.cache.reads"'))
        self.assertTrue(any("'wingspan.cache.reads': not declared in semconv/" in e for e in errors), errors)
        self.assertTrue(any("declares metric wingspan.cache.requests, which src/names/ does not define" in e
                            for e in errors), errors)

    def test_removed_from_code_leaves_a_stale_declaration(self):
        names = NAMES.replace('/// Gauge `{key}` per `db.namespace`: keys in the keyspace.\n'
                              'pub const REDIS_DB_KEYS: &str =\n    "redis.db.keys";\n', "")
        self.assertEqual(run(names=names), [
            "semconv/cache.yaml declares metric redis.db.keys, which src/names/ does not define: "
            "renamed or removed? (update or drop the declaration)"])

    def test_bare_db_is_refused(self):
        # The redis receiver's bare `db` would be the namespace of the conventions' db.*
        # attributes (weaver's live check: illegal_namespace on each of them).
        errors = run(registry=group('''\
  - id: registry.redis.receiver
    type: attribute_group
    brief: The redis receiver's attributes.
    attributes:
      - id: db
        type: string
        stability: development
        brief: The database index.
        examples: ["0"]
'''))
        self.assertTrue(any("db is not a wingspan.* or redis.* name" in e for e in errors), errors)

    def test_new_name_in_code_must_be_declared(self):
        names = NAMES + '/// Span only.\npub const WINGSPAN_CACHE_HIT: &str = "wingspan.cache.hit";\n'
        self.assertEqual(run(names=names), [
            "src/names/cache.rs WINGSPAN_CACHE_HIT = 'wingspan.cache.hit': not declared in "
            "semconv/ (add it as an attribute)"])

    def test_a_counter_may_also_be_a_span_attribute(self):
        registry = REGISTRY.replace("  - id: metric.wingspan.cache.requests", '''\
      - id: wingspan.cache.requests
        type: boolean
        stability: development
        brief: The span counted.
        examples: [true]
  - id: metric.wingspan.cache.requests''')
        self.assertEqual(run(registry=registry), [])
        registry = registry.replace("instrument: counter", "instrument: gauge")
        self.assertIn("src/names/cache.rs WINGSPAN_CACHE_REQUESTS = 'wingspan.cache.requests': doc comment "
                      "says counter, semconv/cache.yaml says gauge", run(registry=registry))

    def test_values_and_upstream_names_need_no_declaration(self):
        names = NAMES + 'pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";\n'
        names += ('/// `otel.component.type` of an exporter given to the builder.\n'
                  'pub const COMPONENT_CUSTOM_EXPORTER: &str = "wingspan.custom_exporter";\n')
        readme = README + "\nA custom exporter is `otel.component.type=wingspan.custom_exporter`.\n"
        self.assertEqual(run(names=names, readme=readme), [])

    def test_a_value_is_not_a_declaration(self):
        names = NAMES.replace("/// `hit`, `miss` or `error`.", "/// `otel.component.type` of a cache.")
        self.assertIn("semconv/cache.yaml declares attribute wingspan.cache.result, which src/names/cache.rs "
                      "WINGSPAN_CACHE_RESULT documents as a value (`key` of ...), not a name", run(names=names))

    def test_metric_in_code_but_attribute_in_registry(self):
        names = NAMES.replace("/// `hit`, `miss` or `error`.", "/// Counter `{x}`: oops.")
        errors = run(names=names)
        self.assertIn("src/names/cache.rs WINGSPAN_CACHE_RESULT = 'wingspan.cache.result': a metric in "
                      "the code (its doc comment starts with an instrument kind) but an attribute in "
                      "semconv/cache.yaml", errors)

    def test_metric_without_instrument_doc_reads_as_attribute(self):
        names = NAMES.replace("/// Counter `{request}`: reads by result.", "/// Reads by result.")
        errors = run(names=names)
        self.assertTrue(any("'wingspan.cache.requests': an attribute in the code" in e and
                            "like /// Counter `{request}`" in e and "but a metric in" in e
                            for e in errors), errors)

    def test_doc_comment_instrument_and_unit_must_agree(self):
        names = NAMES.replace("/// Gauge `{key}` per", "/// Up-down sum `{keys}` per")
        errors = run(names=names)
        self.assertIn("src/names/cache.rs REDIS_DB_KEYS = 'redis.db.keys': doc comment says "
                      "updowncounter, semconv/cache.yaml says gauge", errors)
        self.assertIn("src/names/cache.rs REDIS_DB_KEYS = 'redis.db.keys': doc comment says unit "
                      "{keys}, semconv/cache.yaml says {key}", errors)


class ReadmeTest(unittest.TestCase):
    def test_readme_names_an_undeclared_name(self):
        readme = README + "\n| `wingspan.telemetry.spans.dropped` | counter, `{span}` | |\n"
        self.assertEqual(run(readme=readme), [
            "README.md mentions wingspan.telemetry.spans.dropped, which semconv/ does not declare "
            "(stale name in the docs, or a missing declaration)"])

    def test_readme_keeps_an_old_name_after_a_rename(self):
        names = NAMES.replace('"wingspan.cache.requests"', '"wingspan.cache.reads"')
        registry = REGISTRY.replace("wingspan.cache.requests", "wingspan.cache.reads")
        errors = run(names=names, registry=registry)
        self.assertIn("README.md mentions wingspan.cache.requests, which semconv/ does not declare "
                      "(stale name in the docs, or a missing declaration)", errors)
        self.assertIn("semconv/cache.yaml declares wingspan.cache.reads, which the docs' telemetry "
                      "reference (README.md, docs/src/) does not mention", errors)

    def test_declared_name_missing_from_readme(self):
        readme = README.replace("| `redis.db.keys` | gauge, `{key}` | `db.namespace` (`\"0\"`, ...) |\n", "")
        errors = run(readme=readme)
        self.assertIn("semconv/cache.yaml declares redis.db.keys, which the docs' telemetry "
                      "reference (README.md, docs/src/) does not mention", errors)

    def test_a_chapter_of_the_book_is_named_with_its_own_line(self):
        readme = "# wingspan\n"
        chapter = README.replace("| gauge, `{key}` |", "| non-monotonic sum, `{key}` |")
        inputs = cr.Inputs({"cache.yaml": REGISTRY}, {"cache.rs": NAMES}, readme + chapter, MANIFEST,
                           "0.1.0", [("README.md", 1), ("docs/src/cache.md", 2)])
        self.assertEqual(cr.check(inputs), ["docs/src/cache.md:8: redis.db.keys is an updowncounter "
                                            "there, a gauge in semconv/cache.yaml"])

    def test_the_docs_are_read_from_the_readme_and_the_book(self):
        import tempfile, os
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "docs", "src"))
            for rel, text in [("README.md", "a\nb"), ("docs/src/b.md", "c\n"), ("docs/src/a.md", "d\n")]:
                with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
                    f.write(text)
            text, sources = cr.read_docs(root)
            self.assertEqual(text, "a\nb\nd\nc\n")
            self.assertEqual(sources, [("README.md", 1), ("docs/src/a.md", 3), ("docs/src/b.md", 4)])

    def test_readme_instrument_disagrees(self):
        errors = run(readme=README.replace("| gauge, `{key}` |", "| non-monotonic sum, `{key}` |"))
        self.assertEqual(errors, ["README.md:8: redis.db.keys is an updowncounter there, a gauge in "
                                  "semconv/cache.yaml"])

    def test_readme_unit_disagrees(self):
        errors = run(readme=README.replace("| counter, `{request}` |", "| counter, `{call}` |"))
        self.assertEqual(errors, ["README.md:7: wingspan.cache.requests has unit {call} there, "
                                  "{request} in semconv/cache.yaml"])

    def test_monotonic_sum_is_a_counter(self):
        self.assertEqual(cr.instrument_in("monotonic sum, `{hit}`")[0], "counter")
        self.assertEqual(cr.instrument_in("non-monotonic sum, `{client}`")[0], "updowncounter")
        self.assertEqual(cr.instrument_in("up-down counter (observed), `{c}`")[0], "updowncounter")
        self.assertEqual(cr.instrument_in("histogram, `s`, buckets")[0], "histogram")
        self.assertIsNone(cr.instrument_in("`db` (`\"0\"`, ...)"))


class RegistryStructureTest(unittest.TestCase):
    def assertOneError(self, registry, fragment):
        errors = run(registry=registry)
        self.assertTrue(any(fragment in e for e in errors), errors)

    def test_metric_without_unit(self):
        self.assertOneError(REGISTRY.replace('    unit: "{key}"\n', ""), "needs a unit")

    def test_metric_with_bad_instrument(self):
        self.assertOneError(REGISTRY.replace("instrument: gauge", "instrument: up_down"),
                            "instrument must be one of")

    def test_metric_id_must_follow_its_name(self):
        self.assertOneError(REGISTRY.replace("id: metric.redis.db.keys", "id: metric.redis.keys"),
                            "the id of metric redis.db.keys is metric.redis.db.keys")

    STRING = group('''\
  - id: registry.wingspan.more
    type: attribute_group
    brief: More.
    attributes:
      - id: wingspan.cache.shard
        type: string
        stability: development
        brief: The shard.
        examples: ["0"]
''')

    def test_string_attribute_without_examples(self):
        self.assertOneError(self.STRING.replace('        examples: ["0"]\n', ""), "needs examples")

    def test_examples_of_the_wrong_type(self):
        self.assertOneError(self.STRING.replace('examples: ["0"]', "examples: [0]"),
                            "examples do not match type string")

    def test_attribute_without_brief_or_stability(self):
        registry = REGISTRY.replace("        brief: The outcome of a read.\n", "")
        self.assertOneError(registry, "attribute wingspan.cache.result: no brief")
        registry = REGISTRY.replace("        stability: development\n        brief: The outcome", "        brief: The outcome")
        self.assertOneError(registry, "attribute wingspan.cache.result: stability must be one of")

    def test_stable_own_name(self):
        registry = REGISTRY.replace("stability: development\n    brief: Keys.", "stability: stable\n    brief: Keys.")
        self.assertOneError(registry, "redis.db.keys is stable; wingspan's own names are development")

    def test_unknown_field(self):
        self.assertOneError(REGISTRY.replace("    brief: Keys.", "    brief: Keys.\n    units: ms"),
                            "unknown field `units`")

    def test_ref_to_an_undeclared_own_attribute(self):
        self.assertOneError(REGISTRY.replace("      - ref: db.namespace\n", "      - ref: wingspan.cache.nme\n"),
                            "ref wingspan.cache.nme names no attribute declared here")

    def test_ref_to_an_excluded_upstream_namespace(self):
        self.assertOneError(REGISTRY.replace("      - ref: db.namespace\n", "      - ref: db.namespace\n      - ref: openai.api.type\n"),
                            "excludes this namespace from dependency resolution")

    def test_a_gen_ai_ref_resolves_against_the_vendored_genai_registry(self):
        registry = REGISTRY.replace("      - ref: db.namespace\n", "      - ref: db.namespace\n      - ref: gen_ai.request.model\n")
        genai = cr.genai_attributes("    attributes:\n      - id: gen_ai.request.model\n        type: string\n")
        self.assertEqual(genai, {"gen_ai.request.model"})
        self.assertEqual(cr.load_registry({"cache.yaml": registry}, genai).errors, [])
        self.assertIn("ref gen_ai.request.model names no attribute of " + cr.VENDORED_GENAI,
                      " ".join(cr.load_registry({"cache.yaml": registry}).errors))

    def test_upstream_name_redeclared(self):
        self.assertOneError(group('''\
  - id: registry.wingspan.http
    type: attribute_group
    brief: Oops.
    attributes:
      - id: http.route
        type: string
        stability: development
        brief: The route.
        examples: ["/x"]
'''), "http.route is not a wingspan.* or redis.* name")

    def test_the_genai_client_metrics_may_be_copied_into_gen_ai_yaml_only(self):
        copy = '''\
groups:
  - id: metric.gen_ai.client.token.usage
    type: metric
    metric_name: gen_ai.client.token.usage
    brief: Tokens.
    instrument: histogram
    unit: "{token}"
    stability: development
'''
        self.assertEqual(cr.load_registry({"gen_ai.yaml": copy}).errors, [])
        self.assertIn("gen_ai.client.token.usage is not a wingspan.* or redis.* name",
                      " ".join(cr.load_registry({"cache.yaml": copy}).errors))
        other = copy.replace("gen_ai.client.token.usage", "gen_ai.server.request.duration")
        self.assertIn("gen_ai.server.request.duration is not a wingspan.* or redis.* name",
                      " ".join(cr.load_registry({"gen_ai.yaml": other}).errors))

    WINGMAN = '''\
groups:
  - id: registry.wingman
    type: attribute_group
    brief: The reference service's.
    attributes:
      - id: wingman.schema
        type: string
        stability: development
        brief: The schema.
        examples: ["wingman"]
'''

    def test_wingman_names_belong_in_wingman_yaml_and_need_no_constant(self):
        errors = cr.check(cr.Inputs({"cache.yaml": REGISTRY, "wingman.yaml": self.WINGMAN},
                                    {"cache.rs": NAMES}, README + "\n`wingman.schema`\n",
                                    MANIFEST, "0.1.0"))
        self.assertEqual(errors, [])
        errors = cr.check(cr.Inputs({"cache.yaml": REGISTRY, "wingman.yaml": self.WINGMAN},
                                    {"cache.rs": NAMES}, README, MANIFEST, "0.1.0"))
        self.assertTrue(any("declares wingman.schema, which the docs" in e for e in errors), errors)

    def test_wingman_names_elsewhere_and_other_names_in_wingman_yaml_are_refused(self):
        errors = cr.load_registry({"cache.yaml": self.WINGMAN}).errors
        self.assertTrue(any("wingman.schema is not a wingspan.* or redis.* name" in e
                            and "go in wingman.yaml" in e for e in errors), errors)
        other = self.WINGMAN.replace("wingman.schema", "wingspan.schema")
        errors = cr.load_registry({"wingman.yaml": other}).errors
        self.assertTrue(any("wingspan.schema is not a wingman.* name" in e for e in errors), errors)
        ref = group("      - ref: wingman.seeded\n")
        self.assertTrue(any("ref wingman.seeded names no attribute declared here" in e
                            for e in cr.load_registry({"cache.yaml": ref}).errors))

    def test_duplicate_declaration(self):
        self.assertOneError(group('''\
  - id: registry.wingspan.again
    type: attribute_group
    brief: Again.
    attributes:
      - id: wingspan.cache.result
        type: string
        stability: development
        brief: Again.
        examples: ["1"]
'''), "wingspan.cache.result is already declared in cache.yaml")

    def test_attribute_that_is_a_namespace_of_another(self):
        self.assertOneError(group('''\
  - id: registry.wingspan.more
    type: attribute_group
    brief: More.
    attributes:
      - id: wingspan.cache.result.detail
        type: string
        stability: development
        brief: Detail.
        examples: ["x"]
'''), "attribute wingspan.cache.result is also the namespace of attribute wingspan.cache.result.detail")

    def test_span_without_kind(self):
        self.assertOneError(group('''\
  - id: span.wingspan.acquire
    type: span
    stability: development
    brief: Acquire.
    attributes:
      - ref: db.namespace
'''), "span_kind must be one of")

    def test_bad_requirement_level(self):
        self.assertOneError(REGISTRY.replace("requirement_level: required", "requirement_level: must"),
                            "requirement_level is required, recommended")

    def test_yaml_outside_the_subset_is_reported(self):
        self.assertOneError(REGISTRY.replace("    brief: Keys.", "    brief: {a: b}"),
                            "flow mappings, anchors, aliases, tags are not supported")


class ManifestTest(unittest.TestCase):
    def test_version_must_be_the_crates(self):
        self.assertEqual(run(version="0.2.0"), [
            "semconv/manifest.yaml: schema_url version 0.1.0 is not the crate's version 0.2.0"])

    def test_dependency_must_match_the_readme(self):
        errors = run(manifest=MANIFEST.replace("1.44.0", "1.43.0"))
        self.assertEqual(errors, ["semconv/manifest.yaml: the docs state semantic conventions "
                                  "v1.44, the dependencies are 1.43.0"])

    def test_dependencies_required(self):
        errors = run(manifest="schema_url: https://wingspan.example/schemas/0.1.0\n")
        self.assertEqual(errors, ["semconv/manifest.yaml: no dependencies (the upstream conventions)"])


class RepositoryTest(unittest.TestCase):
    def test_the_registry_files_are_well_formed(self):
        root = os.path.join(HERE, "..")
        inputs = cr.read_inputs(root)
        self.assertIn("gen_ai.token.type", inputs.genai)
        self.assertEqual(cr.load_registry(inputs.registry, inputs.genai).errors, [])
        self.assertEqual(cr._check_manifest(inputs.manifest, inputs.crate_version, inputs.readme), [])


if __name__ == "__main__":
    unittest.main()
