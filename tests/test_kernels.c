/* SPDX-License-Identifier: MIT */
/* The blocked, vectorised kernels against naive double-precision loops, over
 * shapes that exercise every full tile and every edge path (weight gradients
 * both added to and overwriting what the buffer held, and a NaN/Inf in them
 * counted); and the position-independence that reproducibility rests on: a
 * sample's outputs do not depend on where in the block it sits. The
 * fixed-point weight gradients are checked exactly: every chunk's float sum
 * (the float kernel on that chunk alone) times 2^e, rounded to nearest even,
 * added in 64-bit integers, with the values out of range counted; and their
 * final variant gives those integers converted back to floats. Every
 * kernel set gives one set of bits: the forward pass's dot products are
 * the 16-lane reference below bit for bit, and the kernels' fused
 * multiply-add (emulated where the CPU has none) is fmaf's. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "base.h"
#include "kernels.h"
#include "kernels_simd.h"
#include "activation.h"
#include "testutil.h"

static unsigned rs = 99;
static float frand(void) {
    rs = rs * 1664525u + 1013904223u;
    return (float)((rs >> 9) & 0xffff) / 32768.0f - 1.0f;
}

static const int Bs[] = {1, 2, 3, 5, 6, 7, 13, 40};
static const int INs[] = {1, 3, 8, 17, 33, 70};
static const int OUTs[] = {1, 2, 3, 6, 7, 10, 19};
static const descent_act acts[] = {DESCENT_ACT_IDENTITY, DESCENT_ACT_SIGMOID, DESCENT_ACT_RELU,
                                   DESCENT_ACT_TANH};

/* One shape with random inputs, and what the kernels made of them */
typedef struct {
    int B, IN, OUT, ldi, ldo, add;
    descent_act act, dact; /* the layer's activation, and its input's (sigma') */
    float *inp, *w, *b, *out, *dout, *dw, *db, *dinp;
    float *dw0, *db0;      /* dw and db before the backward pass             */
    long nonfinite;        /* counted by the backward pass                   */
} kcase;

static void kcase_make(kcase *c, int index, int B, int IN, int OUT) {
    rs = 99u + (unsigned)index;
    c->B = B, c->IN = IN, c->OUT = OUT;
    c->act = acts[index % 4];
    c->dact = acts[(index + 1) % 4];
    c->add = index % 2;
    c->ldi = round_up_int(IN, 16), c->ldo = round_up_int(OUT, 16);
    c->inp = aligned_calloc((size_t)B * c->ldi, 4), c->w = aligned_calloc((size_t)OUT * IN, 4);
    c->b = aligned_calloc(OUT, 4), c->out = aligned_calloc((size_t)B * c->ldo, 4);
    c->dout = aligned_calloc((size_t)B * c->ldo, 4), c->dw = aligned_calloc((size_t)OUT * IN, 4);
    c->db = aligned_calloc(OUT, 4), c->dinp = aligned_calloc((size_t)B * c->ldi, 4);
    c->dw0 = malloc(sizeof(float) * OUT * IN), c->db0 = malloc(sizeof(float) * OUT);
    for (int s = 0; s < B; s++)
        for (int k = 0; k < IN; k++) c->inp[s * c->ldi + k] = frand();
    for (int i = 0; i < OUT * IN; i++) { c->w[i] = frand(); c->dw[i] = frand(); }
    for (int j = 0; j < OUT; j++) { c->b[j] = frand(); c->db[j] = frand(); }
    for (int s = 0; s < B; s++)
        for (int j = 0; j < OUT; j++) c->dout[s * c->ldo + j] = frand();
    memcpy(c->dw0, c->dw, sizeof(float) * OUT * IN);
    memcpy(c->db0, c->db, sizeof(float) * OUT);
    k_dense_forward(c->out, c->ldo, c->inp, c->ldi, c->w, c->b, B, IN, OUT, c->act);
    c->nonfinite = 0;
    k_dense_backward_weights(c->dw, c->db, c->dout, c->ldo, c->inp, c->ldi, B, IN, OUT, c->add,
                             &c->nonfinite, NULL);
    k_dense_backward_input(c->dinp, c->ldi, c->dout, c->ldo, c->w, c->inp, c->ldi, B, IN, OUT,
                           c->dact);
}

static void kcase_free(kcase *c) {
    aligned_free(c->inp); aligned_free(c->w); aligned_free(c->b); aligned_free(c->out);
    aligned_free(c->dout); aligned_free(c->dw); aligned_free(c->db); aligned_free(c->dinp);
    free(c->dw0); free(c->db0);
}

