#!/usr/bin/env python3
"""tests/test_check_readme.py - host tests for tools/check-readme's figure quotes and tools/chart.

make readme-check (run by CI after make bench) compares every figure README
quotes with build/bench.txt. These cases feed its quote finder made-up text
whose right answers are known, including quotes it must refuse, and check
that the chart is a pure function of its inputs. Prints KTAP like the C suites.
"""
import os
import sys
import tempfile

from pyktap import Cases, load_tool

cr = load_tool("check_readme", "check-readme")
chart = load_tool("chart", "chart")

FIGURES = {"ipc_rt_regs": ("357", "insn/rt"), "posix_stat": ("1776", "insn/op"),
           "memobj_read_1m": ("0.280", "insn/byte"), "ipc_fastpath_share": ("87.488", "percent"),
           "sh_loop_1000": ("16948914", "insn/op"), "ext2_unlink": ("15386", "insn/file")}
cases = Cases("check_readme")
case = cases.case


def wrong(text):
    """The quotes in text that disagree with FIGURES, as (name, number)."""
    return [(n, q) for n, q, _ in cr.quotes(text, FIGURES) if not cr.quote_agrees(n, q, *FIGURES[n])]


def run():
    text = ("A round trip is 357 instructions (``ipc_rt_regs``), and ``posix_stat`` is\n"
            "1,776; ``memobj_read_1m``: 0.280 a byte; 87 % (``ipc_fastpath_share``) of calls;\n"
            "the loop is 16,948,914 (``sh_loop_1000``).")
    found = cr.quotes(text, FIGURES)
    case("quotes.both_forms_found", len(found) == 5, repr(found))
    case("quotes.right_ones_pass", wrong(text) == [], repr(wrong(text)))
    case("quotes.wrong_number_refused",
         wrong("a round trip is 420 instructions (``ipc_rt_regs``)") == [("ipc_rt_regs", "420")])
    case("quotes.wrong_after_name_refused", wrong("``posix_stat`` is 1,717 now") == [("posix_stat", "1,717")])
    case("quotes.across_a_line_break", wrong("is 358\ninstructions (``ipc_rt_regs``)") == [("ipc_rt_regs", "358")])
    case("quotes.nearest_number_counts",
         wrong("1,776 instructions for 4 KiB (``posix_stat``)") == [("posix_stat", "4")],
         "a number further back than the nearest must not be taken for the quote")
    case("quotes.percent_rounded", wrong("88 % (``ipc_fastpath_share``)") == [("ipc_fastpath_share", "88")])
    case("quotes.decimals_compared_as_numbers", wrong("0.28 (``memobj_read_1m``)") == [])
    case("quotes.history_not_a_quote", cr.quotes("``ipc_rt_regs`` was printed as 189", FIGURES) == [])
    case("quotes.unknown_names_ignored", cr.quotes("12 (``no_such_figure``)", FIGURES) == [])
    case("quotes.disk_figure_within_one_percent", wrong("``ext2_unlink`` is 15,500") == [],
         "a figure that waits for the disk may differ from run to run by under 1 %")
    case("quotes.disk_figure_off_refused", wrong("``ext2_unlink`` is 15,600") == [("ext2_unlink", "15,600")])
    case("quotes.others_stay_exact", wrong("``sh_loop_1000`` is 16,948,915") == [("sh_loop_1000", "16,948,915")])
    case("quotes.longer_number_not_cut", wrong("``posix_stat`` is 1,776,000") == [("posix_stat", "1,776,000")])

    linux = [("ipc_rt_regs", 7156.0, "futex"), ("posix_stat", 2564.0, "stat")]
    bench = {k: (float(v), u) for k, (v, u) in FIGURES.items()}
    rows, missing = chart.pairs(bench, linux)
    one, two = chart.svg(rows), chart.svg(rows)
    case("chart.deterministic", one == two and one.startswith("<svg"))
    case("chart.one_row_per_linux_figure", one.count("font-family=\"monospace\"") == 2 and missing == [])
    bench["posix_stat"] = (1777.0, "insn/op")
    case("chart.changes_with_a_figure", chart.svg(chart.pairs(bench, linux)[0]) != one)
    del bench["posix_stat"]
    case("chart.missing_figure_named", chart.pairs(bench, linux)[1] == ["posix_stat"])
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        f.write("# comment\n\nipc_rt_regs\t7156\tfutex ping-pong\n")
    case("chart.reads_its_table", chart.read_linux(f.name) == [("ipc_rt_regs", 7156.0, "futex ping-pong")])
    os.unlink(f.name)


def main():
    cases.run(run)
    return cases.report()


if __name__ == "__main__":
    sys.exit(main())
