#!/usr/bin/env python3
"""tests/test_profile.py - host tests for tools/profile's trace reader (scan, check).

Feeds scan() exec logs made up here, in QEMU 7.2's format, for a made-up
kernel and program whose rdinstret, report() and return-to-user addresses
are known, so every count the tests expect is known by construction: the
instructions that retire between two reads. Prints KTAP like the C suites.
"""
import collections
import importlib.machinery
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
loader = importlib.machinery.SourceFileLoader("profile_tool", os.path.join(HERE, "..", "tools", "profile"))
spec = importlib.util.spec_from_loader("profile_tool", loader)
prof = importlib.util.module_from_spec(spec)
loader.exec_module(prof)

KREAD, KSITE = 0xffffffff80200000, 0xffffffff8020c7a0      # the kernel's boot read; a return point
KSWITCH = 0xffffffff8020c800                                # arch_switch_done
R_OPEN, R_CLOSE = 0x7000010, 0x7000020                      # main's two reads
E_OPEN, E_CLOSE = 0x7000110, 0x7000120                      # empty_loop's two reads
B_OPEN, B_CLOSE = 0x7000210, 0x7000220                      # bare_thing's two reads
REPORT = 0x7000300


class Image:
    def __init__(self, name, syms, rdinstret=(), sites=(), switches=()):
        self.name, self.syms = name, syms
        self.rdinstret, self.sscratch_tp, self.switch_sites = set(rdinstret), set(sites), set(switches)
        self.lo, self.hi = min(s for s, _, _ in syms), max(e for _, e, _ in syms)

    def function(self, pc):
        return next((n for s, e, n in self.syms if s <= pc < e), "?")


class Syms:
    def __init__(self):
        self.kernel = Image("kernel", [(KREAD, KREAD + 0x100000, "k")], [KREAD], [KSITE], [KSWITCH])
        self.kvirt = self.kphys = KREAD
        prog = Image("bench", [(0x7000000, 0x7000100, "main"), (0x7000100, 0x7000200, "empty_loop"),
                               (0x7000200, 0x7000300, "bare_thing"), (REPORT, 0x7000400, "report")],
                     [R_OPEN, R_CLOSE, E_OPEN, E_CLOSE, B_OPEN, B_CLOSE])
        self.programs = [prog]

    def kernel_pc(self, pc):
        return pc

    def program(self, pc):
        return next((p for p in self.programs if p.lo <= pc < p.hi), None)


class Log:
    """Builds an exec log; `retired` counts what really ran."""

    def __init__(self):
        self.lines, self.retired = [], 0

    def insn(self, pc, mode, retires=True):
        self.lines.append(b"Trace 0: 0x7f0000001000 [0000000000000000/%016x/0020f00%d/ff020201] \n"
                          % (pc, mode))
        self.retired += retires

    def user(self, pc=0x7000040, k=1):
        for _ in range(k):
            self.insn(pc, 0)

    def kernel(self, k=1, pc=0xffffffff80201000):
        for _ in range(k):
            self.insn(pc, 1)

    def note(self, text):
        self.lines.append(text + b"\n")


def ret(log, returns, tp=0xffff800082200000, satp=0x9000100000082000):
    log.kernel(1, KSITE)
    returns.append((KSITE, tp, satp))


def boot_and_first_report(log, returns):
    """The boot window: from the kernel's read to the program's first read; then report()."""
    log.kernel(1, KREAD)
    start = log.retired - 1
    log.kernel(5)
    ret(log, returns)
    log.user(k=3)
    end = log.retired
    log.user(pc=R_CLOSE)            # the first user read closes the boot window
    log.user(pc=REPORT)
    return end - start


results = []


def case(name, ok, why=""):
    results.append((name, ok, why))


def scan(log, returns):
    return prof.scan(iter(log.lines), Syms(), returns, attribute=True, boot_too=False)


