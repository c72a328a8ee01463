import tempfile
import unittest
from pathlib import Path

import check_docs as cd

SOURCE = """\
//! doc
// ANCHOR: main
use a;
fn main() {
    // ANCHOR: inner
    call();
    // ANCHOR_END: inner
}
// ANCHOR_END: main
"""


def readme(body):
    return f"# x\n\n<!-- excerpt: ex.rs:main -->\n```rust,ignore\n{body}```\n\nafter\n"


class Excerpts(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)
        (self.root / "ex.rs").write_text(SOURCE, encoding="utf-8")

    def tearDown(self):
        self.dir.cleanup()

    def test_anchored_drops_nested_markers_as_mdbook_does(self):
        self.assertEqual(cd.anchored(SOURCE, "main"), "use a;\nfn main() {\n    call();\n}")
        self.assertEqual(cd.anchored(SOURCE, "inner"), "    call();")
        self.assertIsNone(cd.anchored(SOURCE, "absent"))

    def test_a_block_equal_to_its_region_passes(self):
        errors, _ = cd.check_excerpts(readme("use a;\nfn main() {\n    call();\n}\n"), self.root)
        self.assertEqual(errors, [])

    def test_a_changed_block_fails_and_fix_rewrites_it(self):
        stale = readme("use a;\nfn main() {\n    old();\n}\n")
        errors, fixed = cd.check_excerpts(stale, self.root)
        self.assertEqual(len(errors), 1)
        self.assertIn("first difference at line 3", errors[0])
        errors, fixed = cd.check_excerpts(stale, self.root, fix=True)
        self.assertEqual(errors, [])
        self.assertEqual(fixed, readme("use a;\nfn main() {\n    call();\n}\n"))
        self.assertEqual(cd.check_excerpts(fixed, self.root)[0], [])

    def test_a_missing_file_or_anchor_fails(self):
        text = readme("x\n").replace("ex.rs:main", "gone.rs:main")
        self.assertIn("no such file", cd.check_excerpts(text, self.root)[0][0])
        text = readme("x\n").replace("ex.rs:main", "ex.rs:nope")
        self.assertIn("no ANCHOR nope", cd.check_excerpts(text, self.root)[0][0])

    def test_a_readme_without_excerpt_fails(self):
        self.assertEqual(len(cd.check_excerpts("# x\n", self.root)[0]), 1)


class Settings(unittest.TestCase):
    def test_every_setting_read_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "a.rs").write_text('get("DB_POOL_SIZE"); get("OTEL_BSP_MAX_QUEUE_SIZE"); "x"; "ONE"',
                                       encoding="utf-8")
            names = cd.settings_in(Path(d))
        self.assertEqual(names, {"DB_POOL_SIZE", "OTEL_BSP_MAX_QUEUE_SIZE"})
        self.assertEqual(cd.check_settings(names, "`DB_POOL_SIZE` ...", "c.md"),
                         ["c.md: the setting OTEL_BSP_MAX_QUEUE_SIZE (read in src/config/) is not documented"])

    def test_no_setting_found_fails(self):
        self.assertEqual(len(cd.check_settings(set(), "", "c.md")), 1)


class TestNames(unittest.TestCase):
    def test_functions_and_modules_must_exist(self):
        fns, mods = {"a_test", "literal"}, {"admin", "serve"}
        text = ("`health::admin::*`, `http::serve::tests::*`, `x::a_test`, `wingspan::llm::fake`, "
                "`health::gone::*`, `x::renamed_test`, `Pool::as_user`")
        errors, count = cd.check_test_names(text, fns, mods, "S.md")
        self.assertEqual(count, 5)
        self.assertEqual(errors, [
            "S.md: `health::gone::*`: no module 'gone' in the Rust code",
            "S.md: `x::renamed_test`: no function 'renamed_test' in the Rust code (renamed? update S.md)",
        ])


PAGE = """<html><head><link href="css/a.css"></head><body>
<h1 id="top">T</h1><a href="b.html#here">b</a><a href="#top">self</a>
<a href="https://example.org/x">ext</a><img src="img/p.png"><a href="mailto:a@b">m</a>
</body></html>"""


class Links(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.dest = Path(self.dir.name) / "book"
        (self.dest / "css").mkdir(parents=True)
        (self.dest / "img").mkdir()
        (self.dest / "css" / "a.css").write_text("", encoding="utf-8")
        (self.dest / "img" / "p.png").write_bytes(b"")
        (self.dest / "b.html").write_text('<p id="here">b</p>', encoding="utf-8")
        # Its links resolve against the site root, not its folder: not checked.
        (self.dest / "404.html").write_text('<a href="nowhere.html">x</a>', encoding="utf-8")

    def tearDown(self):
        self.dir.cleanup()

    def check(self, page):
        (self.dest / "a.html").write_text(page, encoding="utf-8")
        return cd.check_links(self.dest)

    def test_a_good_book_passes_and_lists_external_links(self):
        self.assertEqual(self.check(PAGE), ([], ["https://example.org/x"]))

    def test_a_missing_file_fails(self):
        errors, _ = self.check(PAGE.replace("img/p.png", "img/q.png"))
        self.assertEqual(errors, ["a.html: src='img/q.png': no such file"])

    def test_a_missing_anchor_fails_in_another_page_and_in_the_same(self):
        errors, _ = self.check(PAGE.replace("b.html#here", "b.html#there").replace("#top", "#bottom"))
        self.assertEqual(errors, ["a.html: href='b.html#there': no id 'there' in b.html",
                                  "a.html: href='#bottom': no id 'bottom' in a.html"])

    def test_a_link_outside_the_book_fails(self):
        errors, _ = self.check(PAGE.replace("b.html#here", "../README.md"))
        self.assertEqual(errors, ["a.html: href='../README.md': points outside the book"])

    def test_an_unresolved_include_fails(self):
        errors, _ = self.check(PAGE.replace("<h1", "{{#include ../x.rs:main}}<h1"))
        self.assertEqual(errors, ["a.html: unresolved mdBook directive {{#include ../x.rs:main}}"])

    def test_readme_links(self):
        root = Path(self.dir.name)
        (root / "docs" / "src").mkdir(parents=True)
        (root / "docs" / "src" / "b.md").write_text("# b\n", encoding="utf-8")
        (root / "LICENSE").write_text("", encoding="utf-8")
        text = ("[l](LICENSE) [b](docs/src/b.md#here) [w](https://x.org) [self](#a)\n"
                "```sh\n[not a link](gone.md)\n```\n")
        self.assertEqual(cd.check_readme_links(text, root, self.dest), [])
        bad = "[g](gone.md) [b](docs/src/b.md#there) [o](../outside.md)"
        self.assertEqual(cd.check_readme_links(bad, root, self.dest), [
            "README.md: link 'gone.md': no such file",
            "README.md: link 'docs/src/b.md#there': no id 'there' in the built chapter",
            "README.md: link '../outside.md' points outside the repository",
        ])


if __name__ == "__main__":
    unittest.main()