/* Every shape of the grid through check; returns the number of shapes. */
static int for_each_shape(void (*check)(kcase *c)) {
    int index = 0;
    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
        for (size_t ii = 0; ii < sizeof INs / sizeof *INs; ii++)
            for (size_t oi = 0; oi < sizeof OUTs / sizeof *OUTs; oi++) {
                kcase c;
                kcase_make(&c, index++, Bs[bi], INs[ii], OUTs[oi]);
                check(&c);
                kcase_free(&c);
            }
    return index;
}

static double act_ref(double z, descent_act act) {
    return act == DESCENT_ACT_SIGMOID ? 1 / (1 + exp(-z))
           : act == DESCENT_ACT_RELU  ? (z > 0 ? z : 0)
           : act == DESCENT_ACT_TANH  ? tanh(z)
                                      : z;
}

static double deriv_ref(double a, descent_act act) {
    return act == DESCENT_ACT_SIGMOID ? a * (1 - a)
           : act == DESCENT_ACT_TANH  ? 1 - a * a
           : act == DESCENT_ACT_RELU  ? (a > 0 ? 1 : 0)
                                      : 1;
}

static void check_forward(kcase *c) {
    double worst = 0;
    for (int s = 0; s < c->B; s++)
        for (int j = 0; j < c->OUT; j++) {
            double z = c->b[j];
            for (int k = 0; k < c->IN; k++) z += (double)c->inp[s * c->ldi + k] * c->w[j * c->IN + k];
            worst = fmax(worst, rel_diff(c->out[s * c->ldo + j], act_ref(z, c->act), 1.0));
        }
    CHECK(worst < 1e-5, "forward B=%d IN=%d OUT=%d: error %g", c->B, c->IN, c->OUT, worst);
}

static void check_weight_gradients(kcase *c) {
    CHECK(c->nonfinite == 0, "finite weight gradients counted as non-finite (%ld)", c->nonfinite);
    double worst = 0;
    for (int j = 0; j < c->OUT; j++) {
        double sb = c->add ? c->db0[j] : 0.0;
        for (int s = 0; s < c->B; s++) sb += c->dout[s * c->ldo + j];
        worst = fmax(worst, rel_diff(c->db[j], sb, 1.0));
        for (int k = 0; k < c->IN; k++) {
            double sw = c->add ? c->dw0[j * c->IN + k] : 0.0;
            for (int s = 0; s < c->B; s++)
                sw += (double)c->dout[s * c->ldo + j] * c->inp[s * c->ldi + k];
            worst = fmax(worst, rel_diff(c->dw[j * c->IN + k], sw, 1.0));
        }
    }
    CHECK(worst < 1e-5, "backward weights (add %d) B=%d IN=%d OUT=%d: error %g", c->add, c->B,
          c->IN, c->OUT, worst);
}

static void check_input_deltas(kcase *c) {
    double worst = 0;
    for (int s = 0; s < c->B; s++)
        for (int k = 0; k < c->IN; k++) {
            double h = 0;
            for (int j = 0; j < c->OUT; j++) h += (double)c->dout[s * c->ldo + j] * c->w[j * c->IN + k];
            const double want = h * deriv_ref(c->inp[s * c->ldi + k], c->dact);
            worst = fmax(worst, rel_diff(c->dinp[s * c->ldi + k], want, 1.0));
        }
    CHECK(worst < 1e-5, "backward input B=%d IN=%d OUT=%d: error %g", c->B, c->IN, c->OUT, worst);
}

/* sample s computed alone gives the same bits as inside its block */
static void check_position_independence(kcase *c) {
    for (int s = 0; s < c->B; s++) {
        float one[128], done[128];
        memset(one, 0, sizeof one);
        k_dense_forward(one, c->ldo, c->inp + s * c->ldi, c->ldi, c->w, c->b, 1, c->IN, c->OUT,
                        c->act);
        CHECK(memcmp(one, c->out + s * c->ldo, sizeof(float) * c->OUT) == 0,
              "forward of sample %d alone differs (B=%d IN=%d OUT=%d)", s, c->B, c->IN, c->OUT);
        k_dense_backward_input(done, c->ldi, c->dout + s * c->ldo, c->ldo, c->w,
                               c->inp + s * c->ldi, c->ldi, 1, c->IN, c->OUT, c->dact);
        CHECK(memcmp(done, c->dinp + s * c->ldi, sizeof(float) * c->IN) == 0,
              "backward input of sample %d alone differs (B=%d IN=%d OUT=%d)", s, c->B, c->IN,
              c->OUT);
    }
}