def t_windows_and_undo():
    log, returns = Log(), []
    boot = boot_and_first_report(log, returns)
    # The measured window: every instruction from its opening read, through a system
    # call into the kernel and back, to its closing read.
    log.user(pc=R_OPEN)
    start = log.retired - 1
    log.user(k=2)
    log.insn(0x7000044, 0, retires=False)
    log.note(b"Stopped execution of TB chain before 0x7f0000001000 [0000000007000044]")
    log.user(0x7000044)             # the same instruction, run this time
    log.user(k=1)
    log.note(b"riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000008, "
             b"epc:0x0000000007000048, tval:0x0, desc=u_ecall")
    log.kernel(4)
    log.insn(0xffffffff80209ef6, 1, retires=False)
    log.note(b"cpu_io_recompile: rewound execution of TB to ffffffff80209ef6")
    log.kernel(1, 0xffffffff80209ef6)
    ret(log, returns)
    log.insn(0x7000050, 0, retires=False)
    log.note(b"riscv_cpu_do_interrupt: hart:0, async:0, cause:000000000000000f, "
             b"epc:0x0000000007000050, tval:0x10000, desc=store_page_fault")
    log.kernel(7)
    ret(log, returns)
    log.user(0x7000050)
    op = log.retired - start
    log.user(pc=R_CLOSE)
    # A bare loop: its two reads in empty_loop, no system call between.
    log.user(pc=E_OPEN)
    e_start = log.retired - 1
    log.user(k=6)
    bare = log.retired - e_start
    log.user(pc=E_CLOSE)
    log.user(pc=REPORT)
    log.user(k=2)
    groups, counts, first_pc, n = scan(log, returns)
    case("scan.two_figures", len(groups) == 2, f"{len(groups)} groups")
    rows = prof.check(groups, [("boot_to_hello", boot, 1), ("fig", op - bare, 1)], {})
    case("scan.boot_window_from_kernel_read", rows[0][2] == boot,
         f"trace {rows[0][2]}, built {boot}")
    case("scan.window_minus_bare_without_undone",
         rows[1][2] == op - bare, f"trace {rows[1][2]}, built {op - bare}")
    case("scan.counts_retired_only", n == log.retired,
         f"{n} != {log.retired}")
    ok, note = prof.verdict(*rows[1][:4], rows[1][4])
    case("verdict.equal_passes", ok, note)
    ok, note = prof.verdict("fig", op - bare + 1, rows[1][2], 1, "")
    case("verdict.one_off_fails", not ok, note)
    # Attribution covers the measured window only (the bare loop and the rest are out).
    case("scan.attribution_is_the_window", sum(counts.values()) == op,
         f"{sum(counts.values())} != {op}")


def t_bare_with_syscall():
    """A 'bare' loop that enters the kernel by ecall is refused: the old IPC base was one."""
    log, returns = Log(), []
    boot_and_first_report(log, returns)
    log.user(pc=R_OPEN)
    log.user(k=3)
    log.user(pc=R_CLOSE)
    log.user(pc=B_OPEN)
    log.user(k=1)
    log.note(b"riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000008, "
             b"epc:0x0000000007000214, tval:0x0, desc=u_ecall")
    log.kernel(10)
    ret(log, returns)
    log.user(pc=B_CLOSE)
    log.user(pc=REPORT)
    groups, _, _, _ = scan(log, returns)
    rows = prof.check(groups, [("boot_to_hello", 0, 1), ("fig", 0, 1)], {})
    case("check.bare_window_with_syscall", "system call" in rows[1][4], rows[1][4])


def t_desync():
    """The register run must see the same returns to user mode, in the same order."""
    log, returns = Log(), []
    boot_and_first_report(log, returns)
    ret(log, returns)
    log.user(k=2)
    try:
        scan(log, returns[:-1])
        case("scan.missing_return", False, "no error")
    except prof.Desync:
        case("scan.missing_return", True)
    try:
        scan(log, returns + [(KSITE, 1, 2)])
        case("scan.extra_return", False, "no error")
    except prof.Desync:
        case("scan.extra_return", True)


def t_groups_vs_lines():
    log, returns = Log(), []
    boot_and_first_report(log, returns)
    groups, _, _, _ = scan(log, returns)
    try:
        prof.check(groups, [], {})
        case("check.reports_pair_with_raw_lines", False, "no error")
    except prof.Desync:
        case("check.reports_pair_with_raw_lines", True)


