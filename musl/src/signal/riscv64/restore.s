# musl/src/signal/riscv64/restore.s - kestrel's signal return trampoline.
#
# musl puts __restore_rt in every sigaction as the handler's return address.
# On kestrel a handler is called from C by musl_emu's upcall entry
# (musl_emu/signal.c) and returns there, so nothing returns here; if something
# did, rt_sigreturn reaches musl_emu_syscall like any other call, which
# reports it as unsupported.

.global __restore
.type __restore, %function
__restore:
.global __restore_rt
.type __restore_rt, %function
__restore_rt:
	li a0, 139		# SYS_rt_sigreturn
	li a1, 0
	tail musl_emu_syscall
