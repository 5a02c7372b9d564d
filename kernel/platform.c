/*
 * kernel/platform.c - reads RAM, reserved memory, the console UART, the power-off
 * device, the timebase, the interrupt controller (PLIC) with the console's
 * interrupt and the virtio-mmio slots out of the device tree (see platform.h).
 */
#include "platform.h"
#include "fdt.h"
#include "panic.h"
#include "string.h"

/* #address-cells / #size-cells of `parent` (spec defaults 2 and 1), checked. */
static void cells_of(const struct fdt *f, int parent, int *ac, int *sc)
{
    uint32_t a = 2, s = 1;
    fdt_prop_u32(f, parent, "#address-cells", &a);
    fdt_prop_u32(f, parent, "#size-cells", &s);
    if (a < 1 || a > 2 || s > 2)
        panic("devtree: node \"%s\" has #address-cells %u, #size-cells %u; only 1-2 are supported",
              fdt_node_name(f, parent), a, s);
    *ac = (int)a;
    *sc = (int)s;
}

/* Entry i of the node's "reg", its parent's cells being ac and sc: 0, or -1 past the end. */
static int reg_cells(const struct fdt *f, int node, int ac, int sc, int i, uint64_t *base, uint64_t *size)
{
    uint32_t len;
    const uint8_t *reg = fdt_prop(f, node, "reg", &len);
    uint32_t entry = 4u * (uint32_t)(ac + sc);
    if (!reg || (uint32_t)(i + 1) * entry > len)
        return -1;
    reg += (uint32_t)i * entry;
    *base = fdt_read_cells(reg, ac);
    *size = sc ? fdt_read_cells(reg + 4 * ac, sc) : 0;
    return 0;
}

/* Entry i of the node's "reg": 0, or -1 past the end (or if there is no reg). */
static int reg_entry(const struct fdt *f, int node, int i, uint64_t *base, uint64_t *size)
{
    int parent = fdt_parent(f, node), ac, sc;
    if (parent < 0)
        return -1;
    cells_of(f, parent, &ac, &sc);
    return reg_cells(f, node, ac, sc, i, base, size);
}

static void add_range(struct mem_range *tab, int *n, uint64_t base, uint64_t size, const char *what)
{
    if (size == 0)
        return;
    if (*n == PLATFORM_MAX_RANGES)
        panic("devtree: more than %d %s ranges", PLATFORM_MAX_RANGES, what);
    tab[*n].base = base;
    tab[*n].size = size;
    (*n)++;
}

void platform_reserve(struct platform *p, uint64_t base, uint64_t size)
{
    add_range(p->reserved, &p->nreserved, base, size, "reserved");
}

static void find_ram(struct platform *p, const struct fdt *f)
{
    for (int n = fdt_first_child(f, fdt_root(f)); n >= 0; n = fdt_next_sibling(f, n)) {
        const char *type = fdt_prop_string(f, n, "device_type");
        if (!type || strcmp(type, "memory") != 0)
            continue;
        uint64_t base, size;
        for (int i = 0; reg_entry(f, n, i, &base, &size) == 0; i++) {
            if (base + size < base)
                panic("devtree: memory range at 0x%lx wraps around", (unsigned long)base);
            add_range(p->ram, &p->nram, base, size, "memory");
        }
    }
    if (p->nram == 0)
        panic("devtree: no memory node (device_type = \"memory\" with a reg) in the DTB");
}

static void find_reserved(struct platform *p, const struct fdt *f)
{
    uint64_t base, size;
    for (int i = 0; fdt_rsvmap_entry(f, i, &base, &size) == 0; i++)
        platform_reserve(p, base, size);
    int rm = fdt_path(f, "/reserved-memory");
    if (rm < 0)
        return;
    for (int n = fdt_first_child(f, rm); n >= 0; n = fdt_next_sibling(f, n))
        for (int i = 0; reg_entry(f, n, i, &base, &size) == 0; i++)
            platform_reserve(p, base, size);
}

/* The node stdout-path names (an absolute path or an alias, ":options" dropped). */
static int stdout_node(const struct fdt *f, char *path, size_t cap)
{
    const char *sp = fdt_prop_string(f, fdt_path(f, "/chosen"), "stdout-path");
    if (!sp)
        return FDT_ERR_NOTFOUND;
    size_t n = 0;
    while (sp[n] && sp[n] != ':' && n + 1 < cap) {
        path[n] = sp[n];
        n++;
    }
    path[n] = '\0';
    if (path[0] != '/') {
        const char *alias = fdt_prop_string(f, fdt_path(f, "/aliases"), path);
        return alias ? fdt_path(f, alias) : FDT_ERR_NOTFOUND;
    }
    return fdt_path(f, path);
}

