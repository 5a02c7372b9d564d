/*
 * user/fsd/console.c - fsd's console: a 16550 UART driven through its device
 * memobj (output polled, input by interrupt, each byte handed to the line
 * discipline in tty.c), console reads parked until tty.c has input for them,
 * and the writer thread that serves the write ports. See fsd.h for the
 * contracts.
 */
#include "user/fsd/fsd.h"

/*
 * The UART (a 16550) through its MMIO page mapped shared into this process.
 * Without the device memobj (an old kernel, a failed mapping) output falls
 * back to the kernel's debug console.
 */
#define UART_RBR    0           /* receive buffer (read) */
#define UART_THR    0           /* transmit holding (write) */
#define UART_IER    1           /* interrupt enable: bit 0 received data available */
#define UART_LSR    5           /* line status: bit 0 data ready, bit 5 THR empty */
#define LSR_DR      0x01
#define LSR_THRE    0x20

#define MAX_READERS 16          /* parked console reads */
#define MAX_POLLERS 16          /* console polls waiting for input */

/* A console read waiting for input: its reply port and how much it wants. */
struct reader {
    ks_handle_t reply;
    uint64_t max;
};

static struct {
    volatile uint8_t *regs;     /* the mapped registers, or NULL */
    uint64_t reg_offset;
    unsigned reg_shift;
    ks_handle_t irq;            /* the UART's interrupt, as init gave it (0: none) */
    ks_handle_t bound_irq;      /* irq once bound to fs.listener (the first read), else 0;
                                   until then a read returns what is there, or end of file */
    struct reader readers[MAX_READERS];
    unsigned nreaders;
    ks_handle_t pollers[MAX_POLLERS];   /* client ports to notify when input comes */
    unsigned npollers;
    uint64_t bytes_written, write_requests;
    volatile int out_busy;      /* out_lock's word: guards the UART's output and the counters */
} con;

/*
 * The output lock. Held only while bytes go to the UART, never across a
 * system call that blocks, so a thread that finds it taken just yields (on one
 * hart the holder was preempted and runs next). Far cheaper than a pthread
 * mutex on the short-write path, which is what this server is measured by.
 */
static void out_lock(void)
{
    while (__atomic_exchange_n(&con.out_busy, 1, __ATOMIC_ACQUIRE))
        ks_thread_yield();
}

static void out_unlock(void)
{
    __atomic_store_n(&con.out_busy, 0, __ATOMIC_RELEASE);
}

static volatile uint8_t *uart_reg(unsigned n)
{
    return con.regs + con.reg_offset + ((uint64_t)n << con.reg_shift);
}

static void uart_put(uint8_t c)
{
    while (!(*uart_reg(UART_LSR) & LSR_THRE))
        ;
    *uart_reg(UART_THR) = c;
}

/*
 * Polled output: each byte once the line status says the transmitter is
 * empty, a newline as CR LF while the terminal asks for it (ONLCR, tty.c).
 * out_lock held.
 */
static void console_out(const uint8_t *p, size_t n)
{
    int crlf = tty_onlcr();
    if (!con.regs) {
        ks_debug_write(p, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && crlf)
            uart_put('\r');
        uart_put(p[i]);
    }
}

void console_echo(const uint8_t *p, size_t n)
{
    out_lock();
    console_out(p, n);
    out_unlock();
}

/* One console write request, from either thread: out in one piece, and counted. */
static void console_emit(const uint8_t *p, size_t n)
{
    out_lock();
    console_out(p, n);
    con.bytes_written += n;
    con.write_requests++;
    out_unlock();
}

/* Hand what the UART has received to the line discipline. */
static void console_drain(void)
{
    if (!con.regs)
        return;
    while (*uart_reg(UART_LSR) & LSR_DR)
        tty_input(*uart_reg(UART_RBR));
}

/* Answer parked readers, oldest first, while a read would not wait. */
static void readers_serve(void)
{
    while (con.nreaders && tty_read_now()) {
        struct reader rd = con.readers[0];
        memmove(&con.readers[0], &con.readers[1], --con.nreaders * sizeof con.readers[0]);
        size_t n = tty_peek(send_buf, rd.max);
        uint64_t w[KS_IPC_WORDS] = { n };
        struct ks_ipc_desc d = { .send_buf = send_buf, .send_len = n };
        if (ks_ipc_reply(rd.reply, &d, w) == 0)
            tty_consume(n);     /* else a reader that went away (a signal ended its wait):
                                   the input stays for the next one */
        ks_handle_close(rd.reply);
    }
}

/* Input is waiting: tell every poller (once; a poll that wants more asks again). */
static void pollers_serve(void)
{
    if (!tty_input_ready())
        return;
    for (unsigned i = 0; i < con.npollers; i++) {
        ks_ipc_notify(con.pollers[i], KS_WATCH_READABLE);  /* a poller gone: nothing to tell */
        ks_handle_close(con.pollers[i]);
    }
    con.npollers = 0;
}

/* The UART interrupted: collect its input, let the line fire again, wake pollers and readers. */
void console_irq(void)
{
    if (!con.bound_irq)
        return;                 /* not ours yet: the line is bound at the first read */
    console_drain();
    ks_irq_ack(con.bound_irq);
    pollers_serve();
    readers_serve();
}

/*
 * Input: bind the UART's interrupt to our listener and enable the receive
 * interrupt, at the first console read. Until then the interrupt line is
 * free: user/udev.c (run by init in the test configuration, before anything
 * reads the console) tests interrupt delivery on this very UART.
 */
