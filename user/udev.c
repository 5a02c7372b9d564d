/*
 * user/udev.c - tests of device memobjs and interrupt objects (KTAP), run by
 * init with "utest" after utest, uipc and ufp and before mtest: before
 * anything reads the console, so fsd has not bound the UART's irq yet.
 *
 * init hands this program copies of the two console handles the kernel gave
 * it (ulib_inherited(0): the UART's device memobj, (1): its irq) and, as argv,
 * where the UART's registers lie in the memobj (offset, reg-shift). The
 * interrupt cases need no input: enabling the 16550's "transmitter holding
 * register empty" interrupt (IER.ETBEI) raises the line at once, and clearing
 * it lowers the line again. Every case leaves IER at 0 and the irq unbound,
 * and compares ks_kstat before and after; leak.whole_run compares the end of
 * the run with main's start.
 */
#include "kernel/ktest.h"
#include "user/lib/ipc.h"
#include "user/lib/testlib.h"
#include "user/lib/ulib.h"

#define MS (1000000ull)
#define UART_IRQ_VIRT 10        /* QEMU virt's UART0_IRQ: what MR0 must say */
#define UART_IER 1
#define UART_LSR 5
#define IER_ETBEI 0x02          /* interrupt when the transmit holding register is empty */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MMIO_RIGHTS (KS_RIGHT_READ | KS_RIGHT_WRITE | KS_RIGHT_MAP | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)
#define IRQ_RIGHTS (KS_RIGHT_READ | KS_RIGHT_MANAGE | KS_RIGHT_TRANSFER | KS_RIGHT_DUPLICATE)
#define IRQ_DATA 0x1a2b3c4d5e6f0011ull
#define CALL_DATA 0x77ull

static ks_handle_t mmio, irq;
static uint64_t reg_offset, reg_shift;

/* ---- helpers ---- */

static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;
    while (s && *s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

/* The UART's registers mapped shared read/write; 0 on failure. */
static volatile uint8_t *map_uart(void)
{
    long a = ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    return a < 0 ? NULL : (volatile uint8_t *)a;
}

/* Unmap what map_uart mapped; a failure fails the case at the caller's line. */
#define unmap_uart(regs) UNMAP(regs, KS_PAGE_SIZE)

static volatile uint8_t *reg(volatile uint8_t *regs, int n)
{
    return regs + reg_offset + ((uint64_t)n << reg_shift);
}

/* What one receive got. */
struct got {
    long r;
    uint64_t a1, info;
    uint64_t w[KS_IPC_WORDS];
};

static struct got receive(ks_handle_t l)
{
    struct got g;
    memset(&g, 0, sizeof g);
    for (int i = 0; i < KS_IPC_WORDS; i++)
        g.w[i] = 0xdead0000 + (uint64_t)i;     /* must come back 0 */
    g.r = ks_ipc_receive(l, NULL, g.w, &g.a1, &g.info);
    return g;
}

/* 1 if g is the irq's notification with userdata `data`. */
static int is_notification(const struct got *g, uint64_t data)
{
    if (g->r != KS_HANDLE_NONE || g->a1 != data || g->info != 0 || g->w[0] != UART_IRQ_VIRT)
        return 0;
    for (int i = 1; i < KS_IPC_WORDS; i++)
        if (g->w[i] != 0)
            return 0;
    return 1;
}

#define EXPECT_NOTIFICATION(g, data) \
    do { \
        if (!is_notification(&(g), (data))) \
            ktest_fail(__FILE__, __LINE__, "not the notification: r %ld a1 0x%lx info 0x%lx w0 %lu w1 0x%lx", \
                       (g).r, (unsigned long)(g).a1, (unsigned long)(g).info, \
                       (unsigned long)(g).w[0], (unsigned long)(g).w[1]); \
    } while (0)

/* A receiver thread's listener and result. */
static volatile long rx_listener;
static struct got rx_got;

static void receiver(long arg)
{
    rx_got = receive((ks_handle_t)rx_listener);
    ks_thread_exit(0);
}

/* 1 if nothing arrives on l for `ms` milliseconds (a receiver is started, then interrupted). */
static int quiet_for(ks_handle_t l, uint64_t ms)
{
    rx_listener = l;
    memset(&rx_got, 0, sizeof rx_got);
    struct uthread t = thread_start(receiver, 0);
    if (t.h < 0)
        return 0;
    ks_thread_sleep(ms * MS);
    ks_thread_interrupt((ks_handle_t)t.h);
    thread_finish(&t);
    return rx_got.r == KS_ERR_INTERRUPTED;
}

/* ---- mmio: the console's device memobj ---- */

static void mmio_handles(void)
{
    KT_ASSERT(mmio > 0);
    KT_ASSERT(irq > 0);
    KT_EXPECT_EQ(ks_handle_info(mmio), (uint64_t)KS_OBJ_MEMOBJ << 16 | MMIO_RIGHTS);
    KT_EXPECT_EQ(ks_handle_info(irq), (uint64_t)KS_OBJ_IRQ << 16 | IRQ_RIGHTS);
    KT_EXPECT_EQ(ks_memobj_size(mmio), KS_PAGE_SIZE);
    KT_EXPECT(reg_offset + (7ull << reg_shift) < KS_PAGE_SIZE);
}

static void mmio_lsr(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    KT_ASSERT(regs);
    uint8_t lsr = *reg(regs, UART_LSR);
    KT_EXPECT_EQ(lsr & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
    KT_EXPECT_EQ(*reg(regs, UART_IER), 0);
    /* A second mapping of the same registers sees the same, and both go cleanly. */
    volatile uint8_t *again = map_uart();
    KT_EXPECT(again && (*reg(again, UART_LSR) & LSR_THRE));
    unmap_uart(again);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

static void mmio_refused(void)
{
    struct ks_kstat k = kstat_now();
    uint8_t buf[8] = { 0 };
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_PRIVATE),
                 KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_PROT_EXEC | KS_MAP_SHARED), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, 2 * KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED),
                 KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, mmio, KS_PAGE_SIZE, 0, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_MAP_SHARED), KS_ERR_RANGE);
    KT_EXPECT_EQ(ks_memobj_read(mmio, 0, buf, 1), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_write(mmio, 0, buf, 1), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_truncate(mmio, 0), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_truncate(mmio, 2 * KS_PAGE_SIZE), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_view_create(mmio, KS_RIGHT_READ), KS_ERR_INVALID);
    KT_EXPECT_EQ(ks_memobj_size(mmio), KS_PAGE_SIZE);
    /* A mapping cannot be made executable afterwards either. */
    volatile uint8_t *regs = map_uart();
    KT_ASSERT(regs);
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)regs, KS_PAGE_SIZE,
                               KS_PROT_READ | KS_PROT_EXEC), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)regs, KS_PAGE_SIZE, KS_PROT_READ), 0);
    KT_EXPECT(*reg(regs, UART_LSR) & LSR_THRE);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

