#!/usr/bin/env python3
"""The documentation's checks (`make book`): README excerpts, settings, the built book's links.

* ``excerpts``: every code block of README.md preceded by
  ``<!-- excerpt: PATH:ANCHOR -->`` is, line for line, the region of PATH
  between ``ANCHOR: name`` and ``ANCHOR_END: name`` (mdBook's anchor rules:
  lines holding other anchor markers are dropped). PATH is compiled code
  (an example), so the README shows code that builds. ``--fix`` rewrites the
  blocks from the files.
* ``settings``: every environment variable the configuration reads (the
  ``"UPPER_CASE"`` string literals of src/config/) is named in the book's
  configuration chapter.
* ``book DEST``: builds the book (docs/) with mdBook into DEST, fails on any
  ERROR line mdBook logs (an ``{{#include}}`` it could not resolve is only
  logged), then checks the HTML: every relative ``href``/``src`` names a file
  inside DEST, every ``#fragment`` an ``id`` of its target page, and no
  ``{{#...}}`` directive is left. External http(s) links are listed, never
  fetched. README.md's relative links must name files of the repository, and
  its links into docs/src/ anchors of the built chapters.
* ``security``: every test SECURITY.md names (``module::path::test_name``, or
  ``module::path::*`` for a module's tests) exists: a function of that name, or
  a source file or module of that name, in the repository's Rust code.
* ``all DEST``: the four above.

Standard library only. Exit 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import html.parser
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MDBOOK_PIN = "0.5.4"  # .ci/run installs this version
INSTALL = f"cargo install mdbook --locked --version {MDBOOK_PIN} --no-default-features"

# ---------------------------------------------------------------------------
# README excerpts
# ---------------------------------------------------------------------------

EXCERPT = re.compile(
    r"^<!-- excerpt: (?P<path>[^\s:]+):(?P<anchor>[\w-]+) -->\n"
    r"(?P<fence>```[^\n]*\n)(?P<body>.*?)^```$",
    re.M | re.S,
)
ANCHOR_MARK = re.compile(r"ANCHOR(?:_END)?:\s*[\w-]+")


def anchored(text: str, anchor: str) -> str | None:
    """The lines between `ANCHOR: anchor` and `ANCHOR_END: anchor`, as mdBook includes them."""
    start = re.compile(rf"ANCHOR:\s*{re.escape(anchor)}\b")
    end = re.compile(rf"ANCHOR_END:\s*{re.escape(anchor)}\b")
    out, inside = [], False
    for line in text.splitlines():
        if not inside:
            inside = bool(start.search(line))
            continue
        if end.search(line):
            return "\n".join(out)
        if not ANCHOR_MARK.search(line):
            out.append(line)
    return None


def check_excerpts(readme: str, root: Path, fix: bool = False) -> tuple[list[str], str]:
    """Problems, and the README with every excerpt rewritten from its file."""
    errors: list[str] = []

    def replace(m: re.Match) -> str:
        path, anchor = m.group("path"), m.group("anchor")
        source = root / path
        if not source.is_file():
            errors.append(f"README.md: excerpt of {path}: no such file")
            return m.group(0)
        region = anchored(source.read_text(encoding="utf-8"), anchor)
        if region is None:
            errors.append(f"README.md: excerpt of {path}: no ANCHOR {anchor} ... ANCHOR_END {anchor}")
            return m.group(0)
        body = m.group("body").rstrip("\n")
        if body != region:
            if not fix:
                errors.append(f"README.md: the block after <!-- excerpt: {path}:{anchor} --> is not "
                              f"that region of {path} (first difference at line "
                              f"{_first_difference(body, region)}); `{_fix_command()}` rewrites it")
            return m.group(0)[: m.start("body") - m.start()] + region + "\n```"
        return m.group(0)

    fixed = EXCERPT.sub(replace, readme)
    if not EXCERPT.search(readme):
        errors.append("README.md: no <!-- excerpt: PATH:ANCHOR --> block (the wiring example)")
    return errors, fixed


def _first_difference(a: str, b: str) -> int:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return i
    return min(len(la), len(lb)) + 1


def _fix_command() -> str:
    return "python3 scripts/check_docs.py excerpts --fix"


# ---------------------------------------------------------------------------
# Settings named in the configuration chapter
# ---------------------------------------------------------------------------

SETTING = re.compile(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"')


def settings_in(config_dir: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(config_dir.rglob("*.rs")):
        # Unit tests name variables of their own (the spec's substitution
        # examples): only the library's code reads settings.
        if path.name == "tests.rs":
            continue
        text = path.read_text(encoding="utf-8").split("#[cfg(test)]\nmod tests", 1)[0]
        names |= set(SETTING.findall(text))
    return names


def check_settings(names: set[str], chapter: str, chapter_name: str) -> list[str]:
    if not names:
        return ["src/config/: no setting found (moved? point scripts/check_docs.py at it)"]
    return [f"{chapter_name}: the setting {n} (read in src/config/) is not documented"
            for n in sorted(names) if n not in chapter]


# ---------------------------------------------------------------------------
# The tests SECURITY.md names
# ---------------------------------------------------------------------------

TEST_PATH = re.compile(r"`((?:[a-z_][a-z0-9_]*::)+(?:[a-z_][a-z0-9_]*|\*))`")
FN = re.compile(r"\bfn\s+([a-z_][a-z0-9_]*)")
MOD = re.compile(r"\bmod\s+([a-z_][a-z0-9_]*)")


def rust_names(root: Path) -> tuple[set[str], set[str]]:
    """Function names, and module names (files, directories, `mod` items), of the Rust code."""
    fns: set[str] = set()
    mods: set[str] = set()
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "target" and not d.startswith(".")]
        mods.update(dirnames)
        for name in files:
            if name.endswith(".rs"):
                mods.add(name[:-3])
                text = Path(dirpath, name).read_text(encoding="utf-8", errors="replace")
                fns.update(FN.findall(text))
                mods.update(MOD.findall(text))
    return fns, mods


def check_test_names(text: str, fns: set[str], mods: set[str], name: str) -> tuple[list[str], int]:
    """Problems, and how many test paths were checked."""
    errors, count = [], 0
    for path in sorted(set(TEST_PATH.findall(text))):
        if path.startswith(("wingspan::", "std::", "crate::")):
            continue  # an API path, not a test
        count += 1
        segments = path.split("::")
        if segments[-1] == "*":
            module = [s for s in segments[:-1] if s != "tests"][-1]
            if module not in mods:
                errors.append(f"{name}: `{path}`: no module {module!r} in the Rust code")
        elif segments[-1] not in fns:
            errors.append(f"{name}: `{path}`: no function {segments[-1]!r} in the Rust code "
                          f"(renamed? update {name})")
    return errors, count


# ---------------------------------------------------------------------------
# Links of the built book
# ---------------------------------------------------------------------------

class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, value)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif name in ("href", "src"):
                self.links.append((name, value))


def parse_page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


EXTERNAL = ("http:", "https:")
IGNORED_SCHEMES = ("mailto:", "data:")
# mdBook's 404 page resolves its links against `site-url` (/ by default), not its folder.
SKIPPED_PAGES = {"404.html"}


def check_links(dest: Path) -> tuple[list[str], list[str]]:
    """Problems, and the external links found (sorted, unique)."""
    dest = dest.resolve()
    pages = {p.resolve(): None for p in dest.rglob("*.html")}
    if not pages:
        return [f"{dest}: no HTML page (was the book built?)"], []
    parsed: dict[Path, _Page] = {}

    def page(p: Path) -> _Page:
        if p not in parsed:
            parsed[p] = parse_page(p)
        return parsed[p]

    errors: list[str] = []
    external: set[str] = set()
    for path in sorted(pages):
        rel = path.relative_to(dest)
        if rel.name in SKIPPED_PAGES:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"\{\{#\w+[^}]*\}\}", text):
            errors.append(f"{rel}: unresolved mdBook directive {m.group(0)}")
        for attr, link in page(path).links:
            if link.startswith(EXTERNAL):
                external.add(link)
                continue
            if link.startswith(IGNORED_SCHEMES):
                continue
            if re.match(r"^[a-z][a-z0-9+.-]*:", link, re.I) or link.startswith("//"):
                errors.append(f"{rel}: {attr}={link!r}: a scheme the book should not use")
                continue
            target_part, _, fragment = link.partition("#")
            target_part = urllib.parse.unquote(target_part.split("?", 1)[0])
            if target_part == "":
                target = path
            else:
                if target_part.startswith("/"):
                    errors.append(f"{rel}: {attr}={link!r}: absolute path (breaks under a sub-path)")
                    continue
                target = (path.parent / target_part).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if dest not in target.parents and target != dest:
                    errors.append(f"{rel}: {attr}={link!r}: points outside the book")
                    continue
                if not target.is_file():
                    errors.append(f"{rel}: {attr}={link!r}: no such file")
                    continue
            if fragment and target.suffix == ".html":
                if urllib.parse.unquote(fragment) not in page(target).ids:
                    errors.append(f"{rel}: {attr}={link!r}: no id {fragment!r} in "
                                  f"{target.relative_to(dest)}")
    return errors, sorted(external)


MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def check_readme_links(readme: str, root: Path, dest: Path | None) -> list[str]:
    """README.md's relative links name repository files; anchors into docs/src/ exist in the book."""
    errors = []
    text = re.sub(r"^```.*?^```", "", readme, flags=re.M | re.S)  # links in code are not links
    for m in MD_LINK.finditer(text):
        link = m.group(1) or m.group(2)
        if link.startswith(EXTERNAL + IGNORED_SCHEMES):
            continue
        target, _, fragment = link.partition("#")
        if not target:
            continue  # an anchor of the README itself: GitHub's slugs, not checked here
        path = (root / urllib.parse.unquote(target)).resolve()
        if root.resolve() not in path.parents:
            errors.append(f"README.md: link {link!r} points outside the repository")
            continue
        if not path.exists():
            errors.append(f"README.md: link {link!r}: no such file")
            continue
        src = (root / "docs" / "src").resolve()
        if fragment and dest is not None and src in path.parents and path.suffix == ".md":
            built = dest / path.relative_to(src).with_suffix(".html")
            if not built.is_file() or fragment not in parse_page(built).ids:
                errors.append(f"README.md: link {link!r}: no id {fragment!r} in the built chapter")
    return errors


