/* SPDX-License-Identifier: MIT */
/*
 * kernels.c - the layer kernels: dense forward, the two halves of dense
 * backward, softmax and the costs. Blocks of samples are sample-major
 * (B x width, row stride ld), W is OUT x IN row-major as in the derivation.
 * The layer loops' OpenMP lives here; the other parallel regions are
 * elementwise or per sample (data.c's batch gather, dropout.c's masks,
 * optim.c's update, step.c's reductions, placement.c's thread survey). No
 * MPI here.
 *
 * Determinism: every output element is produced by exactly one thread with a
 * fixed sequence of operations that does not depend on the thread count, on
 * the tile it falls in or on its position in the block (full tiles and edge
 * code perform the same per-element arithmetic). A sample's activations and
 * error terms therefore depend only on the sample and the parameters, which
 * is what lets ranks and threads be pure performance knobs.
 *
 * Vectorisation uses GCC/Clang vector extensions at the widest width the
 * compiler targets (set by -march; see CMakeLists.txt), never -ffast-math.
 */
#include "kernels.h"

#include "activation.h"

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

/* ---- forward --------------------------------------------------------------
 * out[s][j] = act(b[j] + sum_k inp[s][k] w[j][k]): a dot product over k,
 * which is contiguous in both operands. Register tile: FS samples x FJ
 * outputs of vector accumulators. Per element: lanes accumulate k = lane
 * (mod VL) in order, a fixed horizontal sum, the scalar tail, + b, act. */
#if VL == 16 /* 32 vector registers: 16 accumulators + 8 operands */
#define FS 4
#define FJ 4
#else /* 16 registers: 9 accumulators + 6 operands */
#define FS 3
#define FJ 3
#endif