/* A duplicate without WRITE maps the registers read-only, and refuses a writable mapping. */
static void mmio_read_only(void)
{
    struct ks_kstat k = kstat_now();
    long ro = ks_handle_duplicate(mmio, KS_RIGHT_READ | KS_RIGHT_MAP);
    KT_ASSERT(ro >= 0);
    KT_EXPECT_EQ(ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, 0, KS_PAGE_SIZE,
                           KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED), KS_ERR_ACCESS);
    long a = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)ro, 0, 0, KS_PAGE_SIZE, KS_PROT_READ | KS_MAP_SHARED);
    KT_EXPECT(a > 0);
    if (a > 0) {
        KT_EXPECT(*reg((volatile uint8_t *)a, UART_LSR) & LSR_THRE);
        unmap_uart((volatile uint8_t *)a);
    }
    ks_handle_close((ks_handle_t)ro);
    EXPECT_SAME_KSTAT(&k);
}

/* DMA memory needs a device memobj with KS_RIGHT_DMA: the console's has none (udev's blk suite has one). */
static void mmio_no_dma(void)
{
    struct ks_kstat k = kstat_now();
    long m = ks_memobj_create(KS_PAGE_SIZE);
    long l = ks_ipc_listener_create();
    KT_ASSERT(m > 0 && l > 0);
    KT_EXPECT_EQ(ks_dma_create(mmio, KS_PAGE_SIZE), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_dma_create((ks_handle_t)m, KS_PAGE_SIZE), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_dma_create((ks_handle_t)l, KS_PAGE_SIZE), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_dma_create(KS_HANDLE_NONE, KS_PAGE_SIZE), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_dma_create(0x7fffff00, KS_PAGE_SIZE), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_dma_addr(mmio, 0), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_dma_addr((ks_handle_t)m, 0), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_handle_duplicate(mmio, KS_RIGHT_READ | KS_RIGHT_DMA), KS_ERR_ACCESS);
    ks_handle_close((ks_handle_t)m);
    ks_handle_close((ks_handle_t)l);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case mmio_cases[] = {
    { "handles", mmio_handles },
    { "no_dma", mmio_no_dma },
    { "lsr", mmio_lsr },
    { "refused", mmio_refused },
    { "read_only", mmio_read_only },
};
KTEST_SUITE(mmio_suite, "mmio", mmio_cases);

/* ---- irq: the console's interrupt ---- */

static void irq_bad_handles(void)
{
    struct ks_kstat k = kstat_now();
    long l = ks_ipc_listener_create();
    KT_ASSERT(l >= 0);
    long weak_irq = ks_handle_duplicate(irq, KS_RIGHT_READ | KS_RIGHT_DUPLICATE);
    long weak_l = ks_handle_duplicate((ks_handle_t)l, KS_RIGHT_MANAGE);
    KT_ASSERT(weak_irq >= 0 && weak_l >= 0);

    KT_EXPECT_EQ(ks_irq_bind(0, (ks_handle_t)l, 1), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_irq_bind(0x7fff0042, (ks_handle_t)l, 1), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_irq_bind(mmio, (ks_handle_t)l, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_bind(KS_PROCESS_SELF, (ks_handle_t)l, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_bind((ks_handle_t)l, (ks_handle_t)l, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_bind((ks_handle_t)weak_irq, (ks_handle_t)l, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_irq_bind(irq, 0x7fff0042, 1), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_irq_bind(irq, mmio, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_bind(irq, irq, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_THREAD_SELF, 1), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)weak_l, 1), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_irq_ack(0), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_irq_ack(0x7fff0042), KS_ERR_BAD_HANDLE);
    KT_EXPECT_EQ(ks_irq_ack(mmio), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_ack((ks_handle_t)l), KS_ERR_WRONG_TYPE);
    KT_EXPECT_EQ(ks_irq_ack((ks_handle_t)weak_irq), KS_ERR_ACCESS);
    KT_EXPECT_EQ(ks_irq_ack(irq), KS_ERR_BAD_STATE);           /* not bound */
    /* Binding and unbinding with nothing firing; ack works while bound. */
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, 1), 0);
    KT_EXPECT_EQ(ks_irq_ack(irq), 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    KT_EXPECT_EQ(ks_irq_ack(irq), KS_ERR_BAD_STATE);
    /* A closed handle is stale. */
    ks_handle_close((ks_handle_t)weak_irq);
    KT_EXPECT_EQ(ks_irq_ack((ks_handle_t)weak_irq), KS_ERR_BAD_HANDLE);
    ks_handle_close((ks_handle_t)weak_l);
    ks_handle_close((ks_handle_t)l);
    EXPECT_SAME_KSTAT(&k);
}

/* The whole round: bind, fire, receive, quiet the device, ack, nothing more. */
static void irq_end_to_end(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    long l = ks_ipc_listener_create();
    KT_ASSERT(regs && l >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, IRQ_DATA), 0);
    *reg(regs, UART_IER) = IER_ETBEI;           /* THR is empty: the line rises at once */
    struct got g = receive((ks_handle_t)l);
    EXPECT_NOTIFICATION(g, IRQ_DATA);
    /* Masked until acknowledged, even though the device still asserts it. */
    KT_EXPECT(quiet_for((ks_handle_t)l, 20));
    *reg(regs, UART_IER) = 0;
    KT_EXPECT_EQ(ks_irq_ack(irq), 0);
    KT_EXPECT(quiet_for((ks_handle_t)l, 30));
    /* Once more, to show the ack really re-enabled it. */
    *reg(regs, UART_IER) = IER_ETBEI;
    g = receive((ks_handle_t)l);
    EXPECT_NOTIFICATION(g, IRQ_DATA);
    *reg(regs, UART_IER) = 0;
    KT_EXPECT_EQ(ks_irq_ack(irq), 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)l);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

/* A thread blocked in receive is woken by the notification. */
static void irq_wakes_receiver(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    long l = ks_ipc_listener_create();
    KT_ASSERT(regs && l >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, IRQ_DATA + 1), 0);
    rx_listener = l;
    memset(&rx_got, 0, sizeof rx_got);
    struct uthread t = thread_start(receiver, 0);
    KT_ASSERT(t.h >= 0);
    ks_thread_sleep(20 * MS);                   /* it is blocked in receive by now */
    *reg(regs, UART_IER) = IER_ETBEI;
    KT_EXPECT_EQ(thread_finish(&t), 0);
    EXPECT_NOTIFICATION(rx_got, IRQ_DATA + 1);
    *reg(regs, UART_IER) = 0;
    KT_EXPECT_EQ(ks_irq_ack(irq), 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)l);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

static volatile long caller_port;
static volatile long caller_result;
static uint64_t caller_w[KS_IPC_WORDS];

static void caller(long arg)
{
    for (int i = 0; i < KS_IPC_WORDS; i++)
        caller_w[i] = (uint64_t)arg + (uint64_t)i;
    caller_result = ks_ipc_call((ks_handle_t)caller_port, NULL, caller_w, NULL);
    ks_thread_exit(0);
}

/* A notification that arrives while a call is queued is received first. */
static void irq_before_queued_call(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    long l = ks_ipc_listener_create();
    long c = l >= 0 ? ks_ipc_client_create((ks_handle_t)l, CALL_DATA) : -1;
    KT_ASSERT(regs && l >= 0 && c >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, IRQ_DATA + 2), 0);
    caller_port = c;
    caller_result = 0x7777;
    struct uthread t = thread_start(caller, 100);
    KT_ASSERT(t.h >= 0);
    ks_thread_sleep(20 * MS);                   /* the call is queued by now */
    *reg(regs, UART_IER) = IER_ETBEI;           /* and the notification after it */
    struct got g = receive((ks_handle_t)l);
    EXPECT_NOTIFICATION(g, IRQ_DATA + 2);
    *reg(regs, UART_IER) = 0;
    g = receive((ks_handle_t)l);                /* then the call */
    KT_EXPECT(g.r > 0);
    KT_EXPECT_EQ(g.a1, CALL_DATA);
    KT_EXPECT_EQ(g.w[0], 100);
    KT_EXPECT_EQ(g.w[7], 107);
    if (g.r > 0) {
        uint64_t w[KS_IPC_WORDS] = { 5 };
        KT_EXPECT_EQ(ks_ipc_reply((ks_handle_t)g.r, NULL, w), 0);
    }
    KT_EXPECT_EQ(thread_finish(&t), 0);
    KT_EXPECT_EQ(caller_result, 0);
    KT_EXPECT_EQ(caller_w[0], 5);
    KT_EXPECT_EQ(ks_irq_ack(irq), 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

/*
 * A server that fires the interrupt while it handles a call, then replies and
 * receives in one call (the register-only case ipc_fast.S takes): it must get
 * the notification, not block past it. The client's next call comes after.
 */
static volatile long server_listener;
static volatile uint8_t *server_regs;
static struct got server_got[2];

static void server(long arg)
{
    ks_handle_t l = (ks_handle_t)server_listener;
    struct got g = receive(l);                  /* the client's first call */
    if (g.r <= 0)
        ks_thread_exit(1);
    *reg(server_regs, UART_IER) = IER_ETBEI;    /* fires now: pending, nobody receiving */
    uint64_t w[KS_IPC_WORDS] = { g.w[0] + 1 };
    server_got[0].r = ks_ipc_reply_receive((ks_handle_t)g.r, l, NULL, w, &server_got[0].a1,
                                           &server_got[0].info);
    memcpy(server_got[0].w, w, sizeof w);
    *reg(server_regs, UART_IER) = 0;
    server_got[1] = receive(l);                 /* the client's second call */
    if (server_got[1].r > 0) {
        uint64_t w2[KS_IPC_WORDS] = { 9 };
        ks_ipc_reply((ks_handle_t)server_got[1].r, NULL, w2);
    }
    ks_thread_exit(0);
}

static void irq_before_fast_reply_receive(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    long l = ks_ipc_listener_create();
    long c = l >= 0 ? ks_ipc_client_create((ks_handle_t)l, CALL_DATA) : -1;
    KT_ASSERT(regs && l >= 0 && c >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, IRQ_DATA + 3), 0);
    server_listener = l;
    server_regs = regs;
    memset(server_got, 0, sizeof server_got);
    struct uthread t = thread_start(server, 0);
    KT_ASSERT(t.h >= 0);
    ks_thread_sleep(20 * MS);                   /* the server waits in receive */
    uint64_t w[KS_IPC_WORDS] = { 41 };
    KT_EXPECT_EQ(ks_ipc_call((ks_handle_t)c, NULL, w, NULL), 0);
    KT_EXPECT_EQ(w[0], 42);
    uint64_t w2[KS_IPC_WORDS] = { 50 };
    KT_EXPECT_EQ(ks_ipc_call((ks_handle_t)c, NULL, w2, NULL), 0);
    KT_EXPECT_EQ(w2[0], 9);
    KT_EXPECT_EQ(thread_finish(&t), 0);
    EXPECT_NOTIFICATION(server_got[0], IRQ_DATA + 3);
    KT_EXPECT(server_got[1].r > 0);
    KT_EXPECT_EQ(server_got[1].a1, CALL_DATA);
    KT_EXPECT_EQ(server_got[1].w[0], 50);
    KT_EXPECT_EQ(ks_irq_ack(irq), 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)c);
    ks_handle_close((ks_handle_t)l);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

/* Firings while one notification is pending coalesce into it. */
static void irq_coalesce(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    long l = ks_ipc_listener_create();
    KT_ASSERT(regs && l >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, IRQ_DATA + 4), 0);
    *reg(regs, UART_IER) = IER_ETBEI;
    for (int i = 0; i < 3; i++)
        KT_EXPECT_EQ(ks_irq_ack(irq), 0);       /* fires again each time: still one pending */
    struct got g = receive((ks_handle_t)l);
    EXPECT_NOTIFICATION(g, IRQ_DATA + 4);
    *reg(regs, UART_IER) = 0;
    KT_EXPECT(quiet_for((ks_handle_t)l, 20));
    KT_EXPECT_EQ(ks_irq_ack(irq), 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)l);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

