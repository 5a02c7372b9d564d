#!/usr/bin/env python3
"""tests/test_trace_json.py - host tests for tools/trace-json (make trace's converter and checker).

Feeds made-up "ktrace:" dumps, in the trace kernel's format, to the
converter, and made-up trace documents to the checker, so that what each
must find (or refuse) is known by construction. Prints KTAP like the C suites.
"""
import os
import sys

from pyktap import Cases, load_tool

HERE = os.path.dirname(os.path.abspath(__file__))
tj = load_tool("trace_json", "trace-json")

SYSCALLS = {0x100: "ipc_call", 0x101: "ipc_receive", 0x103: "ipc_reply_receive", 7: "process_exit"}
OPS = {7: "FS_OP_WRITE"}


def name_words(name):
    raw = name.encode().ljust(16, b"\0")
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")


def line(typ, tid, instret, a=0, b=0, c=0, d=0):
    return "ktrace: %d %d %x %x %x %x %x %x" % (typ, tid, instret, instret // 100, a, b, c, d)


def hello_dump():
    """init (tid 2) calls fsd (tid 3, waiting in receive) with FS_OP_WRITE; fsd replies 13."""
    init, fsd = name_words("init"), name_words("fsd")
    return ["noise before the dump",
            "ktrace: begin 11 events, 0 overwritten, timebase 10000000 Hz, 43 instructions an event",
            line(1, 2, 100, 1, *init), line(1, 3, 110, 2, *fsd),
            line(3, 3, 200, 0x101, 5),                  # fsd: receive
            line(2, 3, 210, 2),                         # fsd blocks, init runs
            line(3, 2, 300, 0x100, 9),                  # init: call
            line(5, 2, 320, 2, 3, 0xffffffc000001000, 7),   # deliver init -> fsd, word 0 = FS_OP_WRITE
            line(2, 2, 330, 3),
            line(4, 3, 400, 0x101, 0x208),              # fsd's receive returns
            line(3, 3, 500, 0x103, 0x208),              # fsd: reply and receive
            line(6, 3, 520, 3, 2, 0xffffffc000002000, 13),  # reply fsd -> init
            line(4, 2, 600, 0x100, 0),                  # init's call returns
            "ktrace: end"]


cases = Cases("trace_json")
case = cases.case


def run():
    header, events = tj.parse_log(hello_dump())
    case("parse.between_markers", len(events) == 11 and "11 events" in header)
    trace = tj.convert(events, SYSCALLS, OPS)
    problems, _ = tj.check(trace)
    case("convert.clean", problems == [], "; ".join(problems))
    trips = tj.round_trips(trace, "init", "fsd", "FS_OP_WRITE")
    case("convert.round_trip", len(trips) == 1)
    flows = [e for e in trace["traceEvents"] if e["ph"] in "sf"]
    case("convert.flow_inside_slice",
         any(e["ph"] == "f" and e["tid"] == 3 and abs(e["ts"] - 0.399) < 1e-9 for e in flows))
    case("convert.unfinished_closed",
         any(e["ph"] == "E" and e["tid"] == 3 and e.get("args", {}).get("unfinished") for e in trace["traceEvents"]))
    case("round_trip.other_op_absent", tj.round_trips(trace, "init", "fsd", "FS_OP_READ") == [])

    wrapped = hello_dump()
    wrapped[1] = wrapped[1].replace(" 0 overwritten", " 7 overwritten")
    wrapped[2:8] = [line(4, 3, 150, 0x101, 0)]      # the ring lost the names and the receive's begin
    header, events = tj.parse_log(wrapped)
    problems, _ = tj.check(tj.convert(events, SYSCALLS, OPS, whole=False))
    case("convert.wrapped_ring", problems == [], "; ".join(problems))
    broken = hello_dump()
    broken.insert(4, line(8, 3, 205, 0))            # a fault's end with no fault begun, in a whole ring
    header, events = tj.parse_log(broken)
    problems, _ = tj.check(tj.convert(events, SYSCALLS, OPS, whole=True))
    case("check.kernel_events_must_nest", any("do not nest" in p for p in problems), "; ".join(problems))
    masked = hello_dump()
    masked[7] = line(5, 2, 320, 2, 3, 0xffffffc000001000, 7 | 1 << 8)     # FS_PATH_INLINE set
    header, events = tj.parse_log(masked)
    names = {e["name"] for e in tj.convert(events, SYSCALLS, OPS)["traceEvents"]}
    case("convert.op_flags_masked", "call FS_OP_WRITE" in names, repr(sorted(names)))

    base = [{"name": "thread_name", "ph": "M", "ts": 0, "pid": 1, "tid": 2, "args": {"name": "init (tid 2)"}}]
    bad = {"traceEvents": base + [{"name": "x", "ph": "B", "ts": 1, "pid": 1, "tid": 2}]}
    case("check.begin_without_end", any("never ends" in p for p in tj.check(bad)[0]))
    bad = {"traceEvents": base + [{"name": "x", "ph": "B", "ts": 1, "pid": 1, "tid": 2},
                                  {"name": "y", "ph": "E", "ts": 2, "pid": 1, "tid": 2}]}
    case("check.end_mismatch", any("closes" in p for p in tj.check(bad)[0]))
    bad = {"traceEvents": base + [{"name": "c", "ph": "s", "ts": 1, "pid": 1, "tid": 2, "id": 1}]}
    case("check.flow_unfinished", any("has only s" in p for p in tj.check(bad)[0]))
    bad = {"traceEvents": base + [{"name": "c", "ph": "s", "ts": 3, "pid": 1, "tid": 2, "id": 1},
                                  {"name": "c", "ph": "f", "ts": 2, "pid": 1, "tid": 2, "id": 1}]}
    case("check.flow_backwards", any("before it starts" in p for p in tj.check(bad)[0]))
    bad = {"traceEvents": base + [{"name": "x", "ph": "i", "pid": 1, "tid": 2}]}
    case("check.missing_field", any("lacks ts" in p for p in tj.check(bad)[0]))
    try:
        tj.parse_log(hello_dump()[:-1])
        case("parse.cut_off", False, "no error")
    except SystemExit:
        case("parse.cut_off", True)

    names = tj.enum_names([os.path.join(HERE, "..", "include", "kestrel", "syscall.h")], "KS_SYS_")
    case("names.syscalls",
         names.get(0) == "KS_SYS_NULL" and names.get(0x100) == "KS_SYS_IPC_CALL" and
         names.get(0x103) == "KS_SYS_IPC_REPLY_RECEIVE")


def main():
    cases.run(run)
    return cases.report()


if __name__ == "__main__":
    sys.exit(main())