/* an Inf among the inputs makes a weight gradient non-finite: counted */
static void check_nonfinite_counted(kcase *c) {
    c->inp[(c->B - 1) * c->ldi + c->IN - 1] = INFINITY;
    long nonfinite = 0;
    k_dense_backward_weights(c->dw, c->db, c->dout, c->ldo, c->inp, c->ldi, c->B, c->IN, c->OUT,
                             c->add, &nonfinite, NULL);
    CHECK(nonfinite > 0, "an Inf gradient was not counted (B=%d IN=%d OUT=%d)", c->B, c->IN,
          c->OUT);
}

/* The same values out of range: as many, and the same largest */
static int same_range(const k_range *got, const k_range *want) {
    return got->count == want->count && got->largest == want->largest;
}

/* The fixed-point kernel against the float kernel chunk by chunk and an
 * exact per-element conversion: for a scale inside float's range (the fast
 * conversion), above and below it, at the ends of the range where the
 * final kernel of two chunks sums in float (2^-e = 2^-126 and 2^75), and a
 * limit that some sums exceed. */
static void check_fixed_point_chunks(kcase *c, int chunk) {
    static const struct { int e; double limit, dscale; } cfg[] = {
        {20, 0x1p30, 1.0},         {140, 0x1p30, 0x1p-120}, {-130, 0x1p30, 0x1p120},
        {126, 0x1p30, 0x1p-120}, {-75, 0x1p30, 0x1p100},  {20, 0x1p20, 1.0}};
    const int n = c->OUT * c->IN;
    float *d = aligned_calloc((size_t)c->B * c->ldo, 4);
    float *cw = aligned_calloc((size_t)n, 4), *cb = aligned_calloc((size_t)c->OUT, 4);
    int32_t *gw = aligned_calloc((size_t)n, 4), *gb = aligned_calloc((size_t)c->OUT, 4);
    int32_t *ew = calloc((size_t)n, 4), *eb = calloc((size_t)c->OUT, 4);
    float *xw = calloc((size_t)n, 4), *xb = calloc((size_t)c->OUT, 4);
    /* each chunk's float sums, W then b, as ranks hand them to k_fx_combine */
    const int nch = (c->B + chunk - 1) / chunk;
    float **part = malloc(sizeof *part * (size_t)nch);
    for (int i = 0; i < nch; i++) part[i] = aligned_calloc((size_t)(n + c->OUT), 4);
    for (size_t k = 0; k < sizeof cfg / sizeof *cfg; k++) {
        for (int i = 0; i < c->B * c->ldo; i++) d[i] = c->dout[i] * (float)cfg[k].dscale;
        /* added to what the sums held (7) or overwriting it */
        const int add = k % 2 == 0;
        for (int i = 0; i < n; i++) gw[i] = 7, ew[i] = add ? 7 : 0;
        for (int j = 0; j < c->OUT; j++) gb[j] = 7, eb[j] = add ? 7 : 0;
        long nonfinite = 0;
        /* W's at 0, b's at 1: the counts and the largest |value * 2^e| out of range */
        k_range range[2] = {{0}}, want[2] = {{0}};
        k_dense_backward_weights_fx(gw, gb, cfg[k].e, cfg[k].e, cfg[k].limit, d, c->ldo, c->inp,
                                    c->ldi, c->B, chunk, c->IN, c->OUT, add, &nonfinite, range, NULL);
        for (int c0 = 0; c0 < c->B; c0 += chunk) {
            const int cn = c->B - c0 < chunk ? c->B - c0 : chunk;
            k_dense_backward_weights(cw, cb, d + c0 * c->ldo, c->ldo, c->inp + c0 * c->ldi, c->ldi,
                                     cn, c->IN, c->OUT, 0, NULL, NULL);
            memcpy(part[c0 / chunk], cw, (size_t)n * 4);
            memcpy(part[c0 / chunk] + n, cb, (size_t)c->OUT * 4);
            for (int i = 0; i < n + c->OUT; i++) {
                const double x = ldexp(i < n ? cw[i] : cb[i - n], cfg[k].e);
                k_range *w = &want[i >= n];
                if (fabs(x) < cfg[k].limit) {
                    *(i < n ? &ew[i] : &eb[i - n]) += (int32_t)nearbyint(x);
                } else {
                    w->count++;
                    w->largest = fabs(x) > w->largest ? fabs(x) : w->largest;
                }
            }
        }
        const long want_range = want[0].count + want[1].count;
        CHECK(nonfinite == 0 && same_range(range, want) && same_range(range + 1, want + 1),
              "e=%d add=%d: %ld %ld out of range, largest %g %g (want %ld %ld, %g %g), %ld "
              "non-finite (B=%d IN=%d OUT=%d)", cfg[k].e, add, range[0].count, range[1].count,
              range[0].largest, range[1].largest, want[0].count, want[1].count, want[0].largest,
              want[1].largest, nonfinite, c->B, c->IN, c->OUT);
        CHECK(memcmp(gw, ew, (size_t)n * 4) == 0 && memcmp(gb, eb, (size_t)c->OUT * 4) == 0,
              "e=%d add=%d: fixed-point sums differ from the exact ones (B=%d IN=%d OUT=%d)",
              cfg[k].e, add, c->B, c->IN, c->OUT);
        /* the final variant: the exact sums from zero, as floats, never stored as integers */
        for (int i = 0; i < n; i++) ew[i] -= add ? 7 : 0;
        for (int j = 0; j < c->OUT; j++) eb[j] -= add ? 7 : 0;
        const uint64_t want_w = k_fx_to_float(xw, ew, (size_t)n, cfg[k].e);
        const uint64_t want_b = k_fx_to_float(xb, eb, (size_t)c->OUT, cfg[k].e);
        const uint64_t want_fw = k_fx_round_max(want_w), want_fb = k_fx_round_max(want_b);
        uint64_t max[2] = {0, 0};
        nonfinite = 0;
        memset(range, 0, sizeof range);
        k_dense_backward_weights_fx_final(cw, cb, cfg[k].e, cfg[k].e, cfg[k].limit, d, c->ldo,
                                          c->inp, c->ldi, c->B, chunk, c->IN, c->OUT, max,
                                          &nonfinite, range);
        CHECK(nonfinite == 0 && same_range(range, want) && same_range(range + 1, want + 1) &&
              max[0] == want_fw && max[1] == want_fb,
              "e=%d chunk %d final: %ld out of range (want %ld), %ld non-finite, largest %llu "
              "%llu (want %llu %llu) (B=%d IN=%d OUT=%d)", cfg[k].e, chunk,
              range[0].count + range[1].count, want_range,
              nonfinite, (unsigned long long)max[0], (unsigned long long)max[1],
              (unsigned long long)want_fw, (unsigned long long)want_fb, c->B, c->IN, c->OUT);
        CHECK(memcmp(cw, xw, (size_t)n * 4) == 0 && memcmp(cb, xb, (size_t)c->OUT * 4) == 0,
              "e=%d chunk %d final: floats differ from the integer sums converted (B=%d IN=%d "
              "OUT=%d)", cfg[k].e, chunk, c->B, c->IN, c->OUT);
        /* the chunks' floats combined where they meet (into the first chunk's) */
        int64_t lo[2] = {0, 0}, hi[2] = {0, 0};
        memset(range, 0, sizeof range);
        const float *const *src = (const float *const *)part;
        k_fx_combine(part[0], src, nch, 0, (size_t)n, cfg[k].e, cfg[k].limit, &range[0], &lo[0],
                     &hi[0]);
        k_fx_combine(part[0], src, nch, (size_t)n, (size_t)c->OUT, cfg[k].e, cfg[k].limit,
                     &range[1], &lo[1], &hi[1]);
        const uint64_t got_w = k_fx_round_max(k_fx_magnitude(lo[0], hi[0]));
        const uint64_t got_b = k_fx_round_max(k_fx_magnitude(lo[1], hi[1]));
        CHECK(same_range(range, want) && same_range(range + 1, want + 1) && got_w == want_fw &&
                  got_b == want_fb,
              "e=%d chunk %d combined: %ld out of range (want %ld), largest %llu %llu (want %llu "
              "%llu) (B=%d IN=%d OUT=%d)", cfg[k].e, chunk, range[0].count + range[1].count,
              want_range,
              (unsigned long long)got_w, (unsigned long long)got_b, (unsigned long long)want_fw,
              (unsigned long long)want_fb, c->B, c->IN, c->OUT);
        CHECK(memcmp(part[0], xw, (size_t)n * 4) == 0 && memcmp(part[0] + n, xb, (size_t)c->OUT * 4) == 0,
              "e=%d combined: floats differ from the integer sums converted (B=%d IN=%d OUT=%d)",
              cfg[k].e, c->B, c->IN, c->OUT);
    }
    /* a NaN or an Inf input is counted as non-finite, not as out of range,
     * with the scale inside float's range and beyond it */
    static const struct { int e; float bad; } nf[] = {{20, NAN}, {-130, INFINITY}};
    const float first_input = c->inp[(c->B - 1) * c->ldi];
    for (int k = 0; k < 2; k++) {
        c->inp[(c->B - 1) * c->ldi] = nf[k].bad;
        long nonfinite = 0;
        k_range range[2] = {{0}};
        k_dense_backward_weights_fx(gw, gb, nf[k].e, nf[k].e, 0x1p30, c->dout, c->ldo, c->inp,
                                    c->ldi, c->B, chunk, c->IN, c->OUT, 1, &nonfinite, range, NULL);
        CHECK(nonfinite > 0 && range[0].count + range[1].count == 0,
              "%g at e=%d: %ld non-finite, %ld out of range", nf[k].bad, nf[k].e, nonfinite,
              range[0].count + range[1].count);
        uint64_t max[2];
        nonfinite = 0;
        k_dense_backward_weights_fx_final(cw, cb, nf[k].e, nf[k].e, 0x1p30, c->dout, c->ldo,
                                          c->inp, c->ldi, c->B, chunk, c->IN, c->OUT, max,
                                          &nonfinite, range);
        CHECK(nonfinite > 0 && range[0].count + range[1].count == 0,
              "%g at e=%d final: %ld non-finite, %ld out of range", nf[k].bad, nf[k].e, nonfinite,
              range[0].count + range[1].count);
        /* combined, a NaN or Inf counts as 0 (the kernels counted it): not out of range */
        part[nch - 1][0] = nf[k].bad;
        int64_t lo = 0, hi = 0;
        k_fx_combine(part[0], (const float *const *)part, nch, 0, (size_t)n, nf[k].e, 0x1p30,
                     &range[0], &lo, &hi);
        CHECK(range[0].count == 0 && isfinite(part[0][0]),
              "%g at e=%d combined: %ld out of range, %g", nf[k].bad, nf[k].e, range[0].count,
              part[0][0]);
    }
    c->inp[(c->B - 1) * c->ldi] = first_input; /* for the next chunk size */
    for (int i = 0; i < nch; i++) aligned_free(part[i]);
    free(part);
    aligned_free(d), aligned_free(cw), aligned_free(cb), aligned_free(gw), aligned_free(gb);
    free(ew), free(eb), free(xw), free(xb);
}

