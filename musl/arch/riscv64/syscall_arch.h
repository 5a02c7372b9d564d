/*
 * musl/arch/riscv64/syscall_arch.h - kestrel's replacement for musl's riscv64
 * system call header (laid over musl's source tree by the Makefile).
 *
 * musl issues every Linux system call through __syscall0 .. __syscall6. Here
 * they are plain function calls into musl_emu_syscall (musl_emu.c, linked into
 * every user program), which serves the call with kestrel's native ABI. No
 * Linux `ecall` is left in libc.a: the other riscv64 files that had one are
 * replaced too (musl/src/thread/riscv64/ and musl/src/signal/riscv64/ in this
 * project), and the Makefile checks with objdump.
 */

/* 64-bit arguments travel in one register on rv64. */
#define __SYSCALL_LL_E(x) (x)
#define __SYSCALL_LL_O(x) (x)

long musl_emu_syscall(long n, long a, long b, long c, long d, long e, long f);

static inline long __syscall0(long n) { return musl_emu_syscall(n, 0, 0, 0, 0, 0, 0); }
static inline long __syscall1(long n, long a) { return musl_emu_syscall(n, a, 0, 0, 0, 0, 0); }
static inline long __syscall2(long n, long a, long b) { return musl_emu_syscall(n, a, b, 0, 0, 0, 0); }
static inline long __syscall3(long n, long a, long b, long c)
{
	return musl_emu_syscall(n, a, b, c, 0, 0, 0);
}
static inline long __syscall4(long n, long a, long b, long c, long d)
{
	return musl_emu_syscall(n, a, b, c, d, 0, 0);
}
static inline long __syscall5(long n, long a, long b, long c, long d, long e)
{
	return musl_emu_syscall(n, a, b, c, d, e, 0);
}
static inline long __syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	return musl_emu_syscall(n, a, b, c, d, e, f);
}

/* No vDSO: clock_gettime goes through musl_emu_syscall like everything else. */

/* System V IPC structures use the generic layout. */
#define IPC_64 0
