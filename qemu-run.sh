#!/bin/sh
# qemu-run.sh - build what is out of date, then boot the kernel on QEMU's virt
# machine with Debian's OpenSBI. Extra arguments go to QEMU, for example
#   ./qemu-run.sh -s -S            wait for gdb on port 1234 (or use `make gdb`)
#   ./qemu-run.sh -append ktest    run the in-kernel tests
# A disk is attached as a virtio block device: build/disk.img (64 MiB of ext2,
# made from the folder disk/ by the build once and kept; `make disk-reset`
# makes it again), or DISK=path for another raw image, or DISK=none for none.
# Quit QEMU with Ctrl-A then X. The exit status is the kernel's shutdown status.
set -e
cd "$(dirname "$0")"
tools/setup-deps
make -s all build/disk.img
DISK=${DISK:-build/disk.img}
if [ "$DISK" != none ]; then
    [ -f "$DISK" ] || { echo "qemu-run.sh: no disk image $DISK (DISK=none for none)" >&2; exit 1; }
    set -- -global virtio-mmio.force-legacy=false \
        -drive "file=$DISK,format=raw,if=none,id=hd0" -device virtio-blk-device,drive=hd0 "$@"
fi
exec qemu-system-riscv64 -machine virt -nographic -m 256M \
    -bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf \
    -kernel build/kernel.elf "$@"