static void forward_matches_reference(void) {
    const int shapes = for_each_shape(check_forward);
    CHECK(shapes == 336, "%d shapes, expected 336", shapes);
}
static void weight_gradients_match_reference(void) { for_each_shape(check_weight_gradients); }
static void input_deltas_match_reference(void) { for_each_shape(check_input_deltas); }
static void sample_alone_gives_same_bits(void) { for_each_shape(check_position_independence); }
static void nonfinite_gradient_counted(void) { for_each_shape(check_nonfinite_counted); }
/* chunks of 4, and a block of two chunks or one (the final kernel's sums
 * in float) */
static void check_fixed_point(kcase *c) {
    check_fixed_point_chunks(c, 4);
    check_fixed_point_chunks(c, (c->B + 1) / 2);
    check_fixed_point_chunks(c, c->B);
}
static void fixed_point_sums_exact(void) { for_each_shape(check_fixed_point); }
/* Large enough for threads (3, an uneven split of the row tiles) and for
 * several column strips with a tail in the weight-gradient kernels */
static void fixed_point_sums_exact_threaded(void) {
    kcase c;
    kcase_make(&c, 1000, 64, 300, 50);
    omp_set_num_threads(3);
    check_fixed_point(&c);
    check_fixed_point_chunks(&c, 22); /* three chunks, the last shorter: integers */
    kcase_free(&c);
}

