# musl/src/thread/riscv64/__unmapself.s - kestrel's __unmapself(base, size).
#
# A detached thread's last act: unmap its own stack and exit. musl_emu does it
# (musl_emu_unmapself in musl_emu.c), finishing with the two native calls in
# one asm block so that nothing touches the stack once it is gone.

.global __unmapself
.type __unmapself, %function
__unmapself:
	tail musl_emu_unmapself
