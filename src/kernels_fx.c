/* SPDX-License-Identifier: MIT */
/*
 * kernels_fx.c - the reproducible mode's kernels: the weight and bias
 * gradients of fixed chunks of samples, each chunk's float sums rounded to
 * 32-bit fixed point (value * 2^e) and added as integers (exact, so the
 * order of the additions cannot change a bit); the same sums made final
 * straight back to floats, through float pairs where they are exact
 * (docs/reproducibility.md states the theorem and its preconditions); the
 * host's combine of the ranks' float chunk sums (k_fx_combine); and the
 * conversion back to floats (k_fx_to_float). The float sums of a chunk are
 * the float kernel's operations (kernels_simd.h's DW_ACCUMULATE), so a
 * chunk's tile is the float tile, started from zero.
 */
#include "kernels.h"

#include "kernels_simd.h"

#define WJ K_DW_ROWS /* rows of dw per register tile (kernels.h) */

/* Where a tile of a chunk's float sums goes: converted to 32-bit fixed
 * point and added to integers (fx += round(tile * scale)), which is exact
 * and order-free: the limit keeps every sum of a batch's chunks within 31
 * bits (fixed_point.h). */
typedef struct {
    int32_t *fx;
    int add;               /* add to fx (1) or overwrite it (0)             */
    double scale, limit;   /* fixed point: 2^s, and the largest |value|     */
    float fscale;          /* 2^s as a float, or 0 where it is not one      */
    int lim_bits;          /* |v| < limit / scale exactly when the bits of  */
                           /* |v| are below lim_bits (NaN and Inf are not)  */
    long nonfinite;        /* values that were NaN or Inf                    */
    k_range range;         /* finite values out of range                     */
} sink;

/* A fixed-point sink for value * 2^e, |value * 2^e| < limit (a power of
 * two). lim_bits: the bit pattern of the float limit / 2^e; for
 * non-negative floats the order of bit patterns is the order of values, and
 * NaN and Inf lie above every finite float. Where limit / 2^e is above the
 * float range every finite value passes (the bits of Inf); where it is
 * below, none does and each value takes the exact per-element test. */
