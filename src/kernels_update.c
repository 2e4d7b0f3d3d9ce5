/* SPDX-License-Identifier: MIT */
/*
 * kernels_update.c - the optimizers' update rules on a run of parameters
 * (kernels.h's k_update), compiled with each kernel set like the layer
 * kernels; optim.c walks the parameter buffer and calls it a tile at a
 * time. Compiled without errno for the square root (CMakeLists.txt): the
 * same correctly rounded value as one vector instruction, so the loop
 * vectorises.
 */
#include "kernels.h"

#include "base.h"

#include <math.h>

void k_update(const k_rule *r, float *p, const float *g, float *m, float *v, size_t len) {
    const float lr = r->lr, mb = r->mb, wd = r->wd;
    switch (r->kind) {
    case DESCENT_OPT_GD:
        for (size_t i = 0; i < len; i++) p[i] -= lr * (mean_of(g[i], mb) + wd * p[i]);
        break;
    case DESCENT_OPT_MOMENTUM: {
        const float mu = r->momentum;
        for (size_t i = 0; i < len; i++) {
            m[i] = mu * m[i] + (mean_of(g[i], mb) + wd * p[i]);
            p[i] -= lr * m[i];
        }
        break;
    }
    case DESCENT_OPT_ADAM: {
        const float b1 = r->beta1, b2 = r->beta2, eps = r->eps, c1 = r->c1, c2 = r->c2;
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
