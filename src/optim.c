/*
 * optim.c - update rules on the flat parameter buffer: the derivation's
 * gradient descent theta <- theta - lr grad C, momentum and Adam, with
 * optional L2 weight decay on the weights. The gradient arrives as the SUM
 * over the global batch with its divisor m; the mean (step.h's mean_of, the
 * 1/m rule) is taken inside the update loop, so the sum is read once.
 * Identical inputs give identical updates on every rank.
 */
#include "optim.h"

#include "base.h"
#include "step.h"

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

/* p[i] -= step(mean_of(g[i], m) + wd * p[i]) over one contiguous range,
 * inside a parallel region: every element is computed alone, so any split
 * across threads gives the same bits. g is the gradient sum, mb the global
 * batch. */
static void update_range(optimizer *o, const descent_train_config *cfg, float lr, float *p,
                         const float *g, float mb, size_t off, size_t len, float wd) {
    float *m = o->m ? o->m + off : NULL, *v = o->v ? o->v + off : NULL;
    switch (o->kind) {
    case DESCENT_OPT_GD:
#pragma omp for schedule(static) nowait
        for (size_t i = 0; i < len; i++) p[i] -= lr * (mean_of(g[i], mb) + wd * p[i]);
        break;
    case DESCENT_OPT_MOMENTUM: {
        const float mu = (float)cfg->momentum;
#pragma omp for schedule(static) nowait
        for (size_t i = 0; i < len; i++) {
            m[i] = mu * m[i] + (mean_of(g[i], mb) + wd * p[i]);
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
            const float gi = mean_of(g[i], mb) + wd * p[i];
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            p[i] -= lr * (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
        }
        break;
    }
    default:
        break;
    }
}

void optimizer_step(optimizer *o, const descent_train_config *cfg, double lr, descent_net *net,
                    const float *grad_sum, float m) {
    o->t++;
    const float wd = (float)cfg->weight_decay;
#pragma omp parallel if (net->n_params >= 65536)
    for (int l = 0; l < net->L; l++) {
        const size_t wo = net->w_off[l], bo = net->b_off[l];
        const size_t nb = (size_t)net->sizes[l + 1];
        update_range(o, cfg, (float)lr, net->params + wo, grad_sum + wo, m, wo, bo - wo, wd);
        update_range(o, cfg, (float)lr, net->params + bo, grad_sum + bo, m, bo, nb, 0.0f);
    }
}
