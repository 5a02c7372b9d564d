/*
 * user/lib/hog.h - what user/uhog.c reports to init through a shared page.
 *
 * uhog takes everything its limits let it take, in every way, one stage
 * after another, each until a call fails; it writes what each stage made and
 * the error that ended it here, sets `done`, and then waits to be killed.
 */
#ifndef USER_HOG_H
#define USER_HOG_H

#include <stdint.h>

enum hog_stage {
    HOG_PROCESSES,      /* empty child processes, each holding the next one's handle */
    HOG_THREADS,        /* sleeping threads on 4 KiB stacks */
    HOG_HANDLES,        /* listeners, until the handle table is full */
    HOG_TABLES,         /* one page mapped every 2 MiB and touched: a page table each */
    HOG_MEMORY,         /* memobj pages, written one byte each */
    HOG_OBJECTS,        /* (handles freed first) memobjs mapped and closed: kernel objects */
    HOG_STAGES
};

struct hog_report {
    volatile uint64_t done;             /* 1 once every stage has ended */
    uint64_t made[HOG_STAGES];
    int64_t error[HOG_STAGES];          /* the KS_ERR_* that ended the stage */
};

#endif