/* The absolute path of `node` ("/soc/serial@10000000"), truncated to fit buf (cap >= 2). */
static void node_path(const struct fdt *f, int node, char *buf, size_t cap)
{
    int chain[FDT_MAX_DEPTH + 1], n = 0;
    for (int up = fdt_parent(f, node); up >= 0 && n <= FDT_MAX_DEPTH;
         node = up, up = fdt_parent(f, up))
        chain[n++] = node;
    size_t len = 0;
    for (int i = n - 1; i >= 0; i--) {
        const char *name = fdt_node_name(f, chain[i]);
        if (len + 1 < cap)
            buf[len++] = '/';
        while (*name && len + 1 < cap)
            buf[len++] = *name++;
    }
    if (len == 0)
        buf[len++] = '/';
    buf[len] = '\0';
}

/* The console's node; panics if there is no usable 16550 console. */
static int find_console(struct platform *p, const struct fdt *f)
{
    static char path[128];
    int uart = stdout_node(f, path, sizeof path);
    if (uart < 0) {
        uart = fdt_find_compatible(f, -1, "ns16550a");
        if (uart < 0)
            panic("devtree: no console: /chosen/stdout-path is missing and no ns16550a UART exists");
    }
    node_path(f, uart, path, sizeof path);
    p->uart_path = path;
    if (!fdt_is_compatible(f, uart, "ns16550a") && !fdt_is_compatible(f, uart, "ns16550")) {
        const char *compat = fdt_prop_string(f, uart, "compatible");
        panic("devtree: console %s is not a 16550 UART (compatible \"%s\")", path,
              compat ? compat : "(none)");
    }
    if (reg_entry(f, uart, 0, &p->uart_pa, &p->uart_size) != 0 || p->uart_size == 0)
        panic("devtree: console %s has no usable reg", path);
    uint32_t width = 1;
    fdt_prop_u32(f, uart, "reg-io-width", &width);
    if (width != 1)
        panic("devtree: console %s has reg-io-width %u; only byte registers are supported",
              path, width);
    p->uart_reg_shift = 0;
    fdt_prop_u32(f, uart, "reg-shift", &p->uart_reg_shift);
    if (p->uart_reg_shift > 4)
        panic("devtree: console %s has reg-shift %u", path, p->uart_reg_shift);
    p->uart_clock = 0;
    fdt_prop_u32(f, uart, "clock-frequency", &p->uart_clock);
    return uart;
}

/* The /cpus child whose reg is the boot hart, or FDT_ERR_NOTFOUND. */
static int boot_cpu(const struct platform *p, const struct fdt *f)
{
    for (int n = fdt_first_child(f, fdt_path(f, "/cpus")); n >= 0; n = fdt_next_sibling(f, n)) {
        uint32_t reg;
        if (fdt_prop_u32(f, n, "reg", &reg) == 0 && reg == p->hartid)
            return n;
    }
    return FDT_ERR_NOTFOUND;
}

/* The phandle of the boot hart's local interrupt controller (riscv,cpu-intc), 0 if none. */
static uint32_t hart_intc_phandle(const struct platform *p, const struct fdt *f)
{
    uint32_t len, ph;
    int cpu = boot_cpu(p, f);
    if (cpu < 0)
        return 0;
    for (int n = fdt_first_child(f, cpu); n >= 0; n = fdt_next_sibling(f, n))
        if (fdt_prop(f, n, "interrupt-controller", &len) && fdt_prop_u32(f, n, "phandle", &ph) == 0)
            return ph;
    return 0;
}

/*
 * The PLIC context wired to the boot hart's supervisor external interrupt:
 * the index of the interrupts-extended entry naming the hart's controller with
 * cause 9. Each entry is a phandle and that controller's #interrupt-cells
 * cells. -1 if there is none.
 */
static long supervisor_context(const struct platform *p, const struct fdt *f, int plic)
{
    enum { CAUSE_S_EXTERNAL = 9 };
    uint32_t intc = hart_intc_phandle(p, f), len;
    const uint8_t *cells = fdt_prop(f, plic, "interrupts-extended", &len);
    if (!intc || !cells)
        return -1;
    uint32_t n = len / 4, i = 0;
    for (long ctx = 0; i < n; ctx++) {
        uint32_t ph = (uint32_t)fdt_read_cells(cells + 4 * i, 1), icells = 0;
        int target = fdt_node_by_phandle(f, ph);
        if (target < 0 || fdt_prop_u32(f, target, "#interrupt-cells", &icells) != 0 ||
            icells == 0 || icells > n - i - 1)
            return -1;              /* cannot tell where the next entry starts */
        if (ph == intc && fdt_read_cells(cells + 4 * (i + 1), 1) == CAUSE_S_EXTERNAL)
            return ctx;
        i += 1 + icells;
    }
    return -1;
}

/* The node's interrupt-parent phandle, its own or the nearest ancestor's; 0 if none. */
static uint32_t interrupt_parent(const struct fdt *f, int node)
{
    uint32_t ph;
    for (; node >= 0; node = fdt_parent(f, node))
        if (fdt_prop_u32(f, node, "interrupt-parent", &ph) == 0)
            return ph;
    return 0;
}

/*
 * The PLIC and the console's interrupt. Anything missing or odd leaves them
 * unset (plic_pa or uart_irq 0): the kernel then offers no interrupts, but boots.
 */
