/* SPDX-License-Identifier: MIT */
/*
 * kernels.h - the layer kernels (kernels.c; the fixed-point ones of the
 * reproducible mode, kernels_fx.c): dense forward, the two halves
 * of dense backward, softmax and the costs, on sample-major blocks (B x
 * width, row stride ld*); W is OUT x IN row-major as in the derivation.
 * OpenMP-parallel inside; every output element has one owner thread and a
 * fixed sequence of operations, so results do not depend on the thread
 * count or on a sample's position in its block.
 */
#ifndef DESCENT_KERNELS_H
#define DESCENT_KERNELS_H

#include "descent/descent.h"
#include "exact_sum.h"

#include <stdint.h>

/* kernels.c and kernels_fx.c are compiled once per kernel set (for each
 * instruction set, CMakeLists.txt) with DESCENT_KERNEL_SET naming it: each
 * copy's functions carry the set's name, k_dense_forward_avx2 and so on.
 * Everywhere else k_dense_forward is kernel_sets.c's, which calls the set
 * in use. */
#ifdef DESCENT_KERNEL_SET
#define K_SET_NAME2(name, set) name##_##set
#define K_SET_NAME(name, set) K_SET_NAME2(name, set)
#define k_dense_forward K_SET_NAME(k_dense_forward, DESCENT_KERNEL_SET)
#define k_dense_backward_weights K_SET_NAME(k_dense_backward_weights, DESCENT_KERNEL_SET)
#define k_dense_backward_weights_fx K_SET_NAME(k_dense_backward_weights_fx, DESCENT_KERNEL_SET)
#define k_dense_backward_weights_fx_final \
    K_SET_NAME(k_dense_backward_weights_fx_final, DESCENT_KERNEL_SET)
#define k_fx_combine K_SET_NAME(k_fx_combine, DESCENT_KERNEL_SET)
#define k_fx_to_float K_SET_NAME(k_fx_to_float, DESCENT_KERNEL_SET)
#define k_dense_backward_input K_SET_NAME(k_dense_backward_input, DESCENT_KERNEL_SET)
#define k_softmax K_SET_NAME(k_softmax, DESCENT_KERNEL_SET)
#define k_cost K_SET_NAME(k_cost, DESCENT_KERNEL_SET)
#define k_argmax K_SET_NAME(k_argmax, DESCENT_KERNEL_SET)
#define k_dw_tile_rows K_SET_NAME(k_dw_tile_rows, DESCENT_KERNEL_SET)
#define k_update K_SET_NAME(k_update, DESCENT_KERNEL_SET)
#endif

/* out (B x OUT) = act(inp (B x IN) @ W^T + b). Softmax is NOT applied here
 * (it needs the whole row; see k_softmax and k_cost). */
void k_dense_forward(float *out, int ldo, const float *inp, int ldi,
                     const float *w, const float *b, int B, int IN, int OUT,
                     descent_act act);
/* A function the calling thread runs between column strips of the
 * weight-gradient kernels (every few tens of microseconds), while its other
 * threads compute: the step's reductions in flight move on (MPI progress)
 * during the kernel. Given to the kernels as an argument (NULL: none). */
typedef struct {
    void (*fn)(void *ctx);
    void *ctx;
} k_progress;
/* Rows of dw per tile of the weight-gradient kernels: a call's OUT rows are
 * split among the threads in whole tiles. A tile keeps rows x 2 vectors of
 * accumulators in registers: 8 x 2 of AVX-512's 32 (layers of 128 or 256
 * units are then whole tiles, split evenly between 2 threads), 6 x 2 of
 * AVX2's 16. */
#if defined(__AVX512F__)
#define K_DW_ROWS 8
#else
#define K_DW_ROWS 6
#endif
/* K_DW_ROWS of the kernel set in use (kernel_sets.c; k_dw_tile_rows is each
 * set's own) */
int k_dw_rows(void);
extern const int k_dw_tile_rows;
/* dw (OUT x IN) = dout^T @ inp ; db (OUT) = sum_s dout[s], added to what
 * dw and db hold when add is 1, overwriting them when add is 0. Adds 1 to
 * *nonfinite (when not NULL) for each thread that stored a NaN or Inf.
 * progress (may be NULL): see k_progress. */
void k_dense_backward_weights(float *dw, float *db, const float *dout,
                              int ldd, const float *inp, int ldi, int B,
                              int IN, int OUT, int add, long *nonfinite,
                              const k_progress *progress);
/* Samples per chunk in reproducible mode for a global batch of m (step.c):
 * each chunk's gradient sum is one fixed float computation, converted to
 * fixed point. It depends on m only, never on the layout. Larger chunks
 * convert less often, so run faster (kernel_bench's weight_gradient_fx rows,
 * docs/performance.md); a rank's slice is whole chunks, so a batch of 64
 * keeps chunks of 32 to give two ranks one each. */
static inline int repro_chunk(size_t m) { return m >= 128 ? 64 : 32; }
/* Values a fixed-point conversion left out for being out of range: how
 * many, and the largest |value * 2^e| among them (from which the redo's
 * scale is taken: fixed_point.h) */
typedef struct {
    long count;
    double largest;
} k_range;
/* Reproducible variant: the block is cut into chunks of `chunk` samples
 * (the last may be shorter); each chunk's sums are computed in float as
 * above (starting from zero), then scaled by 2^w_exp (2^b_exp for biases),
 * rounded to an integer and summed into dw/db: added to what they hold
 * when add is 1, overwriting it when add is 0. Values whose magnitude
 * reaches limit (<= 2^30) are skipped (count as 0) and counted in range[0]
 * (weights) or range[1] (biases) (range may be NULL), NaN/Inf in
 * *nonfinite. */
