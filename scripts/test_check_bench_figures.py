import unittest

from check_bench_figures import missing, missing_in

BENCH = "| wingspan | 1.55 µs | +7 369 | ×1.12 |\n| stats | 35 ns |\n| tower | +18192 | 1.086 |\n"


class Figures(unittest.TestCase):
    def readme(self, body):
        return f"# x\n## Performance\n{body}\n## Reliability\n+9.9 µs here is not checked\n"

    def test_quoted_figures_pass(self):
        self.assertEqual(missing(self.readme("adds +1.55 µs (7 369 instructions? no: +7 369) and 35 ns, ×1.12"), BENCH + "7 369 instructions"), [])

    def test_a_figure_not_in_benchmarks_fails(self):
        self.assertEqual(missing(self.readme("adds 1.4 µs"), BENCH), ["1.4 µs"])

    def test_other_sections_are_not_checked(self):
        self.assertEqual(missing(self.readme("nothing"), BENCH), [])

    def test_bare_numbers_of_ratios_and_instruction_counts_are_found(self):
        self.assertEqual(missing(self.readme("×1.086 and 18192 instructions"), BENCH), [])
        self.assertEqual(missing(self.readme("18193 instructions"), BENCH), ["18193 instructions"])

    def test_goals_are_not_figures(self):
        self.assertEqual(missing(self.readme("the target ≤ 50 ns was met"), BENCH), [])

    def test_the_chapter_is_checked_whole(self):
        self.assertEqual(missing_in("# Performance\nadds 1.55 µs\n## Later\nand 1.4 µs", BENCH), ["1.4 µs"])

    def test_ratio_must_match(self):
        self.assertEqual(missing(self.readme("×1.13"), BENCH), ["×1.13"])


if __name__ == "__main__":
    unittest.main()
