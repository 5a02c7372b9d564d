# Makefile - builds the kernel image and the host unit tests; runs, tests, debugs.
#
#   make            build/kernel.elf
#   make test       host unit tests, then QEMU boots of the test configurations
#   make bench      benchmarks under QEMU -icount (tools/run-bench; figures in build/bench.txt)
#   make bench-audit every figure recounted from an instruction trace (tools/profile --audit)
#   make profile BENCH=NAME   where one figure's instructions go, per function (tools/profile);
#                   LINES=FUNCTION also lists that function's instructions one by one;
#                   TOP=K lists K functions (25); ITERS=K caps each loop at K iterations (20)
#   make readme-check  README's figures, chart and file lists against build/bench.txt and this Makefile
#   make chart      redraw docs/bench-chart.svg from build/bench.txt (tools/chart)
#   make qemu       boot the kernel (./qemu-run.sh: with build/disk.img attached; DISK=none: without)
#   make disk-reset make build/disk.img again from the folder disk/ (its ext2 file system)
#   make fuzz       the system-call fuzzer: SEEDS=A..B (1..64) CALLS=N (25000), or
#                   SEED=S CALLS=N to replay one seed with every call printed
#   make trace      boot the trace kernel (ARGS=...: the bootargs) under -icount; its event
#                   ring becomes build/trace.json for Perfetto (tools/trace-json)
#   make gdb        boot halted and attach gdb-multiarch, stopped at kmain (PROG=NAME:
#                   that program's symbols too; ARGS=...: the bootargs; tools/gdb-run)
#   make clean      remove build/
#
# Everything goes to build/. Header dependencies are tracked (-MMD).

CROSS      ?= riscv64-linux-gnu-
CC         := $(CROSS)gcc
NM         := $(CROSS)nm
OBJCOPY    := $(CROSS)objcopy
HOSTCC     ?= gcc
PYTHON     ?= python3
QEMU       ?= qemu-system-riscv64
OPENSBI    ?= /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf
QEMU_ARGS  := -machine virt -nographic -m 256M -bios $(OPENSBI)

B          := build

# The Debian packages the build needs (tools/setup-deps says what it does).
# `make test` installs what is missing, as ./qemu-run.sh does: the README's two
# commands set a fresh machine up. Every other target only checks, and says
# what to run.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
ifneq ($(filter test,$(MAKECMDGOALS)),)
ifneq ($(shell tools/setup-deps >&2; echo $$?),0)
$(error tools/setup-deps could not install the dependencies; see above)
endif
else ifneq ($(shell tools/setup-deps --check >&2; echo $$?),0)
$(error missing Debian packages: run tools/setup-deps (as root) or make test, which installs them)
endif
endif

KERNEL_CFLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
	-fno-pie -no-pie -ffreestanding -nostdlib -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -fno-omit-frame-pointer \
	-O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Iarch/riscv/include -Iinclude -iquote . -I$(B)/gen -MMD -MP
KERNEL_LDFLAGS := -nostdlib -no-pie -Wl,-T,linker.ld -Wl,--no-warn-rwx-segments -Wl,--build-id=none