/* Rebinding moves the irq: a notification pending on the old listener goes, the new one gets the next. */
static void irq_rebind(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    long l1 = ks_ipc_listener_create(), l2 = ks_ipc_listener_create();
    KT_ASSERT(regs && l1 >= 0 && l2 >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l1, 1), 0);
    *reg(regs, UART_IER) = IER_ETBEI;           /* pending on l1 */
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l2, 2), 0);
    /*
     * QEMU 7.2's PLIC model forgets a level once it was claimed, until the
     * device signals it again; this 16550 model does so when IER changes.
     */
    *reg(regs, UART_IER) = 0;
    *reg(regs, UART_IER) = IER_ETBEI;
    struct got g = receive((ks_handle_t)l2);
    EXPECT_NOTIFICATION(g, 2);
    *reg(regs, UART_IER) = 0;
    KT_EXPECT(quiet_for((ks_handle_t)l1, 20));
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)l1);
    ks_handle_close((ks_handle_t)l2);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

/* Closing the listener while bound (with and without a notification pending) unbinds the irq. */
static void irq_listener_closed(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    KT_ASSERT(regs);
    long l = ks_ipc_listener_create();
    KT_ASSERT(l >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, 1), 0);
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)l), 0);
    *reg(regs, UART_IER) = IER_ETBEI;           /* fires into nothing */
    ks_thread_sleep(10 * MS);
    KT_EXPECT_EQ(ks_irq_ack(irq), KS_ERR_BAD_STATE);
    *reg(regs, UART_IER) = 0;
    /* Now with the notification pending when the listener goes. */
    l = ks_ipc_listener_create();
    KT_ASSERT(l >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, 1), 0);
    *reg(regs, UART_IER) = IER_ETBEI;
    KT_EXPECT_EQ(ks_handle_close((ks_handle_t)l), 0);
    *reg(regs, UART_IER) = 0;
    KT_EXPECT_EQ(ks_irq_ack(irq), KS_ERR_BAD_STATE);
    /* And the irq still works with a new listener. */
    l = ks_ipc_listener_create();
    KT_ASSERT(l >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, 3), 0);
    *reg(regs, UART_IER) = IER_ETBEI;
    struct got g = receive((ks_handle_t)l);
    EXPECT_NOTIFICATION(g, 3);
    *reg(regs, UART_IER) = 0;
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)l);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

