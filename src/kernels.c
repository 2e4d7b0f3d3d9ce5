/* SPDX-License-Identifier: MIT */
/*
 * kernels.c - the layer kernels in float: dense forward, the two halves of
 * dense backward, softmax and the costs (the reproducible mode's
 * fixed-point weight gradients are kernels_fx.c). Blocks of samples are sample-major
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
#include "kernels_simd.h"

#define WJ K_DW_ROWS /* rows of dw per register tile (kernels.h) */
const int k_dw_tile_rows = K_DW_ROWS;

/* ---- forward --------------------------------------------------------------
 * out[s][j] = act(b[j] + sum_k inp[s][k] w[j][k]): a dot product over k,
 * which is contiguous in both operands. Register tile: FS samples x FJ
 * outputs of dot-product accumulators (DV vectors each). Per element, in
 * every kernel set: 16 lanes accumulate k = lane (mod 16) in order, one
 * fixed horizontal sum (dhsum), the scalar tail, + b, act. */
#if VL == 16 /* 32 vector registers: 16 accumulators + 8 operands */
#define FS 4
#define FJ 4
#elif VL == 8 /* 16 registers: 12 accumulators (two per element) + operands */
#define FS 3
#define FJ 2
#else /* 16 registers: 8 accumulators (four per element) + operands */
#define FS 1
#define FJ 2
#endif

static inline float dot_one(const float *x, const float *w, int IN, int kv) {
    vf acc[DV];
    for (int h = 0; h < DV; h++) acc[h] = vbcast(0.0f);
    for (int k = 0; k < kv; k += DL)
        for (int h = 0; h < DV; h++)
            acc[h] = vfma(vload(x + k + h * VL), vload(w + k + h * VL), acc[h]);
    float d = dhsum(acc);
    for (int k = kv; k < IN; k++) d = sfma(x[k], w[k], d);
    return d;
}

/* sums[i][j] = dhsum(acc[i][j]) for a whole tile. With AVX-512 and 4 x 4
 * tiles, the 16 sums are formed together by shuffles (15 vector adds
 * instead of 16 separate reductions), each in exactly vhsum's order:
 *  1. per accumulator u, a(u) = (q0 + q2) + (q1 + q3) over its 4-lane
 *     quarters; T_j holds a(acc[0..3][j]) in its four 128-bit lanes;
 *  2. per 128-bit lane (a0 + a2) + (a1 + a3) across T_0..T_3, which leaves
 *     vhsum(acc[i][j]) in lane 4i + j. */
#if VL == 16 && FS == 4 && FJ == 4
#define TILE_HSUM_VECTOR 1
static inline __m512 tile_hsum_vec(vf acc[FS][FJ][DV]) {
    __m512 t[4];
    for (int j = 0; j < 4; j++) {
        const __m512 u0 = (__m512)acc[0][j][0], u1 = (__m512)acc[1][j][0];
        const __m512 u2 = (__m512)acc[2][j][0], u3 = (__m512)acc[3][j][0];
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
static inline void tile_hsums(vf acc[FS][FJ][DV], float sums[FS][FJ]) {
    _mm512_storeu_ps(&sums[0][0], tile_hsum_vec(acc));
}
#else
static inline void tile_hsums(vf acc[FS][FJ][DV], float sums[FS][FJ]) {
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < FJ; j++) sums[i][j] = dhsum(acc[i][j]);
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
    vf acc[FS][FJ][DV];
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < FJ; j++)
            for (int h = 0; h < DV; h++) acc[i][j][h] = vbcast(0.0f);
    for (int k = 0; k < kv; k += DL)
        for (int h = 0; h < DV; h++) {
            const int kh = k + h * VL;
            vf x[FS], wv[FJ];
            for (int i = 0; i < FS; i++) x[i] = vreg(vload(inp + (size_t)(s + i) * ldi + kh));
            for (int j = 0; j < FJ; j++) wv[j] = vreg(vload(w0 + (size_t)j * IN + kh));
            for (int i = 0; i < FS; i++)
                for (int j = 0; j < FJ; j++) acc[i][j][h] = vfma(x[i], wv[j], acc[i][j][h]);
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
    vf acc[FS][FJ - 1][DV];
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < FJ - 1; j++)
            for (int h = 0; h < DV; h++) acc[i][j][h] = vbcast(0.0f);
    for (int k = 0; k < kv; k += DL)
        for (int h = 0; h < DV; h++) {
            const int kh = k + h * VL;
            vf x[FS];
            for (int i = 0; i < FS; i++) x[i] = vload(inp + (size_t)(s + i) * ldi + kh);
            for (int j = 0; j < jn; j++) {
                const vf wv = vload(w0 + (size_t)j * IN + kh);
                for (int i = 0; i < FS; i++) acc[i][j][h] = vfma(x[i], wv, acc[i][j][h]);
            }
        }
    float sums[FS][FJ];
    for (int i = 0; i < FS; i++)
        for (int j = 0; j < jn; j++) sums[i][j] = dhsum(acc[i][j]);
    tile_epilogue(out, ldo, inp, ldi, w0, b, IN, kv, s, j0, jn, sums, act);
}

