#!/bin/sh
# qemu-run.sh - build what is out of date, then boot the kernel on QEMU's virt
# machine with Debian's OpenSBI. Extra arguments go to QEMU, for example
#   ./qemu-run.sh -s -S            wait for gdb on port 1234 (or use `make gdb`)
#   ./qemu-run.sh -append ktest    run the in-kernel tests
# Quit QEMU with Ctrl-A then X. The exit status is the kernel's shutdown status.
set -e
cd "$(dirname "$0")"
tools/setup-deps
make -s all
exec qemu-system-riscv64 -machine virt -nographic -m 256M \
    -bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf \
    -kernel build/kernel.elf "$@"
