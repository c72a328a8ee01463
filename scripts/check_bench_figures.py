#!/usr/bin/env python3
"""Every figure in README.md's "Performance" section is quoted from BENCHMARKS.md.

A figure is a number with a unit or a ratio (`+1.55 µs`, `7 369 instructions`,
`×1.12`, `35 ns`): each must appear, as written, in BENCHMARKS.md (goals written
`≤ 50 ns` are not figures), which
`make bench` writes from one commit. `make test` runs this so the README cannot
drift from the measurements. Exit 1 with the figures not found.
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
    bench = normalise(benchmarks)
    bench_compact = bench.replace(" ", "")
    out = []
    text = section(readme, "Performance")
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
    readme = (root / "README.md").read_text(encoding="utf-8")
    benchmarks = (root / "BENCHMARKS.md").read_text(encoding="utf-8")
    if not section(readme, "Performance").strip():
        print("check_bench_figures: README.md has no '## Performance' section")
        return 1
    gone = missing(readme, benchmarks)
    for f in gone:
        print(f"check_bench_figures: README Performance quotes {f!r}, not in BENCHMARKS.md")
    return 1 if gone else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
