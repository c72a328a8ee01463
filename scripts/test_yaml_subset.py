"""Tests of scripts/yaml_subset.py.

Run from the repository root: python3 -m unittest discover -s scripts -p 'test_*.py'
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml_subset as ys  # noqa: E402


class YamlSubsetTest(unittest.TestCase):
    def test_scalars_and_collections(self):
        doc = ys.parse_yaml('''\
a: plain text # comment
b: "quoted: \\"x\\" # not a comment"
c: 'it''s'
d: [1, 2.5, "three", true, four]
e:
- x
- k: v
  l:
    - 1
f: |
  line one
  # kept

  line three
g: >-
  folded
  text

  paragraph
h:
''')
        self.assertEqual(doc, {
            "a": "plain text", "b": 'quoted: "x" # not a comment', "c": "it's",
            "d": [1, 2.5, "three", True, "four"], "e": ["x", {"k": "v", "l": [1]}],
            "f": "line one\n# kept\n\nline three\n", "g": "folded text\nparagraph", "h": None})

    def test_rejects_what_it_does_not_support(self):
        for text, fragment in [
            ("a: b\n  c\n", "multi-line plain scalars"),
            ("a: 1\na: 2\n", "duplicate key"),
            ("a:\n\t- b\n", "tab indentation"),
            ("a: &x 1\n", "anchors"),
            ("a: [1,\n  2]\n", "flow sequence must end on its line"),
            ("a: b: c\n", "quote a plain scalar"),
            ("a:\n  - b\n    c: d\n", "multi-line plain scalars"),
            ("a:\n  b:\n    - 1\n  - 2\n", "unexpected indentation"),
        ]:
            with self.subTest(text=text):
                with self.assertRaises(ys.YamlError) as ctx:
                    ys.parse_yaml(text)
                self.assertIn(fragment, str(ctx.exception))

    def test_the_registry_reads_as_pyyaml_reads_it(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("PyYAML is not installed")
        folder = os.path.join(HERE, "..", "semconv")
        for name in sorted(os.listdir(folder)):
            if name.endswith(".yaml"):
                with self.subTest(file=name):
                    with open(os.path.join(folder, name), encoding="utf-8") as f:
                        text = f.read()
                    self.assertEqual(ys.parse_yaml(text), yaml.safe_load(text))


if __name__ == "__main__":
    unittest.main()
