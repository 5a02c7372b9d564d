/*
 * user/fsd/tty.c - the console's line discipline: what makes the UART a
 * terminal. Its termios settings (TCGETS/TCSETS through FS_OP_TCATTR), the
 * input queue readers take from, canonical line editing (erase, kill, word
 * erase, end of file) with echo, the signal characters (^C, ^\, ^Z) raised on
 * the foreground process group, output post-processing (ONLCR) and the window
 * size. console.c feeds it the bytes the UART received and asks it what a
 * read gets; the processes of the console's session join it (FS_OP_TTYJOIN)
 * so that it can signal them. See fsd.h for the contracts.
 */
#include <signal.h>
#include "user/fsd/fsd.h"
#include "user/lib/fstermios.h"

#define QUEUE_SIZE  4096        /* input ready for readers (a power of two) */
#define MAX_ENDS    256         /* canonical mode: line ends in the queue */
#define LINE_MAX_   1024        /* canonical mode: the line being edited */
#define MAX_MEMBERS 64          /* processes that joined (FS_OP_TTYJOIN) */

struct member {
    uint32_t pid, pgid;
    ks_handle_t h;              /* the process, KS_RIGHT_SIGNAL */
};

static struct {
    struct termios t;
    uint16_t rows, cols;
    uint8_t queue[QUEUE_SIZE];
    uint32_t head, tail;        /* queue: bytes [tail, head), free-running */
    uint32_t ends[MAX_ENDS];    /* canonical: where each finished line ends (a queue position) */
    unsigned nends;
    uint8_t line[LINE_MAX_];    /* canonical: the line being typed, not yet readable */
    size_t linelen;
    uint32_t fg_pgrp;           /* the foreground process group (tcsetpgrp), 0: none */
    struct member members[MAX_MEMBERS];
    unsigned nmembers;
} tty;

/* Linux's defaults for a terminal: cooked, echoing, signals on, \n out as \r\n. */
void tty_init(void)
{
    static const uint8_t cc[] = {
        [VINTR] = 0x03, [VQUIT] = 0x1c, [VERASE] = 0x7f, [VKILL] = 0x15, [VEOF] = 0x04,
        [VTIME] = 0, [VMIN] = 1, [VSTART] = 0x11, [VSTOP] = 0x13, [VSUSP] = 0x1a,
        [VREPRINT] = 0x12, [VDISCARD] = 0x0f, [VWERASE] = 0x17, [VLNEXT] = 0x16,
    };
    tty.t.c_iflag = ICRNL | IUTF8;
    tty.t.c_oflag = OPOST | ONLCR;
    tty.t.c_cflag = B115200 | CS8 | CREAD | HUPCL;
    tty.t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
    memcpy(tty.t.c_cc, cc, sizeof cc);
    tty.rows = 24;
    tty.cols = 80;
}

int tty_onlcr(void)
{
    tcflag_t o = __atomic_load_n(&tty.t.c_oflag, __ATOMIC_RELAXED);   /* the writer thread reads it */
    return (o & (OPOST | ONLCR)) == (OPOST | ONLCR);
}

/* ---- echo ---- */

static int is_ctl(uint8_t c)
{
    return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
}

/* Echo c as the terminal shows it: a control character as ^X with ECHOCTL. */
static void echo_char(uint8_t c)
{
    if (!(tty.t.c_lflag & ECHO))
        return;
    if (is_ctl(c) && (tty.t.c_lflag & ECHOCTL)) {
        uint8_t two[2] = { '^', c == 0x7f ? '?' : (uint8_t)(c + 0x40) };
        console_echo(two, 2);
    } else {
        console_echo(&c, 1);
    }
}

/* Take the last character of the line back off the screen (ECHOE) and the line. */
static void erase_one(void)
{
    if (!tty.linelen)
        return;
    uint8_t c = tty.line[--tty.linelen];
    /* a UTF-8 character is one column: take its continuation bytes with it */
    while ((tty.t.c_iflag & IUTF8) && (c & 0xc0) == 0x80 && tty.linelen)
        c = tty.line[--tty.linelen];
    if ((tty.t.c_lflag & (ECHO | ECHOE)) != (ECHO | ECHOE))
        return;
    int cols = is_ctl(c) && (tty.t.c_lflag & ECHOCTL) ? 2 : 1;
    for (int i = 0; i < cols; i++)
        console_echo((const uint8_t *)"\b \b", 3);
}

/* ---- the queue ---- */

static void flush_input(void)
{
    tty.tail = tty.head;
    tty.nends = 0;
    tty.linelen = 0;
}

static void queue_put(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && tty.head - tty.tail < QUEUE_SIZE; i++)
        tty.queue[tty.head++ % QUEUE_SIZE] = p[i];      /* beyond the queue's room: dropped */
}

