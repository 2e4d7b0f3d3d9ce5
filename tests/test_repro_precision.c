/* SPDX-License-Identifier: MIT */
/* Precision of the reproducible (fixed-point) gradient sum against a
 * double-precision reference backpropagation, next to the plain float sum.
 * The fixed-point path must be as accurate as the float path (its only
 * extra rounding is at 2^-target of each tensor's largest sum, 2^-24 for
 * this batch's four chunks, the 32-bit sums' rule) and far inside float's
 * own error: max |g - g_ref| / max |g_ref| <= 1e-5 for both, and the fixed
 * point within 2x of the float path. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "net.h"
#include "fixed_point.h"
#include "optim.h"
#include "step.h"
#include "testutil.h"

#define B 100
static const int S[4] = {50, 40, 30, 10};

static unsigned rs = 4242;
static float frand(void) {
    rs = rs * 1664525u + 1013904223u;
    return (float)((rs >> 9) & 0xffff) / 32768.0f - 1.0f;
}

/* reference: relu, relu, softmax + cross-entropy, all in double */
static void reference(const descent_net *net, const float *x, const int *lab, double *g) {
    const float *p = descent_net_params_const(net);
    memset(g, 0, sizeof(double) * net->n_params);
    for (int s = 0; s < B; s++) {
        double a[4][64], d[4][64];
        for (int k = 0; k < S[0]; k++) a[0][k] = x[s * S[0] + k];
        for (int l = 0; l < 3; l++) {
            const float *w = p + net->w_off[l], *b = p + net->b_off[l];
            for (int j = 0; j < S[l + 1]; j++) {
                double z = b[j];
                for (int k = 0; k < S[l]; k++) z += (double)w[j * S[l] + k] * a[l][k];
                a[l + 1][j] = l < 2 ? (z > 0 ? z : 0) : z;
            }
        }
        double mx = a[3][0], sum = 0;
        for (int j = 1; j < 10; j++) mx = a[3][j] > mx ? a[3][j] : mx;
        for (int j = 0; j < 10; j++) sum += exp(a[3][j] - mx);
        for (int j = 0; j < 10; j++) d[3][j] = exp(a[3][j] - mx) / sum - (j == lab[s]);
        for (int l = 2; l >= 0; l--) {
            const float *w = p + net->w_off[l];
            for (int j = 0; j < S[l + 1]; j++) {
                g[net->b_off[l] + j] += d[l + 1][j];
                for (int k = 0; k < S[l]; k++) g[net->w_off[l] + j * S[l] + k] += d[l + 1][j] * a[l][k];
            }
            if (l > 0)
                for (int k = 0; k < S[l]; k++) {
                    double h = 0;
                    for (int j = 0; j < S[l + 1]; j++) h += (double)w[j * S[l] + k] * d[l + 1][j];
                    d[l][k] = a[l][k] > 0 ? h : 0;
                }
        }
    }
    for (size_t i = 0; i < net->n_params; i++) g[i] /= B;
}

