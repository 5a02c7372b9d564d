/*
 * include/kestrel/errors.h - error codes of the kestrel system call ABI.
 *
 * Part of the user-visible ABI (include/kestrel/): includes only <stdint.h>,
 * every name carries the KS_ prefix. A system call returns a non-negative value
 * on success and one of these negative codes on failure.
 */
#ifndef KESTREL_ERRORS_H
#define KESTREL_ERRORS_H

/* Arguments */
#define KS_ERR_INVALID      (-1)    /* a flag, size, alignment or combination is not allowed */
#define KS_ERR_FAULT        (-2)    /* a pointer and length do not name readable/writable user memory */
#define KS_ERR_RANGE        (-3)    /* an address or offset is outside what the object allows */
#define KS_ERR_NOSYS        (-4)    /* no such system call */

/* Handles (checked in this order) */
#define KS_ERR_BAD_HANDLE   (-10)   /* not an open handle of this process (closed, stale, out of range) */
#define KS_ERR_WRONG_TYPE   (-11)   /* the handle names an object of another type */
#define KS_ERR_ACCESS       (-12)   /* the handle lacks a right the call needs */

/* Resources */
#define KS_ERR_NO_MEMORY    (-20)   /* the kernel ran out of pages for this call, or the
                                       process's memory limit would be passed */
#define KS_ERR_NO_HANDLES   (-21)   /* the handle table is full */
#define KS_ERR_EXISTS       (-22)   /* a mapping already covers part of the requested range */
#define KS_ERR_LIMIT        (-23)   /* a thread or process limit set on this process (or one
                                       above it) would be passed (KS_SYS_PROCESS_LIMIT) */

/* State */
#define KS_ERR_INTERRUPTED  (-30)   /* a blocked call was interrupted (thread_interrupt) */
#define KS_ERR_BAD_STATE    (-31)   /* the object is not in a state that allows this (e.g. a thread
                                       joining itself, a process waiting for itself) */
#define KS_ERR_PEER_CLOSED  (-32)   /* the other end went away */
#define KS_ERR_TRUNCATED    (-33)   /* the data did not fit; the call says how much there was */
#define KS_ERR_AGAIN        (-34)   /* futex_wait: the word no longer held the expected value */
#define KS_ERR_TIMED_OUT    (-35)   /* a wait with a deadline reached it */
#define KS_ERR_IO           (-36)   /* a paged memobj's pager failed the page, or is gone */
#define KS_ERR_NO_SPACE     (-37)   /* a write at or past the end of a fixed-size memobj */
#define KS_ERR_NO_PROCESS   (-38)   /* no living process matches (KS_SYS_PROCESS_SIGNAL) */

#endif
