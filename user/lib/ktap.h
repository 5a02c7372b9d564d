/*
 * user/lib/ktap.h - the KTAP stream a user test program prints, written once:
 * "KTAP version 1", the plan "1..N", "# run: NAME" before each case (so the
 * harness can name the case that hung), then "ok N - NAME" or
 * "not ok N - NAME # reason". tools/run-tests reads it.
 *
 * Header only, for musl programs (init, mconsole, mtest) and native ones
 * (ufuzz, whose printf is ulib's). The includer may define KTAP_FLUSH() to push
 * each line out (musl's stdout is line-buffered only on a terminal it can
 * see). The native suites of many cases use kernel/ktest.h instead, which
 * prints the same lines.
 */
#ifndef USER_KTAP_H
#define USER_KTAP_H

#ifndef KTAP_FLUSH
#define KTAP_FLUSH() ((void)0)
#endif

struct ktap {
    unsigned n;             /* results printed so far */
    unsigned failed;        /* how many of them failed */
};

/* Start a stream of `cases` results. */
static inline __attribute__((unused)) void ktap_plan(struct ktap *k, unsigned cases)
{
    k->n = k->failed = 0;
    printf("KTAP version 1\n1..%u\n", cases);
    KTAP_FLUSH();
}

/* Announce the case about to run. */
static inline __attribute__((unused)) void ktap_run(const char *name)
{
    printf("# run: %s\n", name);
    KTAP_FLUSH();
}

/* Print the next result; why is the reason of a failure (NULL: "failed"). Returns ok. */
static inline __attribute__((unused)) int ktap_result(struct ktap *k, const char *name, int ok,
                                                      const char *why)
{
    k->n++;
    if (ok) {
        printf("ok %u - %s\n", k->n, name);
    } else {
        printf("not ok %u - %s # %s\n", k->n, name, why ? why : "failed");
        k->failed++;
    }
    KTAP_FLUSH();
    return ok;
}

/* Print the next result as passed, skipped for reason why. */
static inline __attribute__((unused)) void ktap_skip(struct ktap *k, const char *name, const char *why)
{
    printf("ok %u - %s # SKIP %s\n", ++k->n, name, why);
    KTAP_FLUSH();
}

#endif
