/*
 * user/uchild.c - the helper program utest spawns. argv[1] picks what it does:
 *
 *   exit N         exit with status N
 *   fault          store to an unmapped user address      -> killed, page fault
 *   fault-read     load from an unmapped user address     -> killed, page fault
 *   fault-kernel   store to the kernel image's address    -> killed, page fault
 *   exec-nx        jump into a readable, non-executable page -> killed, page fault
 *   illegal        execute an all-zero (illegal) instruction -> killed, illegal
 *   ebreak         execute ebreak                         -> killed, access/other
 *   misaligned     a misaligned AMO (plain loads/stores are emulated by OpenSBI)
 *   spin           loop forever (killed by the parent)
 *   sleep          sleep forever (killed by the parent while blocked)
 *   fill N         take 2 x N MiB (an anonymous mapping touched page by page,
 *                  and a memobj written page by page), then sleep forever
 *   cow            inherited memobj 0: map it private, check the parent's pattern,
 *                  overwrite it, check ours; 0 on success, 10+ per failed check
 *   share          inherited memobj 0: map it shared, check the parent's pattern,
 *                  write the child pattern through the mapping; 0 or 20+
 *   write-ro       inherited memobj 0: map shared, write, make it read-only,
 *                  read, then write again -> killed, page fault (exits 31..34 if not)
 *   thread-fault   a second thread faults while the main thread sleeps -> killed
 *   thread-last    the main thread exits first (code 5); the other thread exits
 *                  last with 77, which becomes the process status
 *   exit-multi     process_exit(9) while another thread spins
 *
 * parent_byte/child_byte below are the patterns; utest.c uses the same formulas.
 */
#include "user/lib/testlib.h"
#include "user/lib/ulib.h"

#define PATTERN_LEN (2 * KS_PAGE_SIZE + 1000)

static uint8_t parent_byte(uint64_t i) { return (uint8_t)(i * 7 + 3); }
static uint8_t child_byte(uint64_t i) { return (uint8_t)((i * 13 + 5) ^ 0x5a); }

/* Addresses the compiler must not reason about. */
static volatile uintptr_t unmapped_addr = 0x0000500000000000ul;
static volatile uintptr_t kernel_addr = 0xffffffff80200000ul;

static long parse_long(const char *s)
{
    long v = 0, sign = 1;
    if (*s == '-') {
        sign = -1;
        s++;
    }
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return sign * v;
}

/* A thread of fn(arg) on its own stack, left running; its handle or a negative error. */
static long start_thread(void (*fn)(long), long arg)
{
    return thread_start(fn, arg).h;
}

static void faulting_thread(long arg)
{
    ks_thread_sleep(20 * 1000000ull);
    *(volatile uint32_t *)unmapped_addr = (uint32_t)arg;
    ks_thread_exit(3);
}

static void last_thread(long arg)
{
    ks_thread_sleep(30 * 1000000ull);
    ks_thread_exit(arg);
}

static void spinning_thread(long arg)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
}

static int do_cow(void)
{
    ks_handle_t m = ulib_inherited(0);
    if (m == KS_HANDLE_NONE)
        return 10;
    long addr = ks_vm_map(KS_PROCESS_SELF, m, 0, 0, PATTERN_LEN,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_PRIVATE);
    if (addr < 0)
        return 11;
    volatile uint8_t *p = (volatile uint8_t *)addr;
    for (uint64_t i = 0; i < PATTERN_LEN; i++)
        if (p[i] != parent_byte(i))
            return 12;
    for (uint64_t i = 0; i < PATTERN_LEN; i++)
        p[i] = child_byte(i);
    for (uint64_t i = 0; i < PATTERN_LEN; i++)
        if (p[i] != child_byte(i))
            return 13;
    /* Our copy must not have reached the memobj. */
    static uint8_t buf[64];
    if (ks_memobj_read(m, 0, buf, sizeof buf) != sizeof buf)
        return 14;
    for (uint64_t i = 0; i < sizeof buf; i++)
        if (buf[i] != parent_byte(i))
            return 15;
    if (ks_vm_unmap(KS_PROCESS_SELF, (uintptr_t)addr, PATTERN_LEN) != 0)
        return 16;
    return 0;
}