/* The kernel's own console output keeps working while a program holds ETBEI on. */
static void irq_kernel_output(void)
{
    struct ks_kstat k = kstat_now();
    volatile uint8_t *regs = map_uart();
    long l = ks_ipc_listener_create();
    KT_ASSERT(regs && l >= 0);
    KT_EXPECT_EQ(ks_irq_bind(irq, (ks_handle_t)l, 5), 0);
    *reg(regs, UART_IER) = IER_ETBEI;
    struct ks_kstat before = kstat_now();
    printf("# irq.kernel_output: this line goes out with ETBEI set\n");
    ulib_flush();
    KT_EXPECT_EQ(kstat_now().debug_write_calls, before.debug_write_calls + 1);
    struct got g = receive((ks_handle_t)l);
    EXPECT_NOTIFICATION(g, 5);
    *reg(regs, UART_IER) = 0;
    KT_EXPECT_EQ(ks_irq_bind(irq, KS_HANDLE_NONE, 0), 0);
    ks_handle_close((ks_handle_t)l);
    unmap_uart(regs);
    EXPECT_SAME_KSTAT(&k);
}

static const struct ktest_case irq_cases[] = {
    { "bad_handles", irq_bad_handles },
    { "end_to_end", irq_end_to_end },
    { "wakes_receiver", irq_wakes_receiver },
    { "before_queued_call", irq_before_queued_call },
    { "before_fast_reply_receive", irq_before_fast_reply_receive },
    { "coalesce", irq_coalesce },
    { "rebind", irq_rebind },
    { "listener_closed", irq_listener_closed },
    { "kernel_output", irq_kernel_output },
};
KTEST_SUITE(irq_suite, "irq", irq_cases);