static void fixed_point_as_accurate_as_float(void) {
    const descent_act acts[3] = {DESCENT_ACT_RELU, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX};
    descent_net *net;
    descent_error err;
    CHECK(descent_net_create(&net, 3, S, acts, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    descent_net_init(net, 9);
    const size_t np = net->n_params;
    float x[B * 50];
    int lab[B];
    for (int i = 0; i < B * 50; i++) x[i] = frand();
    for (int s = 0; s < B; s++) lab[s] = s % 10;
    double *ref = malloc(np * sizeof(double));
    reference(net, x, lab, ref);

    workspace ws;
    CHECK(workspace_init(&ws, net, B) == 0, "workspace");
    for (int s = 0; s < B; s++) {
        memcpy(ws.act[0] + (size_t)s * ws.ld[0], x + s * 50, 50 * sizeof(float));
        for (int j = 0; j < 10; j++) ws.y[(size_t)s * ws.ldy + j] = j == lab[s];
    }
    /* float path */
    float *gf = aligned_calloc(np, sizeof(float));
    block_stats st = {0};
    net_block(net, &ws, B, gf, 1, NULL, 1, NULL, &st);
    for (size_t i = 0; i < np; i++) gf[i] = mean_of(gf[i], (float)B);
    /* fixed-point path: the chunks of a batch of B, each tensor at the scale
     * the scale rule keeps it at (its largest sum at 2^target) */
    const int chunk = repro_chunk(B);
    const size_t nc = (B + (size_t)chunk - 1) / (size_t)chunk;
    fx_scales rule;
    CHECK(fx_scales_init(&rule, 3, nc) == 0, "no memory");
    int w_exp[3], b_exp[3];
    for (int l = 0; l < 3; l++) {
        float wmax = 0, bmax = 0;
        for (size_t i = net->w_off[l]; i < net->b_off[l]; i++) wmax = fmaxf(wmax, fabsf(gf[i]) * B);
        for (int j = 0; j < S[l + 1]; j++) bmax = fmaxf(bmax, fabsf(gf[net->b_off[l] + j]) * B);
        w_exp[l] = rule.target - ilogbf(wmax);
        b_exp[l] = rule.target - ilogbf(bmax);
    }
    fx_scales_free(&rule);
    int32_t *g32 = aligned_calloc(np, sizeof(int32_t));
    k_range range[6] = {{0}};
    fx_grad fx = {g32, w_exp, b_exp, chunk, fx_chunk_limit(nc), 0, range, NULL, NULL};
    block_stats st2 = {0};
    net_block(net, &ws, B, NULL, 0, &fx, 1, NULL, &st2);
    long out_of_range = 0;
    for (int t = 0; t < 6; t++) out_of_range += range[t].count;
    CHECK(out_of_range == 0 && fx.nonfinite == 0, "fixed point out of range: %ld, %ld",
          out_of_range, fx.nonfinite);
    float *gx = aligned_calloc(np, sizeof(float));
    for (int l = 0; l < 3; l++) {
        k_fx_to_float(gx + net->w_off[l], g32 + net->w_off[l], net->b_off[l] - net->w_off[l],
                      w_exp[l]);
        k_fx_to_float(gx + net->b_off[l], g32 + net->b_off[l], (size_t)S[l + 1], b_exp[l]);
    }
    for (size_t i = 0; i < np; i++) gx[i] = mean_of(gx[i], (float)B);
    double gmax = 0, ef = 0, ex = 0;
    for (size_t i = 0; i < np; i++) gmax = fmax(gmax, fabs(ref[i]));
    for (size_t i = 0; i < np; i++) {
        ef = fmax(ef, fabs(gf[i] - ref[i]) / gmax);
        ex = fmax(ex, fabs(gx[i] - ref[i]) / gmax);
    }
    printf("max |g - g_ref| / max |g_ref|: float sums %.3g, fixed-point sums %.3g (max |g_ref| %.3g)\n",
           ef, ex, gmax);
    CHECK(gmax > 1e-3, "reference gradient is trivially small");
    CHECK(ef <= 1e-5, "float path error %.3g", ef);
    CHECK(ex <= 1e-5, "fixed-point path error %.3g", ex);
    CHECK(ex <= 2 * ef + 1e-9, "fixed point (%.3g) much worse than float (%.3g)", ex, ef);
    /* the loss sum in fixed point agrees with the double sum */
    exact_normalise(st2.loss_exact.d);
    const double exact_loss = exact_value(st2.loss_exact.d);
    CHECK(fabs(exact_loss - st.loss) <= 1e-6 * fabs(st.loss), "exact loss %.9g vs %.9g",
          exact_loss, st.loss);
    workspace_free(&ws);
    aligned_free(gf); aligned_free(gx); aligned_free(g32); free(ref);
    descent_net_free(net);
}

/* The update that reads the fixed-point sums through fixed_point.c's
 * converter (optimizer_step_converted, fx_read_sums) against k_fx_to_float's floats through the plain
 * update: the same parameters bit for bit, for each optimizer over two
 * steps, and each tensor's largest |sum|. The net is large enough for the
 * update's threads (3 here), and the largest sum of each tensor lies in its
 * first thread's share, so one thread's maximum alone would be too small. */
static void fused_update_matches_converted_sums(void) {
    static const int sizes[3] = {300, 256, 10};
    static const descent_act acts[2] = {DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX};
    static const descent_optimizer kinds[3] = {DESCENT_OPT_GD, DESCENT_OPT_MOMENTUM,
                                               DESCENT_OPT_ADAM};
    descent_net *a = NULL, *b = NULL;
    descent_error err = {0};
    CHECK(descent_net_create(&a, 2, sizes, acts, DESCENT_COST_XENT, &err) == 0 &&
              descent_net_create(&b, 2, sizes, acts, DESCENT_COST_XENT, &err) == 0,
          "%s", err.msg);
    if (!a || !b) return;
    const size_t np = a->n_params;
    int32_t *g = malloc(np * sizeof(int32_t));
    float *f = malloc(np * sizeof(float));
    const int sw[2] = {30, 45}, sb[2] = {-3, 60};
    const int32_t sw32[2] = {30, 45}, sb32[2] = {-3, 60};
    fx_scales scales;
    CHECK(fx_scales_init(&scales, 2, 1) == 0, "no memory");
    fx_scales_restore(&scales, sw32, sb32);
    omp_set_num_threads(3);
    for (int k = 0; k < 3; k++) {
        descent_train_config cfg;
        descent_train_config_default(&cfg);
        cfg.optimizer = kinds[k];
        cfg.weight_decay = 1e-3;
        optimizer oa, ob;
        CHECK(optimizer_init(&oa, &cfg, np) == 0 && optimizer_init(&ob, &cfg, np) == 0, "init");
        descent_net_init(a, 7);
        descent_net_init(b, 7);
        for (int step = 0; step < 2; step++) {
            for (size_t i = 0; i < np; i++) /* up to 2^16, a few near 2^30 */
                g[i] = (int32_t)((double)frand() * 0x1p16) * (i % 97 == 3 ? 16384 : 1);
            uint64_t want[4], got[4];
            for (int l = 0; l < 2; l++) {
                const size_t wo = a->w_off[l], bo = a->b_off[l], be = bo + (size_t)sizes[l + 1];
                g[wo + 1] = INT32_MIN; /* the largest, in the first share */
                want[2 * l] = k_fx_to_float(f + wo, g + wo, bo - wo, sw[l]);
                want[2 * l + 1] = k_fx_to_float(f + bo, g + bo, be - bo, sb[l]);
            }
            optimizer_step(&oa, &cfg, 0.01, a, f, 64.0f);
            fx_reader reader;
            fx_reader_start(&reader, g, &scales);
            const grad_converter conv = {fx_read_sums, &reader};
            optimizer_step_converted(&ob, &cfg, 0.01, b, &conv, 64.0f);
            memcpy(got, scales.max, sizeof got);
            CHECK(memcmp(a->params, b->params, np * sizeof(float)) == 0,
                  "optimizer %d, step %d: the fused update differs", k, step);
            CHECK(memcmp(want, got, sizeof want) == 0,
                  "optimizer %d, step %d: largest sums %llu %llu %llu %llu, want %llu %llu %llu "
                  "%llu", k, step, (unsigned long long)got[0], (unsigned long long)got[1],
                  (unsigned long long)got[2], (unsigned long long)got[3],
                  (unsigned long long)want[0], (unsigned long long)want[1],
                  (unsigned long long)want[2], (unsigned long long)want[3]);
        }
        optimizer_free(&oa);
        optimizer_free(&ob);
    }
    fx_scales_free(&scales);
    free(g);
    free(f);
    descent_net_free(a);
    descent_net_free(b);
}

/* A float of any magnitude: sign, exponent field 0 (zero, subnormal) to 254,
 * random fraction */
static float any_float(void) {
    rs = rs * 1664525u + 1013904223u;
    const uint32_t hi = rs;
    rs = rs * 1664525u + 1013904223u;
    const uint32_t bits = (hi & 0x80000000u) | ((hi >> 8) % 255u) << 23 | (rs >> 9);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Two sums added as the ranks' tails add them: in 16-bit halves */
static void sum_as_tails(const exact_sum *a, const exact_sum *b, int64_t d[EXACT_DIGITS]) {
    int32_t ha[EXACT_HALVES], hb[EXACT_HALVES];
    exact_to_halves(a->d, ha);
    exact_to_halves(b->d, hb);
    for (int k = 0; k < EXACT_HALVES; k++) ha[k] += hb[k];
    exact_from_halves(ha, d);
}

/* The loss's exact sum: any order and any split (added in halves, as the
 * ranks' tails are) give the same digits; adding every value's negation in
 * another order gives exactly zero (no bit was lost anywhere); values no
 * double sum keeps (the largest float, a subnormal, the largest again
 * negated) are kept. */
static void exact_sum_of_any_floats(void) {
    enum { N = 5000 };
    static float x[N];
    for (int i = 0; i < N; i++) x[i] = any_float();
    exact_sum all = {0}, front = {0}, back = {0};
    for (int i = 0; i < N; i++) exact_add(&all, x[i]);
    for (int i = N - 1; i >= N / 3; i--) exact_add(&back, x[i]);
    for (int i = 0; i < N / 3; i++) exact_add(&front, x[i]);
    int64_t split[EXACT_DIGITS];
    sum_as_tails(&front, &back, split);
    exact_normalise(all.d);
    CHECK(memcmp(all.d, split, sizeof split) == 0, "a split and another order give other digits");
    exact_sum zero = all;
    for (int i = 0; i < N; i++) exact_add(&zero, -x[(i * 7919) % N]);
    exact_normalise(zero.d);
    int nonzero = 0;
    for (int k = 0; k < EXACT_DIGITS; k++) nonzero |= zero.d[k] != 0;
    CHECK(!nonzero, "the sum minus every value is not exactly zero");
    exact_sum e = {0};
    const float tiny = 0x1p-149f;
    exact_add(&e, 0x1.fffffep127f);
    exact_add(&e, 3 * tiny);
    exact_add(&e, 0x1.fffffep127f);
    exact_add(&e, -0x1.fffffep127f);
    exact_add(&e, -0x1.fffffep127f);
    exact_normalise(e.d);
    CHECK(exact_value(e.d) == ldexp(3.0, -149), "largest + 3 * 2^-149 - largest: %a",
          exact_value(e.d));
    exact_sum big = {0};
    for (int i = 0; i < 1000; i++) exact_add(&big, 0x1.fffffep127f);
    exact_normalise(big.d);
    CHECK(exact_value(big.d) == 1000.0 * 0x1.fffffep127, "1000 x the largest float: %a",
          exact_value(big.d));
    /* halves with negative digits to carry: the sum and 100 negations in
     * halves against the same values added in one sum */
    exact_sum neg = {0}, both = all;
    for (int i = 0; i < 100; i++) exact_add(&neg, -x[i]);
    for (int i = 0; i < 100; i++) exact_add(&both, -x[i]);
    exact_normalise(both.d);
    int64_t halves[EXACT_DIGITS];
    sum_as_tails(&all, &neg, halves);
    CHECK(memcmp(halves, both.d, sizeof halves) == 0, "halves added are not the sum's digits");
}

/* The redo's shift is the fewest bits that bring the largest value out of
 * range under the limit */
static void redo_shift_fits_the_largest(void) {
    const double limit = 0x1p50;
    const k_range none = {0, 0.0};
    CHECK(fx_redo_shift(&none, limit) == 0, "a shift with nothing out of range");
    const double largest[] = {0x1p50, 0x1.fffffp50, 0x1p51, 0x1.8p120, 0x1p427};
    for (size_t i = 0; i < sizeof largest / sizeof *largest; i++) {
        const k_range r = {3, largest[i]};
        const uint32_t s = fx_redo_shift(&r, limit);
        CHECK(s >= 1 && ldexp(largest[i], -(int)s) < limit && ldexp(largest[i], 1 - (int)s) >= limit,
              "largest %a: shift %u", largest[i], s);
    }
    /* a batch of nc chunks: nc values under the limit, each rounded to an
     * integer (at most the limit), add within an int32, and the limit is at
     * most one bit below what that allows */
    for (size_t nc = 1; nc <= 5000; nc++) {
        const double lim = fx_chunk_limit(nc);
        CHECK((double)nc * lim < 0x1p31 && 4.0 * (double)nc * lim > 0x1p31,
              "%zu chunks under %a", nc, lim);
    }
    /* each tensor's scale goes down by its own shift, never below the bound */
    fx_scales sc;
    if (fx_scales_init(&sc, 2, 4)) {
        CHECK(0, "out of memory");
        return;
    }
    const uint32_t shift[4] = {0, 5, 17, 4000}; /* W_0, b_0, W_1, b_1 */
    const int before = sc.w_exp[0];
    fx_lower_for_redo(&sc, shift);
    CHECK(sc.w_exp[0] == before && sc.b_exp[0] == before - 5 && sc.w_exp[1] == before - 17 &&
              sc.b_exp[1] < before - 17 && sc.b_exp[1] > before - 4000,
          "scales %d %d %d %d after shifts 0 5 17 4000 from %d", sc.w_exp[0], sc.b_exp[0],
          sc.w_exp[1], sc.b_exp[1], before);
    fx_scales_free(&sc);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {SCENARIO(fixed_point_as_accurate_as_float),
                                         SCENARIO(fused_update_matches_converted_sums),
                                         SCENARIO(exact_sum_of_any_floats),
                                         SCENARIO(redo_shift_fits_the_largest)};
    return RUN_SCENARIOS(argc, argv, scenarios);
}