# (arch/riscv/ipc_fast.S is assembled as part of entry.S, which includes it.)
KERNEL_SRCS := $(wildcard kernel/*.c) $(wildcard kernel/*.S) \
	$(filter-out arch/riscv/asm-offsets.c,$(wildcard arch/riscv/*.c)) \
	$(filter-out arch/riscv/ipc_fast.S,$(wildcard arch/riscv/*.S))
# Two kernels from the same sources: build/kernel.elf, the one you boot and
# make bench measures, and build/kernel-debug.elf (KVARIANT=debug, built by a
# second make into build/kdebug/), with assertions on and freed memory
# poisoned and checked (kernel/debug.h), which make test and make fuzz boot.
# A third, build/kernel-trace.elf (KVARIANT=trace, build/ktrace/), records
# kernel events for make trace (kernel/trace.h).
ifeq ($(KVARIANT),debug)
KERNEL_CFLAGS += -DKESTREL_DEBUG
KD    := $(B)/kdebug
KNAME := kernel-debug
else ifeq ($(KVARIANT),trace)
KERNEL_CFLAGS += -DKESTREL_TRACE
KD    := $(B)/ktrace
KNAME := kernel-trace
else
KD    := $(B)/k
KNAME := kernel
endif
KERNEL_OBJS := $(patsubst %,$(KD)/%.o,$(KERNEL_SRCS))

.PHONY: all test bench bench-audit readme-check chart profile fuzz qemu gdb trace clean disk-reset FORCE
all: $(B)/kernel.elf
FORCE:

# Regenerated whenever a struct it measures changes (its .d file lists the headers;
# a build directory without that .d file, from before it existed, regenerates once).
ASM_OFFSETS_DEPS_KNOWN := $(wildcard $(B)/gen/asm-offsets.h.d)
$(B)/gen/asm-offsets.h: arch/riscv/asm-offsets.c $(if $(ASM_OFFSETS_DEPS_KNOWN),,FORCE)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(KERNEL_CFLAGS)) -MMD -MP -MT $@ -MF $@.d -S -o $@.s $<
	{ echo "/* Generated from arch/riscv/asm-offsets.c; do not edit. */"; \
	  grep '^#define' $@.s; } > $@.tmp && mv $@.tmp $@ && rm -f $@.s

$(KD)/%.c.o: %.c | $(B)/gen/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<

$(KD)/%.S.o: %.S $(B)/gen/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<

$(KD)/kernel/bootimage.S.o: kernel/bootimage.S $(B)/bootimage.img
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) -DBOOTIMAGE_PATH='"$(B)/bootimage.img"' -c -o $@ $<

# ---- user programs (user/), packed into the boot image ----

USER_CFLAGS := -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany \
	-fno-pie -no-pie -ffreestanding -nostdlib -fno-stack-protector \
	-fno-tree-loop-distribute-patterns -fno-omit-frame-pointer \
	-O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Iinclude -iquote . -MMD -MP
# The user library shares the kernel's portable string, formatting, test and ELF code.
USER_LIB_SRCS := user/lib/crt0.S user/lib/ulib.c user/lib/loader.c \
	kernel/string.c kernel/kprintf.c kernel/ktest.c kernel/elf.c
USER_LIB_OBJS := $(patsubst %,$(B)/u/%.o,$(USER_LIB_SRCS))
NATIVE_PROGS := utest ubench uchild uipc ufp udev ufuzz uhog upipe vblk ublk
MUSL_PROGS   := init mbench mtest mconsole fsd mproc mtrue
USER_PROGS   := $(MUSL_PROGS) $(NATIVE_PROGS)

# Each program is linked at its own address, so that a user pc names its
# program: tools/profile and gdb read every program's symbols at once. 16 MiB
# apart, all below 4 GiB, where the kernel places mappings (kernel/vm.c).
USER_BASES := init=0x01000000 mbench=0x02000000 mtest=0x03000000 mconsole=0x04000000 \
	fsd=0x05000000 utest=0x06000000 ubench=0x07000000 uchild=0x08000000 \
	uipc=0x09000000 ufp=0x0a000000 udev=0x0b000000 ufuzz=0x0c000000 uhog=0x0d000000 \
	upipe=0x0e000000 mproc=0x0f000000 mtrue=0x10000000 busybox=0x11000000 \
	vblk=0x12000000 ublk=0x13000000
user_base = $(or $(patsubst $(1)=%,%,$(filter $(1)=%,$(USER_BASES))),$(error no USER_BASES entry for $(1)))

# ufp tests floating-point state, so it alone may use the F and D extensions.
$(B)/u/user/ufp.c.o: USER_CFLAGS += -march=rv64imafdc_zicsr_zifencei

$(B)/u/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c -o $@ $<

$(B)/u/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c -o $@ $<

$(patsubst %,$(B)/user/%.elf,$(NATIVE_PROGS)): $(B)/user/%.elf: $(B)/u/user/%.c.o $(USER_LIB_OBJS) user/user.ld
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -static -Wl,-T,user/user.ld -Wl,--defsym=__user_base=$(call user_base,$*) \
	    -Wl,--build-id=none -o $@ $< $(USER_LIB_OBJS) -lgcc

