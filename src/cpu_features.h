/* SPDX-License-Identifier: MIT */
/*
 * cpu_features.h - the x86 instruction set extensions a compiler may use
 * for descent's code when told to (-march), where CPUID reports each, and
 * which register state the operating system must save for it. cpu_built.c
 * records those this build was compiled with; cpu_check.c, compiled for
 * the x86-64 baseline, compares them with the running CPU before any of
 * the rest runs (descent_cpu_check in descent.h).
 */
#ifndef DESCENT_CPU_FEATURES_H
#define DESCENT_CPU_FEATURES_H

#include <stddef.h>

/* X(name, compiler macro, CPUID leaf, subleaf, register 0-3 = eax..edx,
 * bit, register state: 0 none, 1 AVX's ymm, 2 AVX-512's zmm and masks) */
#define DESCENT_CPU_FEATURES(X)                                                  \
    X("sse3", __SSE3__, 1, 0, 2, 0, 0)                                           \
    X("ssse3", __SSSE3__, 1, 0, 2, 9, 0)                                         \
    X("sse4.1", __SSE4_1__, 1, 0, 2, 19, 0)                                      \
    X("sse4.2", __SSE4_2__, 1, 0, 2, 20, 0)                                      \
    X("popcnt", __POPCNT__, 1, 0, 2, 23, 0)                                      \
    X("movbe", __MOVBE__, 1, 0, 2, 22, 0)                                        \
    X("lzcnt", __LZCNT__, 0x80000001u, 0, 2, 5, 0)                               \
    X("bmi", __BMI__, 7, 0, 1, 3, 0)                                             \
    X("bmi2", __BMI2__, 7, 0, 1, 8, 0)                                           \
    X("avx", __AVX__, 1, 0, 2, 28, 1)                                            \
    X("f16c", __F16C__, 1, 0, 2, 29, 1)                                          \
    X("fma", __FMA__, 1, 0, 2, 12, 1)                                            \
    X("avx2", __AVX2__, 7, 0, 1, 5, 1)                                           \
    X("gfni", __GFNI__, 7, 0, 2, 8, 0)                                           \
    X("avx512f", __AVX512F__, 7, 0, 1, 16, 2)                                    \
    X("avx512dq", __AVX512DQ__, 7, 0, 1, 17, 2)                                  \
    X("avx512ifma", __AVX512IFMA__, 7, 0, 1, 21, 2)                              \
    X("avx512cd", __AVX512CD__, 7, 0, 1, 28, 2)                                  \
    X("avx512bw", __AVX512BW__, 7, 0, 1, 30, 2)                                  \
    X("avx512vl", __AVX512VL__, 7, 0, 1, 31, 2)                                  \
    X("avx512vbmi", __AVX512VBMI__, 7, 0, 2, 1, 2)                               \
    X("avx512vbmi2", __AVX512VBMI2__, 7, 0, 2, 6, 2)                             \
    X("avx512vnni", __AVX512VNNI__, 7, 0, 2, 11, 2)                              \
    X("avx512bitalg", __AVX512BITALG__, 7, 0, 2, 12, 2)                          \
    X("avx512vpopcntdq", __AVX512VPOPCNTDQ__, 7, 0, 2, 14, 2)                    \
    X("avx512fp16", __AVX512FP16__, 7, 0, 3, 23, 2)                              \
    X("avx512bf16", __AVX512BF16__, 7, 1, 0, 5, 2)

/* For each row: "1" when this build's code may use it (the compiler's
 * macro was defined as 1), else the macro's own name (cpu_built.c). Each
 * kernel set has its own (cpu_built.c compiled with its flags, under the
 * name cpu_built_with_<set>); this one is the rest of the library's. */
#ifdef DESCENT_KERNEL_SET
#define CPU_BUILT_NAME2(set) cpu_built_with_##set
#define CPU_BUILT_NAME(set) CPU_BUILT_NAME2(set)
#define cpu_built_with CPU_BUILT_NAME(DESCENT_KERNEL_SET)
#endif
extern const char *const cpu_built_with[];

/* 1 when this CPU and its operating system run code built with built_with
 * (a cpu_built_with array); else 0, with the extensions it lacks in
 * missing (len bytes, space separated; may be NULL) */
int cpu_runs(const char *const *built_with, char *missing, size_t len);

#endif
