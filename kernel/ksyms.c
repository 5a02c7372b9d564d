/*
 * kernel/ksyms.c - lookups in the generated symbol table (build/ksyms.S).
 *
 * The table is sorted by address; entries are (address, size, offset of the name
 * in ksym_names). A symbol without a size (an assembly label) is taken to run
 * up to the next symbol.
 */
#include "ksyms.h"
#include "string.h"

struct ksym {
    uint64_t addr;
    uint32_t size;
    uint32_t name;
};

extern const struct ksym ksym_table[];
extern const uint64_t ksym_count;
extern const char ksym_names[];

const char *ksym_lookup(uintptr_t addr, uintptr_t *off)
{
    uint64_t lo = 0, hi = ksym_count;
    while (lo < hi) {           /* find the last entry with addr <= target */
        uint64_t mid = (lo + hi) / 2;
        if (ksym_table[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct ksym *s = &ksym_table[lo - 1];
    if (s->size && addr >= s->addr + s->size)
        return NULL;
    *off = addr - s->addr;
    return ksym_names + s->name;
}

uintptr_t ksym_address(const char *name)
{
    for (uint64_t i = 0; i < ksym_count; i++)
        if (strcmp(ksym_names + ksym_table[i].name, name) == 0)
            return ksym_table[i].addr;
    return 0;
}