static inline float dot_one(const float *x, const float *w, int IN, int kv) {
    vf acc = vbcast(0.0f);
    for (int k = 0; k < kv; k += VL) acc = vfma(vload(x + k), vload(w + k), acc);
    float h = vhsum(acc);
    for (int k = kv; k < IN; k++) h = sfma(x[k], w[k], h);
    return h;
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

/* sums[i][j] = vhsum(acc[i][j]) for a whole tile. With AVX-512 and 4 x 4
 * tiles, the 16 sums are formed together by shuffles (15 vector adds
 * instead of 16 separate reductions), each in exactly vhsum's order:
 *  1. per accumulator u, a(u) = (q0 + q2) + (q1 + q3) over its 4-lane
 *     quarters; T_j holds a(acc[0..3][j]) in its four 128-bit lanes;
 *  2. per 128-bit lane (a0 + a2) + (a1 + a3) across T_0..T_3, which leaves
 *     vhsum(acc[i][j]) in lane 4i + j. */
#if VL == 16 && FS == 4 && FJ == 4
#define TILE_HSUM_VECTOR 1
static inline __m512 tile_hsum_vec(vf acc[FS][FJ]) {
    __m512 t[4];
    for (int j = 0; j < 4; j++) {
        const __m512 u0 = (__m512)acc[0][j], u1 = (__m512)acc[1][j];
        const __m512 u2 = (__m512)acc[2][j], u3 = (__m512)acc[3][j];
        const __m512 s01 = _mm512_add_ps(_mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(1, 0, 1, 0)),
                                         _mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(3, 2, 3, 2)));
        const __m512 s23 = _mm512_add_ps(_mm512_shuffle_f32x4(u2, u3, _MM_SHUFFLE(1, 0, 1, 0)),
                                         _mm512_shuffle_f32x4(u2, u3, _MM_SHUFFLE(3, 2, 3, 2)));
        t[j] = _mm512_add_ps(_mm512_shuffle_f32x4(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
    }
    const __m512 w01 = _mm512_add_ps(_mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512 w23 = _mm512_add_ps(_mm512_shuffle_ps(t[2], t[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                     _mm512_shuffle_ps(t[2], t[3], _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm512_add_ps(_mm512_shuffle_ps(w01, w23, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(w01, w23, _MM_SHUFFLE(3, 1, 3, 1)));
}
static inline void tile_hsums(vf acc[FS][FJ], float sums[FS][FJ]) {
    _mm512_storeu_ps(&sums[0][0], tile_hsum_vec(acc));
}
#else
static inline void tile_hsums(vf acc[FS][FJ], float sums[FS][FJ]) {
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < FJ; j++) sums[i][j] = vhsum(acc[i][j]);
}
#endif

/* out[s + i][j0 + j] = act(sums[i][j] + the scalar tail over k >= kv +
 * b[j0 + j]) for FS samples x jn outputs: the per-element end of a tile */
static inline void tile_epilogue(float *out, int ldo, const float *inp, int ldi, const float *w0,
                                 const float *b, int IN, int kv, int s, int j0, int jn,
                                 float sums[FS][FJ], descent_act act) {
    for (int i = 0; i < FS; i++) {
        const float *xi = inp + (size_t)(s + i) * ldi;
        for (int j = 0; j < jn; j++) {
            const float *wj = w0 + (size_t)j * IN;
            float h = sums[i][j];
            for (int k = kv; k < IN; k++) h = sfma(xi[k], wj[k], h);
            out[(size_t)(s + i) * ldo + j0 + j] = act_apply(h + b[j0 + j], act);
        }
    }
}

/* out[s][j] for one full tile of FS samples x FJ outputs */
static inline void forward_tile(float *out, int ldo, const float *inp, int ldi, const float *w,
                                const float *b, int IN, int kv, int s, int j0, descent_act act) {
    const float *w0 = w + (size_t)j0 * IN;
    vf acc[FS][FJ];
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < FJ; j++) acc[i][j] = vbcast(0.0f);
    for (int k = 0; k < kv; k += VL) {
        vf x[FS], wv[FJ];
        for (int i = 0; i < FS; i++) x[i] = vreg(vload(inp + (size_t)(s + i) * ldi + k));
        for (int j = 0; j < FJ; j++) wv[j] = vreg(vload(w0 + (size_t)j * IN + k));
        for (int i = 0; i < FS; i++)
            for (int j = 0; j < FJ; j++) acc[i][j] = vfma(x[i], wv[j], acc[i][j]);
    }
#ifdef TILE_HSUM_VECTOR
    if (kv == IN && (act == DESCENT_ACT_RELU || act == DESCENT_ACT_IDENTITY ||
                     act == DESCENT_ACT_SOFTMAX)) {
        /* the epilogue as vectors, the same operations per element: + b,
         * then relu as (z > 0 ? z : +0) (softmax is applied later: here
         * the identity); lanes 4i..4i+3 are sample s + i */
        vf z = (vf)tile_hsum_vec(acc) + (vf)_mm512_broadcast_f32x4(_mm_loadu_ps(b + j0));
        if (act == DESCENT_ACT_RELU) z = (vf)((vi)z & (z > 0.0f));
        _mm_storeu_ps(out + (size_t)s * ldo + j0, _mm512_extractf32x4_ps((__m512)z, 0));
        _mm_storeu_ps(out + (size_t)(s + 1) * ldo + j0, _mm512_extractf32x4_ps((__m512)z, 1));
        _mm_storeu_ps(out + (size_t)(s + 2) * ldo + j0, _mm512_extractf32x4_ps((__m512)z, 2));
        _mm_storeu_ps(out + (size_t)(s + 3) * ldo + j0, _mm512_extractf32x4_ps((__m512)z, 3));
        return;
    }
#endif
    float sums[FS][FJ];
    tile_hsums(acc, sums);
    tile_epilogue(out, ldo, inp, ldi, w0, b, IN, kv, s, j0, FJ, sums, act);
}

/* The same for FS samples x jn < FJ outputs (the last, partial tile of a
 * layer such as 10 outputs): FS * jn independent chains instead of one
 * latency-bound dot product per element, with the same per-element
 * arithmetic. */
static void forward_part(float *out, int ldo, const float *inp, int ldi, const float *w,
                         const float *b, int IN, int kv, int s, int j0, int jn, descent_act act) {
    const float *w0 = w + (size_t)j0 * IN;
    vf acc[FS][FJ - 1];
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < jn; j++) acc[i][j] = vbcast(0.0f);
    for (int k = 0; k < kv; k += VL) {
        vf x[FS];
        for (int i = 0; i < FS; i++) x[i] = vload(inp + (size_t)(s + i) * ldi + k);
        for (int j = 0; j < jn; j++) {
            const vf wv = vload(w0 + (size_t)j * IN + k);
            for (int i = 0; i < FS; i++) acc[i][j] = vfma(x[i], wv, acc[i][j]);
        }
    }
    float sums[FS][FJ];
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < jn; j++) sums[i][j] = vhsum(acc[i][j]);
    tile_epilogue(out, ldo, inp, ldi, w0, b, IN, kv, s, j0, jn, sums, act);
}

/* Samples per pass: a block of SB input rows stays in cache while a thread
 * sweeps its outputs, so the weights are streamed B / SB times, not once per
 * output tile. A multiple of FS. */
#define SB (8 * FS)

void k_dense_forward(float *out, int ldo, const float *inp, int ldi,
                     const float *w, const float *b, int B, int IN, int OUT,
                     descent_act act) {
    const int kv = IN / VL * VL;
    const int ntj = (OUT + FJ - 1) / FJ;
    const int bfull = B / FS * FS; /* samples covered by full tiles */
#pragma omp parallel if (worth_threads(B, IN, OUT))
    {
        /* each thread owns a fixed range of output tiles */
        int t0, t1;
        my_tiles(ntj, &t0, &t1);
        for (int sb = 0; sb < bfull; sb += SB) {
            const int se = bfull - sb < SB ? bfull : sb + SB;
            for (int tj = t0; tj < t1; tj++) {
                const int j0 = tj * FJ;
                if (j0 + FJ > OUT) continue; /* a partial tile: below */
                for (int s = sb; s < se; s += FS)
                    forward_tile(out, ldo, inp, ldi, w, b, IN, kv, s, j0, act);
            }
        }
        /* edges with the same arithmetic: a partial output tile by sample
         * tiles, then the samples left over one element at a time */
        for (int tj = t0; tj < t1; tj++) {
            const int j0 = tj * FJ, jn = OUT - j0 < FJ ? OUT - j0 : FJ;
            if (jn < FJ)
                for (int s = 0; s < bfull; s += FS)
                    forward_part(out, ldo, inp, ldi, w, b, IN, kv, s, j0, jn, act);
            for (int s = bfull; s < B; s++)
                for (int j = j0; j < j0 + jn; j++)
                    out[(size_t)s * ldo + j] = act_apply(
                        dot_one(inp + (size_t)s * ldi, w + (size_t)j * IN, IN, kv) + b[j], act);
        }
    }
}

/* ---- backward: weight and bias gradients ---------------------------------
 * dw[j][k..k+VL) += sum_s dout[s][j] * inp[s][k..k+VL): an outer product per
 * sample, vectorised over k, reduced over s in sample order. Tiles of WJ rows
 * of dw are owned by one thread each (parallel over output units), so no two
 * threads write the same element. Per element: load dw, one FMA per sample in
 * order, store; the vector, single-vector and scalar paths agree. */
#define WJ K_DW_ROWS

/* Where a tile of weight gradients goes: added to floats (dw += tile), or in
 * reproducible mode converted to 64-bit fixed point and added to integers
 * (fx += round(tile * scale)), which is exact and order-free. */
typedef struct {
    float *f;
    int64_t *fx;
    int add;               /* add to f or fx (1) or overwrite it (0)        */
    double scale, limit;   /* fixed point: 2^s, and the largest |value|     */
    float fscale;          /* 2^s as a float, or 0 where it is not one      */
    int lim_bits;          /* |v| < limit / scale exactly when the bits of  */
                           /* |v| are below lim_bits (NaN and Inf are not)  */
    long nonfinite, range; /* values that were NaN/Inf or out of range     */
    vi bad;                /* floats: lanes set once a value stored was NaN
                            * or Inf (all exponent bits set)                */
} sink;

/* A fixed-point sink for value * 2^e, |value * 2^e| < limit (a power of
 * two). lim_bits: the bit pattern of the float limit / 2^e; for
 * non-negative floats the order of bit patterns is the order of values, and
 * NaN and Inf lie above every finite float. Where limit / 2^e is above the
 * float range every finite value passes (the bits of Inf); where it is
 * below, none does and each value takes the exact per-element test. */
static sink fx_sink(int64_t *g, int e, double limit) {
    sink k = {.fx = g, .scale = ldexp(1.0, e), .limit = limit};
    const double t = limit / k.scale;
    if (t > 0x1p127) k.lim_bits = 0x7f800000;
    else if (t >= 0x1p-126) {
        const float tf = (float)t;
        memcpy(&k.lim_bits, &tf, sizeof tf);
    }
    /* 2^e as a normal float: value * 2^e is then exact in float (or, below
     * the normal range, too small to round to anything but 0) */
    if (e >= -126 && e <= 127) k.fscale = (float)k.scale;
    return k;
}

static inline vf sink_load(const sink *k, size_t i) {
    return k->fx || !k->add ? vbcast(0.0f) : vload(k->f + i);
}

static inline void fx_add(sink *k, size_t i, float v) {
    const double x = (double)v * k->scale; /* exact: scale is a power of two */
    if (!k->add) k->fx[i] = 0;
    if (!(fabs(x) < k->limit)) {
        if (isfinite(x)) k->range++;
        else k->nonfinite++;
        return;
    }
    /* round to nearest even by the 1.5 * 2^52 trick (|x| < 2^51) */
    const double t = x + 0x1.8p52;
    int64_t q;
    memcpy(&q, &t, sizeof q);
    k->fx[i] += q - 0x4338000000000000LL;
}

typedef double vd __attribute__((vector_size(VL * sizeof(double))));
typedef long long vq __attribute__((vector_size(VL * sizeof(long long))));

/* v * scale rounded to integers (nearest, ties to even) and added to
 * fx[i..i+VL), with no range check: the caller has checked the whole tile
 * (tile_in_range). With AVX-512DQ and a float scale: the product in float
 * (exact) and one conversion to 64-bit integers per half; otherwise in
 * double with the 1.5 * 2^52 trick. Both give round(v * 2^e) exactly. */
#define FX_ROUNDING (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) /* a constant for clang */
static inline void fx_add_vec(sink *k, size_t i, vf v) {
#if VL == 16 && defined(__AVX512DQ__)
    if (k->fscale != 0.0f) {
        const __m512 x = _mm512_mul_ps((__m512)v, _mm512_set1_ps(k->fscale));
        const __m512i lo = _mm512_cvt_roundps_epi64(_mm512_castps512_ps256(x), FX_ROUNDING);
        const __m512i hi = _mm512_cvt_roundps_epi64(_mm512_extractf32x8_ps(x, 1), FX_ROUNDING);
        int64_t *p = k->fx + i;
        if (k->add) {
            _mm512_storeu_si512(p, _mm512_add_epi64(_mm512_loadu_si512(p), lo));
            _mm512_storeu_si512(p + 8, _mm512_add_epi64(_mm512_loadu_si512(p + 8), hi));
        } else {
            _mm512_storeu_si512(p, lo);
            _mm512_storeu_si512(p + 8, hi);
        }
        return;
    }
#endif
    const vd t = __builtin_convertvector(v, vd) * k->scale + 0x1.8p52;
    vq q, acc = {0};
    memcpy(&q, &t, sizeof q);
    if (k->add) memcpy(&acc, k->fx + i, sizeof acc);
    acc += q - 0x4338000000000000LL;
    memcpy(k->fx + i, &acc, sizeof acc);
}

/* the bits of |v| lane by lane: for non-negative floats the order of the
 * bit patterns (as integers) is the order of the values */
static inline vi abs_bits(vf v) { return (vi)v & 0x7fffffff; }

/* the larger bit pattern lane by lane */
static inline vi vmax_bits(vi a, vi b) {
#if VL == 16
    return (vi)_mm512_max_epi32((__m512i)a, (__m512i)b);
#else
    const vi gt = a > b;
    return (a & gt) | (b & ~gt);
#endif
}

/* the largest lane of non-negative bit patterns */
static inline int hmax_bits(vi v) {
    int m = 0;
    for (int t = 0; t < VL; t++) m = v[t] > m ? v[t] : m;
    return m;
}

/* 1 when every value of the n vectors is finite and |value * scale| < limit:
 * the largest bit pattern of |value| against lim_bits (fx_sink). 0 sends
 * the values to the exact per-element test. */
static inline int tile_in_range(const sink *k, const vf *v, int n) {
    vi mx = {0};
    for (int i = 0; i < n; i++) mx = vmax_bits(abs_bits(v[i]), mx);
    return hmax_bits(mx) < k->lim_bits;
}

/* lanes of v that are NaN or Inf: all exponent bits set */
static inline vi nonfinite_lanes(vf v) { return ((vi)v & 0x7f800000) == 0x7f800000; }

static inline void sink_store(sink *k, size_t i, vf v) {
    if (!k->fx) {
        vstore(k->f + i, v);
        k->bad |= nonfinite_lanes(v);
        return;
    }
    if (tile_in_range(k, &v, 1)) { fx_add_vec(k, i, v); return; }
    for (int t = 0; t < VL; t++) fx_add(k, i + (size_t)t, v[t]);
}

static inline void sink_store1(sink *k, size_t i, float v) {
    if (!k->fx) {
        k->f[i] = v;
        if (!isfinite(v)) k->bad[0] = -1;
    } else {
        fx_add(k, i, v);
    }
}

static inline float sink_load1(const sink *k, size_t i) {
    return k->fx || !k->add ? 0.0f : k->f[i];
}

/* floats: 1 when a value stored through k was NaN or Inf */
static inline long sink_bad(const sink *k) {
    for (int t = 0; t < VL; t++)
        if (k->bad[t]) return 1;
    return 0;
}

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

/* One full tile of dw, WJ rows x NV vectors of columns from k, over all B
 * samples. The accumulators must stay in registers through the sample loop,
 * so their address is never taken: the range check reads a copy (t). The
 * NaN/Inf flags of a float tile are gathered once per tile, not per vector
 * (a read-modify-write of the sink per vector costs up to 15%). */
#define DW_TILE(NAME, NV)                                                                   \
    static inline void NAME(sink *dw, const float *dout, int ldd, const float *inp,         \
                            int ldi, int B, int IN, int j0, int k) {                        \
        vf acc[WJ][NV];                                                                     \
        for (int r = 0; r < WJ; r++)                                                        \
            for (int v = 0; v < NV; v++)                                                    \
                acc[r][v] = sink_load(dw, (size_t)(j0 + r) * IN + k + v * VL);              \
        DW_ACCUMULATE(acc, t, NV, 0, B, k);                                                 \
        if (dw->fx && tile_in_range(dw, t, WJ * NV)) {                                      \
            for (int r = 0; r < WJ; r++)                                                    \
                for (int v = 0; v < NV; v++)                                                \
                    fx_add_vec(dw, (size_t)(j0 + r) * IN + k + v * VL, t[r * NV + v]);      \
        } else if (!dw->fx) { /* floats: the NaN/Inf flags gathered once per tile */    \
            vi bad = {0};                                                                   \
            for (int r = 0; r < WJ; r++)                                                    \
                for (int v = 0; v < NV; v++) {                                              \
                    vstore(dw->f + (size_t)(j0 + r) * IN + k + v * VL, t[r * NV + v]);      \
                    bad |= nonfinite_lanes(t[r * NV + v]);                                  \
                }                                                                           \
            dw->bad |= bad;                                                                 \
        } else {                                                                            \
            for (int r = 0; r < WJ; r++)                                                    \
                for (int v = 0; v < NV; v++)                                                \
                    sink_store(dw, (size_t)(j0 + r) * IN + k + v * VL, t[r * NV + v]);      \
        }                                                                                   \
    }
DW_TILE(dw_tile2, 2)
/* a last single vector of columns (784 = 24 x 32 + 16 with AVX-512): WJ
 * independent chains, not one latency-bound chain per row */
DW_TILE(dw_tile1, 1)

/* ---- final sums of at most two chunks, in float -------------------------
 * Where a tile's sums are final after one or two chunks (one rank whose
 * block is at most two chunks: 1 x 2 at batch 64), the integers need not
 * exist: q = round(v * 2^e) is an integer-valued float (|q| < limit <=
 * 2^51, so exact), the float sum fl(q1 + q2) is the exact integer sum
 * rounded once to float, and times 2^-e (exact while the result is a
 * normal float) it is k_fx_value(q1 + q2, 2^-e) bit for bit. The largest
 * |sum| comes out rounded to float's precision as well (k_fx_round_max).
 * pair_unscale: 2^-e as a float where this holds for every sum of two
 * values in range, else 0 (the integer path). */
static inline float pair_unscale(const sink *k, double unscale) {
    /* 2^e a normal float (fscale), |sum| < 2^52 times 2^-e below 2^128,
     * and every non-zero |sum| >= 1 times 2^-e at least 2^-126 */
    return k->fscale != 0.0f && unscale >= 0x1p-126 && unscale <= 0x1p75 ? (float)unscale
                                                                           : 0.0f;
}

/* The largest of the magnitudes whose bit patterns vmax_bits kept in
 * bits: an integer-valued float (a float pair's sum), as an integer */
static inline int64_t pair_largest(vi bits) {
    const int b = hmax_bits(bits);
    float f;
    memcpy(&f, &b, sizeof f);
    return (int64_t)f;
}

/* round(x) to the nearest integer, ties to even, as the 64-bit conversions */
static inline vf vround_even(vf x) {
#if VL == 16
    return (vf)_mm512_roundscale_ps((__m512)x, FX_ROUNDING);
#elif VL == 8
    return (vf)_mm256_round_ps((__m256)x, FX_ROUNDING);
#else
    vf r = x;
    for (int i = 0; i < VL; i++) r[i] = nearbyintf(x[i]);
    return r;
#endif
}

/* One full tile of WJ rows x NV vectors of columns from k over samples [0,
 * c) and [c, B) (B <= 2c; one chunk when B <= c), written to fw (row
 * stride ldf) as the floats of the final sums; the bit patterns of their
 * magnitudes folded into *mx. q holds the first chunk's integers (in
 * memory, not in registers: the accumulators need them all). Returns 0,
 * having written nothing, when a value is out of range, NaN or Inf: the
 * caller then takes the integer path, which counts it. */
#define DW_PAIR_TILE(NAME, NV)                                                              \
    static int NAME(float *fw, int ldf, const float *dout, int ldd, const float *inp,       \
                    int ldi, int B, int c, const sink *k, float unscale, vi *mx, float *q,  \
                    int j0, int col) {                                                      \
        const vf fs = vbcast(k->fscale);                                                    \
        for (int h = 0; h < 2; h++) {                                                       \
            const int s0 = h ? c : 0, s1 = h ? B : c < B ? c : B;                           \
            if (s0 >= s1) break;                                                            \
            vf acc[WJ][NV];                                                                 \
            for (int r = 0; r < WJ; r++)                                                    \
                for (int v = 0; v < NV; v++) acc[r][v] = vbcast(0.0f);                      \
            DW_ACCUMULATE(acc, t, NV, s0, s1, col);                                         \
            if (!tile_in_range(k, t, WJ * NV)) return 0;                                    \
            for (int i = 0; i < WJ * NV; i++) {                                             \
                const vf qi = vround_even(t[i] * fs);                                       \
                vstore(q + i * VL, h ? vload(q + i * VL) + qi : qi);                        \
            }                                                                               \
        }                                                                                   \
        const vf u = vbcast(unscale);                                                       \
        for (int r = 0; r < WJ; r++)                                                        \
            for (int v = 0; v < NV; v++) {                                                  \
                const vf sum = vload(q + (r * NV + v) * VL);                                \
                /* + 0: a sum of -0 (both rounded to -0) is +0, as the integer 0 */        \
                vstore(fw + (size_t)(j0 + r) * ldf + col + v * VL, sum * u + 0.0f);         \
                *mx = vmax_bits(*mx, abs_bits(sum));                                        \
            }                                                                               \
        return 1;                                                                           \
    }
DW_PAIR_TILE(dw_pair_tile2, 2)
DW_PAIR_TILE(dw_pair_tile1, 1)

/* Rows j0..j0+jn of dw, columns kb..ke (IN: the row length of dw). */
static void dw_rows(sink *dw, const float *dout, int ldd, const float *inp, int ldi, int B, int IN,
                    int j0, int jn, int kb, int ke) {
    int k = kb;
    if (jn == WJ) {
        for (; k + 2 * VL <= ke; k += 2 * VL) dw_tile2(dw, dout, ldd, inp, ldi, B, IN, j0, k);
        for (; k + VL <= ke; k += VL) dw_tile1(dw, dout, ldd, inp, ldi, B, IN, j0, k);
    }
    for (int r = 0; r < jn; r++) {
        const size_t row = (size_t)(j0 + r) * IN;
        int kk = k;
        /* one row: four independent vector chains keep the FMA units busy */
        for (; kk + 4 * VL <= ke; kk += 4 * VL) {
            vf acc[4];
            for (int v = 0; v < 4; v++) acc[v] = sink_load(dw, row + kk + v * VL);
            for (int s = 0; s < B; s++) {
                const vf d = vbcast(dout[(size_t)s * ldd + j0 + r]);
                const float *xs = inp + (size_t)s * ldi + kk;
                for (int v = 0; v < 4; v++) acc[v] = vfma(d, vload(xs + v * VL), acc[v]);
            }
            if (dw->fx && tile_in_range(dw, acc, 4)) {
                for (int v = 0; v < 4; v++) fx_add_vec(dw, row + kk + v * VL, acc[v]);
            } else {
                for (int v = 0; v < 4; v++) sink_store(dw, row + kk + v * VL, acc[v]);
            }
        }
        for (; kk + VL <= ke; kk += VL) {
            vf acc = sink_load(dw, row + kk);
            for (int s = 0; s < B; s++)
                acc = vfma(vbcast(dout[(size_t)s * ldd + j0 + r]), vload(inp + (size_t)s * ldi + kk), acc);
            sink_store(dw, row + kk, acc);
        }
        for (; kk < ke; kk++) {
            float a = sink_load1(dw, row + kk);
            for (int s = 0; s < B; s++) a = sfma(dout[(size_t)s * ldd + j0 + r], inp[(size_t)s * ldi + kk], a);
            sink_store1(dw, row + kk, a);
        }
    }
}


/* Columns per pass: the inputs' strip (B x KC floats) stays in cache while a
 * thread sweeps its rows. A multiple of 2 * VL, so only the last strip has
 * tails and every element sees the same operations as without strips. */
#define KC (8 * VL)

/* Where one thread's share of a weight-gradient call goes: its sinks for
 * dw and db, and with to_float the floats the final integer sums become
 * (fw, fb, scaled back by unscale_w, unscale_b) and their extremes. */
typedef struct {
    sink w, b;
    float *fw, *fb;
    double unscale_w, unscale_b;
    int64_t lo[2], hi[2]; /* smallest and largest integer sum of dw [0], db [1] */
    vi pair_max;          /* bits of the largest |sum| of dw's float pairs   */
} share_out;

/* out[i] = k_fx_value(g[i], unscale) for i < n, with g's extremes folded
 * into *lo and *hi (the smallest and largest values rather than
 * magnitudes: plain min and max, which vectorise) */
static inline void fx_run_to_float(float *out, const int64_t *g, size_t n, double unscale,
                                   int64_t *lo, int64_t *hi) {
    int64_t l = *lo, h = *hi;
    for (size_t i = 0; i < n; i++) {
        l = g[i] < l ? g[i] : l;
        h = g[i] > h ? g[i] : h;
        out[i] = k_fx_value(g[i], unscale);
    }
    *lo = l, *hi = h;
}

/* Bias sums of rows [jb, je) into sb at index j - base: vectors over j,
 * each lane summing its samples in order, exactly as the scalar tail does;
 * chunk by chunk, later chunks adding to the first (and the first to what
 * sb holds when add is 1). */
static inline void bias_rows(sink *sb, const float *dout, int ldd, int B, int chunk, int jb,
                             int je, int add, int base) {
    for (int c0 = 0; c0 < B; c0 += chunk) {
        const int c1 = B - c0 < chunk ? B : c0 + chunk;
        sb->add = c0 > 0 || add;
        int j = jb;
        for (; j + VL <= je; j += VL) {
            vf a = sink_load(sb, (size_t)(j - base));
            for (int s = c0; s < c1; s++) a += vload(dout + (size_t)s * ldd + j);
            sink_store(sb, (size_t)(j - base), a);
        }
        for (; j < je; j++) {
            float a = sink_load1(sb, (size_t)(j - base));
            for (int s = c0; s < c1; s++) a += dout[(size_t)s * ldd + j];
            sink_store1(sb, (size_t)(j - base), a);
        }
    }
}

/* One thread's share of the weight and bias gradients. Inlined into three
 * parallel regions, one per kind of output (fixed_point, to_float
 * constant), so that each gets code of its own: the float kernel does not
 * pay in registers or branches for the fixed-point paths.
 * to_float: the integer sums of a tile's strip are final when its chunks
 * are done; they are kept in a small buffer of this thread (stride KC,
 * in L1) and written out as floats, never stored as integers. */
static inline __attribute__((always_inline)) void
backward_weights_share(share_out *o, const float *dout, int ldd, const float *inp, int ldi,
                       int B, int chunk, int IN, int OUT, const int fixed_point,
                       const int to_float, const k_progress *progress) {
    const int ntj = (OUT + WJ - 1) / WJ;
    /* each thread owns a fixed range of row tiles (output units): no two
     * threads write the same element, whatever the thread count */
    int t0, t1;
    my_tiles(ntj, &t0, &t1);
    sink *sw = &o->w, *sb = &o->b;
    const int wadd = sw->add, badd = sb->add;
    if (!fixed_point) sw->fx = sb->fx = NULL;
    _Alignas(64) int64_t scratch[WJ * KC];
    if (to_float) sw->fx = sb->fx = scratch;
    const int jb = t0 * WJ, je = t1 * WJ < OUT ? t1 * WJ : OUT;
    if (!to_float) {
        bias_rows(sb, dout, ldd, B, chunk, jb, je, badd, 0);
    } else {
        for (int j = jb; j < je; j += VL) {
            const int n = je - j < VL ? je - j : VL;
            bias_rows(sb, dout, ldd, B, chunk, j, j + n, 0, j);
            fx_run_to_float(o->fb + j, scratch, n, o->unscale_b, &o->lo[1], &o->hi[1]);
        }
    }
    /* final sums of one or two chunks: as float pairs where they fit */
    const float unscale_pair = to_float && B <= 2 * chunk ? pair_unscale(sw, o->unscale_w) : 0.0f;
    _Alignas(64) float pair_q[WJ * 2 * VL] = {0};
    /* chunk by chunk inside a strip: the fixed-point sums of a tile's
     * rows stay in L1 while its chunks are added to them */
    for (int kb = 0; kb < IN; kb += KC) {
        const int ke = IN - kb < KC ? IN : kb + KC;
        if (progress && omp_get_thread_num() == 0) /* the calling thread alone */
            progress->fn(progress->ctx);
        for (int tj = t0; tj < t1; tj++) {
            const int j0 = tj * WJ, jn = OUT - j0 < WJ ? OUT - j0 : WJ;
            int kf = kb; /* columns [kb, kf) done as float pairs */
            if (unscale_pair != 0.0f && jn == WJ) {
                int ok = 1;
                for (; ok && kf + 2 * VL <= ke; kf += ok ? 2 * VL : 0)
                    ok = dw_pair_tile2(o->fw, IN, dout, ldd, inp, ldi, B, chunk, sw, unscale_pair,
                                       &o->pair_max, pair_q, j0, kf);
                for (; ok && kf + VL <= ke; kf += ok ? VL : 0)
                    ok = dw_pair_tile1(o->fw, IN, dout, ldd, inp, ldi, B, chunk, sw, unscale_pair,
                                       &o->pair_max, pair_q, j0, kf);
                if (kf == ke) continue;
            }
            for (int c0 = 0; c0 < B; c0 += chunk) {
                const int cn = B - c0 < chunk ? B - c0 : chunk;
                const float *d = dout + (size_t)c0 * ldd, *x = inp + (size_t)c0 * ldi;
                if (!to_float) {
                    sw->add = c0 > 0 || wadd;
                    dw_rows(sw, d, ldd, x, ldi, cn, IN, j0, jn, kb, ke);
                } else { /* the tile's strip as rows of KC in scratch */
                    sw->add = c0 > 0;
                    dw_rows(sw, d + j0, ldd, x + kb, ldi, cn, KC, 0, jn, kf - kb, ke - kb);
                }
            }
            for (int r = 0; to_float && r < jn; r++)
                fx_run_to_float(o->fw + (size_t)(j0 + r) * IN + kf, scratch + r * KC + (kf - kb),
                                ke - kf, o->unscale_w, &o->lo[0], &o->hi[0]);
        }
    }
}

/* The share's counts: NaN/Inf values and (fixed point) values out of range */
static inline long share_nonfinite(const share_out *o) {
    return o->w.nonfinite + o->b.nonfinite + sink_bad(&o->w) + sink_bad(&o->b);
}
static inline long share_range(const share_out *o) { return o->w.range + o->b.range; }

void k_dense_backward_weights(float *dw, float *db, const float *dout, int ldd, const float *inp,
                              int ldi, int B, int IN, int OUT, int add, long *nonfinite,
                              const k_progress *progress) {
    long nf = 0;
#pragma omp parallel reduction(+ : nf) if (worth_threads(B, IN, OUT))
    {
        share_out o = {.w = {.f = dw, .add = add}, .b = {.f = db, .add = add}};
        backward_weights_share(&o, dout, ldd, inp, ldi, B, B > 0 ? B : 1, IN, OUT, 0, 0, progress);
        nf += share_nonfinite(&o);
    }
    if (nonfinite) *nonfinite += nf;
}

void k_dense_backward_weights_fx(int64_t *dw, int64_t *db, int sw, int sb, double limit,
                                 const float *dout, int ldd, const float *inp, int ldi, int B,
                                 int chunk, int IN, int OUT, int add, long *nonfinite,
                                 long *range, const k_progress *progress) {
    long nf = 0, rg = 0;
#pragma omp parallel reduction(+ : nf, rg) if (worth_threads(B, IN, OUT))
    {
        share_out o = {.w = fx_sink(dw, sw, limit), .b = fx_sink(db, sb, limit)};
        o.w.add = o.b.add = add;
        backward_weights_share(&o, dout, ldd, inp, ldi, B, chunk, IN, OUT, 1, 0, progress);
        nf += share_nonfinite(&o);
        rg += share_range(&o);
    }
    if (nonfinite) *nonfinite += nf;
    if (range) *range += rg;
}

void k_dense_backward_weights_fx_final(float *fw, float *fb, int sw, int sb, double limit,
                                       const float *dout, int ldd, const float *inp, int ldi,
                                       int B, int chunk, int IN, int OUT, uint64_t max[2],
                                       long *nonfinite, long *range) {
    long nf = 0, rg = 0;
    int64_t wlo = 0, whi = 0, blo = 0, bhi = 0;
#pragma omp parallel reduction(+ : nf, rg) reduction(min : wlo, blo) reduction(max : whi, bhi) \
    if (worth_threads(B, IN, OUT))
    {
        share_out o = {.w = fx_sink(NULL, sw, limit), .b = fx_sink(NULL, sb, limit), .fw = fw,
                       .fb = fb, .unscale_w = ldexp(1.0, -sw), .unscale_b = ldexp(1.0, -sb)};
        backward_weights_share(&o, dout, ldd, inp, ldi, B, chunk, IN, OUT, 1, 1, NULL);
        nf += share_nonfinite(&o);
        rg += share_range(&o);
        const int64_t pair_max = pair_largest(o.pair_max); /* the float pairs' largest |sum| */
        if (pair_max > o.hi[0]) o.hi[0] = pair_max;
        wlo = o.lo[0] < wlo ? o.lo[0] : wlo, whi = o.hi[0] > whi ? o.hi[0] : whi;
        blo = o.lo[1] < blo ? o.lo[1] : blo, bhi = o.hi[1] > bhi ? o.hi[1] : bhi;
    }
    max[0] = k_fx_round_max(k_fx_magnitude(wlo, whi));
    max[1] = k_fx_round_max(k_fx_magnitude(blo, bhi));
    if (nonfinite) *nonfinite += nf;
    if (range) *range += rg;
}

/* Elements per block of k_fx_combine: the block's integer sums stay in L1
 * while each source is added */
#define COMBINE_BLOCK 256

/* 1 when every one of the n values v[i] is finite and |v[i] * scale| <
 * limit: tile_in_range's test on a run in memory (a plain loop over the
 * bit patterns, which vectorises better than gathering the run's vectors
 * for tile_in_range: the combine measured 15% faster) */
static inline int run_in_range(const sink *k, const float *v, size_t n) {
    uint32_t mx = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, v + i, sizeof b);
        b &= 0x7fffffffu;
        mx = b > mx ? b : mx;
    }
    return mx < (uint32_t)k->lim_bits;
}

/* k_fx_combine's block of one or two sources, every value in range, as
 * float pairs (pair_unscale): the exact integer sum rounded once to float,
 * bit for bit the integers' k_fx_value; the bits of the largest |sum|
 * folded into *mx */
static void combine_block_pair(float *out, const float *const *src, int nsrc, size_t at,
                               size_t n, float fscale, float unscale, vi *mx) {
    const vf s = vbcast(fscale), u = vbcast(unscale);
    for (size_t i = 0; i < n; i += VL) {
        vf sum = vround_even(vload(src[0] + at + i) * s);
        if (nsrc == 2) sum += vround_even(vload(src[1] + at + i) * s);
        *mx = vmax_bits(*mx, abs_bits(sum));
        vstore(out + at + i, sum * u + 0.0f); /* + 0: -0 becomes the integer 0's +0 */
    }
}

#if VL == 16 && defined(__AVX512DQ__)
/* k_fx_combine's block when every value is in range and 2^e is a float:
 * 16 elements at a time, the integer sums in registers; the same roundings
 * as fx_add_vec and k_fx_value (the int64 -> double conversion, the exact
 * product and the conversion to float round to nearest, as C's casts) */
static void combine_block_vec(float *out, const float *const *src, int nsrc, size_t at,
                              size_t n, float fscale, double unscale, __m512i *mn, __m512i *mx) {
    const __m512 s = _mm512_set1_ps(fscale);
    const __m512d u = _mm512_set1_pd(unscale);
    for (size_t i = 0; i < n; i += VL) {
        __m512i q0 = _mm512_setzero_si512(), q1 = _mm512_setzero_si512();
        for (int r = 0; r < nsrc; r++) {
            const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(src[r] + at + i), s);
            q0 = _mm512_add_epi64(q0, _mm512_cvt_roundps_epi64(_mm512_castps512_ps256(x), FX_ROUNDING));
            q1 = _mm512_add_epi64(q1, _mm512_cvt_roundps_epi64(_mm512_extractf32x8_ps(x, 1), FX_ROUNDING));
        }
        *mn = _mm512_min_epi64(*mn, _mm512_min_epi64(q0, q1));
        *mx = _mm512_max_epi64(*mx, _mm512_max_epi64(q0, q1));
        const __m256 f0 = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi64_pd(q0), u));
        const __m256 f1 = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi64_pd(q1), u));
        _mm512_storeu_ps(out + at + i, _mm512_insertf32x8(_mm512_castps256_ps512(f0), f1, 1));
    }
}
#endif

