/* SPDX-License-Identifier: MIT */
/* testutil.h - the test executables' harness. A test is a list of named
 * scenarios, one function each; `test_x` runs them all, `test_x NAME...`
 * runs the named ones. CHECK records a failure with its location and
 * scenario, SKIP_SCENARIO marks a scenario that cannot run here (with its
 * reason), and the exit code carries the verdict: 0 all passed, 1 a check
 * failed, 77 every scenario that ran was skipped. */
#ifndef DESCENT_TESTUTIL_H
#define DESCENT_TESTUTIL_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failures;
static int t_skipped;
static const char *t_scenario = "main";
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            t_failures++;                                                       \
            fprintf(stderr, "%s:%d: [%s] check failed: %s: ", __FILE__, __LINE__, \
                    t_scenario, #cond);                                         \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)
#define SKIP_SCENARIO(...)                                                      \
    do {                                                                        \
        fprintf(stderr, "[%s] skipped: ", t_scenario);                          \
        fprintf(stderr, __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                    \
        t_skipped = 1;                                                          \
        return;                                                                 \
    } while (0)
#define TEST_SKIP 77

typedef struct {
    const char *name;
    void (*run)(void);
} scenario;
#define SCENARIO(fn) {#fn, fn}

/* Runs the scenarios named in argv[1..] (all when none is named); prints
 * one line per scenario; returns the exit code. */
static inline int run_scenarios(int argc, char **argv, const scenario *list, int n) {
    for (int a = 1; a < argc; a++) {
        int known = 0;
        for (int i = 0; i < n; i++) known |= strcmp(argv[a], list[i].name) == 0;
        if (!known) {
            fprintf(stderr, "no scenario named '%s'; the scenarios are:\n", argv[a]);
            for (int i = 0; i < n; i++) fprintf(stderr, "  %s\n", list[i].name);
            return 2;
        }
    }
    int ran = 0, skipped = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], list[i].name) == 0;
        if (!wanted) continue;
        const int before = t_failures;
        t_scenario = list[i].name;
        t_skipped = 0;
        list[i].run();
        ran++;
        if (t_failures > before) {
            failed++;
            printf("%s: FAILED (%d checks)\n", list[i].name, t_failures - before);
        } else if (t_skipped) {
            skipped++;
            printf("%s: skipped\n", list[i].name);
        } else {
            printf("%s: ok\n", list[i].name);
        }
        fflush(stdout);
    }
    if (failed) {
        fprintf(stderr, "%d of %d scenario(s) failed\n", failed, ran);
        return 1;
    }
    return ran > 0 && skipped == ran ? TEST_SKIP : 0;
}
#define RUN_SCENARIOS(argc, argv, list) \
    run_scenarios(argc, argv, list, (int)(sizeof list / sizeof list[0]))

/* relative difference with an absolute floor */
static inline double rel_diff(double a, double b, double floor_) {
    const double d = fabs(a - b), s = fmax(fmax(fabs(a), fabs(b)), floor_);
    return d / s;
}
#endif