/* ---- leak ---- */

static struct ks_kstat run_start;

static void leak_whole_run(void)
{
    struct ks_kstat now = kstat_now();
    KT_EXPECT_EQ(now.objects, run_start.objects);
    KT_EXPECT_EQ(now.heap_objects, run_start.heap_objects);
    KT_EXPECT_EQ(now.free_pages, run_start.free_pages);
}

static const struct ktest_case leak_cases[] = {
    { "whole_run", leak_whole_run },
};
KTEST_SUITE(leak_suite, "leak", leak_cases);

static const struct ktest_suite *const suites[] = { &mmio_suite, &irq_suite, &leak_suite };

extern char __user_data_start[], __user_data_end[];     /* user/user.ld */

/* Make the first-touch copies of this program's writable pages now. */
static void touch_data(void)
{
    uintptr_t a = (uintptr_t)__user_data_start & ~(uintptr_t)(KS_PAGE_SIZE - 1);
    for (; a < (uintptr_t)__user_data_end; a += KS_PAGE_SIZE)
        *(volatile uint8_t *)a = *(volatile uint8_t *)a;
}

static __attribute__((noinline)) void touch_stack(void)
{
    volatile uint8_t big[64 * 1024];
    for (size_t i = 0; i < sizeof big; i += KS_PAGE_SIZE)
        big[i] = 0;
}

