/* SPDX-License-Identifier: MIT */
/*
 * optim.c - the optimizers on the flat parameter buffer: the derivation's
 * gradient descent theta <- theta - lr grad C, momentum and Adam, with
 * optional L2 weight decay on the weights. Their state, the step count,
 * and the walk over the buffer, tensor by tensor and a tile at a time
 * across the threads; the rules themselves are kernels (k_update,
 * kernels_update.c). The gradient arrives as the SUM over the global batch
 * with its divisor m; the mean (base.h's mean_of, the 1/m rule) is taken
 * inside the rule, so the sum is read once; sums held in another form (the
 * reproducible mode's fixed point) arrive through a converter. Identical
 * inputs give identical updates on every rank.
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

/* Parameters updated a tile at a time: a converter fills one tile of sums
 * on the stack, where the update reads it from L1 */
#define UPDATE_TILE 1024

/* One tensor, elements [off, off + len) of the buffers, split into tiles
 * across the threads of the enclosing parallel region; the sums are
 * g[off...] or, with conv, what conv reads */
static void update_tensor(const optimizer *o, const k_rule *rule, float *params, const float *g,
                          const grad_converter *conv, int tensor, size_t off, size_t len) {
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
        k_update(rule, params + at, sums, o->m ? o->m + at : NULL, o->v ? o->v + at : NULL, n);
    }
}

/* Every layer's weights and biases (weight decay on the weights only) */
static void update_all(optimizer *o, const descent_train_config *cfg, double lr,
                       descent_net *net, const float *g, const grad_converter *conv, float m) {
    o->t++;
    const k_rule weights = {
        .kind = o->kind, .lr = (float)lr, .mb = m, .wd = (float)cfg->weight_decay,
        .momentum = (float)cfg->momentum, .beta1 = (float)cfg->beta1,
        .beta2 = (float)cfg->beta2, .eps = (float)cfg->eps,
        .c1 = (float)(1.0 - pow(cfg->beta1, (double)o->t)),
        .c2 = (float)(1.0 - pow(cfg->beta2, (double)o->t))};
    k_rule biases = weights;
    biases.wd = 0.0f;
#pragma omp parallel if (net->n_params >= PARALLEL_MIN_ELEMENTS)
    for (int l = 0; l < net->L; l++) {
        const size_t wo = net->w_off[l], bo = net->b_off[l];
        update_tensor(o, &weights, net->params, g, conv, 2 * l, wo, bo - wo);
        update_tensor(o, &biases, net->params, g, conv, 2 * l + 1, bo, (size_t)net->sizes[l + 1]);
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
