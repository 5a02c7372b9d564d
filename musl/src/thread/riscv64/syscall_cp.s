# musl/src/thread/riscv64/syscall_cp.s - kestrel's version of the system call
# musl makes at a cancellation point.
#
# __syscall_cp_asm(&self->cancel, nr, u, v, w, x, y, z) becomes
# musl_emu_syscall(nr, u, v, w, x, y, z): every argument moves down one
# register (a1..a7 to a0..a6) and the call becomes a tail call, unless the
# thread has been cancelled already (then __cancel, as musl's own asm does).
#
# A thread cancelled while it waits in such a call: pthread_cancel sends it
# SIGCANCEL, which musl_emu's upcall entry takes for musl (musl_emu/signal.c)
# by making the wait end with EINTR; __syscall_cp_c sees EINTR with the
# cancel flag set and calls __cancel. musl's own SIGCANCEL handler, which
# looks for the pc between __cp_begin and __cp_end, is not used: here the
# wait happens deep in musl_emu, not at an ecall in this file.

.global __cp_begin
.hidden __cp_begin
.global __cp_end
.hidden __cp_end
.global __cp_cancel
.hidden __cp_cancel
.hidden __cancel
.global __syscall_cp_asm
.hidden __syscall_cp_asm
.type __syscall_cp_asm, %function
__syscall_cp_asm:
__cp_begin:
	lw t0, 0(a0)
	bnez t0, __cp_cancel
	mv a0, a1
	mv a1, a2
	mv a2, a3
	mv a3, a4
	mv a4, a5
	mv a5, a6
	mv a6, a7
	tail musl_emu_syscall
__cp_end:
__cp_cancel:
	tail __cancel