static int do_share(void)
{
    ks_handle_t m = ulib_inherited(0);
    if (m == KS_HANDLE_NONE)
        return 20;
    long addr = ks_vm_map(KS_PROCESS_SELF, m, 0, 0, PATTERN_LEN,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    if (addr < 0)
        return 21;
    volatile uint8_t *p = (volatile uint8_t *)addr;
    for (uint64_t i = 0; i < PATTERN_LEN; i++)
        if (p[i] != parent_byte(i))
            return 22;
    for (uint64_t i = 0; i < PATTERN_LEN; i++)
        p[i] = child_byte(i);
    return 0;       /* the mapping goes with the process */
}

static int do_write_ro(void)
{
    ks_handle_t m = ulib_inherited(0);
    if (m == KS_HANDLE_NONE)
        return 30;
    long addr = ks_vm_map(KS_PROCESS_SELF, m, 0, 0, KS_PAGE_SIZE,
                          KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    if (addr < 0)
        return 31;
    volatile uint8_t *p = (volatile uint8_t *)addr;
    p[0] = 'W';
    if (ks_vm_protect(KS_PROCESS_SELF, (uintptr_t)addr, KS_PAGE_SIZE, KS_PROT_READ) != 0)
        return 32;
    if (p[0] != 'W')
        return 33;
    p[1] = 'X';                 /* must fault */
    return 34;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("uchild: no mode\n");
        return 100;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "exit") == 0 && argc > 2)
        return (int)parse_long(argv[2]);
    if (strcmp(mode, "touch") == 0 && argc > 2) {     /* read byte argv[2] of the memobj given */
        long a = ks_vm_map(KS_PROCESS_SELF, ulib_inherited(0), 0, 0, 64 * KS_PAGE_SIZE,
                           KS_PROT_READ | KS_MAP_SHARED);
        if (a < 0)
            return 103;
        return *(volatile uint8_t *)(a + parse_long(argv[2]));
    }
    if (strcmp(mode, "fault") == 0) {
        *(volatile uint32_t *)unmapped_addr = 1;
        return 101;
    }
    if (strcmp(mode, "fault-read") == 0) {
        (void)*(volatile uint32_t *)unmapped_addr;
        return 101;
    }
    if (strcmp(mode, "fault-kernel") == 0) {
        *(volatile uint32_t *)kernel_addr = 1;
        return 101;
    }
    if (strcmp(mode, "exec-nx") == 0) {
        uintptr_t page = ulib_map_anon(KS_PAGE_SIZE);
        if (!page)
            return 102;
        *(volatile uint32_t *)page = 0x00008067;        /* ret */
        void (*volatile fn)(void) = (void (*)(void))page;
        fn();
        return 101;
    }
    if (strcmp(mode, "illegal") == 0) {
        __asm__ volatile(".word 0");
        return 101;
    }
    if (strcmp(mode, "ebreak") == 0) {
        __asm__ volatile("ebreak");
        return 101;
    }
    if (strcmp(mode, "misaligned") == 0) {
        static uint64_t words[2];
        uintptr_t a = (uintptr_t)&words[0] + 1;
        __asm__ volatile("amoadd.w zero, %1, (%0)" :: "r"(a), "r"(1) : "memory");
        return 101;
    }
    if (strcmp(mode, "spin") == 0) {
        for (;;)
            __asm__ volatile("" ::: "memory");
    }
    if (strcmp(mode, "fill") == 0) {
        static const uint8_t one = 1;
        uint64_t len = (uint64_t)parse_long(argc > 2 ? argv[2] : "0") << 20;
        uintptr_t at = ulib_map_anon(len);
        long mo = ks_memobj_create(len);
        if (!at || mo < 0)
            return 2;
        for (uint64_t off = 0; off < len; off += KS_PAGE_SIZE) {
            ((volatile uint8_t *)at)[off] = 1;
            if (ks_memobj_write((ks_handle_t)mo, off, &one, 1) != 1)
                return 3;
        }
        mode = "sleep";
    }
    if (strcmp(mode, "sleep") == 0) {
        for (;;)
            ks_thread_sleep(10ull * 1000000000ull);
    }
    if (strcmp(mode, "cow") == 0)
        return do_cow();
    if (strcmp(mode, "share") == 0)
        return do_share();
    if (strcmp(mode, "write-ro") == 0)
        return do_write_ro();
    if (strcmp(mode, "thread-fault") == 0) {
        if (start_thread(faulting_thread, 1) < 0)
            return 102;
        for (;;)
            ks_thread_sleep(10ull * 1000000000ull);
    }
    if (strcmp(mode, "thread-last") == 0) {
        if (start_thread(last_thread, 77) < 0)
            return 102;
        ulib_flush();
        ks_thread_exit(5);
    }
    if (strcmp(mode, "exit-multi") == 0) {
        if (start_thread(spinning_thread, 0) < 0)
            return 102;
        ks_thread_sleep(20 * 1000000ull);      /* let it spin a little */
        ks_process_exit(9);
    }
    printf("uchild: unknown mode %s\n", mode);
    return 100;
}
