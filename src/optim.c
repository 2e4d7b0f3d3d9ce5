/* SPDX-License-Identifier: MIT */
/*
 * optim.c - update rules on the flat parameter buffer: the derivation's
 * gradient descent theta <- theta - lr grad C, momentum and Adam, with
 * optional L2 weight decay on the weights. The gradient arrives as the SUM
 * over the global batch with its divisor m; the mean (base.h's mean_of, the
 * 1/m rule) is taken inside the update loop, so the sum is read once; sums
 * held in another form (the reproducible mode's fixed point) arrive through
 * a converter, a tile at a time. Identical inputs give identical updates on
 * every rank.
 */
#include "optim.h"

#include "base.h"

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

/* Parameters updated a tile at a time: a converter fills one tile of sums
 * on the stack, where the update reads it from L1 */
#define UPDATE_TILE 1024

/* p[i] -= step(mean_of(g[i], mb) + wd * p[i]) for i < len, with the rule's
 * state m, v at the same offset: every element is computed alone, so any
 * split across threads gives the same bits */
static void update_tile(const optimizer *o, const descent_train_config *cfg, float lr, float *p,
                        const float *g, float *m, float *v, float mb, size_t len, float wd) {
    switch (o->kind) {
    case DESCENT_OPT_GD:
        for (size_t i = 0; i < len; i++) p[i] -= lr * (mean_of(g[i], mb) + wd * p[i]);
        break;
    case DESCENT_OPT_MOMENTUM: {
        const float mu = (float)cfg->momentum;
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

/* One tensor, elements [off, off + len) of the buffers, split into tiles
 * across the threads of the enclosing parallel region; the sums are
 * g[off...] or, with conv, what conv reads */
static void update_tensor(const optimizer *o, const descent_train_config *cfg, float lr,
                          float *params, const float *g, const grad_converter *conv, int tensor,
                          float mb, size_t off, size_t len, float wd) {
    const size_t tiles = (len + UPDATE_TILE - 1) / UPDATE_TILE;
#pragma omp for schedule(static) nowait
    for (size_t t = 0; t < tiles; t++) {
        const size_t at = off + t * UPDATE_TILE;
        const size_t n = off + len - at < UPDATE_TILE ? off + len - at : UPDATE_TILE;
        float tile[UPDATE_TILE] __attribute__((aligned(DESCENT_ALIGN_BYTES)));
        const float *sums = g + at;
        if (conv) {
            conv->read(conv->ctx, tensor, at, n, tile);
            sums = tile;
        }
        update_tile(o, cfg, lr, params + at, sums, o->m ? o->m + at : NULL,
                    o->v ? o->v + at : NULL, mb, n, wd);
    }
}

/* Every layer's weights and biases (weight decay on the weights only) */
static void update_all(optimizer *o, const descent_train_config *cfg, double lr,
                       descent_net *net, const float *g, const grad_converter *conv, float m) {
    o->t++;
    const float wd = (float)cfg->weight_decay;
#pragma omp parallel if (net->n_params >= PARALLEL_MIN_ELEMENTS)
    for (int l = 0; l < net->L; l++) {
        const size_t wo = net->w_off[l], bo = net->b_off[l];
        update_tensor(o, cfg, (float)lr, net->params, g, conv, 2 * l, m, wo, bo - wo, wd);
        update_tensor(o, cfg, (float)lr, net->params, g, conv, 2 * l + 1, m, bo,
                      (size_t)net->sizes[l + 1], 0.0f);
    }
}

void optimizer_step(optimizer *o, const descent_train_config *cfg, double lr, descent_net *net,
                    const float *grad_sum, float m) {
    update_all(o, cfg, lr, net, grad_sum, NULL, m);
}

void optimizer_step_converted(optimizer *o, const descent_train_config *cfg, double lr,
                              descent_net *net, const grad_converter *conv, float m) {
    update_all(o, cfg, lr, net, NULL, conv, m);
}
