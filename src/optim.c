/* SPDX-License-Identifier: MIT */
/*
 * optim.c - update rules on the flat parameter buffer: the derivation's
 * gradient descent theta <- theta - lr grad C, momentum and Adam, with
 * optional L2 weight decay on the weights. The gradient arrives as the SUM
 * over the global batch with its divisor m; the mean (base.h's mean_of, the
 * 1/m rule) is taken inside the update loop, so the sum is read once; in
 * reproducible mode the sum may arrive as 64-bit fixed point, turned into
 * floats in the same loop. Identical inputs give identical updates on
 * every rank.
 */
#include "optim.h"

#include "base.h"
#include "kernels.h"

#include <math.h>
#include <string.h>

int optimizer_init(optimizer *o, const descent_train_config *cfg, size_t n) {
    memset(o, 0, sizeof *o);
    o->kind = cfg->optimizer;
    o->n = n;
    if (o->kind != DESCENT_OPT_GD) {
        o->m = aligned_calloc(n, sizeof(float));
        if (!o->m) return DESCENT_E_NOMEM;
    }
    if (o->kind == DESCENT_OPT_ADAM) {
        o->v = aligned_calloc(n, sizeof(float));
        if (!o->v) { aligned_free(o->m); o->m = NULL; return DESCENT_E_NOMEM; }
    }
    return DESCENT_OK;
}

void optimizer_free(optimizer *o) {
    aligned_free(o->m);
    aligned_free(o->v);
    memset(o, 0, sizeof *o);
}

/* A fixed-point gradient sum back as a float (kernels.h), with the
 * extremes seen so far in *lo and *hi */
static inline float fx_value(int64_t v, double unscale, int64_t *lo, int64_t *hi) {
    *lo = v < *lo ? v : *lo;
    *hi = v > *hi ? v : *hi;
    return k_fx_value(v, unscale);
}

/* p[i] -= step(mean_of(g[i], m) + wd * p[i]) over one contiguous range,
 * inside a parallel region: every element is computed alone, so any split
 * across threads gives the same bits. g is the gradient sum, mb the global
 * batch; with fixed, the sums are gx[i] * unscale instead (reproducible
 * mode, converted here rather than in a pass of their own), and *max is
 * raised to the largest |gx[i]| this thread saw. One copy of the loops per
 * value of fixed (a constant where this is inlined). */
static inline __attribute__((always_inline)) void
update_range(optimizer *o, const descent_train_config *cfg, float lr, float *p, const float *g,
             const int64_t *gx, double unscale, float mb, size_t off, size_t len, float wd,
             const int fixed, uint64_t *max) {
    float *m = o->m ? o->m + off : NULL, *v = o->v ? o->v + off : NULL;
    int64_t lo = 0, hi = 0;
#define GRAD_SUM(i) (fixed ? fx_value(gx[i], unscale, &lo, &hi) : g[i])
    switch (o->kind) {
    case DESCENT_OPT_GD:
#pragma omp for schedule(static) nowait
        for (size_t i = 0; i < len; i++) p[i] -= lr * (mean_of(GRAD_SUM(i), mb) + wd * p[i]);
        break;
    case DESCENT_OPT_MOMENTUM: {
        const float mu = (float)cfg->momentum;
#pragma omp for schedule(static) nowait
        for (size_t i = 0; i < len; i++) {
            m[i] = mu * m[i] + (mean_of(GRAD_SUM(i), mb) + wd * p[i]);
            p[i] -= lr * m[i];
        }
        break;
    }
    case DESCENT_OPT_ADAM: {
        const float b1 = (float)cfg->beta1, b2 = (float)cfg->beta2, eps = (float)cfg->eps;
        const float c1 = (float)(1.0 - pow(cfg->beta1, (double)o->t));
        const float c2 = (float)(1.0 - pow(cfg->beta2, (double)o->t));
#pragma omp for schedule(static) nowait
        for (size_t i = 0; i < len; i++) {
            const float gi = mean_of(GRAD_SUM(i), mb) + wd * p[i];
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            p[i] -= lr * (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
        }
        break;
    }
    default:
        break;
    }
#undef GRAD_SUM
    if (fixed) {
        const uint64_t mag = k_fx_magnitude(lo, hi);
#pragma omp critical(descent_fx_max)
        if (mag > *max) *max = mag;
    }
}

/* Every layer's weights and biases (weight decay on the weights only) */
static inline __attribute__((always_inline)) void
update_all(optimizer *o, const descent_train_config *cfg, double lr, descent_net *net,
           const float *g, const int64_t *gx, const int *sw, const int *sb, float m,
           uint64_t *max, const int fixed) {
    o->t++;
    const float wd = (float)cfg->weight_decay;
    if (fixed) memset(max, 0, 2 * (size_t)net->L * sizeof(uint64_t));
#pragma omp parallel if (net->n_params >= PARALLEL_MIN_ELEMENTS)
    for (int l = 0; l < net->L; l++) {
        const size_t wo = net->w_off[l], bo = net->b_off[l];
        const size_t nb = (size_t)net->sizes[l + 1];
        const double uw = fixed ? ldexp(1.0, -sw[l]) : 0.0, ub = fixed ? ldexp(1.0, -sb[l]) : 0.0;
        update_range(o, cfg, (float)lr, net->params + wo, fixed ? NULL : g + wo,
                     fixed ? gx + wo : NULL, uw, m, wo, bo - wo, wd, fixed,
                     fixed ? &max[2 * l] : NULL);
        update_range(o, cfg, (float)lr, net->params + bo, fixed ? NULL : g + bo,
                     fixed ? gx + bo : NULL, ub, m, bo, nb, 0.0f, fixed,
                     fixed ? &max[2 * l + 1] : NULL);
    }
}

void optimizer_step(optimizer *o, const descent_train_config *cfg, double lr, descent_net *net,
                    const float *grad_sum, float m) {
    update_all(o, cfg, lr, net, grad_sum, NULL, NULL, NULL, m, NULL, 0);
}

void optimizer_step_fx(optimizer *o, const descent_train_config *cfg, double lr,
                       descent_net *net, const int64_t *grad_sum, const int *sw, const int *sb,
                       float m, uint64_t *max) {
    update_all(o, cfg, lr, net, NULL, grad_sum, sw, sb, m, max, 1);
}
