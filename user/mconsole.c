/*
 * user/mconsole.c - console input, end to end: read(0) in musl -> musl_emu ->
 * an IPC call that fsd parks until the UART's receive interrupt (delivered by
 * the kernel as a port message) brings bytes. init runs it when the bootargs
 * say "console"; tools/run-tests boots that way and, when the read_line case
 * starts, types its CONSOLE_INPUT (LINE1 and LINE2 below, the second with a
 * mistake erased by DEL on the way) on QEMU's standard
 * input, which is the UART. Before that, poll on stdin waits out a timeout,
 * and then is woken by the input (fsd notifies the poller's listener). One
 * KTAP stream.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <termios.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define KTAP_FLUSH() fflush(stdout)
#include "user/lib/ktap.h"

/* What the harness types (tools/run-tests sends the same bytes). */
#define LINE1 "kestrel console input, line one\n"
#define LINE2 "and a second line\n"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    alarms++;
}

/* "got '...'" with the line as read (newline and control bytes shown as '.'), for a failure. */
static const char *why_differs(const char *got)
{
    static char why[160];
    size_t n = 0;
    n += (size_t)snprintf(why, sizeof why, "got '");
    for (; *got && n < sizeof why - 3; got++)
        why[n++] = (*got >= ' ' && *got < 0x7f) ? *got : '.';
    why[n++] = '\'';
    why[n] = 0;
    return why;
}

int main(void)
{
    struct ktap k;
    char line[128];
    ktap_plan(&k, 7);
    ktap_run("console.is_a_tty");
    ktap_result(&k, "console.is_a_tty", isatty(0) && isatty(1), "stdin or stdout is not a terminal");

    /*
     * The terminal starts as Linux's does (cooked, echoing, signals, \n out
     * as \r\n); echo goes off here, so that what the harness types does not
     * land among these lines, and tcgetattr must say so.
     */
    ktap_run("console.termios_echo_off");
    struct termios t0, t1, t2;
    int got0 = tcgetattr(0, &t0) == 0;
    t1 = t0;
    t1.c_lflag &= ~(tcflag_t)ECHO;
    int set = got0 && tcsetattr(0, TCSANOW, &t1) == 0 && tcgetattr(0, &t2) == 0;
    ktap_result(&k, "console.termios_echo_off",
                set && (t0.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG) &&
                (t0.c_oflag & ONLCR) && t0.c_cc[VINTR] == 3 && t0.c_cc[VERASE] == 0x7f &&
                !(t2.c_lflag & ECHO) && (t2.c_lflag & ICANON),
                "tcgetattr/tcsetattr: not the defaults, or echo did not go off");

    /* Nothing is typed before the next case starts: poll waits out its timeout. */
    ktap_run("console.poll_times_out");
    struct pollfd f = { 0, POLLIN, 0 };
    int n = poll(&f, 1, 50);
    ktap_result(&k, "console.poll_times_out", n == 0 && f.revents == 0, "poll said stdin was ready");

    /*
     * A read that a signal ends (a handler without SA_RESTART) fails with
     * EINTR; its request, parked in fsd, must not take the line typed next.
     */
    ktap_run("console.read_interrupted");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 0 }, { 0, 50000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    long r0 = read(0, line, sizeof line);
    ktap_result(&k, "console.read_interrupted", r0 == -1 && errno == EINTR && alarms == 1,
                "read did not end with EINTR at the alarm");

    /* The harness types now: poll (woken by fsd's notification) says so, then the line is read. */
    ktap_run("console.read_line");
    f.revents = 0;
    n = poll(&f, 1, 20000);
    const char *got = n == 1 && f.revents == POLLIN ? fgets(line, sizeof line, stdin) : NULL;
    ktap_result(&k, "console.read_line", got && strcmp(line, LINE1) == 0,
                got ? why_differs(line) : n != 1 ? "poll did not see the input" : "no input");

    ktap_run("console.read_second_line");
    got = fgets(line, sizeof line, stdin);
    ktap_result(&k, "console.read_second_line", got && strcmp(line, LINE2) == 0,
                got ? why_differs(line) : "no input");

    ktap_run("console.bad_buffer");
    long r = read(0, (void *)8, 1);     /* nothing typed yet, but the buffer is checked first */
    ktap_result(&k, "console.bad_buffer", r == -1 && errno == EFAULT,
                "read into address 8 did not fail with EFAULT");
    tcsetattr(0, TCSANOW, &t0);
    return k.failed != 0;
}