void k_fx_combine(float *out, const float *const *src, int nsrc, size_t at, size_t n, int e,
                  double limit, long *range, int64_t *lo, int64_t *hi) {
    sink k = fx_sink(NULL, e, limit);
    const double unscale = ldexp(1.0, -e); /* exact */
    int64_t l = *lo, h = *hi;
#if VL == 16 && defined(__AVX512DQ__)
    __m512i mn = _mm512_set1_epi64(l), mx = _mm512_set1_epi64(h);
#endif
    const float unscale_pair = nsrc == 1 || nsrc == 2 ? pair_unscale(&k, unscale) : 0.0f;
    vi pair_mx = {0};
#if VL == 16 && defined(__AVX512DQ__)
    const int integer_vectors = 1; /* combine_block_vec */
#else
    const int integer_vectors = 0;
#endif
    for (size_t b = 0; b < n; b += COMBINE_BLOCK) {
        const size_t bn = n - b < COMBINE_BLOCK ? n - b : COMBINE_BLOCK;
        /* every source in range: a vector path, where this build has one */
        int fast = (unscale_pair != 0.0f || integer_vectors) && k.fscale != 0.0f && bn % VL == 0;
        for (int r = 0; fast && r < nsrc; r++) fast = run_in_range(&k, src[r] + at + b, bn);
        if (fast && unscale_pair != 0.0f) {
            combine_block_pair(out, src, nsrc, at + b, bn, k.fscale, unscale_pair, &pair_mx);
            continue;
        }
#if VL == 16 && defined(__AVX512DQ__)
        if (fast) {
            combine_block_vec(out, src, nsrc, at + b, bn, k.fscale, unscale, &mn, &mx);
            continue;
        }
#endif
        _Alignas(64) int64_t q[COMBINE_BLOCK];
        k.fx = q;
        for (int r = 0; r < nsrc; r++) {
            const float *v = src[r] + at + b;
            k.add = r > 0;
            size_t i = 0;
            /* a vector at once where it is in range, else value by value
             * (which counts those out of range), as the kernels' sinks */
            for (; i + VL <= bn; i += VL) sink_store(&k, i, vload(v + i));
            for (; i < bn; i++) fx_add(&k, i, v[i]);
        }
        for (size_t i = 0; i < bn; i++) {
            l = q[i] < l ? q[i] : l;
            h = q[i] > h ? q[i] : h;
            out[at + b + i] = k_fx_value(q[i], unscale);
        }
    }
#if VL == 16 && defined(__AVX512DQ__)
    const int64_t vmn = _mm512_reduce_min_epi64(mn), vmx = _mm512_reduce_max_epi64(mx);
    l = vmn < l ? vmn : l;
    h = vmx > h ? vmx : h;
#endif
    const int64_t pair_max = pair_largest(pair_mx);
    h = pair_max > h ? pair_max : h;
    *range += k.range; /* NaN and Inf: counted by the kernels that made them */
    *lo = l, *hi = h;
}

