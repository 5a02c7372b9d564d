/*
 * arch/riscv/sbi.h - calls into the SBI firmware (OpenSBI), per the SBI spec v1.0.
 */
#ifndef RISCV_SBI_H
#define RISCV_SBI_H

#include <stdint.h>

struct sbiret { long error; long value; };

#define SBI_EXT_LEGACY_PUTCHAR  0x01
#define SBI_EXT_BASE            0x10
#define SBI_EXT_TIME            0x54494d45      /* "TIME" */
#define SBI_EXT_SRST            0x53525354      /* "SRST" */

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2);

/* 1 if the firmware implements extension `ext`. */
int sbi_probe_extension(long ext);

void sbi_set_timer(uint64_t deadline);

#endif
