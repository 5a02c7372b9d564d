/*
 * kernel/main.c - kmain(), where boot.S hands over: bring the machine up in
 * dependency order, start init, and become the idle thread.
 *
 * Bootargs (QEMU -append) are init's arguments, except two the kernel acts on:
 *   ktest         run the in-kernel tests (KTAP), exit 0 if all pass, else 1
 *   ktest.panic   fault on purpose; the harness checks the panic report
 * When init ends, its exit status becomes QEMU's (kernel/process.c).
 */
#include <arch/arch.h>
#include "boot_tests.h"
#include "clock.h"
#include "console.h"
#include "futex.h"
#include "heap.h"
#include "irq.h"
#include "kprintf.h"
#include <kestrel/syscall.h>
#include "memobj.h"
#include "page_alloc.h"
#include "panic.h"
#include "platform.h"
#include "power.h"
#include "sched.h"
#include "thread.h"
#include "random.h"
#include "userboot.h"
#include "uart16550.h"

#define DTB_MAX_SIZE   (1ul << 20)      /* larger device trees are refused */
#define EARLY_MAP_END  (4ul << 30)      /* boot.S direct-maps physical 0..4 GiB */

extern char __kernel_start[], __kernel_end[];

static struct platform plat;

static void print_banner(void)
{
    kprintf("kestrel: RISC-V Sv48 kernel on hart %lu\n", plat.hartid);
    for (int i = 0; i < plat.nram; i++)
        kprintf("ram:      0x%lx-0x%lx (%lu MiB)\n", (unsigned long)plat.ram[i].base,
                (unsigned long)(plat.ram[i].base + plat.ram[i].size),
                (unsigned long)(plat.ram[i].size >> 20));
    for (int i = 0; i < plat.nreserved; i++)
        kprintf("reserved: 0x%lx-0x%lx\n", (unsigned long)plat.reserved[i].base,
                (unsigned long)(plat.reserved[i].base + plat.reserved[i].size));
    kprintf("console:  %s (16550 at 0x%lx)\n", plat.uart_path, (unsigned long)plat.uart_pa);
    if (plat.plic_pa)
        kprintf("irq:      PLIC at 0x%lx, %u sources, context %u; console irq %u\n",
                (unsigned long)plat.plic_pa, plat.plic_ndev, plat.plic_context, plat.uart_irq);
    else
        kprintf("irq:      no usable PLIC; no interrupts for user space\n");
    kprintf("timer:    %lu Hz timebase, tick %d Hz via %s\n", (unsigned long)plat.timebase_hz,
            CLOCK_HZ, arch_timer_uses_sstc() ? "stimecmp (Sstc)" : "SBI");
    kprintf("pages:    %zu free of %zu (%zu MiB free)\n", page_free_count(), page_total_count(),
            page_free_count() >> (20 - PAGE_SHIFT));
}

/*
 * What init gets for a user-space console driver: the UART's registers as a
 * device memobj and its interrupt. The kernel keeps printing through the UART
 * itself, polled (kernel/uart16550.c).
 */
/* Key the random generator: the device tree's seed (read before the DTB may be reused), the clocks. */
static void seed_random(const struct platform *p)
{
    uint64_t clocks[2] = { arch_time_now(), arch_instret() };
    if (p->rng_seed_len)
        random_mix(p->rng_seed, p->rng_seed_len);
    random_mix(clocks, sizeof clocks);
}

static struct userboot_console console_objects(void)
{
    struct userboot_console c = {
        .reg_offset = plat.uart_pa & (PAGE_SIZE - 1),
        .reg_shift = plat.uart_reg_shift,
    };
    struct memobj *mo = memobj_create_device(plat.uart_pa, plat.uart_size);
    struct irq *q = plat.uart_irq ? irq_get(plat.uart_irq) : NULL;
    if (!mo)
        panic("kmain: out of memory for the console memobj");
    c.mmio = &mo->obj;          /* init's handle will hold it; our reference goes below */
    c.irq = q ? &q->obj : NULL;
    return c;
}

/*
 * The virtio-mmio slots with a device behind them (register 0 reads "virt",
 * register 2, the device ID, is not 0): their registers and interrupts, for
 * init to hand to drivers. Reading those two registers, and writing 0 to the
 * status register to reset the device before DMA memory made for it is freed,
 * is all the kernel does with a virtio device.
 */
#define VIRTIO_MMIO_MAGIC 0x74726976u
#define VIRTIO_MMIO_STATUS 0x70
static int virtio_objects(struct userboot_device *out)
{
    int n = 0;
    for (int i = 0; i < plat.nvirtio && n < KS_DEVICE_MAX; i++) {
        const struct platform_device *d = &plat.virtio[i];
        volatile uint32_t *regs = arch_map_device(d->pa, d->size);
        if (!regs || regs[0] != VIRTIO_MMIO_MAGIC || regs[2] == 0)
            continue;
        struct memobj *mo = memobj_create_device(d->pa, d->size);
        struct irq *q = d->irq ? irq_get(d->irq) : NULL;
        if (!mo)
            panic("kmain: out of memory for a device memobj");
        mo->reset_reg = regs + VIRTIO_MMIO_STATUS / 4;     /* see memobj_create_dma */
        out[n] = (struct userboot_device){ &mo->obj, q ? &q->obj : NULL, regs[2] };
        kprintf("virtio:   device %u at 0x%lx, irq %u\n", out[n].virtio_id, (unsigned long)d->pa, d->irq);
        n++;
    }
    return n;
}

void kmain(unsigned long hartid, uint64_t dtb_pa)
{
    arch_trap_init();
    if (dtb_pa >= EARLY_MAP_END - DTB_MAX_SIZE)
        panic("kmain: DTB at 0x%lx is outside the early direct map", (unsigned long)dtb_pa);
    platform_parse(&plat, phys_to_virt(dtb_pa), dtb_pa, DTB_MAX_SIZE, hartid);
    platform_reserve(&plat, virt_to_phys(__kernel_start), (uint64_t)(__kernel_end - __kernel_start));
    platform_reserve(&plat, plat.dtb_pa, plat.dtb_size);
    seed_random(&plat);

    page_alloc_init(&plat);
    uart_init(arch_map_device(plat.uart_pa, plat.uart_size), plat.uart_reg_shift, plat.uart_clock);
    power_init(&plat);
    arch_vm_init(&plat);
    console_use_uart();
    heap_init();
    futex_init();
    thread_init_boot();
    clock_init(&plat);
    irq_init(&plat);
    arch_irq_enable();

    print_banner();
    if (platform_has_arg(&plat, "ktest.panic"))
        ktest_panic_fault();
    if (platform_has_arg(&plat, "ktest.uaf"))
        ktest_use_after_free();
    if (platform_has_arg(&plat, "ktest"))
        shutdown(boot_tests_run() ? EXIT_TESTS_FAILED : EXIT_OK);

    /*
     * From here on the kernel runs with interrupts off, as it does in every
     * trap; the idle loop turns them on only around wfi. (Left on, init's
     * first switch entered user mode with them on: see thread_start_user.)
     */
    arch_irq_disable();
    struct userboot_console console = console_objects();
    struct userboot_device devs[KS_DEVICE_MAX];
    int ndev = virtio_objects(devs);
    userboot_start_init(plat.bootargs, &console, devs, ndev);
    object_put(console.mmio);
    for (int i = 0; i < ndev; i++)
        object_put(devs[i].mmio);       /* init's handles hold them now */
    sched_idle_loop();
}
