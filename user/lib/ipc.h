/*
 * user/lib/ipc.h - user-side IPC calls (see <kestrel/ipc.h> for the ABI).
 *
 * Messages are arrays of KS_IPC_WORDS words; the inline asm puts them in the
 * message registers (a2-a6, t0-t2) and takes the reply from the same ones, so a
 * compiler that inlines these keeps the words in registers end to end. Only
 * the kestrel ABI headers and <stdint.h> are needed: musl_emu.c can use it as is.
 */
#ifndef USER_IPC_H
#define USER_IPC_H

#include <stdint.h>
#include <kestrel/errors.h>
#include <kestrel/ipc.h>
#include <kestrel/syscall.h>

/* One IPC system call: returns a0; *a1 and *info receive a1 and a7. */
static inline long ks_ipc_raw(long num, long handle, struct ks_ipc_desc *desc, long listener,
                              uint64_t w[KS_IPC_WORDS], uint64_t *a1, uint64_t *info)
{
    register long r_a0 __asm__("a0") = handle;
    register long r_a1 __asm__("a1") = (long)desc;
    register uint64_t m0 __asm__("a2") = w[0];
    register uint64_t m1 __asm__("a3") = w[1];
    register uint64_t m2 __asm__("a4") = w[2];
    register uint64_t m3 __asm__("a5") = w[3];
    register uint64_t m4 __asm__("a6") = w[4];
    register uint64_t m5 __asm__("t0") = w[5];
    register uint64_t m6 __asm__("t1") = w[6];
    register uint64_t m7 __asm__("t2") = w[7];
    register long r_t3 __asm__("t3") = listener;
    register long r_a7 __asm__("a7") = num;
    __asm__ volatile("ecall"
                     : "+r"(r_a0), "+r"(r_a1), "+r"(m0), "+r"(m1), "+r"(m2), "+r"(m3), "+r"(m4),
                       "+r"(m5), "+r"(m6), "+r"(m7), "+r"(r_t3), "+r"(r_a7)
                     :
                     : "t4", "t5", "t6", "memory");
    w[0] = m0, w[1] = m1, w[2] = m2, w[3] = m3, w[4] = m4, w[5] = m5, w[6] = m6, w[7] = m7;
    if (a1)
        *a1 = (uint64_t)r_a1;
    if (info)
        *info = (uint64_t)r_a7;
    return r_a0;
}

/* Call through a client port; the reply replaces w. 0 or a negative KS_ERR_*. */
static inline long ks_ipc_call(ks_handle_t port, struct ks_ipc_desc *desc, uint64_t w[KS_IPC_WORDS],
                               uint64_t *info)
{
    return ks_ipc_raw(KS_SYS_IPC_CALL, port, desc, 0, w, 0, info);
}

/* Wait for a call on a listener: the reply port handle (>= 0) or an error. */
static inline long ks_ipc_receive(ks_handle_t listener, struct ks_ipc_desc *desc,
                                  uint64_t w[KS_IPC_WORDS], uint64_t *userdata, uint64_t *info)
{
    return ks_ipc_raw(KS_SYS_IPC_RECEIVE, listener, desc, 0, w, userdata, info);
}

static inline long ks_ipc_reply(ks_handle_t reply, struct ks_ipc_desc *desc, uint64_t w[KS_IPC_WORDS])
{
    return ks_ipc_raw(KS_SYS_IPC_REPLY, reply, desc, 0, w, 0, 0);
}

/* Reply w, then wait for the next call as ks_ipc_receive (desc serves both). */
static inline long ks_ipc_reply_receive(ks_handle_t reply, ks_handle_t listener,
                                        struct ks_ipc_desc *desc, uint64_t w[KS_IPC_WORDS],
                                        uint64_t *userdata, uint64_t *info)
{
    return ks_ipc_raw(KS_SYS_IPC_REPLY_RECEIVE, reply, desc, listener, w, userdata, info);
}

static inline long ks_ipc_listener_create(void)
{
    uint64_t w[KS_IPC_WORDS] = { 0 };
    return ks_ipc_raw(KS_SYS_IPC_LISTENER_CREATE, 0, 0, 0, w, 0, 0);
}

static inline long ks_ipc_client_create(ks_handle_t listener, uint64_t userdata)
{
    uint64_t w[KS_IPC_WORDS] = { 0 };
    return ks_ipc_raw(KS_SYS_IPC_CLIENT_CREATE, listener, (struct ks_ipc_desc *)userdata, 0, w, 0, 0);
}

/* A client port that may also post notifications to its listener (KS_SYS_IPC_NOTIFY). */
static inline long ks_ipc_client_create_notify(ks_handle_t listener, uint64_t userdata)
{
    uint64_t w[KS_IPC_WORDS] = { KS_CLIENT_NOTIFY };
    return ks_ipc_raw(KS_SYS_IPC_CLIENT_CREATE, listener, (struct ks_ipc_desc *)userdata, 0, w, 0, 0);
}

static inline long ks_ipc_control(int fastpath_on, struct ks_ipc_stats *stats)
{
    uint64_t w[KS_IPC_WORDS] = { 0 };
    return ks_ipc_raw(KS_SYS_IPC_CONTROL, fastpath_on, (struct ks_ipc_desc *)stats, 0, w, 0, 0);
}

#endif