/* The edited line becomes readable (with its newline, if it came with one). */
static void line_done(void)
{
    if (tty.nends == MAX_ENDS || tty.head - tty.tail + tty.linelen > QUEUE_SIZE) {
        tty.linelen = 0;        /* no room: the line is lost, as a full Linux tty drops input */
        return;
    }
    queue_put(tty.line, tty.linelen);
    tty.ends[tty.nends++] = tty.head;
    tty.linelen = 0;
}

/* ---- signals ---- */

static void member_drop(unsigned i)
{
    ks_handle_close(tty.members[i].h);
    tty.members[i] = tty.members[--tty.nmembers];
}

/* Raise sig on every process of the foreground group; the ones gone are forgotten. */
static void signal_fg(int sig)
{
    for (unsigned i = 0; i < tty.nmembers;) {
        if (tty.members[i].pgid != tty.fg_pgrp || !tty.fg_pgrp) {
            i++;
            continue;
        }
        if (ks_upcall_raise(tty.members[i].h, 1ull << (sig - 1)) < 0)
            member_drop(i);
        else
            i++;
    }
}

/* ---- input ---- */

/* Is c the special character cc[i] (0 disables one, as _POSIX_VDISABLE)? */
static int is_cc(uint8_t c, int i)
{
    return tty.t.c_cc[i] != 0 && c == tty.t.c_cc[i];
}

/* Canonical mode: c edits the line. */
static void canonical_input(uint8_t c)
{
    tcflag_t l = tty.t.c_lflag;
    if (is_cc(c, VERASE) || (c == '\b' && tty.t.c_cc[VERASE] == 0x7f)) {
        erase_one();            /* backspace and DEL both erase, whichever the terminal sends */
    } else if (is_cc(c, VKILL)) {
        if ((l & ECHOKE) || !(l & ECHOK)) {
            while (tty.linelen)
                erase_one();
        } else {
            tty.linelen = 0;
            echo_char(c);
            if (l & ECHO)
                console_echo((const uint8_t *)"\n", 1);
        }
    } else if ((l & IEXTEN) && is_cc(c, VWERASE)) {
        while (tty.linelen && (tty.line[tty.linelen - 1] == ' ' || tty.line[tty.linelen - 1] == '\t'))
            erase_one();
        while (tty.linelen && tty.line[tty.linelen - 1] != ' ' && tty.line[tty.linelen - 1] != '\t')
            erase_one();
    } else if (is_cc(c, VEOF)) {
        line_done();            /* what is typed so far, without the ^D: at a line's start, end of file */
    } else if (c == '\n' || is_cc(c, VEOL) || is_cc(c, VEOL2)) {
        tty.line[tty.linelen++] = c;    /* linelen < LINE_MAX_ always holds here */
        if ((l & ECHO) || (c == '\n' && (l & ECHONL)))
            console_echo(&c, 1);
        line_done();
    } else if (tty.linelen < LINE_MAX_ - 1) {   /* room for the newline stays */
        tty.line[tty.linelen++] = c;
        echo_char(c);
    }
}

void tty_input(uint8_t c)
{
    tcflag_t i = tty.t.c_iflag, l = tty.t.c_lflag;
    if (i & ISTRIP)
        c &= 0x7f;
    if (c == '\r') {
        if (i & IGNCR)
            return;
        if (i & ICRNL)
            c = '\n';
    } else if (c == '\n' && (i & INLCR)) {
        c = '\r';
    }
    if (l & ISIG) {
        int sig = is_cc(c, VINTR) ? SIGINT : is_cc(c, VQUIT) ? SIGQUIT : is_cc(c, VSUSP) ? SIGTSTP : 0;
        if (sig) {
            if (!(l & NOFLSH))
                flush_input();
            echo_char(c);
            signal_fg(sig);
            return;
        }
    }
    if (l & ICANON) {
        canonical_input(c);
    } else {
        queue_put(&c, 1);
        echo_char(c);
    }
}

/* ---- reading ---- */

/* Drop the line ends the queue's tail has passed. */
static void ends_trim(int keep_at_tail)
{
    unsigned k = 0;
    while (k < tty.nends && (int32_t)(tty.ends[k] - tty.tail) < (keep_at_tail ? 0 : 1))
        k++;
    memmove(tty.ends, tty.ends + k, (tty.nends - k) * sizeof tty.ends[0]);
    tty.nends -= k;
}

int tty_input_ready(void)
{
    if (tty.t.c_lflag & ICANON)
        return tty.nends > 0;
    return tty.head != tty.tail;
}

int tty_read_now(void)
{
    return tty_input_ready() || (!(tty.t.c_lflag & ICANON) && tty.t.c_cc[VMIN] == 0);
}