def t_kernel_switch():
    """
    A thread that blocks in a system call and goes on in the kernel later is
    credited with the rest of its call, not the thread that ran last: the
    switch inside the kernel (arch_switch_done, tp the thread going on) moves
    the attribution to a thread seen in user mode before.
    """
    log, returns = Log(), []
    TA, TB, SAT = 0xffff800082200000, 0xffff800082300000, 0x9000100000082000
    boot_and_first_report(log, returns)             # thread A (TA) runs main
    pc = lambda v: f"{v:016x}".encode()
    X1, X2, X4, X5 = (0xffffffff80201100 + 0x10 * i for i in range(4))
    def switch(tp):
        log.kernel(1, KSWITCH)
        returns.append((KSWITCH, tp, SAT))
    log.user(pc=R_OPEN)                             # A's window opens
    log.kernel(2, X1)                               # A's call, until it blocks
    switch(0xffff800099990000)                      # to a thread never seen in user mode: still A's
    log.kernel(1, X1)
    ret(log, returns, tp=TB, satp=SAT)              # B runs
    log.user(pc=0x7000060, k=3)
    log.kernel(5, X2)                               # B's call
    switch(TA)                                      # A goes on where it blocked
    log.kernel(6, X5)
    ret(log, returns, tp=TA, satp=SAT)
    log.user(pc=R_CLOSE)
    log.user(pc=REPORT)
    _, counts, _, _ = scan(log, returns)
    by = collections.Counter()
    for (t, mode, p), c in counts.items():
        by[(t[0], p)] += c
    case("scan.switch_credits_the_thread_going_on",
         by[(TA, pc(X5))] == 6 and by[(TB, pc(X5))] == 0, f"{dict(by)}")
    case("scan.switch_to_unknown_keeps_the_thread", by[(TA, pc(X1))] == 3, f"{dict(by)}")
    case("scan.blocked_thread_time_is_the_runner's", by[(TB, pc(X2))] == 5 and by[(TB, pc(0x7000060))] == 3,
         f"{dict(by)}")


def t_raw_lines():
    raws, units = prof.raw_figures("junk\r\nbench ipc_rt_regs 357 insn/rt\nbench-raw ipc_rt_regs 714000 2000\n"
                                   "bench ipc_fastpath_share 87.488 percent\n")
    case("raw_figures.lines_and_units", raws == [("ipc_rt_regs", 714000, 2000)]
         and units == {"ipc_rt_regs": "insn/rt", "ipc_fastpath_share": "percent"}, f"{raws} {units}")
    case("verdict.rdinstret_check_is_1000",
         not prof.verdict("rdinstret_check", 1001, 1001, 1, "")[0])


def t_lines_of():
    """--lines: one function's counts per instruction, kernel or user, summed over threads."""
    syms = Syms()
    syms.kernel.syms = [(KREAD, KREAD + 0x100, "k"), (KREAD + 0x100, KREAD + 0x200, "other")]
    t1, t2 = ("tp1", "satp1", "bench"), ("tp2", "satp2", "bench")
    pc = lambda v: f"{v:016x}".encode()
    counts = {(t1, 1, pc(KREAD + 8)): 3, (t2, 1, pc(KREAD + 8)): 2, (t1, 1, pc(KREAD + 0x104)): 7,
              (t1, 0, pc(0x7000040)): 5, (t2, 0, pc(0x7000044)): 1, (t1, 0, pc(0x7000140)): 9}
    k = prof.lines_of(syms, "k", counts)
    main_fn = prof.lines_of(syms, "main", counts)
    case("lines_of.kernel_function", k == {("kernel", KREAD + 8): 5}, f"{k}")
    case("lines_of.user_function", main_fn == {("bench", 0x7000040): 5, ("bench", 0x7000044): 1}, f"{main_fn}")
    case("lines_of.none", prof.lines_of(syms, "absent", counts) == {})


def main():
    for t in (t_windows_and_undo, t_bare_with_syscall, t_desync, t_groups_vs_lines, t_kernel_switch, t_raw_lines,
              t_lines_of):
        try:
            t()
        except Exception as e:          # a crash is a failed case, not a lost stream
            case(t.__name__, False, f"{type(e).__name__}: {e}")
    print("KTAP version 1")
    print(f"1..{len(results)}")
    failed = 0
    for i, (name, ok, why) in enumerate(results, 1):
        print(f"ok {i} - profile.{name}" if ok else f"not ok {i} - profile.{name} # {why}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