static void console_input_on(void)
{
    if (con.bound_irq || !con.regs || !con.irq)
        return;
    if (ks_irq_bind(con.irq, fs.listener, UD_IRQ) == 0) {
        con.bound_irq = con.irq;
        *uart_reg(UART_IER) = 0x01;     /* interrupt on received data */
        console_drain();
    }
}

/* Map the UART's registers; remember its interrupt for console_input_on. */
void console_init(ks_handle_t mmio, ks_handle_t irq, uint64_t reg_offset, unsigned shift)
{
    con.reg_offset = reg_offset;
    con.reg_shift = shift;
    if (mmio) {
        long size = ks_memobj_size(mmio);
        long a = size > 0 && reg_offset + ((uint64_t)UART_LSR << shift) < (uint64_t)size
                     ? ks_vm_map(KS_PROCESS_SELF, mmio, 0, 0, (size_t)size,
                                 KS_MAP_SHARED | KS_PROT_READ | KS_PROT_WRITE)
                     : -1;
        if (a > 0)
            con.regs = (volatile uint8_t *)a;
    }
    con.irq = irq;
}

long con_write(struct req *q)
{
    uint64_t len = q->in[1];
    const uint8_t *data;
    if (len <= FS_INLINE_MAX) {
        data = (const uint8_t *)&q->in[2];
    } else {
        data = q->buf;
        if (len > q->len)
            len = q->len;       /* never past what arrived */
    }
    console_emit(data, len);
    return (long)len;
}

/*
 * The console writer: a second thread, serving the write ports (every open
 * of the console hands one out with the console port). It receives
 * without a descriptor, so a short write (the bytes in MR2..MR7) is a
 * register-only message to a waiting receiver, which the kernel's IPC fast
 * path carries both ways. Anything but such a write gets -EINVAL.
 */
static void *console_writer(void *arg)
{
    uint64_t w[KS_IPC_WORDS] = { 0 }, ud, info;
    long reply = ks_ipc_receive(fs.write_listener, NULL, w, &ud, &info);
    for (;;) {
        if (reply <= 0) {       /* an error, or a notification (none is bound here) */
            if (reply == KS_ERR_PEER_CLOSED || ks_handle_info(fs.write_listener) < 0)
                return NULL;
            memset(w, 0, sizeof w);
            reply = ks_ipc_receive(fs.write_listener, NULL, w, &ud, &info);
            continue;
        }
        uint64_t len = w[1];
        if (w[0] == FS_OP_WRITE && len <= FS_INLINE_MAX) {
            console_emit((const uint8_t *)&w[2], len);
            w[0] = len;
        } else {
            w[0] = (uint64_t)-EINVAL;
        }
        memset(&w[1], 0, sizeof w - sizeof w[0]);
        reply = ks_ipc_reply_receive((ks_handle_t)reply, fs.write_listener, NULL, w, &ud, &info);
    }
}

/* Start the console writer; without it (fs.write_listener 0) consoles open without a write port. */
void console_writer_start(void)
{
    pthread_t t;
    long l = ks_ipc_listener_create();
    if (l < 0)
        return;
    fs.write_listener = (ks_handle_t)l;
    if (pthread_create(&t, NULL, console_writer, NULL) != 0) {
        ks_handle_close(fs.write_listener);
        fs.write_listener = 0;
    }
}

void console_input_changed(void)
{
    pollers_serve();
    readers_serve();
}

/* FS_OP_POLL (fsd.h). */
long con_poll(struct req *q)
{
    console_input_on();
    console_drain();
    long ready = KS_WATCH_WRITABLE | (tty_input_ready() || !con.bound_irq ? KS_WATCH_READABLE : 0);
    if ((ready & (long)q->in[1]) || !q->in_handle)
        return ready;
    if (con.npollers == MAX_POLLERS) {  /* the oldest is told now (a poller gone, or one that */
        ks_ipc_notify(con.pollers[0], KS_WATCH_READABLE);   /* looks again at no cost but a scan) */
        ks_handle_close(con.pollers[0]);
        memmove(&con.pollers[0], &con.pollers[1], --con.npollers * sizeof con.pollers[0]);
    }
    con.pollers[con.npollers++] = q->in_handle;
    q->in_handle = 0;
    return 0;
}

/* A console read: answered now if input is there, else parked until the irq brings some. */
long con_read(struct req *q, ks_handle_t reply)
{
    uint64_t max = q->in[1] > KS_IPC_MAX_BUF ? KS_IPC_MAX_BUF : q->in[1];
    console_input_on();
    console_drain();
    if (max == 0 || tty_read_now() || !con.bound_irq) {
        size_t n = tty_peek(send_buf, max);
        tty_consume(n);         /* the reply goes out from the main loop: the caller is there */
        q->send_buf = send_buf;
        q->send_len = n;
        return (long)n;
    }
    if (con.nreaders == MAX_READERS)
        return -EAGAIN;
    con.readers[con.nreaders++] = (struct reader){ reply, max };
    return DEFERRED;
}

void console_counts(uint64_t *bytes, uint64_t *requests, uint64_t *parked)
{
    out_lock();
    *bytes = con.bytes_written;
    *requests = con.write_requests;
    out_unlock();
    *parked = con.nreaders;     /* the reader list is the server thread's own */
}
