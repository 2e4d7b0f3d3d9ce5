/* testutil.h - tiny helpers for the test executables: CHECK records a
 * failure with its location and the test's exit code carries the verdict. */
#ifndef DESCENT_TESTUTIL_H
#define DESCENT_TESTUTIL_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int t_failures;
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            t_failures++;                                                       \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)
#define TEST_EXIT()                                                             \
    do {                                                                        \
        if (t_failures) fprintf(stderr, "%d check(s) failed\n", t_failures);    \
        return t_failures ? 1 : 0;                                              \
    } while (0)
#define TEST_SKIP 77

/* relative difference with an absolute floor */
static inline double rel_diff(double a, double b, double floor_) {
    const double d = fabs(a - b), s = fmax(fmax(fabs(a), fabs(b)), floor_);
    return d / s;
}
#endif