static sink fx_sink(int32_t *g, int e, double limit) {
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

/* round(x) to the nearest integer, ties to even (exact: a float's nearest
 * integer is a float) */
#define FX_ROUNDING (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) /* a constant for clang */
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

/* round(x) to the nearest integer, ties to even, for |x| < 2^51: the
 * 1.5 * 2^52 trick */
static inline int64_t fx_round_double(double x) {
    const double t = x + 0x1.8p52;
    int64_t q;
    memcpy(&q, &t, sizeof q);
    return q - 0x4338000000000000LL;
}

static inline void fx_add(sink *k, size_t i, float v) {
    const double x = (double)v * k->scale; /* exact: scale is a power of two */
    if (!k->add) k->fx[i] = 0;
    if (!(fabs(x) < k->limit)) {
        if (!isfinite(x)) {
            k->nonfinite++;
        } else {
            k->range.count++;
            k->range.largest = fabs(x) > k->range.largest ? fabs(x) : k->range.largest;
        }
        return;
    }
    k->fx[i] += (int32_t)fx_round_double(x); /* |x| < limit <= 2^30 */
}

/* v * scale rounded to integers (nearest, ties to even) and added to
 * fx[i..i+VL), with no range check: the caller has checked the whole tile
 * (tile_in_range). With a float scale the product is exact in float and
 * rounds to an integer exactly (vround_even); otherwise each value goes
 * through double (fx_round_double). Both give round(v * 2^e) exactly. */
static inline void fx_add_vec(sink *k, size_t i, vf v) {
    vi q;
    if (k->fscale != 0.0f) {
        q = __builtin_convertvector(vround_even(v * vbcast(k->fscale)), vi); /* exact */
    } else {
        for (int t = 0; t < VL; t++) q[t] = (int32_t)fx_round_double((double)v[t] * k->scale);
    }
    vi acc = {0};
    if (k->add) memcpy(&acc, k->fx + i, sizeof acc);
    acc += q;
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

/* 1 when every lane of v is below lim: one vector compare and test, not a
 * horizontal maximum */
static inline int every_lane_below(vi v, int lim) {
#if VL == 16
    return _mm512_cmpge_epi32_mask((__m512i)v, _mm512_set1_epi32(lim)) == 0;
#elif VL == 8 && defined(__AVX2__)
    const __m256i ge = _mm256_cmpgt_epi32((__m256i)v, _mm256_set1_epi32(lim - 1));
    return _mm256_testz_si256(ge, ge);
#else
    const vi ge = v > (lim - 1 - (vi){0});
    int any = 0;
    for (int t = 0; t < VL; t++) any |= ge[t];
    return !any;
#endif
}

/* 1 when every value of the n vectors is finite and |value * scale| < limit:
 * the largest bit pattern of |value| against lim_bits (fx_sink). 0 sends
 * the values to the exact per-element test. */
static inline int tile_in_range(const sink *k, const vf *v, int n) {
    vi mx = {0};
    for (int i = 0; i < n; i++) mx = vmax_bits(abs_bits(v[i]), mx);
    return every_lane_below(mx, k->lim_bits);
}

static inline void sink_store(sink *k, size_t i, vf v) {
    if (tile_in_range(k, &v, 1)) { fx_add_vec(k, i, v); return; }
    for (int t = 0; t < VL; t++) fx_add(k, i + (size_t)t, v[t]);
}


/* One full tile of a chunk's sums, WJ rows x NV vectors of columns from k,
 * over its B samples, into the sink. The accumulators must stay in
 * registers through the sample loop, so their address is never taken: the
 * range check reads a copy (t). */
#define DW_TILE(NAME, NV)                                                                   \
    static inline void NAME(sink *dw, const float *dout, int ldd, const float *inp,         \
                            int ldi, int B, int IN, int j0, int k) {                        \
        vf acc[WJ][NV];                                                                     \
        for (int r = 0; r < WJ; r++)                                                        \
            for (int v = 0; v < NV; v++)                                                    \
                acc[r][v] = vbcast(0.0f);                                                   \
        DW_ACCUMULATE(acc, t, NV, 0, B, k);                                                 \
        if (tile_in_range(dw, t, WJ * NV)) {                                                \
            for (int r = 0; r < WJ; r++)                                                    \
                for (int v = 0; v < NV; v++)                                                \
                    fx_add_vec(dw, (size_t)(j0 + r) * IN + k + v * VL, t[r * NV + v]);      \
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
 * 2^30, so exact), the float sum fl(q1 + q2) is the exact integer sum
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
            for (int v = 0; v < 4; v++) acc[v] = vbcast(0.0f);
            for (int s = 0; s < B; s++) {
                const vf d = vbcast(dout[(size_t)s * ldd + j0 + r]);
                const float *xs = inp + (size_t)s * ldi + kk;
                for (int v = 0; v < 4; v++) acc[v] = vfma(d, vload(xs + v * VL), acc[v]);
            }
            if (tile_in_range(dw, acc, 4)) {
                for (int v = 0; v < 4; v++) fx_add_vec(dw, row + kk + v * VL, acc[v]);
            } else {
                for (int v = 0; v < 4; v++) sink_store(dw, row + kk + v * VL, acc[v]);
            }
        }
        for (; kk + VL <= ke; kk += VL) {
            vf acc = vbcast(0.0f);
            for (int s = 0; s < B; s++)
                acc = vfma(vbcast(dout[(size_t)s * ldd + j0 + r]), vload(inp + (size_t)s * ldi + kk), acc);
            sink_store(dw, row + kk, acc);
        }
        for (; kk < ke; kk++) {
            float a = 0.0f;
            for (int s = 0; s < B; s++) a = sfma(dout[(size_t)s * ldd + j0 + r], inp[(size_t)s * ldi + kk], a);
            fx_add(dw, row + kk, a);
        }
    }
}


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
static inline void fx_run_to_float(float *out, const int32_t *g, size_t n, double unscale,
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
            vf a = vbcast(0.0f);
            for (int s = c0; s < c1; s++) a += vload(dout + (size_t)s * ldd + j);
            sink_store(sb, (size_t)(j - base), a);
        }
        for (; j < je; j++) {
            float a = 0.0f;
            for (int s = c0; s < c1; s++) a += dout[(size_t)s * ldd + j];
            fx_add(sb, (size_t)(j - base), a);
        }
    }
}

/* One thread's share of the fixed-point weight and bias gradients. Inlined
 * into two parallel regions, one per kind of output (to_float constant),
 * so that each gets code of its own.
 * to_float: the integer sums of a tile's strip are final when its chunks
 * are done; they are kept in a small buffer of this thread (stride KC,
 * in L1) and written out as floats, never stored as integers. */
