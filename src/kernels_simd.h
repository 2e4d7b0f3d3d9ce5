/* SPDX-License-Identifier: MIT */
/*
 * kernels_simd.h - what the float kernels (kernels.c) and the fixed-point
 * kernels (kernels_fx.c) share: the vector type at the width the compiler
 * targets, loads, stores, broadcasts, the explicit fused multiply-add
 * (exact where the CPU has none), the fixed-order horizontal sum and the
 * 16-lane dot products that give every kernel set the same bits, each
 * thread's fixed share of the output
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
 * where a fused operation happens, identically on every path and in every
 * kernel set. Without hardware FMA (the baseline set) the fused result is
 * computed exactly as the hardware's, from SSE2 doubles (below). */
#if defined(__FMA__) && (VL == 16 || VL == 8)
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
#elif defined(__SSE2__) && VL == 4
#include <emmintrin.h>
/* fl(a * b + c) rounded once, as a fused multiply-add, from SSE2's double
 * operations (docs/reproducibility.md, "Same bits on every kernel set"):
 *  1. p = a * b in double is exact (24 + 24 bits of significand <= 53, and
 *     the exponent cannot leave double's range);
 *  2. s = p + c rounded to double, and its error err = (p + c) - s exactly
 *     (Knuth's two-sum; NaN where an operand is Inf or NaN);
 *  3. s rounded to odd: where err is non-zero and the last bit of s is
 *     even, s moves one unit toward p + c, to the odd neighbour;
 *  4. that double rounded to float (nearest even): rounding to odd at 53
 *     bits and then to nearest at 24 (or fewer, below the normal range)
 *     gives the correctly rounded sum (Boldo and Melquiond, 2008).
 * Steps 2 and 3 are needed only where s rounds to float differently from
 * p + c (may_round_twice), which is rare; elsewhere s is rounded at once.
 * s is never 0 where err is not (p and c are multiples of 2^-298), and Inf
 * and NaN come out as the product and sum give them. */
/* s = fl(p + c) rounded to odd instead */
static inline __m128d round_to_odd_sum(__m128d s, __m128d p, __m128d c) {
    const __m128d pv = _mm_sub_pd(s, c), cv = _mm_sub_pd(s, pv); /* s's parts from p, c */
    const __m128d err = _mm_add_pd(_mm_sub_pd(p, pv), _mm_sub_pd(c, cv));
    const __m128d zero = _mm_setzero_pd();
    const __m128d inexact = _mm_and_pd(_mm_cmpneq_pd(err, zero), _mm_cmpord_pd(err, err));
    const __m128i bits = _mm_castpd_si128(s);
    /* the last bit of s is 0: tested in the low 32 bits, copied to both */
    const __m128i even = _mm_shuffle_epi32(
        _mm_cmpeq_epi32(_mm_and_si128(bits, _mm_set1_epi32(1)), _mm_setzero_si128()),
        _MM_SHUFFLE(2, 2, 0, 0));
    /* toward p + c: one unit away from zero where err has the sign of s */
    const __m128d away = _mm_xor_pd(_mm_cmpgt_pd(s, zero), _mm_cmplt_pd(err, zero));
    const __m128i step = _mm_add_epi64(_mm_and_si128(_mm_castpd_si128(away), _mm_set1_epi64x(2)),
                                       _mm_set1_epi64x(-1));
    const __m128i odd = _mm_and_si128(_mm_and_si128(_mm_castpd_si128(inexact), even), step);
    return _mm_castsi128_pd(_mm_add_epi64(bits, odd));
}
/* Rounding s = fl(p + c) to float errs only where s is a float midpoint
 * (a tie at 24 bits, which rounding to double can create: any other double
 * has the exact sum's side of every midpoint) or below float's normal range
 * (where the midpoints are coarser). 1 where some lane of s is either. */
static inline int may_round_twice(__m128d s) {
    const __m128i bits = _mm_castpd_si128(s);
    /* the low 29 of the 52 significand bits are 1 and 28 zeros */
    const __m128i low = _mm_and_si128(bits, _mm_set1_epi32(0x1fffffff));
    const __m128i tie = _mm_shuffle_epi32(_mm_cmpeq_epi32(low, _mm_set1_epi32(0x10000000)),
                                          _MM_SHUFFLE(2, 2, 0, 0));
    const __m128d mag = _mm_andnot_pd(_mm_set1_pd(-0.0), s);
    const __m128d tiny = _mm_cmplt_pd(mag, _mm_set1_pd(0x1p-126));
    return _mm_movemask_pd(_mm_or_pd(_mm_castsi128_pd(tie), tiny)) != 0;
}
/* two lanes (the low two of each operand) of a * b + c, fused */
static inline __m128 fma_half(__m128 a, __m128 b, __m128 c) {
    const __m128d p = _mm_mul_pd(_mm_cvtps_pd(a), _mm_cvtps_pd(b));
    const __m128d cd = _mm_cvtps_pd(c);
    const __m128d s = _mm_add_pd(p, cd);
    if (__builtin_expect(may_round_twice(s), 0)) return _mm_cvtpd_ps(round_to_odd_sum(s, p, cd));
    return _mm_cvtpd_ps(s);
}
static inline vf vfma(vf a, vf b, vf c) {
    const __m128 x = (__m128)a, y = (__m128)b, z = (__m128)c;
    const __m128 lo = fma_half(x, y, z);
    const __m128 hi = fma_half(_mm_movehl_ps(x, x), _mm_movehl_ps(y, y), _mm_movehl_ps(z, z));
    return (vf)_mm_movelh_ps(lo, hi);
}
static inline float sfma(float a, float b, float c) {
    return _mm_cvtss_f32(fma_half(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}
#else
/* no fused multiply-add on this machine: a multiply and an add, the same in
 * every kernel (another architecture's baseline) */
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

/* Dot products over DL = 16 lanes in every kernel set: lane t accumulates
 * the terms k = t (mod 16) in order, in DV vectors of the set's width, and
 * dhsum adds the 16 lanes by one tree, AVX-512's vhsum: so a dot product
 * has the same bits whatever the vector width. */
#define DL 16
#define DV (DL / VL)
static inline float dhsum(const vf a[DV]) {
#if VL == 16
    return vhsum(a[0]);
#elif VL == 8
    return vhsum(a[0] + a[1]); /* lanes t + (t + 8), then vhsum's tree */
#else
    return vhsum((a[0] + a[2]) + (a[1] + a[3]));
#endif
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
