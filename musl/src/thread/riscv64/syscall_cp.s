# musl/src/thread/riscv64/syscall_cp.s - kestrel's version of the system call
# musl makes at a cancellation point.
#
# __syscall_cp_asm(&self->cancel, nr, u, v, w, x, y, z) becomes
# musl_emu_syscall(nr, u, v, w, x, y, z): every argument moves down one
# register (a1..a7 to a0..a6) and the call becomes a tail call.
#
# Thread cancellation is not supported (README.rst, "musl"): pthread_cancel
# needs a signal delivered to the target thread, and kestrel delivers none, so
# the cancel flag is never acted on here. __cp_begin, __cp_end and __cp_cancel
# exist only because musl's cancellation code refers to them.

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