def build_book(book_dir: Path, dest: Path) -> list[str]:
    mdbook = os.environ.get("MDBOOK", "mdbook")
    if shutil.which(mdbook) is None:
        return [f"mdbook not found ({mdbook}); install it with `{INSTALL}`"]
    version = subprocess.run([mdbook, "--version"], capture_output=True, text=True).stdout.strip()
    if MDBOOK_PIN not in version:
        print(f"check_docs: note: {version or mdbook}, the pinned version is {MDBOOK_PIN}",
              file=sys.stderr)
    if dest.exists():
        shutil.rmtree(dest)
    run = subprocess.run([mdbook, "build", str(book_dir), "--dest-dir", str(dest)],
                         capture_output=True, text=True)
    log = run.stdout + run.stderr
    errors = [f"mdbook: {line.strip()}" for line in log.splitlines() if re.search(r"\bERROR\b", line)]
    if run.returncode != 0 and not errors:
        errors.append(f"mdbook build exited {run.returncode}: {log.strip()[-2000:]}")
    return errors


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["excerpts", "settings", "security", "book", "all"])
    ap.add_argument("dest", nargs="?", help="where to build the book (book, all)")
    ap.add_argument("--fix", action="store_true", help="excerpts: rewrite README.md's blocks")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    root = args.root
    errors: list[str] = []
    notes: list[str] = []

    if args.what in ("excerpts", "all"):
        readme_path = root / "README.md"
        readme = readme_path.read_text(encoding="utf-8")
        found, fixed = check_excerpts(readme, root, fix=args.fix)
        errors += found
        if args.fix and fixed != readme:
            readme_path.write_text(fixed, encoding="utf-8")
            notes.append("README.md: excerpts rewritten")
        if not found:
            notes.append(f"{len(EXCERPT.findall(readme))} README excerpt(s) match their files")

    if args.what in ("settings", "all"):
        chapter_path = root / "docs" / "src" / "configuration.md"
        names = settings_in(root / "src" / "config")
        errors += check_settings(names, chapter_path.read_text(encoding="utf-8"),
                                 "docs/src/configuration.md")
        notes.append(f"{len(names)} settings of src/config/ documented in docs/src/configuration.md")

    if args.what in ("security", "all"):
        fns, mods = rust_names(root)
        found, count = check_test_names((root / "SECURITY.md").read_text(encoding="utf-8"),
                                        fns, mods, "SECURITY.md")
        errors += found
        notes.append(f"{count} tests named in SECURITY.md exist")
        for chapter in ("docs/src/conformance.md", "docs/src/vendors.md"):
            found, count = check_test_names((root / chapter).read_text(encoding="utf-8"),
                                            fns, mods, chapter)
            errors += found
            notes.append(f"{count} tests named in {chapter} exist")

    if args.what in ("book", "all"):
        if not args.dest:
            ap.error("book and all need DEST, the directory to build the book into")
        dest = Path(args.dest).resolve()
        built = build_book(root / "docs", dest)
        errors += built
        if not built:
            link_errors, external = check_links(dest)
            errors += link_errors
            errors += check_readme_links((root / "README.md").read_text(encoding="utf-8"), root, dest)
            pages = sum(1 for _ in dest.rglob("*.html"))
            notes.append(f"book built in {dest}: {pages} pages, every relative link and anchor resolves")
            notes.append(f"{len(external)} external links (listed, not fetched):")
            notes += [f"  {link}" for link in external]

    for e in errors:
        print(f"check_docs: {e}", file=sys.stderr)
    if errors:
        print(f"check_docs: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    for n in notes:
        print(f"check_docs: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
