/*
 * user/lib/ulib.c - start-up and console output for native programs.
 */
#include "kernel/console.h"
#include "user/lib/ulib.h"

static char line[256];
static size_t line_len;
static const uint64_t *auxv;

void ulib_flush(void)
{
    if (line_len)
        ks_debug_write(line, line_len);
    line_len = 0;
}

/* kprintf's output: buffered per line (kernel/console.h's interface). */
void console_putc(char c)
{
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof line)
        ulib_flush();
}

uint64_t ulib_auxv(uint64_t type)
{
    for (const uint64_t *a = auxv; a && a[0] != 0; a += 2)
        if (a[0] == type)
            return a[1];
    return 0;
}

ks_handle_t ulib_inherited(unsigned i)
{
    return (ks_handle_t)ulib_auxv(KS_AT_HANDLE_0 + i);
}

uintptr_t ulib_map_anon(size_t len)
{
    long mo = ks_memobj_create(len);
    if (mo < 0)
        return 0;
    long addr = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, 0, len,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    ks_handle_close((ks_handle_t)mo);       /* the mapping keeps the memobj */
    return addr < 0 ? 0 : (uintptr_t)addr;
}

void ulib_exit(int status)
{
    ulib_flush();
    ks_process_exit(status);
}

void ulib_start(uint64_t *sp);
void ulib_start(uint64_t *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    uint64_t *p = sp + 1 + argc + 1;
    while (*p)                  /* skip envp */
        p++;
    auxv = p + 1;
    ulib_exit(main(argc, argv));
}
