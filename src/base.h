/* SPDX-License-Identifier: MIT */
/*
 * base.h - what every library file may use: error filling, the 1/m rule, 64-byte aligned
 * memory, overflow-checked sizes, the seeded random generator and the data
 * order, crc32. Implemented in status.c, memory.c, rng.c and binio.c.
 */
#ifndef DESCENT_BASE_H
#define DESCENT_BASE_H

#include "descent/descent.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

/* Widths of activation rows are padded to this many floats (64 bytes) so
 * that every row of every activation buffer starts 64-byte aligned. */
#define DESCENT_ALIGN_FLOATS 16
#define DESCENT_ALIGN_BYTES 64

static inline int round_up_int(int x, int to) { return (x + to - 1) / to * to; }

/* The 1/m rule, the one definition: the gradient of the mean cost is the
 * sum of the per-sample gradients divided by the number of samples m
 * (the step divides a gradient for the API, the optimizer as it updates). */
static inline float mean_of(float sum, float m) { return sum / m; }

/* ---- errors (status.c) ---- */
/* Fill err (may be NULL) with code, this rank and a printf-style message;
 * returns code. */
int set_error(descent_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The first lines of a public function: an argument that may not be NULL
 * is DESCENT_E_USAGE, naming the function and the argument. */
#define REQUIRE_ARG(err, arg)                                                        \
    do {                                                                             \
        if (!(arg))                                                                  \
            return set_error((err), DESCENT_E_USAGE, "%s: %s is NULL", __func__, #arg); \
    } while (0)
/* After comm_agree: when another rank failed, say so in err (the failing
 * rank keeps its own message); returns code. */
int remote_error(descent_error *err, int code, int rank);

/* ---- memory (memory.c): 64-byte aligned, zeroed; NULL on failure or overflow ---- */
void *aligned_calloc(size_t count, size_t size);
void aligned_free(void *p);
/* a*b without overflow: returns 0 and stores the product, or -1. */
static inline int mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

/* ---- random numbers (rng.c): splitmix64-seeded xoshiro256** ---- */
typedef struct { uint64_t s[4]; } rng_t;
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(rng_t *r);
double rng_uniform(rng_t *r);              /* [0,1) with 53 bits */
uint64_t rng_below(rng_t *r, uint64_t n);  /* unbiased [0,n) */
/* perm[0..n) = permutation of 0..n-1 determined by (seed, epoch) only */
void permutation(uint32_t *perm, size_t n, uint64_t seed, uint64_t epoch);

/* ---- checksums and paths (binio.c) ---- */
uint32_t crc32_buf(uint32_t crc, const void *p, size_t n);
/* Room for a path the library builds from a directory and a file name:
 * Linux's PATH_MAX, the terminating NUL included */
#define PATH_CAP 4096
/* buf = "dir/name": 0, or -1 (buf then "") when it does not fit; a path
 * cut short could name another file, so it is never used */
int path_join(char buf[PATH_CAP], const char *dir, const char *name);

/* ---- work division ---- */
/* Contiguous share [lo, hi) of n items for part r of P: sizes differ by at
 * most one, some may be empty. Ranks split batches and evaluation sets with
 * it. */
static inline void share_of(size_t n, int r, int P, size_t *lo, size_t *hi) {
    *lo = n * (size_t)r / (size_t)P;
    *hi = n * (size_t)(r + 1) / (size_t)P;
}

/* The smallest loops worth a team of OpenMP threads: below them, waking
 * the team costs more than the work it shares. One flop or conversion per
 * element (updates, bfloat16 conversions): */
#define PARALLEL_MIN_ELEMENTS 65536
/* Rows of a block copied or masked (the batch gather, dropout): fewer
 * elements, as each costs a memory access to another place */
#define PARALLEL_MIN_BLOCK_VALUES 16384

/* CPUs this process may run on (threads.c): as OpenMP saw them at
 * start-up, else the affinity mask's count; 0 if unknown. */
int local_cpus(void);

#endif
