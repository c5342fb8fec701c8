/* tap.h - a TAP-style reporter for the C tests: "ok N - what" or "not ok N - what", then "1..N" and a
 * summary line "# N passed, M failed"; the exit code is 0 only when nothing failed. */
#ifndef UMEM_TAP_H
#define UMEM_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count, tap_failures;

__attribute__((format(printf, 2, 3))) static inline int tap_check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", ok ? "ok" : "not ok", ++tap_count);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!ok)
        tap_failures++;
    return ok;
}

static inline int tap_done(void)
{
    printf("1..%d\n# %d passed, %d failed\n", tap_count, tap_count - tap_failures, tap_failures);
    return tap_failures == 0 && tap_count > 0 ? 0 : 1;
}

#endif