/*
 * Settle what this process keeps until it exits before the baseline: stack
 * pages, page tables, and the main thread's reply port (made by its first
 * receive, kept).
 */
static void settle(void)
{
    touch_stack();
    touch_data();
    long l = ks_ipc_listener_create();
    long c = l >= 0 ? ks_ipc_client_create((ks_handle_t)l, 0) : -1;
    if (c >= 0) {
        caller_port = c;
        struct uthread t = thread_start(caller, 0);
        struct got g = receive((ks_handle_t)l);
        uint64_t w[KS_IPC_WORDS] = { 0 };
        if (g.r > 0)
            ks_ipc_reply((ks_handle_t)g.r, NULL, w);
        thread_finish(&t);
        ks_handle_close((ks_handle_t)c);
    }
    if (l >= 0)
        ks_handle_close((ks_handle_t)l);
    volatile uint8_t *regs = map_uart();
    if (regs)
        (void)*reg(regs, UART_LSR);
    unmap_uart(regs);
    rx_listener = KS_HANDLE_NONE;               /* its receive fails at once */
    struct uthread t = thread_start(receiver, 0);
    thread_finish(&t);
    uintptr_t a = ulib_map_anon(TEST_STACK_SIZE);
    if (a)
        ks_vm_unmap(KS_PROCESS_SELF, a, TEST_STACK_SIZE);
}

int main(int argc, char **argv)
{
    mmio = ulib_inherited(0);
    irq = ulib_inherited(1);
    reg_offset = argc > 1 ? parse_u64(argv[1]) : 0;
    reg_shift = argc > 2 ? parse_u64(argv[2]) : 0;
    settle();
    printf("# udev: console registers at offset %lu, reg-shift %lu\n", (unsigned long)reg_offset,
           (unsigned long)reg_shift);
    ulib_flush();
    run_start = kstat_now();
    return ktest_run(suites, sizeof suites / sizeof suites[0]) ? 1 : 0;
}
