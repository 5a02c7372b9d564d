/*
 * user/lib/fstermios.h - a struct termios in FS_OP_TCATTR's message words
 * (user/lib/fsproto.h), and back: what musl_emu sends for tcsetattr and what
 * fsd's line discipline (user/fsd/tty.c) answers to tcgetattr. For musl
 * programs (it needs <termios.h>).
 */
#ifndef USER_LIB_FSTERMIOS_H
#define USER_LIB_FSTERMIOS_H

#include <stdint.h>
#include <string.h>
#include <termios.h>
#include "user/lib/fsproto.h"

/* MR2..MR6 from t: the four flag words, then c_line and c_cc[0..22]. */
static inline void fs_termios_to_words(const struct termios *t, uint64_t w[KS_IPC_WORDS])
{
    uint8_t cc[FS_TCATTR_CC];
    w[2] = t->c_iflag | (uint64_t)t->c_oflag << 32;
    w[3] = t->c_cflag | (uint64_t)t->c_lflag << 32;
    cc[0] = t->c_line;
    memcpy(cc + 1, t->c_cc, sizeof cc - 1);
    memcpy(&w[4], cc, sizeof cc);
}

/* t from MR2..MR6 (the rest of t zeroed). */
static inline void fs_termios_from_words(struct termios *t, const uint64_t w[KS_IPC_WORDS])
{
    uint8_t cc[FS_TCATTR_CC];
    memset(t, 0, sizeof *t);
    t->c_iflag = (tcflag_t)w[2];
    t->c_oflag = (tcflag_t)(w[2] >> 32);
    t->c_cflag = (tcflag_t)w[3];
    t->c_lflag = (tcflag_t)(w[3] >> 32);
    memcpy(cc, &w[4], sizeof cc);
    t->c_line = cc[0];
    memcpy(t->c_cc, cc + 1, sizeof cc - 1);
}

#endif
