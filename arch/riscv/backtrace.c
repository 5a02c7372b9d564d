/*
 * arch/riscv/backtrace.c - register dumps and frame-pointer backtraces.
 *
 * The kernel is built with -fno-omit-frame-pointer, so a non-leaf function's
 * frame has ra at fp-8 and the caller's fp at fp-16. A leaf function saves only
 * fp, at fp-8; that can only be the innermost frame of a trap, and it is
 * recognised because the word at fp-8 is then not a kernel text address.
 */
#include <arch/arch.h>
#include <arch/trapframe.h>
#include "kernel/kprintf.h"
#include "kernel/ksyms.h"
#include "csr.h"

#define MAX_FRAMES 32

extern char __kernel_start[], __text_end[];

static int is_text(uint64_t a)
{
    return a >= (uintptr_t)__kernel_start && a < (uintptr_t)__text_end;
}

static void walk(uint64_t fp, void (*fn)(uintptr_t, int))
{
    for (int i = 0; i < MAX_FRAMES && fp && fp % 8 == 0; i++) {
        uint64_t ra, prev;
        if (arch_probe_read64(fp - 8, &ra) || arch_probe_read64(fp - 16, &prev) || !is_text(ra))
            return;
        fn(ra, 0);
        if (prev <= fp)         /* frames only go up the stack */
            return;
        fp = prev;
    }
}

static int same_function(uintptr_t a, uintptr_t b)
{
    uintptr_t off;
    const char *fa = ksym_lookup(a, &off), *fb = ksym_lookup(b, &off);
    return fa && fa == fb;
}

void arch_backtrace(const struct trap_frame *f, void (*fn)(uintptr_t pc, int exact))
{
    if (!f) {
        walk((uintptr_t)__builtin_frame_address(0), fn);
        return;
    }
    fn(f->sepc, 1);
    /*
     * The trapped function may be a leaf (fp-8 holds the caller's fp, not ra) or
     * may not have built its frame yet (shrink-wrapping): either way its caller
     * is only in the ra register. ra is stale, pointing into the trapped function
     * itself, once that function has made a call, and is the first return address
     * of the walk once it has built its frame; neither is printed.
     */
    uint64_t fp = f->x[REG_S0], ra = f->x[REG_RA], w = 0;
    int readable = fp && fp % 8 == 0 && arch_probe_read64(fp - 8, &w) == 0;
    int leaf = readable && !is_text(w);
    if (is_text(ra) && ra != (leaf ? 0 : w) && !same_function(ra - 1, f->sepc))
        fn(ra, 0);
    walk(leaf ? w : fp, fn);
}

static const char *const reg_names[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
    "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
    "t3", "t4", "t5", "t6",
};

void arch_dump_frame(const struct trap_frame *f)
{
    if (!f) {
        kprintf("last trap: scause 0x%lx sepc 0x%lx stval 0x%lx (not from this panic)\n",
                csr_read(scause), csr_read(sepc), csr_read(stval));
        return;
    }
    kprintf("scause 0x%lx sepc 0x%lx stval 0x%lx sstatus 0x%lx\n",
            f->scause, f->sepc, f->stval, f->sstatus);
    for (int i = 1; i < 32; i++)
        kprintf("%4s %016lx%s", reg_names[i], f->x[i], i % 4 == 3 ? "\n" : "  ");
    kprintf("\n");
}
