/*
 * user/mconsole.c - console input, end to end: read(0) in musl -> musl_emu ->
 * an IPC call that fsd parks until the UART's receive interrupt (delivered by
 * the kernel as a port message) brings bytes. init runs it when the bootargs
 * say "console"; tools/run-tests boots that way and, when the read_line case
 * starts, types its CONSOLE_INPUT (LINE1 and LINE2 below) on QEMU's standard
 * input, which is the UART. One KTAP stream.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What the harness types (tools/run-tests sends the same bytes). */
#define LINE1 "kestrel console input, line one\n"
#define LINE2 "and a second line\n"

static int n, failed;

static void result(const char *name, int ok, const char *why)
{
    n++;
    if (ok) {
        printf("ok %d - console.%s\n", n, name);
    } else {
        printf("not ok %d - console.%s # %s\n", n, name, why);
        failed = 1;
    }
    fflush(stdout);
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
    char line[128];
    printf("KTAP version 1\n1..4\n");
    printf("# run: console.is_a_tty\n");
    fflush(stdout);
    result("is_a_tty", isatty(0) && isatty(1), "stdin or stdout is not a terminal");

    printf("# run: console.read_line\n");
    fflush(stdout);
    const char *got = fgets(line, sizeof line, stdin);
    result("read_line", got && strcmp(line, LINE1) == 0, got ? why_differs(line) : "no input");

    printf("# run: console.read_second_line\n");
    fflush(stdout);
    got = fgets(line, sizeof line, stdin);
    result("read_second_line", got && strcmp(line, LINE2) == 0, got ? why_differs(line) : "no input");

    printf("# run: console.bad_buffer\n");
    fflush(stdout);
    long r = read(0, (void *)8, 1);     /* nothing typed yet, but the buffer is checked first */
    result("bad_buffer", r == -1 && errno == EFAULT, "read into address 8 did not fail with EFAULT");
    return failed;
}