size_t tty_peek(uint8_t *out, size_t max)
{
    uint32_t avail = tty.head - tty.tail;
    if ((tty.t.c_lflag & ICANON) && tty.nends)
        avail = tty.ends[0] - tty.tail;         /* one line per read, as a terminal gives it */
    size_t n = avail < max ? avail : max;
    for (size_t k = 0; k < n; k++)
        out[k] = tty.queue[(tty.tail + k) % QUEUE_SIZE];
    return n;
}

void tty_consume(size_t n)
{
    tty.tail += (uint32_t)n;
    if (tty.nends && tty.ends[0] == tty.tail && (tty.t.c_lflag & ICANON)) {
        memmove(tty.ends, tty.ends + 1, --tty.nends * sizeof tty.ends[0]);  /* that line is read */
        return;
    }
    ends_trim(1);
}

/* ---- requests ---- */

/* New settings from FS_OP_TCATTR's words; leaving canonical mode makes the typed line input. */
static void termios_set(const uint64_t w[KS_IPC_WORDS])
{
    struct termios t;
    fs_termios_from_words(&t, w);
    tcflag_t was = tty.t.c_lflag;
    tty.t.c_iflag = t.c_iflag;
    __atomic_store_n(&tty.t.c_oflag, t.c_oflag, __ATOMIC_RELAXED);     /* the writer thread reads it */
    tty.t.c_cflag = t.c_cflag;
    tty.t.c_lflag = t.c_lflag;
    tty.t.c_line = t.c_line;
    memcpy(tty.t.c_cc, t.c_cc, sizeof t.c_cc);
    if ((was & ICANON) && !(tty.t.c_lflag & ICANON)) {
        queue_put(tty.line, tty.linelen);
        tty.linelen = 0;
        tty.nends = 0;
    }
}

long tty_tcattr(struct req *q)
{
    uint64_t how = q->in[1];
    switch (how) {
    case FS_TCATTR_GET:
        fs_termios_to_words(&tty.t, q->out);
        return 0;
    case FS_TCATTR_SET_FLUSH:
        flush_input();
        /* fall through */
    case FS_TCATTR_SET:
        termios_set(q->in);
        console_input_changed();
        return 0;
    case FS_TCATTR_FLUSH:
        flush_input();
        return 0;
    default:
        return -EINVAL;
    }
}

long tty_winsz(struct req *q)
{
    if (q->in[1] == 1) {
        if (q->in[2] > UINT16_MAX || q->in[3] > UINT16_MAX)
            return -EINVAL;
        tty.rows = (uint16_t)q->in[2];
        tty.cols = (uint16_t)q->in[3];
    } else if (q->in[1] != 0) {
        return -EINVAL;
    }
    q->out[1] = tty.rows;
    q->out[2] = tty.cols;
    return 0;
}

long tty_tcpgrp(struct req *q)
{
    if (q->in[1] == 1) {
        if (q->in[2] == 0 || q->in[2] > INT32_MAX)
            return -EINVAL;
        tty.fg_pgrp = (uint32_t)q->in[2];
    }
    return tty.fg_pgrp;
}

long tty_join(struct req *q)
{
    uint64_t pid = q->in[1], pgid = q->in[2];
    if (pid == 0 || pid > INT32_MAX || pgid > INT32_MAX)
        return -EINVAL;
    for (unsigned i = 0; i < tty.nmembers; i++)
        if (tty.members[i].pid == pid)
            member_drop(i);     /* joining again (a new group) replaces the old entry */
    if (pgid == 0)
        return 0;               /* leaving */
    long info = q->in_handle ? ks_handle_info(q->in_handle) : -1;
    uint32_t need = KS_RIGHT_SIGNAL | KS_RIGHT_WAIT | KS_RIGHT_READ;
    struct ks_limits used;
    if (info < 0 || KS_INFO_TYPE(info) != KS_OBJ_PROCESS || (KS_INFO_RIGHTS(info) & need) != need)
        return -EINVAL;
    if (ks_process_limit(q->in_handle, NULL, &used, NULL) < 0 || used.threads == 0)
        return -ESRCH;          /* ended, or never started: it would never end, and be held forever */
    if (tty.nmembers == MAX_MEMBERS)
        return -ENOSPC;
    long ended = ks_watch(q->in_handle, KS_WATCH_HANGUP, fs.listener, UD_MEMBER | pid);
    if (ended != 0)
        return ended > 0 ? -ESRCH : -EINVAL;    /* gone already, or no watch to be had */
    tty.members[tty.nmembers++] = (struct member){ (uint32_t)pid, (uint32_t)pgid, q->in_handle };
    q->in_handle = 0;
    return 0;
}

void tty_member_ended(uint32_t pid)
{
    for (unsigned i = 0; i < tty.nmembers; i++)
        if (tty.members[i].pid == pid) {
            member_drop(i);
            return;
        }
}
