/*
 * user/uhog.c - a program that takes everything its limits let it take, in
 * every way the native ABI offers, for init's limits test (user/init.c).
 *
 *   uhog           inherited memobj 0 is a shared page for struct hog_report
 *                  (user/lib/hog.h): run every stage, report, wait to be killed
 *   uhog ok        exit 0 at once (a program started while a hog holds on)
 *   uhog sibling   inherited handle 0 is another of init's children, with
 *                  MANAGE: setting its limits must fail with KS_ERR_ACCESS
 *                  (exit 0), reading them must work
 *
 * Each stage goes on until a call fails (the table stage stops at
 * TABLE_MAPPINGS): children, threads, page tables, memobj pages, and last
 * kernel objects in the little memory that is left. Nothing is given back.
 */
#include <kestrel/errors.h>
#include "user/lib/hog.h"
#include "user/lib/ipc.h"
#include "user/lib/testlib.h"
#include "user/lib/ulib.h"

#define TABLE_MAPPINGS  512
#define TABLE_BASE      0x0000100000000000ul    /* far from everything else */
#define TABLE_STRIDE    (2ul << 20)             /* one leaf table per mapping */
#define MEMORY_CHUNK    (16ul << 20)

static void sleep_forever(long arg)
{
    (void)arg;
    for (;;)
        ks_thread_sleep(1000000000000ull);
}

/*
 * Empty processes, chained: each holds the only handle to the next (an empty
 * process ends when its last handle goes), so the handle table is no limit.
 */
static void take_processes(struct hog_report *r)
{
    long first = ks_process_create("hog-child", 9), cur = first, next = first;
    while (next >= 0) {
        r->made[HOG_PROCESSES]++;
        if ((next = ks_process_create("hog-child", 9)) < 0)
            break;
        long copied = ks_handle_transfer((ks_handle_t)cur, (ks_handle_t)next, KS_RIGHTS_ALL, 0);
        if (cur != first)
            ks_handle_close((ks_handle_t)cur);
        cur = next;
        if (copied < 0)
            next = copied;
    }
    r->error[HOG_PROCESSES] = next;
}

static void take_threads(struct hog_report *r)
{
    struct uthread t;
    while ((t = thread_start_sized(sleep_forever, 0, KS_PAGE_SIZE)).h >= 0) {
        ks_handle_close((ks_handle_t)t.h);
        r->made[HOG_THREADS]++;
    }
    r->error[HOG_THREADS] = t.h;
}

static void take_tables(struct hog_report *r)
{
    long mo = ks_memobj_create(KS_PAGE_SIZE), at = mo;
    for (uint64_t i = 0; mo >= 0 && i < TABLE_MAPPINGS; i++) {
        at = ks_vm_map(KS_PROCESS_SELF, (ks_handle_t)mo, 0, TABLE_BASE + i * TABLE_STRIDE, KS_PAGE_SIZE,
                       KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED | KS_MAP_FIXED);
        if (at < 0)
            break;
        *(volatile uint8_t *)at = 1;            /* the fault makes the tables */
        r->made[HOG_TABLES]++;
    }
    r->error[HOG_TABLES] = at < 0 ? at : 0;
}

static void take_memory(struct hog_report *r)
{
    static const uint8_t one = 1;
    for (;;) {
        long mo = ks_memobj_create(MEMORY_CHUNK);
        if (mo < 0) {
            r->error[HOG_MEMORY] = mo;
            return;
        }
        for (uint64_t off = 0; off < MEMORY_CHUNK; off += KS_PAGE_SIZE) {
            long w = ks_memobj_write((ks_handle_t)mo, off, &one, 1);
            if (w < 0) {
                r->error[HOG_MEMORY] = w;
                return;
            }
            r->made[HOG_MEMORY] += KS_PAGE_SIZE;
        }
    }
}

static void take_objects(struct hog_report *r)
{
    long l;
    while ((l = ks_ipc_listener_create()) >= 0)
        r->made[HOG_OBJECTS]++;
    r->error[HOG_OBJECTS] = l;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "ok") == 0)
        return 0;
    if (argc > 1 && strcmp(argv[1], "sibling") == 0) {
        struct ks_limits l = { KS_UNLIMITED, KS_UNLIMITED, KS_UNLIMITED, 0 }, got;
        ks_handle_t other = ulib_inherited(0);
        return ks_process_limit(other, &l, NULL, NULL) == KS_ERR_ACCESS &&
                       ks_process_limit(other, NULL, &got, NULL) == 0 ? 0 : 1;
    }
    ks_handle_t page = ulib_inherited(0);
    long at = ks_vm_map(KS_PROCESS_SELF, page, 0, 0, KS_PAGE_SIZE,
                        KS_PROT_READ | KS_PROT_WRITE | KS_MAP_SHARED);
    if (at < 0)
        return 2;
    ks_handle_close(page);
    struct hog_report *r = (struct hog_report *)at;
    take_processes(r);
    take_threads(r);
    take_tables(r);
    take_memory(r);
    take_objects(r);
    r->done = 1;
    sleep_forever(0);
    return 0;
}
