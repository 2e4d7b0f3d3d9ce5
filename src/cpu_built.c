/* SPDX-License-Identifier: MIT */
/*
 * cpu_built.c - which of cpu_features.h's extensions the library's code was
 * compiled to use: compiled with the library's flags, and once more with
 * each kernel set's (cpu_features.h names that copy); it holds only data.
 */
#include "cpu_features.h"

/* A macro the compiler defines becomes "1"; one it does not, its own name */
#define AS_TEXT(x) #x
#define EXPANDED_TEXT(x) AS_TEXT(x)
#define BUILT_WITH(name, macro, leaf, sub, reg, bit, state) EXPANDED_TEXT(macro),
const char *const cpu_built_with[] = {DESCENT_CPU_FEATURES(BUILT_WITH)};
