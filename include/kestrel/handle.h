/*
 * include/kestrel/handle.h - handles and rights (user-visible ABI).
 *
 * A handle is a small positive integer naming a kernel object in the calling
 * process's handle table, like a file descriptor. Its low 8 bits select a slot,
 * the rest is the slot's generation, so a closed handle stays invalid even after
 * its slot is reused. Values below 256 are never real handles; two of them are
 * pseudo-handles every process may use.
 */
#ifndef KESTREL_HANDLE_H
#define KESTREL_HANDLE_H

#include <stdint.h>

typedef int32_t ks_handle_t;

#define KS_HANDLE_NONE      0
#define KS_PROCESS_SELF     1       /* the calling process (all rights) */
#define KS_THREAD_SELF      2       /* the calling thread (all rights) */

/* Rights: what a handle lets its holder do with the object. */
#define KS_RIGHT_READ       (1u << 0)   /* read contents, query state */
#define KS_RIGHT_WRITE      (1u << 1)   /* change contents or size */
#define KS_RIGHT_MAP        (1u << 2)   /* map a memobj into an address space */
#define KS_RIGHT_EXECUTE    (1u << 3)   /* map a memobj executable */
#define KS_RIGHT_TRANSFER   (1u << 4)   /* copy or move the handle to another process */
#define KS_RIGHT_DUPLICATE  (1u << 5)   /* make another handle to the same object */
#define KS_RIGHT_MANAGE     (1u << 6)   /* process: map into it, start threads, give it handles;
                                           thread: interrupt it; irq: bind and acknowledge it */
#define KS_RIGHT_WAIT       (1u << 7)   /* wait for a process or thread to end */
#define KS_RIGHT_SIGNAL     (1u << 8)   /* process or thread: raise upcall bits on it */
#define KS_RIGHT_DMA        (1u << 9)   /* device memobj: make DMA memory for its device
                                           (KS_SYS_DMA_CREATE); DMA memobj: learn its
                                           physical address (KS_SYS_DMA_ADDR) */
#define KS_RIGHT_PAGER      (1u << 10)  /* paged memobj: see its page requests, supply pages, fail
                                           them (KS_SYS_PAGER_*); its creator's handle has it:
                                           copies for clients should leave it out */
#define KS_RIGHTS_ALL       0x7ffu

/* KS_SYS_HANDLE_INFO's answer, taken apart. */
#define KS_INFO_TYPE(info)      ((uint32_t)((info) >> 16))
#define KS_INFO_RIGHTS(info)    ((uint32_t)(info) & 0xffffu)

/* Object types, as handle_info reports them. */
#define KS_OBJ_PROCESS      1
#define KS_OBJ_THREAD       2
#define KS_OBJ_MEMOBJ       3
#define KS_OBJ_VIEW         4
#define KS_OBJ_LISTENER     5
#define KS_OBJ_CLIENT       6
#define KS_OBJ_REPLY        7
#define KS_OBJ_IRQ          8       /* a device interrupt, delivered as notifications */
#define KS_OBJ_PIPE         9       /* one end of a pipe */

/* Most handles a process can hold at once. */
#define KS_HANDLE_MAX       256

#endif