static inline __attribute__((always_inline)) void
backward_weights_share(share_out *o, const float *dout, int ldd, const float *inp, int ldi,
                       int B, int chunk, int IN, int OUT, const int to_float,
                       const k_progress *progress) {
    const int ntj = (OUT + WJ - 1) / WJ;
    /* each thread owns a fixed range of row tiles (output units): no two
     * threads write the same element, whatever the thread count */
    int t0, t1;
    my_tiles(ntj, &t0, &t1);
    sink *wsink = &o->w, *bsink = &o->b;
    const int wadd = wsink->add, badd = bsink->add;
    _Alignas(64) int32_t scratch[WJ * KC];
    if (to_float) wsink->fx = bsink->fx = scratch;
    const int jb = t0 * WJ, je = t1 * WJ < OUT ? t1 * WJ : OUT;
    if (!to_float) {
        bias_rows(bsink, dout, ldd, B, chunk, jb, je, badd, 0);
    } else {
        for (int j = jb; j < je; j += VL) {
            const int n = je - j < VL ? je - j : VL;
            bias_rows(bsink, dout, ldd, B, chunk, j, j + n, 0, j);
            fx_run_to_float(o->fb + j, scratch, n, o->unscale_b, &o->lo[1], &o->hi[1]);
        }
    }
    /* final sums of one or two chunks: as float pairs where they fit */
    const float unscale_pair = to_float && B <= 2 * chunk ? pair_unscale(wsink, o->unscale_w) : 0.0f;
    _Alignas(64) float pair_q[WJ * 2 * VL] = {0};
    /* chunk by chunk inside a strip: the fixed-point sums of a tile's
     * rows stay in L1 while its chunks are added to them */
    for (int kb = 0; kb < IN; kb += KC) {
        const int ke = IN - kb < KC ? IN : kb + KC;
        if (progress && on_calling_thread()) progress->fn(progress->ctx);
        for (int tj = t0; tj < t1; tj++) {
            const int j0 = tj * WJ, jn = OUT - j0 < WJ ? OUT - j0 : WJ;
            int kf = kb; /* columns [kb, kf) done as float pairs */
            if (unscale_pair != 0.0f && jn == WJ) {
                int ok = 1;
                for (; ok && kf + 2 * VL <= ke; kf += ok ? 2 * VL : 0)
                    ok = dw_pair_tile2(o->fw, IN, dout, ldd, inp, ldi, B, chunk, wsink, unscale_pair,
                                       &o->pair_max, pair_q, j0, kf);
                for (; ok && kf + VL <= ke; kf += ok ? VL : 0)
                    ok = dw_pair_tile1(o->fw, IN, dout, ldd, inp, ldi, B, chunk, wsink, unscale_pair,
                                       &o->pair_max, pair_q, j0, kf);
                if (kf == ke) continue;
            }
            for (int c0 = 0; c0 < B; c0 += chunk) {
                const int cn = B - c0 < chunk ? B - c0 : chunk;
                const float *d = dout + (size_t)c0 * ldd, *x = inp + (size_t)c0 * ldi;
                if (!to_float) {
                    wsink->add = c0 > 0 || wadd;
                    dw_rows(wsink, d, ldd, x, ldi, cn, IN, j0, jn, kb, ke);
                } else { /* the tile's strip as rows of KC in scratch */
                    wsink->add = c0 > 0;
                    dw_rows(wsink, d + j0, ldd, x + kb, ldi, cn, KC, 0, jn, kf - kb, ke - kb);
                }
            }
            for (int r = 0; to_float && r < jn; r++)
                fx_run_to_float(o->fw + (size_t)(j0 + r) * IN + kf, scratch + r * KC + (kf - kb),
                                ke - kf, o->unscale_w, &o->lo[0], &o->hi[0]);
        }
    }
}

/* The share's count of NaN/Inf values */
static inline long share_nonfinite(const share_out *o) {
    return o->w.nonfinite + o->b.nonfinite;
}

/* range[t] with another thread's out-of-range values of the same tensor */
static inline void merge_range(k_range *range, const k_range *more) {
#pragma omp critical(descent_fx_range)
    {
        range->count += more->count;
        range->largest = more->largest > range->largest ? more->largest : range->largest;
    }
}

void k_dense_backward_weights_fx(int32_t *dw, int32_t *db, int w_exp, int b_exp, double limit,
                                 const float *dout, int ldd, const float *inp, int ldi, int B,
                                 int chunk, int IN, int OUT, int add, long *nonfinite,
                                 k_range range[2], const k_progress *progress) {
    long nf = 0;
#pragma omp parallel reduction(+ : nf) if (worth_threads(B, IN, OUT))
    {
        share_out o = {.w = fx_sink(dw, w_exp, limit), .b = fx_sink(db, b_exp, limit)};
        o.w.add = o.b.add = add;
        backward_weights_share(&o, dout, ldd, inp, ldi, B, chunk, IN, OUT, 0, progress);
        nf += share_nonfinite(&o);
        if (range && o.w.range.count) merge_range(&range[0], &o.w.range);
        if (range && o.b.range.count) merge_range(&range[1], &o.b.range);
    }
    if (nonfinite) *nonfinite += nf;
}

