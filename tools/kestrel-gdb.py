# tools/kestrel-gdb.py - gdb commands for kestrel's own structures, and the
# process a breakpoint stopped in. tools/gdb-run sources it.
#
#   $ks_pid()             the pid of the process running now (0: a kernel thread)
#   $ks_in("fsd")         1 if the running process is called fsd: a breakpoint
#                         condition, since one program can run in many processes
#                         and musl_emu is linked into every musl program
#   ks-ps                 every process not yet dead: pid, parent, state, name, threads
#   ks-threads            every thread of those: tid, process, state, what it waits on
#   ks-handles [PID]      a process's handle table (default: the running one):
#                         value, object type, rights, references
#   ks-port PID SLOT      the listener behind a listener or client port handle:
#                         queued callers, waiting receivers, pending notifications
#   ks-memobj PID SLOT    a memobj (or a view's): size, pages present, mappings, and
#                         a paged one's pager: pending requests, failed ranges
#                         (ks-memobj EXPR: the struct memobj * EXPR, e.g. mo in pager_wait)
#   ks-stepi              stepi, into the kernel at an ecall
#
# The running thread: in the kernel, tp holds it; in user mode the trap entry's
# sscratch does (arch/riscv/entry.S swaps the two on every trap). QEMU's gdb
# stub reports the privilege level as the virtual register $priv, and reads
# memory with it: kernel pages are not user-accessible, so while a command
# reads kernel structures from a stop in user mode, $priv is 1 (supervisor) and
# is put back after.
import contextlib
import gdb


@contextlib.contextmanager
def supervisor_view():
    try:
        priv = int(gdb.parse_and_eval("$priv"))
    except gdb.error:
        priv = None
    if priv == 0:
        gdb.execute("set $priv = 1", to_string=True)
    try:
        yield priv
    finally:
        if priv == 0:
            gdb.execute("set $priv = 0", to_string=True)

OBJ_TYPES = {1: "process", 2: "thread", 3: "memobj", 4: "view", 5: "listener",
             6: "client", 7: "reply", 8: "irq", 9: "pipe"}
RIGHTS = ["read", "write", "map", "execute", "transfer", "duplicate", "manage",
          "wait", "signal"]
THREAD_STATES = {0: "runnable", 1: "blocked", 2: "dead"}
PROCESS_STATES = {0: "alive", 1: "exiting", 2: "dead"}


def current_thread(priv=None):
    """The running struct thread *, or None (early boot: no thread yet). priv: the
    privilege level the stop was in (supervisor_view's), else read now."""
    if priv is None:
        try:
            priv = int(gdb.parse_and_eval("$priv"))
        except gdb.error:
            priv = 1
    reg = "$sscratch" if priv == 0 else "$tp"
    addr = int(gdb.parse_and_eval(reg)) & 0xffffffffffffffff
    if addr < 0xffff800000000000:
        return None                     # not a kernel address: no thread yet
    return gdb.parse_and_eval(f"(struct thread *){addr}")


def current_process(priv=None):
    t = current_thread(priv)
    if t is None or int(t["proc"]) == 0:
        return None
    return t["proc"].dereference()


