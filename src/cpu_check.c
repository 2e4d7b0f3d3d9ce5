/* SPDX-License-Identifier: MIT */
/*
 * cpu_check.c - does this CPU run this build? Compares the extensions the
 * library was compiled to use (cpu_built.c) with what CPUID and the
 * operating system's saved register state report. Compiled for the x86-64
 * baseline (CMakeLists.txt), so it runs on any x86-64 CPU.
 */
#include "base.h"
#include "cpu_features.h"

#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

enum { STATE_YMM = 1, STATE_ZMM = 2 };

#if defined(__x86_64__) || defined(__i386__)
/* The register state the operating system saves on a context switch: the
 * ymm halves (XCR0 bits 1-2) and AVX-512's masks and zmm (bits 5-7) */
static int os_saves(int state) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* no OSXSAVE */
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    const unsigned want = state == STATE_ZMM ? 0xe6u : 0x06u;
    return (lo & want) == want;
}

static int cpu_has(unsigned leaf, unsigned sub, int reg, int bit, int state) {
    unsigned r[4] = {0, 0, 0, 0};
    if (sub > 0) { /* leaf 7's subleaves: eax of subleaf 0 is the last one */
        unsigned a, b, c, d;
        if (!__get_cpuid_count(leaf, 0, &a, &b, &c, &d) || a < sub) return 0;
    }
    if (!__get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3])) return 0;
    return (r[reg] >> bit & 1u) && (state == 0 || os_saves(state));
}
#else
static int cpu_has(unsigned leaf, unsigned sub, int reg, int bit, int state) {
    (void)leaf, (void)sub, (void)reg, (void)bit, (void)state;
    return 1; /* not x86: the table's extensions do not exist here */
}
#endif

/* name appended to out (cap bytes), space separated */
static void add_name(char *out, size_t cap, const char *name) {
    const size_t n = strlen(out);
    if (cap == 0 || n + 1 >= cap) return;
    snprintf(out + n, cap - n, "%s%s", n ? " " : "", name);
}

int cpu_runs(const char *const *built_with, char *missing, size_t len) {
    if (missing && len) missing[0] = '\0';
    int runs = 1, i = 0;
#define CHECK_FEATURE(name, macro, leaf, sub, reg, bit, state)                   \
    if (strcmp(built_with[i], "1") == 0 && !cpu_has(leaf, sub, reg, bit, state)) { \
        runs = 0;                                                                \
        if (missing) add_name(missing, len, name);                               \
    }                                                                            \
    i++;
    DESCENT_CPU_FEATURES(CHECK_FEATURE)
#undef CHECK_FEATURE
    return runs;
}

int descent_cpu_check(char *missing, size_t len) {
    return cpu_runs(cpu_built_with, missing, len) ? DESCENT_OK : DESCENT_E_CPU;
}

void descent_cpu_built(char *out, size_t len) {
    if (!out || !len) return;
    out[0] = '\0';
    int i = 0;
#define BUILT_NAME(name, macro, leaf, sub, reg, bit, state)                      \
    if (strcmp(cpu_built_with[i++], "1") == 0) add_name(out, len, name);
    DESCENT_CPU_FEATURES(BUILT_NAME)
#undef BUILT_NAME
}