void k_dense_backward_weights_fx_final(float *fw, float *fb, int w_exp, int b_exp, double limit,
                                       const float *dout, int ldd, const float *inp, int ldi,
                                       int B, int chunk, int IN, int OUT, uint64_t max[2],
                                       long *nonfinite, k_range range[2]) {
    long nf = 0;
    int64_t wlo = 0, whi = 0, blo = 0, bhi = 0;
#pragma omp parallel reduction(+ : nf) reduction(min : wlo, blo) reduction(max : whi, bhi) \
    if (worth_threads(B, IN, OUT))
    {
        share_out o = {.w = fx_sink(NULL, w_exp, limit), .b = fx_sink(NULL, b_exp, limit), .fw = fw,
                       .fb = fb, .unscale_w = ldexp(1.0, -w_exp), .unscale_b = ldexp(1.0, -b_exp)};
        backward_weights_share(&o, dout, ldd, inp, ldi, B, chunk, IN, OUT, 1, NULL);
        nf += share_nonfinite(&o);
        if (range && o.w.range.count) merge_range(&range[0], &o.w.range);
        if (range && o.b.range.count) merge_range(&range[1], &o.b.range);
        const int64_t pair_max = pair_largest(o.pair_max); /* the float pairs' largest |sum| */
        if (pair_max > o.hi[0]) o.hi[0] = pair_max;
        wlo = o.lo[0] < wlo ? o.lo[0] : wlo, whi = o.hi[0] > whi ? o.hi[0] : whi;
        blo = o.lo[1] < blo ? o.lo[1] : blo, bhi = o.hi[1] > bhi ? o.hi[1] : bhi;
    }
    max[0] = k_fx_round_max(k_fx_magnitude(wlo, whi));
    max[1] = k_fx_round_max(k_fx_magnitude(blo, bhi));
    if (nonfinite) *nonfinite += nf;
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

typedef double vd __attribute__((vector_size(VL * sizeof(double))));

/* k_fx_combine's block when every value is in range and 2^e is a float:
 * VL elements at a time, the integer sums in registers; the same roundings
 * as fx_add_vec and k_fx_value (the int32 -> double conversion and the
 * product are exact, the conversion to float rounds once); the sums'
 * extremes folded into *mn and *mx */
static void combine_block_vec(float *out, const float *const *src, int nsrc, size_t at,
                              size_t n, float fscale, double unscale, vi *mn, vi *mx) {
    const vf s = vbcast(fscale);
    for (size_t i = 0; i < n; i += VL) {
        vi q = {0};
        for (int r = 0; r < nsrc; r++)
            q += __builtin_convertvector(vround_even(vload(src[r] + at + i) * s), vi);
        const vi lt = q < *mn, gt = q > *mx;
        *mn = (q & lt) | (*mn & ~lt);
        *mx = (q & gt) | (*mx & ~gt);
        vstore(out + at + i, __builtin_convertvector(__builtin_convertvector(q, vd) * unscale, vf));
    }
}

void k_fx_combine(float *out, const float *const *src, int nsrc, size_t at, size_t n, int e,
                  double limit, k_range *range, int64_t *lo, int64_t *hi) {
    sink k = fx_sink(NULL, e, limit);
    const double unscale = ldexp(1.0, -e); /* exact */
    int64_t l = *lo, h = *hi;
    vi mn = {0}, mx = {0}; /* lo <= 0 <= hi: zeros change neither */
    const float unscale_pair = nsrc == 1 || nsrc == 2 ? pair_unscale(&k, unscale) : 0.0f;
    vi pair_mx = {0};
    for (size_t b = 0; b < n; b += COMBINE_BLOCK) {
        const size_t bn = n - b < COMBINE_BLOCK ? n - b : COMBINE_BLOCK;
        /* every source in range: a vector path, where this build has one */
        int fast = k.fscale != 0.0f && bn % VL == 0;
        for (int r = 0; fast && r < nsrc; r++) fast = run_in_range(&k, src[r] + at + b, bn);
        if (fast && unscale_pair != 0.0f) {
            combine_block_pair(out, src, nsrc, at + b, bn, k.fscale, unscale_pair, &pair_mx);
            continue;
        }
        if (fast) {
            combine_block_vec(out, src, nsrc, at + b, bn, k.fscale, unscale, &mn, &mx);
            continue;
        }
        _Alignas(64) int32_t q[COMBINE_BLOCK];
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
    for (int t = 0; t < VL; t++) {
        l = mn[t] < l ? mn[t] : l;
        h = mx[t] > h ? mx[t] : h;
    }
    const int64_t pair_max = pair_largest(pair_mx);
    h = pair_max > h ? pair_max : h;
    /* NaN and Inf: counted by the kernels that made them */
    range->count += k.range.count;
    range->largest = k.range.largest > range->largest ? k.range.largest : range->largest;
    *lo = l, *hi = h;
}

uint64_t k_fx_to_float(float *out, const int32_t *g, size_t n, int e) {
    int64_t lo = 0, hi = 0;
    fx_run_to_float(out, g, n, ldexp(1.0, -e), &lo, &hi); /* 2^-e: exact */
    return k_fx_magnitude(lo, hi);
}