def list_entries(head, typename, member):
    """The elements of a struct list, as values of `typename *`."""
    ptr_type = gdb.lookup_type(typename).pointer()
    offset = next(f.bitpos // 8 for f in gdb.lookup_type(typename).fields() if f.name == member)
    node = head["head"]["next"]
    end = int(head["head"].address)
    while int(node) != end:
        yield gdb.Value(int(node) - offset).cast(ptr_type).dereference()
        node = node["next"]


def live_processes():
    return list_entries(gdb.parse_and_eval("'process.c'::live"), "struct process", "all_link")


def name_of(p):
    return p["name"].string()


class KsPid(gdb.Function):
    """$ks_pid(): the pid of the running process (0: a kernel thread, or none yet)."""

    def __init__(self):
        super().__init__("ks_pid")

    def invoke(self):
        with supervisor_view() as priv:
            p = current_process(priv)
            return 0 if p is None else int(p["pid"])


class KsIn(gdb.Function):
    """$ks_in("NAME"): 1 if the running process is called NAME (a program's name)."""

    def __init__(self):
        super().__init__("ks_in")

    def invoke(self, name):
        with supervisor_view() as priv:
            p = current_process(priv)
            return int(p is not None and name_of(p) == name.string())


class KsCommand(gdb.Command):
    """A command that reads kernel structures: run(arg, priv) inside supervisor_view,
    priv being the privilege level the stop was in."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        with supervisor_view() as priv:
            self.run(arg, priv)


class KsPs(KsCommand):
    """ks-ps: the processes not yet dead."""

    def __init__(self):
        super().__init__("ks-ps")

    def run(self, arg, priv):
        cur = current_process(priv)
        print(f"{'':2}{'pid':>5} {'ppid':>5} {'state':<8} {'threads':>7}  name")
        for p in live_processes():
            mark = "*" if cur is not None and int(p.address) == int(cur.address) else " "
            print(f"{mark:2}{int(p['pid']):>5} {int(p['parent_pid']):>5} "
                  f"{PROCESS_STATES.get(int(p['state']), '?'):<8} {int(p['nthreads']):>7}  {name_of(p)}")


class KsThreads(KsCommand):
    """ks-threads: every thread of the live processes, with its state and what it waits on."""

    def __init__(self):
        super().__init__("ks-threads")

    def run(self, arg, priv):
        cur = current_thread(priv)
        print(f"{'':2}{'tid':>6} {'pid':>5} {'process':<10} {'state':<9} waits on")
        for p in live_processes():
            for t in list_entries(p["threads"], "struct thread", "proc_link"):
                mark = "*" if cur is not None and int(t.address) == int(cur) else " "
                state = THREAD_STATES.get(int(t["state"]), "?")
                waits = ""
                if state == "blocked":
                    q = int(t["waiting_on"])
                    sym = gdb.execute(f"info symbol {q:#x}", to_string=True).strip() if q else ""
                    waits = f"{q:#x}" + (f" ({sym})" if sym and "No symbol" not in sym else "")
                    ipc = int(t["ipc_state"])
                    waits += f", ipc state {ipc}"
                print(f"{mark:2}{int(t['tid']):>6} {int(p['pid']):>5} {name_of(p):<10} {state:<9} {waits}")


class KsHandles(KsCommand):
    """ks-handles [PID]: a process's handle table (default: the running process)."""

    def __init__(self):
        super().__init__("ks-handles")

    def run(self, arg, priv):
        cur = current_process(priv)
        want = int(arg) if arg.strip() else None
        proc = None
        for p in live_processes():
            if (want is None and cur is not None and int(p.address) == int(cur.address)) or \
                    (want is not None and int(p["pid"]) == want):
                proc = p
        if proc is None:
            print("ks-handles: no such live process" if want is not None else
                  "ks-handles: no process is running (give a pid)")
            return
        table = proc["handles"]
        if int(table) == 0:
            print("ks-handles: it has no table (ending)")
            return
        slots = table["slots"]
        n = slots.type.range()[1] + 1
        print(f"process {int(proc['pid'])} ({name_of(proc)}): {int(table['used'])} handles")
        print(f"{'slot':>5} {'type':<9} {'refs':>5}  rights")
        for i in range(n):
            e = slots[i]
            if int(e["obj"]) == 0:
                continue
            o = e["obj"].dereference()
            r = int(e["rights"])
            rights = ",".join(name for bit, name in enumerate(RIGHTS) if r & (1 << bit))
            print(f"{i:>5} {OBJ_TYPES.get(int(o['type']), str(int(o['type']))):<9} "
                  f"{int(o['refs']):>5}  {rights}")


def handle_object(arg, usage):
    """The struct object * that slot SLOT of process PID's table holds, or None (said why)."""
    words = arg.split()
    if len(words) != 2:
        print(usage)
        return None
    pid, slot = int(words[0]), int(words[1], 0)
    for p in live_processes():
        if int(p["pid"]) != pid:
            continue
        table = p["handles"]
        n = table["slots"].type.range()[1] + 1
        if int(table) == 0 or not 0 <= slot < n or int(table["slots"][slot]["obj"]) == 0:
            print(f"process {pid} has no handle in slot {slot}")
            return None
        return table["slots"][slot]["obj"]
    print(f"no live process {pid}")
    return None


def container(obj, typename):
    """The struct that embeds `obj` (a struct object *) as its member obj."""
    t = gdb.lookup_type(typename)
    offset = next(f.bitpos // 8 for f in t.fields() if f.name == "obj")
    return gdb.Value(int(obj) - offset).cast(t.pointer()).dereference()


def thread_label(t):
    """A thread, as the lists show it: its id and its process's name."""
    proc = t["proc"]
    return f"{int(t['tid'])} ({name_of(proc.dereference()) if int(proc) else 'kernel'})"


def caller_ids(head):
    """The threads on a listener's callers list (linked through ipc.link), first to last."""
    link = int(gdb.parse_and_eval("(unsigned long)&((struct thread *)0)->ipc.link"))   # (in a union)
    tids = []
    node = head["head"]["next"]
    while int(node) != int(head["head"].address):
        t = gdb.Value(int(node) - link).cast(gdb.lookup_type("struct thread").pointer())
        tids.append(thread_label(t))
        node = node["next"]
    return tids


def receiver_ids(top):
    """The threads on a listener's receivers stack (through ipc.next_receiver), top first."""
    tids = []
    t = top
    while int(t):
        tids.append(thread_label(t))
        t = t["ipc"]["next_receiver"]
    return tids


class SlotCommand(KsCommand):
    """A command about the object in slot SLOT of process PID's handle table:
    subclasses name themselves and say what to show of it (show(obj, type))."""

    def __init__(self, name):
        super().__init__(name)
        self.usage = f"usage: {name} PID SLOT"

    def run(self, arg, priv):
        obj = handle_object(arg, self.usage)
        if obj is not None:
            self.show(obj, int(obj["type"]))


class KsPort(SlotCommand):
    """ks-port PID SLOT: the listener behind a listener or client port handle."""

    def __init__(self):
        super().__init__("ks-port")

    def show(self, obj, kind):
        if kind == 6:
            c = container(obj, "struct client_port")
            print(f"client port, userdata {int(c['userdata']):#x}")
            l = c["listener"].dereference()
        elif kind == 5:
            l = container(obj, "struct listener")
        else:
            print(f"slot holds a {OBJ_TYPES.get(kind, kind)}, not a port")
            return
        notes = sum(1 for _ in list_entries(l["notifications"], "struct ipc_notification", "link"))
        print(f"listener at {int(l.address):#x}: {'closed' if int(l['closed']) else 'open'}, "
              f"{notes} notification(s) pending")
        print(f"  callers queued:     {', '.join(caller_ids(l['callers'])) or '-'}")
        print(f"  receivers waiting:  {', '.join(receiver_ids(l['receivers'])) or '-'}")


class KsMemobj(SlotCommand):
    """ks-memobj PID SLOT, or ks-memobj EXPR (a struct memobj *, e.g. mo in a kernel frame):
    a memobj (or the one a view shows): size, pages, mappings, and a paged one's pager."""

    def __init__(self):
        super().__init__("ks-memobj")
        self.usage = "usage: ks-memobj PID SLOT, or ks-memobj EXPR (a struct memobj *)"

    def run(self, arg, priv):
        if len(arg.split()) == 1:       # an expression: the memobj itself
            mo = gdb.parse_and_eval(arg)
            self.show(mo.cast(gdb.lookup_type("struct memobj").pointer()).dereference()["obj"].address, 3)
            return
        super().run(arg, priv)

    def show(self, obj, kind):
        if kind == 4:
            mo = container(obj, "struct view")["mo"].dereference()
        elif kind == 3:
            mo = container(obj, "struct memobj")
        else:
            print(f"slot holds a {OBJ_TYPES.get(kind, kind)}, not a memobj or view")
            return
        size = int(mo["size"])
        maps = sum(1 for _ in list_entries(mo["mappings"], "struct vm_area", "mo_link"))
        if int(mo["device"]):
            print(f"device memobj: {size} bytes at physical {int(mo['device_pa']):#x}, {maps} mapping(s)")
            return
        present = []
        self.walk(mo["pages"]["root"], int(mo["pages"]["height"]), 0, present)
        shown = ", ".join(str(i) for i in present[:16]) + (" ..." if len(present) > 16 else "")
        print(f"memobj: {size} bytes ({(size + 4095) // 4096} pages), {len(present)} present "
              f"[{shown}], {maps} mapping(s)")
        if int(mo["pager"]):
            self.show_pager(mo["pager"].dereference())

    @staticmethod
    def show_pager(pg):
        """A paged memobj's pager: its listener, the pages asked for and not supplied, failures."""
        pending = [str(int(pg["pending"][i])) for i in range(int(pg["npending"]))]
        failed = [f"{int(pg['failed'][i]['first'])}+{int(pg['failed'][i]['count'])}" for i in range(int(pg["nfailed"]))]
        state = "gone" if int(pg["l"]) == 0 else f"listener at {int(pg['l']):#x}"
        print(f"  paged: pager {state}, userdata {int(pg['note']['userdata']):#x}, pages below "
              f"{int(pg['limit'])} come from it")
        print(f"  pending requests:   {', '.join(pending) or '-'}")
        print(f"  failed:             {'all' if int(pg['all_failed']) else ', '.join(failed) or '-'}")

    def walk(self, node, height, base, out):
        if int(node) == 0 or height == 0:
            return
        slots = node.cast(gdb.lookup_type("struct radix_node").pointer()).dereference()["slot"]
        span = 64 ** (height - 1)
        for i in range(64):
            child = slots[i]
            if int(child) == 0:
                continue
            if height == 1:
                out.append(base + i)
            else:
                self.walk(child, height - 1, base + i * span, out)


KsPid()
KsIn()
KsPs()
KsThreads()
KsHandles()
KsPort()
KsMemobj()


# ---- bt from the kernel back into the user program ----
#
# A trap from user mode saves every user register in the running thread's
# struct trap_frame (thread->arch.frame, arch/riscv/entry.S) and calls into C
# from the entry code between trap_vector and trap_from_kernel. gdb unwinds the
# C frames with their DWARF information; when it reaches a return address in
# that entry code, this unwinder gives it the frame the trap interrupted: the
# user pc (sepc: the ecall, or the faulting instruction) and registers, so
# `bt` goes on into the program that made the system call.
from gdb.unwinder import Unwinder, register_unwinder


class FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class UserTrapUnwinder(Unwinder):
    def __init__(self):
        super().__init__("kestrel user trap")
        self.range = None

    def entry_range(self):
        if self.range is None:
            start = int(gdb.parse_and_eval("(long)&trap_vector")) & 0xffffffffffffffff
            end = int(gdb.parse_and_eval("(long)&trap_from_kernel")) & 0xffffffffffffffff
            self.range = (start, end)
        return self.range

    def __call__(self, pending_frame):
        pc = int(pending_frame.read_register("pc")) & 0xffffffffffffffff
        start, end = self.entry_range()
        if not start <= pc < end:
            return None
        with supervisor_view():
            t = gdb.parse_and_eval(f"(struct thread *)$tp")
            if int(t) & 0xffffffffffffffff < 0xffff800000000000:
                return None
            f = t["arch"]["frame"]
            regs = [int(f["x"][i]) & 0xffffffffffffffff for i in range(32)]
            sepc = int(f["sepc"]) & 0xffffffffffffffff
        info = pending_frame.create_unwind_info(FrameId(pending_frame.read_register("sp"),
                                                        pending_frame.read_register("pc")))
        names = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2",
                 "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
                 "s10", "s11", "t3", "t4", "t5", "t6"]
        for i in range(1, 32):
            info.add_saved_register(names[i], gdb.Value(regs[i]).cast(gdb.lookup_type("long")))
        info.add_saved_register("pc", gdb.Value(sepc).cast(gdb.lookup_type("long")))
        return info


register_unwinder(None, UserTrapUnwinder(), replace=True)


class KsStepi(gdb.Command):
    """ks-stepi: stepi, but into the kernel at an ecall (QEMU steps over the
    whole trap): stops at the trap entry (stvec) for this very ecall."""

    def __init__(self):
        super().__init__("ks-stepi", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        pc = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
        insn = int(gdb.parse_and_eval(f"*(unsigned int *){pc:#x}"))
        if insn != 0x00000073:
            gdb.execute("stepi", from_tty)
            return
        stvec = int(gdb.parse_and_eval("$stvec")) & 0xffffffffffffffff
        gdb.execute(f"tbreak *{stvec:#x} if $sepc == {pc:#x}", to_string=True)
        gdb.execute("continue", from_tty)


KsStepi()