/* out[s][j] in the bits every kernel set must give: 16 lanes, lane t
 * accumulating k = t (mod 16) by fused multiply-adds in order, the lanes
 * added as (l + l+8), then (+4), then (a0 + a2) + (a1 + a3), the terms past
 * the last whole 16 by fused multiply-adds in order, + b, the activation */
static float forward_reference_bits(const kcase *c, int s, int j) {
    const float *x = c->inp + (size_t)s * c->ldi, *w = c->w + (size_t)j * c->IN;
    const int kv = c->IN / 16 * 16;
    float lane[16] = {0};
    for (int k = 0; k < kv; k++) lane[k % 16] = fmaf(x[k], w[k], lane[k % 16]);
    float a[4];
    for (int t = 0; t < 4; t++) a[t] = (lane[t] + lane[t + 8]) + (lane[t + 4] + lane[t + 12]);
    float d = (a[0] + a[2]) + (a[1] + a[3]);
    for (int k = kv; k < c->IN; k++) d = fmaf(x[k], w[k], d);
    return act_apply(d + c->b[j], c->act);
}
static void check_forward_bits(kcase *c) {
    for (int s = 0; s < c->B; s++)
        for (int j = 0; j < c->OUT; j++) {
            const float got = c->out[(size_t)s * c->ldo + j], want = forward_reference_bits(c, s, j);
            CHECK(memcmp(&got, &want, sizeof got) == 0,
                  "B=%d IN=%d OUT=%d act=%d: out[%d][%d] = %a, the 16-lane reference %a", c->B,
                  c->IN, c->OUT, (int)c->act, s, j, got, want);
        }
}
static void forward_has_every_sets_bits(void) { for_each_shape(check_forward_bits); }