uint64_t k_fx_to_float(float *out, const int64_t *g, size_t n, int e) {
    int64_t lo = 0, hi = 0;
    fx_run_to_float(out, g, n, ldexp(1.0, -e), &lo, &hi); /* 2^-e: exact */
    return k_fx_magnitude(lo, hi);
}

/* ---- backward: error terms of the previous layer --------------------------
 * dinp[s][k] = (sum_j dout[s][j] w[j][k]) * act'(a[s][k]): the derivation's
 * delta_l = (W_{l+1}^T delta_{l+1}) (.) sigma'(z_l), vectorised over k,
 * reduced over j in order; parallel over (sample tile, k tile) pairs. */
#define IS 6

static inline void deriv_scale(float *o, const float *a, int n, descent_act act) {
    for (int i = 0; i < n; i++) o[i] *= act_deriv(a[i], act);
}

/* The derivative column of the activation table (activation.h) for a
 * vector: lane by lane the same operations as act_deriv. A new activation
 * adds its case here. */
static inline vf act_deriv_v(vf a, descent_act act) {
    switch (act) {
    case DESCENT_ACT_SIGMOID: return a * (1.0f - a);
    case DESCENT_ACT_TANH: return 1.0f - a * a;
    case DESCENT_ACT_RELU: return (vf)((vi)vbcast(1.0f) & (a > 0.0f));
    default: return vbcast(1.0f);
    }
}