void k_dense_backward_weights_fx(int32_t *dw, int32_t *db, int w_exp, int b_exp,
                                 double limit, const float *dout, int ldd,
                                 const float *inp, int ldi, int B, int chunk,
                                 int IN, int OUT, int add, long *nonfinite,
                                 k_range range[2], const k_progress *progress);
/* The same integer sums as k_dense_backward_weights_fx with add = 0, when
 * they are the final sums (one block, nothing added from other ranks): each
 * converted back to float as k_fx_to_float does (fw = (float)(sum *
 * 2^-w_exp), fb with b_exp) without being stored as integers (with one or two
 * chunks not even formed: kernels_fx.c); max[0] and max[1]: the largest |sum|
 * of dw and of db rounded to float (k_fx_round_max). The same counts of
 * out-of-range and non-finite values (a value out of range counts as 0). */
void k_dense_backward_weights_fx_final(float *fw, float *fb, int w_exp, int b_exp,
                                       double limit, const float *dout, int ldd,
                                       const float *inp, int ldi, int B, int chunk,
                                       int IN, int OUT, uint64_t max[2],
                                       long *nonfinite, k_range range[2]);
/* The largest magnitude of integers in [lo, hi], lo <= 0 <= hi */
static inline uint64_t k_fx_magnitude(int64_t lo, int64_t hi) {
    const uint64_t neg = (uint64_t)(-(lo + 1)) + 1; /* |lo|, INT64_MIN included */
    return neg > (uint64_t)hi ? neg : (uint64_t)hi;
}
/* A largest |integer sum| rounded to float's 24 bits (nearest, ties to
 * even), as an integer: what the next step's scale is taken from (step.c),
 * so that a kernel which forms the sums only as rounded floats gives the
 * same scale as the exact integers (rounding is monotonic: the largest
 * rounded sum is the largest sum rounded). */
static inline uint64_t k_fx_round_max(uint64_t x) {
    const float f = (float)x;
    return f >= 0x1p64f ? UINT64_MAX : (uint64_t)f;
}
/* One fixed-point sum back as a float, v * unscale (unscale = 2^-e, so the
 * product is exact in double and rounded once to float): the one definition
 * every conversion uses, in the final kernel above, k_fx_to_float and
 * k_fx_combine, so all give the same bits on every rank. */
static inline float k_fx_value(int64_t v, double unscale) {
    return (float)((double)v * unscale);
}
/* Reproducible mode where the ranks' sums meet as floats, each one fixed
 * chunk's sum: for i in [at, at + n), q = the sum over the nsrc sources of
 * round(src[r][i] * 2^e) (nearest, ties to even), the integer sum that
 * k_dense_backward_weights_fx forms from the same chunk sums, and out[i] =
 * k_fx_value(q, 2^-e). A value with |value * 2^e| >= limit (<= 2^30) counts
 * as 0 and, when finite, in range (NaN and Inf only as 0: the kernels that
 * made them counted them); q's extremes go into *lo and *hi, except where q
 * is formed as a float (one or two sources: kernels_fx.c), whose magnitude,
 * rounded to float, goes into *hi: k_fx_round_max(k_fx_magnitude(*lo, *hi))
 * is the largest |q| rounded either way. out may be one of the sources. On
 * the calling thread. */
void k_fx_combine(float *out, const float *const *src, int nsrc, size_t at, size_t n, int e,
                  double limit, k_range *range, int64_t *lo, int64_t *hi);
/* out[i] = k_fx_value(g[i], 2^-e) on the calling thread; returns max
 * |g[i]|. What the update reads in reproducible mode (fixed_point.c's
 * fx_read_sums), and the tests' reference for the conversions done inside
 * the kernels. */
uint64_t k_fx_to_float(float *out, const int32_t *g, size_t n, int e);
/* dinp (B x IN) = (dout (B x OUT) @ W) (.) act'(a), where a is the
 * activation that was the layer's input (B x IN, stride lda). */
void k_dense_backward_input(float *dinp, int ldo, const float *dout, int ldd,
                            const float *w, const float *a, int lda, int B,
                            int IN, int OUT, descent_act act);
/* Row-wise softmax in place (B x n). */
void k_softmax(float *z, int ld, int B, int n);

/* What the cost kernel counts over a block of samples */
typedef struct {
    double loss;      /* sum of per-sample costs                            */
    exact_sum loss_exact; /* the finite costs' sum, exact (exact_sum.h)     */
    double correct;   /* samples whose largest output is the target class  */
    double nonfinite; /* NaN/Inf costs, and gradient sums (net_block)       */
} block_stats;
/* Given the output layer's pre-softmax values (softmax layer) or activations
 * (other layers) in a (B x n), targets y: turns a into activations (softmax),
 * writes delta = dC0/dz (B x n) and adds the block's loss, correct count
 * (classification) and non-finite count to st. */
void k_cost(float *a, int lda, const float *y, int ldy, float *delta, int ldd,
            int B, int n, descent_act act, descent_cost cost,
            int classification, block_stats *st);
/* Argmax of each row (first maximum). */
int k_argmax(const float *row, int n);

/* One optimizer step's rule (optim.c): its kind and constants, the step's
 * divisor mb of the 1/m rule, and weight decay wd (0 for biases); Adam's
 * bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t */
typedef struct {
    descent_optimizer kind;
    float lr, mb, wd, momentum, beta1, beta2, eps, c1, c2;
} k_rule;
/* p[i] -= the rule's step from g[i] (the gradient sum) for i < len, with
 * the rule's state m, v (momentum: m; Adam: m and v; else unused) at the
 * same offsets. Elementwise, on the calling thread: any split of a buffer
 * into calls gives the same bits. */
void k_update(const k_rule *r, float *p, const float *g, float *m, float *v, size_t len);

#endif