static uint32_t find_plic(struct platform *p, const struct fdt *f, int uart)
{
    int plic = fdt_find_compatible(f, -1, "riscv,plic0");
    if (plic < 0)
        plic = fdt_find_compatible(f, -1, "sifive,plic-1.0.0");
    uint64_t base, size;
    uint32_t ndev, ph, irq;
    if (plic < 0 || reg_entry(f, plic, 0, &base, &size) != 0 || size == 0 ||
        fdt_prop_u32(f, plic, "riscv,ndev", &ndev) != 0 || ndev == 0 || ndev > 1023)
        return 0;
    long ctx = supervisor_context(p, f, plic);
    if (ctx < 0 || ctx > 15871)         /* the PLIC's most contexts */
        return 0;
    p->plic_pa = base;
    p->plic_size = size;
    p->plic_ndev = ndev;
    p->plic_context = (uint32_t)ctx;
    if (fdt_prop_u32(f, plic, "phandle", &ph) != 0)
        return 0;
    if (interrupt_parent(f, uart) == ph && fdt_prop_u32(f, uart, "interrupts", &irq) == 0 && irq >= 1 &&
        irq <= ndev)
        p->uart_irq = irq;
    return ph;
}

/*
 * The "virtio,mmio" nodes that are siblings of the first one found (QEMU's
 * virt puts all eight under /soc), in address order, with their interrupt
 * at the PLIC (plic_phandle; 0 if it is not usable: no interrupts).
 */
static void find_virtio(struct platform *p, const struct fdt *f, uint32_t plic_phandle)
{
    int first = fdt_find_compatible(f, -1, "virtio,mmio");
    int parent = first >= 0 ? fdt_parent(f, first) : -1, ac, sc;
    if (parent < 0)
        return;
    cells_of(f, parent, &ac, &sc);
    for (int n = fdt_first_child(f, parent); n >= 0 && p->nvirtio < PLATFORM_MAX_VIRTIO;
         n = fdt_next_sibling(f, n)) {
        struct platform_device d = { 0 };
        uint32_t irq;
        if (!fdt_is_compatible(f, n, "virtio,mmio") || reg_cells(f, n, ac, sc, 0, &d.pa, &d.size) != 0 ||
            d.size == 0)
            continue;
        if (plic_phandle && interrupt_parent(f, n) == plic_phandle &&
            fdt_prop_u32(f, n, "interrupts", &irq) == 0 && irq >= 1 && irq <= p->plic_ndev)
            d.irq = irq;
        int at = p->nvirtio++;
        while (at > 0 && p->virtio[at - 1].pa > d.pa) {     /* insertion: the DTB lists them downwards */
            p->virtio[at] = p->virtio[at - 1];
            at--;
        }
        p->virtio[at] = d;
    }
}

static void find_cpu(struct platform *p, const struct fdt *f)
{
    int cpus = fdt_path(f, "/cpus");
    uint32_t tb = 0;
    p->isa = "";
    if (cpus < 0)
        panic("devtree: no /cpus node");
    int cpu = boot_cpu(p, f);
    if (cpu >= 0) {
        const char *isa = fdt_prop_string(f, cpu, "riscv,isa");
        if (isa)
            p->isa = isa;
        fdt_prop_u32(f, cpu, "timebase-frequency", &tb);
    }
    if (tb == 0)
        fdt_prop_u32(f, cpus, "timebase-frequency", &tb);
    if (tb == 0)
        panic("devtree: no timebase-frequency in /cpus");
    p->timebase_hz = tb;
}

void platform_parse(struct platform *p, const void *dtb, uint64_t dtb_pa, size_t avail,
                    unsigned long hartid)
{
    struct fdt f;
    int err = fdt_open(&f, dtb, avail);
    if (err)
        panic("devtree: DTB at 0x%lx: %s", (unsigned long)dtb_pa, fdt_strerror(err));

    memset(p, 0, sizeof *p);
    p->hartid = hartid;
    p->dtb_pa = dtb_pa;
    p->dtb_size = fdt_size(&f);
    find_ram(p, &f);
    find_reserved(p, &f);
    int uart = find_console(p, &f);
    find_cpu(p, &f);
    find_virtio(p, &f, find_plic(p, &f, uart));

    int test = fdt_find_compatible(&f, -1, "sifive,test0");
    uint64_t size;
    if (test >= 0 && reg_entry(&f, test, 0, &p->poweroff_pa, &size) != 0)
        p->poweroff_pa = 0;

    p->bootargs = fdt_prop_string(&f, fdt_path(&f, "/chosen"), "bootargs");
    if (!p->bootargs)
        p->bootargs = "";
    p->rng_seed = fdt_prop(&f, fdt_path(&f, "/chosen"), "rng-seed", &p->rng_seed_len);
    if (!p->rng_seed)
        p->rng_seed_len = 0;
}

int platform_has_arg(const struct platform *p, const char *word)
{
    size_t len = strlen(word);
    for (const char *s = p->bootargs; *s;) {
        while (*s == ' ')
            s++;
        size_t n = 0;
        while (s[n] && s[n] != ' ')
            n++;
        if (n == len && strncmp(s, word, n) == 0)
            return 1;
        s += n;
    }
    return 0;
}
