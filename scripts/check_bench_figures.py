#!/usr/bin/env python3
"""Every figure of the book's Performance chapter is quoted from BENCHMARKS.md.

A figure is a number with a unit or a ratio (`+1.55 µs`, `7 369 instructions`,
`×1.12`, `35 ns`): each must appear, as written, in BENCHMARKS.md (goals written
`≤ 50 ns` are not figures), which
`make bench` writes from one commit. `make test` runs this so the docs cannot
drift from the measurements. It reads docs/src/performance.md whole, and the
"## Performance" section of README.md when it has one. Exit 1 with the figures
not found.
"""

import re
import sys
from pathlib import Path

FIGURE = re.compile(
    r"[+−-]?\d[\d  ]*(?:[.,]\d+)?\s?(?:µs|ns|ms|instructions|%)"
    r"|×\s?\d+(?:\.\d+)?"
)


def section(text, title):
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return m.group(1) if m else ""


def normalise(figure):
    # Thin and non-breaking spaces inside numbers, and the unicode minus.
    return re.sub(r"[  ]", " ", figure).replace("−", "-").strip()


def missing(readme, benchmarks):
    """Figures of README-style text's "## Performance" section not in BENCHMARKS.md."""
    return missing_in(section(readme, "Performance"), benchmarks)


def missing_in(text, benchmarks):
    """Figures of `text` (all of it) not in BENCHMARKS.md."""
    bench = normalise(benchmarks)
    bench_compact = bench.replace(" ", "")
    out = []
    for m in FIGURE.finditer(text):
        fig = m.group(0)
        # A goal (`≤ 50 ns`, `≥ 0.97`) is not a measurement.
        if text[max(0, m.start() - 2) : m.start()].strip() in ("≤", "≥", "<", ">"):
            continue
        f = normalise(fig).lstrip("+")
        if f not in bench and f.replace(" ", "") not in bench_compact:
            # A ratio (×1.09) or an instruction count (7837 instructions) is
            # written in BENCHMARKS.md's tables as the bare number.
            number = re.sub(r"[^\d.\-]", "", f.replace("instructions", ""))
            bare = f.startswith("×") or f.endswith("instructions")
            if bare and re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", bench_compact):
                continue
            out.append(fig.strip())
    return out


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    benchmarks = (root / "BENCHMARKS.md").read_text(encoding="utf-8")
    chapter_path = root / "docs" / "src" / "performance.md"
    if not chapter_path.is_file():
        print("check_bench_figures: docs/src/performance.md is missing")
        return 1
    chapter = chapter_path.read_text(encoding="utf-8")
    if not FIGURE.search(chapter):
        print("check_bench_figures: docs/src/performance.md quotes no figure")
        return 1
    gone = [("docs/src/performance.md", f) for f in missing_in(chapter, benchmarks)]
    readme = (root / "README.md").read_text(encoding="utf-8")
    gone += [("README.md Performance", f) for f in missing(readme, benchmarks)]
    for where, f in gone:
        print(f"check_bench_figures: {where} quotes {f!r}, not in BENCHMARKS.md")
    return 1 if gone else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