void k_dense_backward_input(float *dinp, int ldo, const float *dout, int ldd,
                            const float *w, const float *a, int lda, int B,
                            int IN, int OUT, descent_act act) {
    const int ntk = (IN + 2 * VL - 1) / (2 * VL);
    const int nts = (B + IS - 1) / IS;
    const int nt = ntk * nts;
#pragma omp parallel for schedule(static) if (worth_threads(B, IN, OUT))
    for (int t = 0; t < nt; t++) {
        const int k0 = (t / nts) * 2 * VL, s0 = (t % nts) * IS;
        const int kn = IN - k0 < 2 * VL ? IN - k0 : 2 * VL;
        const int sn = B - s0 < IS ? B - s0 : IS;
        if (kn == 2 * VL && sn == IS) {
            vf acc[IS][2];
            for (int r = 0; r < IS; r++) acc[r][0] = acc[r][1] = vbcast(0.0f);
            for (int j = 0; j < OUT; j++) {
                const float *wj = w + (size_t)j * IN + k0;
                vf w0 = vload(wj), w1 = vload(wj + VL);
                for (int r = 0; r < IS; r++) {
                    vf d = vbcast(dout[(size_t)(s0 + r) * ldd + j]);
                    acc[r][0] = vfma(d, w0, acc[r][0]);
                    acc[r][1] = vfma(d, w1, acc[r][1]);
                }
            }
            for (int r = 0; r < IS; r++) {
                float *o = dinp + (size_t)(s0 + r) * ldo + k0;
                const float *ar = a + (size_t)(s0 + r) * lda + k0;
                vstore(o, acc[r][0] * act_deriv_v(vload(ar), act));
                vstore(o + VL, acc[r][1] * act_deriv_v(vload(ar + VL), act));
            }
        } else {
            /* an edge tile: one sample at a time, vectors over k where they fit */
            for (int r = 0; r < sn; r++) {
                float *o = dinp + (size_t)(s0 + r) * ldo + k0;
                const float *ds = dout + (size_t)(s0 + r) * ldd;
                int kk = 0;
                for (; kk + 2 * VL <= kn; kk += 2 * VL) {
                    vf acc0 = vbcast(0.0f), acc1 = vbcast(0.0f);
                    for (int j = 0; j < OUT; j++) {
                        const vf d = vbcast(ds[j]);
                        const float *wj = w + (size_t)j * IN + k0 + kk;
                        acc0 = vfma(d, vload(wj), acc0);
                        acc1 = vfma(d, vload(wj + VL), acc1);
                    }
                    vstore(o + kk, acc0);
                    vstore(o + kk + VL, acc1);
                }
                for (; kk + VL <= kn; kk += VL) {
                    vf acc = vbcast(0.0f);
                    for (int j = 0; j < OUT; j++)
                        acc = vfma(vbcast(ds[j]), vload(w + (size_t)j * IN + k0 + kk), acc);
                    vstore(o + kk, acc);
                }
                for (; kk < kn; kk++) {
                    float h = 0.0f;
                    for (int j = 0; j < OUT; j++) h = sfma(ds[j], w[(size_t)j * IN + k0 + kk], h);
                    o[kk] = h;
                }
                deriv_scale(o, a + (size_t)(s0 + r) * lda + k0, kn, act);
            }
        }
    }
}

