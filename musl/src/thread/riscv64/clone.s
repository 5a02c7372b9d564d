# musl/src/thread/riscv64/clone.s - kestrel's __clone and the first code of a
# new thread.
#
# __clone(func, stack, flags, arg, ptid, tls, ctid) goes to musl_emu_clone
# (musl_emu.c) with the same arguments. That starts a native thread at
# musl_emu_thread_start (which sets gp and jumps here, to
# __kestrel_clone_start) with sp = the child's stack, on which it has left a
# small record:
#
#     0(sp)  func     8(sp)  arg     16(sp)  the child's tp (its TLS pointer)
#
# The child loads tp, calls func(arg) and leaves through SYS_exit with func's
# result, exactly as a Linux clone child would.

.global __clone
.hidden __clone
.type __clone, %function
__clone:
	tail musl_emu_clone

.global __kestrel_clone_start
.hidden __kestrel_clone_start
.type __kestrel_clone_start, %function
__kestrel_clone_start:
	ld tp, 16(sp)
	ld t0, 0(sp)
	ld a0, 8(sp)
	jalr t0
	mv a1, a0
	li a0, 93		# SYS_exit
	tail musl_emu_syscall