# Programs go into the boot image without debug info (gdb reads build/user/*.elf).
$(B)/user/%.strip: $(B)/user/%.elf
	$(OBJCOPY) --strip-debug $< $@

# Shell scripts in user/ (NAME.sh) go in as /bin/NAME, run by busybox's sh (#!/bin/sh).
USER_SCRIPTS := $(wildcard user/*.sh)
$(B)/bootimage.img: tools/mkbootimg $(patsubst %,$(B)/user/%.strip,$(USER_PROGS) busybox) $(B)/busybox.links \
		$(USER_SCRIPTS)
	$(PYTHON) tools/mkbootimg $@ $(foreach p,$(USER_PROGS) busybox,$(p)=$(B)/user/$(p).strip) \
	    busybox.links=$(B)/busybox.links $(foreach s,$(USER_SCRIPTS),$(basename $(notdir $(s)))=$(s))

# ---- musl and the programs built on it ----
#
# tools/fetch-source fetches Debian's musl source package into $(B)/musl/src; the
# project's own riscv64 system call files (musl/) are laid over it and musl is
# built out of tree in $(B)/musl/obj and installed (headers, crt files, libc.a)
# in $(B)/musl/install. Any change under musl/ rebuilds musl from scratch, since
# musl's makefile does not track which objects include syscall_arch.h.

MUSL_DIR     := $(B)/musl
MUSL         := $(MUSL_DIR)/install
MUSL_OVERLAY := $(shell find musl -type f)
MUSL_LIBC    := $(MUSL)/lib/libc.a

$(MUSL_DIR)/src/.unpacked:
	tools/fetch-source musl 1.2.3 $(B)

$(MUSL_LIBC): $(MUSL_DIR)/src/.unpacked $(MUSL_OVERLAY)
	cp -R musl/. $(MUSL_DIR)/src/
	rm -rf $(MUSL_DIR)/obj $(MUSL) && mkdir -p $(MUSL_DIR)/obj
	@echo "musl: building in $(MUSL_DIR)/obj (log: $(MUSL_DIR)/build.log)"
	@cd $(MUSL_DIR)/obj && { ../src/configure --target=riscv64 --prefix=/ --disable-shared \
	    CROSS_COMPILE=$(CROSS) CFLAGS="-O2" && $(MAKE) && $(MAKE) install DESTDIR=$(abspath $(MUSL)); } \
	    > ../build.log 2>&1 || { tail -20 ../build.log; echo "musl: build failed"; exit 1; }
	@if $(CROSS)objdump -d $@ | grep -qw ecall; then \
	    echo "musl: libc.a still issues ecall; see musl/"; rm -f $@; exit 1; fi

# musl programs: compiled and linked by tools/musl-cc (lp64d like the libc,
# musl's headers only, no PIE; linked statically with musl's crt files, libc.a
# and the musl_emu objects, where every system call lands), which busybox's
# build uses too. musl_emu includes the native user library pieces that do not
# clash with libc (the loader, the ELF parser, the IPC wrappers). Without frame
# pointers, like musl itself: nothing walks user stacks but gdb, which has the
# DWARF call frame information.
MUSL_CC     := tools/musl-cc
MUSL_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude -iquote . -MMD -MP
MUSL_EMU_OBJS := $(B)/m/musl_emu.c.o $(patsubst %,$(B)/m/%.o,$(wildcard musl_emu/*.c)) \
	$(B)/m/user/lib/loader.c.o $(B)/m/kernel/elf.c.o
export KS_CROSS    := $(CROSS)
export KS_MUSL     := $(abspath $(MUSL))
export KS_MUSL_EMU := $(abspath $(MUSL_EMU_OBJS))

$(B)/m/%.c.o: %.c $(MUSL_LIBC) $(MUSL_CC)
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(MUSL_CFLAGS) -c -o $@ $<

# A musl program is user/NAME.c, or every .c file of a folder user/NAME/ (fsd).
# A folder's program is built with link-time optimization, so that splitting
# it into files costs no instructions (the compiler still inlines across them).
prog_objs = $(patsubst %,$(B)/m/%.o,$(or $(wildcard user/$(1).c),$(wildcard user/$(1)/*.c)))
$(B)/m/user/fsd/%.c.o $(B)/user/fsd.elf: private MUSL_CFLAGS += -flto

.SECONDEXPANSION:
$(patsubst %,$(B)/user/%.elf,$(MUSL_PROGS)): $(B)/user/%.elf: $$(call prog_objs,$$*) $(MUSL_EMU_OBJS) $(MUSL_LIBC)
	@mkdir -p $(dir $@)
	KS_TEXT_BASE=$(call user_base,$*) $(MUSL_CC) $(MUSL_CFLAGS) -o $@ $(call prog_objs,$*)

# ---- busybox ----
#
# Debian's busybox source package (tools/fetch-source), unmodified, built out of
# tree in $(B)/busybox/obj by tools/musl-cc. Its configuration is busybox's
# allnoconfig with the lines of busybox/kestrel.config put in, then settled by
# busybox's oldconfig (tools/busybox-config). The boot image holds the one
# binary and busybox.links, the applets' paths busybox's build lists; fsd makes
# /bin/APPLET a symbolic link to busybox for each.
BUSYBOX_VERSION := 1.35.0
BUSYBOX_DIR     := $(B)/busybox
BUSYBOX_MAKE     = $(MAKE) -C $(BUSYBOX_DIR)/src O=$(abspath $(BUSYBOX_DIR)/obj) \
	CROSS_COMPILE=$(CROSS) CC=$(abspath $(MUSL_CC)) HOSTCC=$(HOSTCC) SKIP_STRIP=y \
	KS_TEXT_BASE=$(call user_base,busybox)

$(BUSYBOX_DIR)/src/.unpacked:
	tools/fetch-source busybox $(BUSYBOX_VERSION) $(B)

$(BUSYBOX_DIR)/obj/.config: $(BUSYBOX_DIR)/src/.unpacked busybox/kestrel.config
	@mkdir -p $(dir $@)
	@echo "busybox: configuring (allnoconfig + busybox/kestrel.config)"
	@{ $(BUSYBOX_MAKE) allnoconfig && tools/busybox-config merge busybox/kestrel.config $@ && \
	   yes "" | $(BUSYBOX_MAKE) oldconfig; } > $(BUSYBOX_DIR)/config.log 2>&1 || \
	    { tail -20 $(BUSYBOX_DIR)/config.log; rm -f $@; exit 1; }
	@tools/busybox-config check busybox/kestrel.config $@

$(B)/user/busybox.elf: $(BUSYBOX_DIR)/obj/.config $(MUSL_EMU_OBJS) $(MUSL_LIBC) $(MUSL_CC)
	@echo "busybox: building in $(BUSYBOX_DIR)/obj (log: $(BUSYBOX_DIR)/build.log)"
	@rm -f $(BUSYBOX_DIR)/obj/busybox_unstripped     # busybox's make cannot see musl_emu change
	@$(BUSYBOX_MAKE) busybox > $(BUSYBOX_DIR)/build.log 2>&1 || \
	    { tail -30 $(BUSYBOX_DIR)/build.log; echo "busybox: build failed"; exit 1; }
	@mkdir -p $(dir $@)
	cp $(BUSYBOX_DIR)/obj/busybox_unstripped $@

# The applets' paths, one a line ("/bin/ls"): fsd makes each a link to busybox.
$(B)/busybox.links: $(B)/user/busybox.elf
	@$(BUSYBOX_MAKE) busybox.links > /dev/null
	cp $(BUSYBOX_DIR)/obj/busybox.links $@

# The symbol table for backtraces takes two links: link once with an empty
# table, list the text symbols, link again with the full table. .ksyms follows
# .text (linker.ld), so no function moves; the cmp below checks that.
$(B)/ksyms-empty.S: tools/gen-ksyms
	@mkdir -p $(B)
	$(PYTHON) tools/gen-ksyms < /dev/null > $@

$(B)/$(KNAME).ksyms.S: $(B)/$(KNAME).pass1.elf tools/gen-ksyms
	$(NM) -n -S --defined-only $< | $(PYTHON) tools/gen-ksyms > $@

$(B)/%.o: $(B)/%.S
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<

$(B)/$(KNAME).pass1.elf: $(KERNEL_OBJS) $(B)/ksyms-empty.o linker.ld
	$(CC) $(KERNEL_CFLAGS) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(B)/ksyms-empty.o -lgcc

$(B)/$(KNAME).elf: $(KERNEL_OBJS) $(B)/$(KNAME).ksyms.o linker.ld
	$(CC) $(KERNEL_CFLAGS) $(KERNEL_LDFLAGS) -o $@.tmp $(KERNEL_OBJS) $(B)/$(KNAME).ksyms.o -lgcc
	$(NM) -n $(B)/$(KNAME).pass1.elf | grep ' [Tt] ' > $(B)/$(KNAME).text-syms.pass1
	$(NM) -n $@.tmp | grep ' [Tt] ' > $(B)/$(KNAME).text-syms.final
	@cmp -s $(B)/$(KNAME).text-syms.pass1 $(B)/$(KNAME).text-syms.final || \
	  { echo "error: code moved between the two kernel links (see linker.ld, .ksyms)"; exit 1; }
	mv $@.tmp $@

# ---- host unit tests (tests/), built natively with sanitizers ----

HOST_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Itests/fake -Iinclude -iquote . -MMD -MP
HOST_KERNEL_SRCS := kernel/fdt.c kernel/platform.c kernel/kprintf.c kernel/console.c \
	kernel/uart16550.c kernel/page_alloc.c kernel/heap.c kernel/ktest.c kernel/elf.c \
	kernel/handle.c kernel/object.c kernel/radix.c kernel/account.c kernel/random.c
HOST_SUPPORT_SRCS := tests/fake/fake_arch.c tests/dtb_builder.c tests/host_ram.c
# fsd's ext2 reader and writer: no system calls, so they run on the host too (tests/test_ext2.c).
HOST_USER_SRCS := user/fsd/ext2.c user/fsd/ext2_write.c
HOST_TESTS := $(patsubst tests/%.c,$(B)/host/%,$(wildcard tests/test_*.c)) \
	$(wildcard tests/test_*.py)
HOST_OBJS := $(patsubst %,$(B)/host/obj/%.o,$(HOST_KERNEL_SRCS) $(HOST_SUPPORT_SRCS) $(HOST_USER_SRCS))

$(B)/host/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -c -o $@ $<

$(B)/host/test_%: $(B)/host/obj/tests/test_%.c.o $(HOST_OBJS)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $^

# The device tree QEMU's virt machine hands the kernel, for the FDT tests.
$(B)/virt.dtb:
	@mkdir -p $(B)
	$(QEMU) -machine virt,dumpdtb=$@ -m 256M -nographic > /dev/null

# The other kernels come after build/kernel.elf, one at a time: their makes
# share build/gen, the boot image and the user programs (so make -j is safe).
ifeq ($(KVARIANT),)
$(B)/kernel-debug.elf: FORCE | $(B)/kernel.elf
	@$(MAKE) --no-print-directory KVARIANT=debug $@
$(B)/kernel-trace.elf: FORCE | $(B)/kernel-debug.elf
	@$(MAKE) --no-print-directory KVARIANT=trace $@
endif

# The disk ./qemu-run.sh attaches (/dev/vda): an ext2 file system made from the
# folder disk/ once, and kept (what the system writes there survives runs);
# make disk-reset makes it again. (mke2fs is in /usr/sbin, not on every PATH.)
MKE2FS := PATH="$$PATH:/usr/sbin:/sbin" mke2fs
$(B)/disk.img:
	@mkdir -p $(B)
	$(MKE2FS) -q -F -t ext2 -b 4096 -L kestrel -E root_owner=0:0 -d disk $@.tmp 64M >/dev/null
	mv $@.tmp $@

disk-reset:
	rm -f $(B)/disk.img
	@$(MAKE) --no-print-directory $(B)/disk.img

# The file system make bench's ext2 figures work on (attached with snapshot=on:
# never written), made again when the tool that makes it changes.
$(B)/bench-disk.img: tools/bench-disk-image
	@mkdir -p $(B)
	$(PYTHON) tools/bench-disk-image $@

# The disk the block driver's tests write all over (user/ublk.c: TEST_DISK_SECTORS).
$(B)/test-disk.img:
	@mkdir -p $(B)
	truncate -s 4M $@

test: $(B)/kernel.elf $(B)/kernel-debug.elf $(B)/kernel-trace.elf $(HOST_TESTS) $(B)/virt.dtb $(B)/test-disk.img \
		$(patsubst %,$(B)/user/%.elf,$(USER_PROGS))
	$(PYTHON) tools/run-tests --build $(B) --kernel $(B)/kernel-debug.elf --qemu "$(QEMU) $(QEMU_ARGS)" $(HOST_TESTS)

bench: $(B)/kernel.elf $(B)/bench-disk.img
	$(PYTHON) tools/run-bench --build $(B) --qemu "$(QEMU) $(QEMU_ARGS)"

# The profiler reads every program's symbols (build/user/*.elf) with the kernel's.
# README's benchmark table and host-tested file list against build/bench.txt and this file.
readme-check:
	$(PYTHON) tools/check-readme --build $(B)

# README's chart: committed, since README shows it; readme-check redraws and compares.
chart:
	$(PYTHON) tools/chart --bench $(B)/bench.txt -o docs/bench-chart.svg

bench-audit: $(B)/kernel.elf $(B)/bench-disk.img $(patsubst %,$(B)/user/%.elf,$(USER_PROGS))
	$(PYTHON) tools/profile --build $(B) --qemu "$(QEMU) $(QEMU_ARGS)" --audit

profile: $(B)/kernel.elf $(B)/bench-disk.img $(patsubst %,$(B)/user/%.elf,$(USER_PROGS))
	$(if $(BENCH),,$(error say which figure: make profile BENCH=NAME, a name make bench prints))
	$(PYTHON) tools/profile --build $(B) --qemu "$(QEMU) $(QEMU_ARGS)" $(if $(LINES),--lines $(LINES)) $(if $(TOP),--top $(TOP)) $(if $(ITERS),--n $(ITERS)) $(BENCH)

# The fuzzer (user/ufuzz.c) under its supervisor; init checks fsd afterwards.
# MODE=fsd: a hostile client of fsd; MODE=chaos: IPC between processes under chaos.
# CALLS defaults to the mode's own (25,000; chaos 2,000).
SEEDS ?= 1..64
fuzz: $(B)/kernel-debug.elf
	$(QEMU) $(QEMU_ARGS) -kernel $(B)/kernel-debug.elf </dev/null \
	    -append "fuzz $(if $(SEED),seeds=$(SEED) verbose,seeds=$(SEEDS))$(if $(CALLS), calls=$(CALLS))$(if $(PRESSURE), pressure)$(if $(MODE), mode=$(MODE))"

qemu: $(B)/kernel.elf
	./qemu-run.sh

# PROG=NAME (or "a b"): that program's symbols too (init's and fsd's always); ARGS: the bootargs.
gdb: $(B)/kernel.elf
	PROGS="$(PROG)" GDB_APPEND="$(ARGS)" tools/gdb-run $(B)/kernel.elf $(QEMU) $(QEMU_ARGS)

# The trace kernel's boot, its console in build/trace.log, the JSON in build/trace.json.
trace: $(B)/kernel-trace.elf
	$(PYTHON) tools/trace-json --boot "$(QEMU) $(QEMU_ARGS) -icount shift=0,sleep=off -seed 1 \
	    -kernel $(B)/kernel-trace.elf$(if $(ARGS), -append '$(ARGS)')" --log $(B)/trace.log \
	    --syscalls include/kestrel/syscall.h --syscalls user/lib/fsproto.h -o $(B)/trace.json

clean:
	rm -rf $(B)

# Keep intermediate files (objects, generated sources) between runs.
.SECONDARY:

-include $(shell find $(B) -path $(B)/musl -prune -o -name '*.d' -type f -print 2>/dev/null)