/* ---- softmax and costs ---------------------------------------------------- */
int k_argmax(const float *row, int n) {
    int best = 0;
    for (int j = 1; j < n; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

void k_softmax(float *z, int ld, int B, int n) {
    for (int s = 0; s < B; s++) {
        float *r = z + (size_t)s * ld;
        float mx = r[0];
        for (int j = 1; j < n; j++) mx = r[j] > mx ? r[j] : mx;
        float sum = 0.0f;
        for (int j = 0; j < n; j++) { r[j] = expf(r[j] - mx); sum += r[j]; }
        for (int j = 0; j < n; j++) r[j] /= sum;
    }
}

/* Per sample: the cost C0 and delta = dC0/dz of the output layer.
 *  MSE (any activation but softmax): C0 = sum_j (a_j - y_j)^2,
 *      delta_j = 2 (a_j - y_j) sigma'(z_j)                    (derivation)
 *  MSE + softmax: delta = J^T g with g = 2(a - y), J = diag(a) - a a^T,
 *      delta_j = a_j (g_j - sum_i a_i g_i)
 *  cross-entropy + softmax: C0 = -sum_j y_j log a_j, computed from the
 *      shifted logits (no log of 0); delta_j = a_j sum_i y_i - y_j. */
void k_cost(float *a, int lda, const float *y, int ldy, float *delta, int ldd,
            int B, int n, descent_act act, descent_cost cost,
            int classification, block_stats *st) {
    for (int s = 0; s < B; s++) {
        float *as = a + (size_t)s * lda;
        const float *ys = y + (size_t)s * ldy;
        float *ds = delta + (size_t)s * ldd;
        float loss = 0.0f;
        if (act == DESCENT_ACT_SOFTMAX) {
            float mx = as[0];
            for (int j = 1; j < n; j++) mx = as[j] > mx ? as[j] : mx;
            float sum = 0.0f;
            for (int j = 0; j < n; j++) {
                as[j] -= mx;           /* shifted logit, <= 0 */
                sum += expf(as[j]);
            }
            const float logsum = logf(sum);
            if (cost == DESCENT_COST_XENT) {
                float sy = 0.0f;
                for (int j = 0; j < n; j++) {
                    if (ys[j] != 0.0f) loss -= ys[j] * (as[j] - logsum);
                    sy += ys[j];
                }
                for (int j = 0; j < n; j++) {
                    as[j] = expf(as[j]) / sum;
                    ds[j] = as[j] * sy - ys[j];
                }
            } else {
                float dot = 0.0f;
                for (int j = 0; j < n; j++) {
                    as[j] = expf(as[j]) / sum;
                    const float e = as[j] - ys[j];
                    loss += e * e;
                    ds[j] = 2.0f * e; /* g_j for now */
                    dot += as[j] * ds[j];
                }
                for (int j = 0; j < n; j++) ds[j] = as[j] * (ds[j] - dot);
            }
        } else {
            for (int j = 0; j < n; j++) {
                const float e = as[j] - ys[j];
                loss += e * e;
                ds[j] = 2.0f * e * act_deriv(as[j], act);
            }
        }
        if (!isfinite(loss)) st->nonfinite += 1.0;
        else if (fabsf(loss) < 0x1p30f) st->loss_fx += llrint(ldexp((double)loss, LOSS_FX_BITS));
        else st->range += 1.0;
        st->loss += loss;
        if (classification && k_argmax(as, n) == k_argmax(ys, n)) st->correct += 1.0;
    }
}