/* Samples per pass: a block of SB input rows stays in cache while a thread
 * sweeps its outputs, so the weights are streamed B / SB times, not once per
 * output tile. A multiple of FS. */
#define SB (8 * FS)

void k_dense_forward(float *out, int ldo, const float *inp, int ldi,
                     const float *w, const float *b, int B, int IN, int OUT,
                     descent_act act) {
    const int kv = IN / DL * DL;
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
 * threads write the same element. Per element: load dw (when adding, else
 * start from 0), one FMA per sample in order, store; the tile, row,
 * single-vector and scalar paths agree. A NaN or Inf stored is noted in a
 * flag per tensor. */

/* One full tile of dw, WJ rows x NV vectors of columns from k, over all B
 * samples. The accumulators stay in registers through the sample loop
 * (DW_ACCUMULATE); the NaN/Inf flags are gathered once per tile, not per
 * vector (a read-modify-write per vector costs up to 15%). */
#define DW_TILE(NAME, NV)                                                                   \
    static inline void NAME(float *dw, int add, const float *dout, int ldd, const float *inp, \
                            int ldi, int B, int IN, int j0, int k, vi *bad) {               \
        vf acc[WJ][NV];                                                                     \
        for (int r = 0; r < WJ; r++)                                                        \
            for (int v = 0; v < NV; v++)                                                    \
                acc[r][v] = add ? vload(dw + (size_t)(j0 + r) * IN + k + v * VL) : vbcast(0.0f); \
        DW_ACCUMULATE(acc, t, NV, 0, B, k);                                                 \
        vi b = {0};                                                                         \
        for (int r = 0; r < WJ; r++)                                                        \
            for (int v = 0; v < NV; v++) {                                                  \
                vstore(dw + (size_t)(j0 + r) * IN + k + v * VL, t[r * NV + v]);             \
                b |= nonfinite_lanes(t[r * NV + v]);                                        \
            }                                                                               \
        *bad |= b;                                                                          \
    }
DW_TILE(dw_tile2, 2)
/* a last single vector of columns (784 = 24 x 32 + 16 with AVX-512): WJ
 * independent chains, not one latency-bound chain per row */
DW_TILE(dw_tile1, 1)

static inline void store_noted(float *p, vf v, vi *bad) {
    vstore(p, v);
    *bad |= nonfinite_lanes(v);
}

/* Rows j0..j0+jn of dw, columns kb..ke (IN: the row length of dw). */
static void dw_rows(float *dw, int add, const float *dout, int ldd, const float *inp, int ldi,
                    int B, int IN, int j0, int jn, int kb, int ke, vi *bad) {
    int k = kb;
    if (jn == WJ) {
        for (; k + 2 * VL <= ke; k += 2 * VL) dw_tile2(dw, add, dout, ldd, inp, ldi, B, IN, j0, k, bad);
        for (; k + VL <= ke; k += VL) dw_tile1(dw, add, dout, ldd, inp, ldi, B, IN, j0, k, bad);
    }
    for (int r = 0; r < jn; r++) {
        float *row = dw + (size_t)(j0 + r) * IN;
        int kk = k;
        /* one row: four independent vector chains keep the FMA units busy */
        for (; kk + 4 * VL <= ke; kk += 4 * VL) {
            vf acc[4];
            for (int v = 0; v < 4; v++) acc[v] = add ? vload(row + kk + v * VL) : vbcast(0.0f);
            for (int s = 0; s < B; s++) {
                const vf d = vbcast(dout[(size_t)s * ldd + j0 + r]);
                const float *xs = inp + (size_t)s * ldi + kk;
                for (int v = 0; v < 4; v++) acc[v] = vfma(d, vload(xs + v * VL), acc[v]);
            }
            for (int v = 0; v < 4; v++) store_noted(row + kk + v * VL, acc[v], bad);
        }
        for (; kk + VL <= ke; kk += VL) {
            vf acc = add ? vload(row + kk) : vbcast(0.0f);
            for (int s = 0; s < B; s++)
                acc = vfma(vbcast(dout[(size_t)s * ldd + j0 + r]), vload(inp + (size_t)s * ldi + kk), acc);
            store_noted(row + kk, acc, bad);
        }
        for (; kk < ke; kk++) {
            float a = add ? row[kk] : 0.0f;
            for (int s = 0; s < B; s++) a = sfma(dout[(size_t)s * ldd + j0 + r], inp[(size_t)s * ldi + kk], a);
            row[kk] = a;
            if (!isfinite(a)) (*bad)[0] = -1;
        }
    }
}

/* Bias sums of rows [jb, je): vectors over j, each lane summing its samples
 * in order, exactly as the scalar tail does */
static void bias_rows(float *db, int add, const float *dout, int ldd, int B, int jb, int je,
                      vi *bad) {
    int j = jb;
    for (; j + VL <= je; j += VL) {
        vf a = add ? vload(db + j) : vbcast(0.0f);
        for (int s = 0; s < B; s++) a += vload(dout + (size_t)s * ldd + j);
        store_noted(db + j, a, bad);
    }
    for (; j < je; j++) {
        float a = add ? db[j] : 0.0f;
        for (int s = 0; s < B; s++) a += dout[(size_t)s * ldd + j];
        db[j] = a;
        if (!isfinite(a)) (*bad)[0] = -1;
    }
}

static inline long any_lane(vi v) {
    for (int t = 0; t < VL; t++)
        if (v[t]) return 1;
    return 0;
}

/* One thread's share of the weight and bias gradients: its row tiles,
 * strip by strip of KC columns; 1 for each of dw and db where it stored a
 * NaN or Inf */
static long weights_share(float *dw, float *db, const float *dout, int ldd, const float *inp,
                          int ldi, int B, int IN, int OUT, int add, const k_progress *progress) {
    const int ntj = (OUT + WJ - 1) / WJ;
    int t0, t1;
    my_tiles(ntj, &t0, &t1);
    vi bad_w = {0}, bad_b = {0};
    const int jb = t0 * WJ, je = t1 * WJ < OUT ? t1 * WJ : OUT;
    if (B > 0) bias_rows(db, add, dout, ldd, B, jb, je, &bad_b);
    for (int kb = 0; kb < IN; kb += KC) {
        const int ke = IN - kb < KC ? IN : kb + KC;
        if (progress && on_calling_thread()) progress->fn(progress->ctx);
        for (int tj = t0; B > 0 && tj < t1; tj++) {
            const int j0 = tj * WJ, jn = OUT - j0 < WJ ? OUT - j0 : WJ;
            dw_rows(dw, add, dout, ldd, inp, ldi, B, IN, j0, jn, kb, ke, &bad_w);
        }
    }
    return any_lane(bad_w) + any_lane(bad_b);
}

void k_dense_backward_weights(float *dw, float *db, const float *dout, int ldd, const float *inp,
                              int ldi, int B, int IN, int OUT, int add, long *nonfinite,
                              const k_progress *progress) {
    long nf = 0;
#pragma omp parallel reduction(+ : nf) if (worth_threads(B, IN, OUT))
    nf += weights_share(dw, db, dout, ldd, inp, ldi, B, IN, OUT, add, progress);
    if (nonfinite) *nonfinite += nf;
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
        else exact_add(&st->loss_exact, loss);
        st->loss += loss;
        if (classification && k_argmax(as, n) == k_argmax(ys, n)) st->correct += 1.0;
    }
}
