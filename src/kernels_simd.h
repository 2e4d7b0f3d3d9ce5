/* SPDX-License-Identifier: MIT */
/*
 * kernels_simd.h - what the float kernels (kernels.c) and the fixed-point
 * kernels (kernels_fx.c) share: the vector type at the width the compiler
 * targets, loads, stores, broadcasts, the explicit fused multiply-add, the
 * fixed-order horizontal sum, each thread's fixed share of the output
 * tiles, and the weight gradient's register tile (the same operations per
 * element in both, so the fixed-point sums start from the float ones; WJ,
 * its rows, is each file's K_DW_ROWS). Only for those two files.
 */
#ifndef DESCENT_KERNELS_SIMD_H
#define DESCENT_KERNELS_SIMD_H

#include <math.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__)
#define VL 16
#elif defined(__AVX__)
#define VL 8
#else
#define VL 4
#endif
typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int vi __attribute__((vector_size(VL * sizeof(int))));

static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
/* s in every lane, as one broadcast instruction: built lane by lane, GCC
 * emits a masked broadcast per lane for AVX-512, which is far slower. */
static inline vf vbcast(float s) {
    return s - (vf){0}; /* s - (+0) == s exactly, for every s */
}
/* The value in a register: stops GCC from folding a load into each FMA that
 * uses it (it re-read every weight vector FS times from memory, making the
 * forward tile load-bound). Changes no value. */
static inline vf vreg(vf v) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__("" : "+v"(v));
#endif
    return v;
}

/* Fused multiply-add, explicitly: the build uses -ffp-contract=off so the
 * compiler never fuses on one code path and not on another; the kernels say
 * where a fused operation happens, identically on every path. Without
 * hardware FMA (a portable build) a multiply and an add, again everywhere. */
#if defined(__FMA__) && (VL == 16 || VL == 8)
#include <immintrin.h>
static inline vf vfma(vf a, vf b, vf c) {
#if VL == 16
    return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#else
    return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#endif
}
static inline float sfma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
#elif defined(__FMA__) || defined(__aarch64__)
static inline vf vfma(vf a, vf b, vf c) {
    vf r;
    for (int i = 0; i < VL; i++) r[i] = __builtin_fmaf(a[i], b[i], c[i]);
    return r;
}
static inline float sfma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
#else
static inline vf vfma(vf a, vf b, vf c) { return a * b + c; }
static inline float sfma(float a, float b, float c) { return a * b + c; }
#endif

/* Fixed-order horizontal sum, as a tree: halves added until four lanes
 * remain, then (a0 + a2) + (a1 + a3). Every path that reduces a vector uses
 * this one function, so the order never depends on the code path. */
typedef float v4f __attribute__((vector_size(4 * sizeof(float))));
static inline float vhsum(vf v) {
    v4f a;
#if VL == 4
    a = v;
#elif VL == 8
    v4f lo, hi;
    memcpy(&lo, &v, sizeof lo);
    memcpy(&hi, (char *)&v + sizeof lo, sizeof hi);
    a = lo + hi;
#else
    v4f q[4];
    memcpy(q, &v, sizeof q);
    a = (q[0] + q[2]) + (q[1] + q[3]);
#endif
    return (a[0] + a[2]) + (a[1] + a[3]);
}

/* A kernel call worth more than one thread: below this many multiply-adds
 * (a few microseconds: the 128x10 layer) handing work to the other threads
 * and waiting for them costs about what it saves (training measured the
 * same either way), so those calls skip the hand-off. Results do not depend
 * on it: every thread count gives the same bits. */
#define PARALLEL_MIN_FMAS (1L << 19)
static inline int worth_threads(int B, int IN, int OUT) {
    return (long)B * IN * OUT >= PARALLEL_MIN_FMAS;
}

/* Inside a parallel region: this thread's fixed share [t0, t1) of ntiles
 * output tiles (the same share every call), so each output element always
 * has one owner and is never written by two threads. */
static inline void my_tiles(int ntiles, int *t0, int *t1) {
    int nth = 1, tid = 0;
#ifdef _OPENMP
    nth = omp_get_num_threads();
    tid = omp_get_thread_num();
#endif
    *t0 = (int)((long)ntiles * tid / nth);
    *t1 = (int)((long)ntiles * (tid + 1) / nth);
}

/* The caller's thread of a parallel region (thread 0), or the caller */
static inline int on_calling_thread(void) {
#ifdef _OPENMP
    return omp_get_thread_num() == 0;
#else
    return 1;
#endif
}

/* lanes of v that are NaN or Inf: all exponent bits set */
static inline vi nonfinite_lanes(vf v) { return ((vi)v & 0x7f800000) == 0x7f800000; }

/* acc[WJ][NV] += the outer products of samples [S0, S1) at columns K..,
 * then copied to T[WJ * NV] (declared here): the accumulators' address is
 * never taken, so they stay in registers through the sample loop */
#define DW_ACCUMULATE(ACC, T, NV, S0, S1, K)                                                \
    for (int s = (S0); s < (S1); s++) {                                                     \
        const float *xs = inp + (size_t)s * ldi + (K);                                      \
        const float *ds = dout + (size_t)s * ldd + j0;                                      \
        vf x[NV];                                                                           \
        for (int v = 0; v < NV; v++) x[v] = vload(xs + v * VL);                             \
        for (int r = 0; r < WJ; r++) {                                                      \
            const vf d = vbcast(ds[r]);                                                     \
            for (int v = 0; v < NV; v++) ACC[r][v] = vfma(d, x[v], ACC[r][v]);              \
        }                                                                                   \
    }                                                                                       \
    vf T[WJ * NV];                                                                          \
    for (int r = 0; r < WJ; r++)                                                            \
        for (int v = 0; v < NV; v++) T[r * NV + v] = ACC[r][v]

/* Columns per pass: the inputs' strip (B x KC floats) stays in cache while a
 * thread sweeps its rows. A multiple of 2 * VL, so only the last strip has
 * tails and every element sees the same operations as without strips. */
#define KC (8 * VL)

#endif
