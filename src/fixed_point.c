/* SPDX-License-Identifier: MIT */
/*
 * fixed_point.c - the reproducible mode's policy (fixed_point.h): where
 * each tensor's scale starts, how it follows the sums, what happens when a
 * value leaves the range, and the host's combine. The step (step.c) calls
 * these in order; the kernels (kernels_fx.c) apply the scales.
 */
#include "fixed_point.h"

#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A batch of nc chunks accepts chunk sums below 2^(30 - floor(log2 nc))
 * (fx_chunk_limit), so that any sum of them fits in an int32; the largest
 * reduced sum is placed FX_HEADROOM_BITS below that, so a chunk's sum may
 * grow 2^FX_HEADROOM_BITS times past the last step's largest sum before a
 * redo, which lowers the scales of the tensors out of range so far that
 * they fit. A scale stays within 2^+-FX_EXPONENT_BOUND, where every finite
 * float fits (2^128 * 2^-300 is far below any limit). */
#define FX_SUM_BITS 31
#define FX_HEADROOM_BITS 4
#define FX_INITIAL_EXPONENT 16
#define FX_EXPONENT_BOUND 300

static int floor_log2_u64(uint64_t x) { return 63 - __builtin_clzll(x); }

/* log2 of the limit of a batch of nc chunks */
static int limit_bits(size_t nc) { return FX_SUM_BITS - 1 - floor_log2_u64(nc ? nc : 1); }

int fx_scales_init(fx_scales *s, int L, size_t nc) {
    s->L = L;
    s->target = limit_bits(nc) - FX_HEADROOM_BITS;
    s->w_exp = calloc((size_t)L, sizeof(int));
    s->b_exp = calloc((size_t)L, sizeof(int));
    s->max = calloc(2 * (size_t)L, sizeof(uint64_t));
    if (!s->w_exp || !s->b_exp || !s->max) {
        fx_scales_free(s);
        return DESCENT_E_NOMEM;
    }
    for (int l = 0; l < L; l++) s->w_exp[l] = s->b_exp[l] = FX_INITIAL_EXPONENT;
    return DESCENT_OK;
}

void fx_scales_free(fx_scales *s) {
    free(s->w_exp);
    free(s->b_exp);
    free(s->max);
    memset(s, 0, sizeof *s);
}

void fx_scales_restore(fx_scales *s, const int32_t *w_exp, const int32_t *b_exp) {
    for (int l = 0; l < s->L; l++) {
        s->w_exp[l] = w_exp[l];
        s->b_exp[l] = b_exp[l];
    }
}

double fx_chunk_limit(size_t nc) { return ldexp(1.0, limit_bits(nc)); }

uint32_t fx_redo_shift(const k_range *range, double limit) {
    if (range->count == 0) return 0;
    /* the smallest s with largest * 2^-s < limit, a power of two */
    const int s = ilogb(range->largest) - ilogb(limit) + 1;
    return s < 1 ? 1 : (uint32_t)s;
}

/* An exponent within +-FX_EXPONENT_BOUND */
static int bounded(long e) {
    return e < -FX_EXPONENT_BOUND ? -FX_EXPONENT_BOUND
           : e > FX_EXPONENT_BOUND ? FX_EXPONENT_BOUND : (int)e;
}

void fx_lower_for_redo(fx_scales *s, const uint32_t *shift) {
    for (int l = 0; l < s->L; l++) {
        s->w_exp[l] = bounded((long)s->w_exp[l] - (long)shift[2 * l]);
        s->b_exp[l] = bounded((long)s->b_exp[l] - (long)shift[2 * l + 1]);
    }
}

void fx_next_scales(fx_scales *s) {
    for (int l = 0; l < s->L; l++)
        for (int t = 0; t < 2; t++) {
            int *ex = t ? &s->b_exp[l] : &s->w_exp[l];
            const uint64_t mx = s->max[2 * l + t];
            if (mx > 0) *ex = bounded((long)*ex + s->target - floor_log2_u64(k_fx_round_max(mx)));
        }
}

void fx_reader_start(fx_reader *r, const int32_t *sums, fx_scales *scales) {
    r->sums = sums;
    r->scales = scales;
    memset(scales->max, 0, 2 * (size_t)scales->L * sizeof(uint64_t));
}

/* *at = max(*at, v), with other threads doing the same */
static void raise_to(uint64_t *at, uint64_t v) {
    uint64_t seen = __atomic_load_n(at, __ATOMIC_RELAXED);
    while (v > seen &&
           !__atomic_compare_exchange_n(at, &seen, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

void fx_read_sums(void *ctx, int tensor, size_t off, size_t len, float *out) {
    fx_reader *r = ctx;
    const int l = tensor / 2;
    const int e = tensor % 2 ? r->scales->b_exp[l] : r->scales->w_exp[l];
    raise_to(&r->scales->max[tensor], k_fx_to_float(out, r->sums + off, len, e));
}

void fx_combine_part(void *ctx, size_t lo, size_t hi, const char *const *src, int nsrc,
                     char *dst) {
    fx_host_part *c = ctx;
    const descent_net *net = c->net;
    for (int r = 0; r < nsrc; r++) c->src[r] = (const float *)src[r];
    for (int t = 0; t < 2 * net->L; t++) {
        const int l = t / 2, bias = t % 2;
        const size_t t0 = bias ? net->b_off[l] : net->w_off[l];
        const size_t t1 = bias ? t0 + (size_t)net->sizes[l + 1] : net->b_off[l];
        const size_t a = t0 > lo ? t0 : lo, b = t1 < hi ? t1 : hi;
        int64_t qlo = 0, qhi = 0;
        if (a < b)
            k_fx_combine((float *)dst, c->src, nsrc, a, b - a,
                         bias ? c->scales->b_exp[l] : c->scales->w_exp[l], c->limit, &c->range[t],
                         &qlo, &qhi);
        c->max[t] = (int32_t)k_fx_magnitude(qlo, qhi); /* < 2^31: nc chunks within limit */
    }
}