/* The kernels' vfma and sfma against fmaf: random operands of every
 * magnitude (subnormal, Inf, NaN included), and products whose sum with c
 * rounds to double exactly on a float midpoint (a * b = 2^e (1 - u^2
 * 2^-46), c with a last place of 2^(e + 1)), where a multiply and an add in
 * double would round twice. */
static unsigned fr = 2463534242u;
static unsigned next_bits(void) {
    fr ^= fr << 13, fr ^= fr >> 17, fr ^= fr << 5;
    return fr;
}
static float any_float(void) {
    const unsigned u = next_bits();
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static void midpoint_case(float *a, float *b, float *c) {
    const int e1 = (int)(next_bits() % 120) - 80, e2 = (int)(next_bits() % 40) - 20;
    const float u = (float)(1 + next_bits() % 2048);
    *a = ldexpf(1.0f + u * 0x1p-23f, e1) * (next_bits() & 1 ? -1.0f : 1.0f);
    *b = ldexpf(1.0f - u * 0x1p-23f, e2);
    const unsigned bits = (unsigned)(e1 + e2 + 24 + 127) << 23 | (next_bits() & 0x807fffffu);
    memcpy(c, &bits, sizeof bits);
}
static void fused_multiply_add_exact(void) {
    long wrong = 0, midpoints = 0;
    for (int i = 0; i < 200000; i++) {
        float a[VL], b[VL], c[VL];
        for (int t = 0; t < VL; t++) {
            if (i % 2) {
                midpoint_case(&a[t], &b[t], &c[t]);
                midpoints += (float)((double)a[t] * b[t] + c[t]) != fmaf(a[t], b[t], c[t]);
            } else {
                a[t] = any_float(), b[t] = any_float(), c[t] = any_float();
            }
        }
        const vf r = vfma(vload(a), vload(b), vload(c));
        for (int t = 0; t < VL; t++) {
            const float want = fmaf(a[t], b[t], c[t]), got = r[t], one = sfma(a[t], b[t], c[t]);
            if (isnan(want) ? !isnan(got) || !isnan(one)
                            : memcmp(&got, &want, sizeof got) || memcmp(&one, &want, sizeof one)) {
                if (wrong++ < 5)
                    CHECK(0, "fma(%a, %a, %a) = %a, vfma %a, sfma %a", a[t], b[t], c[t], want, got, one);
            }
        }
    }
    CHECK(wrong == 0, "%ld fused multiply-adds differ from fmaf", wrong);
    CHECK(midpoints > 1000, "only %ld cases where rounding twice errs: the test lost its edge", midpoints);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {
        SCENARIO(forward_matches_reference),     SCENARIO(weight_gradients_match_reference),
        SCENARIO(input_deltas_match_reference),  SCENARIO(sample_alone_gives_same_bits),
        SCENARIO(nonfinite_gradient_counted),    SCENARIO(fixed_point_sums_exact),
        SCENARIO(fixed_point_sums_exact_threaded), SCENARIO(forward_has_every_sets_bits),
        SCENARIO(fused_multiply_add_exact),
    };
    return RUN_SCENARIOS(argc, argv, scenarios);
}
