/* SPDX-License-Identifier: MIT */
/*
 * net.c - the network: widths, activations and cost; ONE parameter buffer
 * with the layers as views into it; initialisation; the forward and backward
 * pass over a block of samples (the derivation, blocked so the per-sample
 * outer products become matrix products: see docs/derivation.md).
 */
#include "net.h"

#include "activation.h"
#include "base.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Largest accepted width and parameter count: far beyond any sane network,
 * small enough that size arithmetic cannot overflow. */
#define MAX_WIDTH (1 << 24)
#define MAX_LAYERS 1024
#define MAX_PARAMS ((size_t)1 << 34)

size_t net_layout(int L, const int *sizes, size_t *w_off, size_t *b_off) {
    size_t off = 0;
    for (int l = 0; l < L; l++) {
        if (w_off) w_off[l] = off;
        off += (size_t)sizes[l + 1] * (size_t)sizes[l];
        if (b_off) b_off[l] = off;
        off += (size_t)sizes[l + 1];
    }
    return off;
}

int descent_net_create(descent_net **out, int L, const int *sizes, const descent_act *acts,
                       descent_cost cost, descent_error *err) {
    REQUIRE_ARG(err, out);
    REQUIRE_ARG(err, sizes);
    REQUIRE_ARG(err, acts);
    *out = NULL;
    if (L < 1 || L > MAX_LAYERS)
        return set_error(err, DESCENT_E_USAGE, "a network needs 1 to %d weight layers (got %d)",
                         MAX_LAYERS, L);
    if ((unsigned)cost >= DESCENT_COST_COUNT)
        return set_error(err, DESCENT_E_USAGE, "unknown cost %d", (int)cost);
    for (int i = 0; i <= L; i++)
        if (sizes[i] < 1 || sizes[i] > MAX_WIDTH)
            return set_error(err, DESCENT_E_USAGE, "layer width %d must be 1..%d (got %d)", i,
                             MAX_WIDTH, sizes[i]);
    for (int l = 0; l < L; l++) {
        if ((unsigned)acts[l] >= DESCENT_ACT_COUNT)
            return set_error(err, DESCENT_E_USAGE, "layer %d: unknown activation", l + 1);
        if (acts[l] == DESCENT_ACT_SOFTMAX && l != L - 1)
            return set_error(err, DESCENT_E_USAGE,
                             "layer %d: softmax is only allowed on the output layer", l + 1);
    }
    if (cost == DESCENT_COST_XENT && acts[L - 1] != DESCENT_ACT_SOFTMAX)
        return set_error(err, DESCENT_E_USAGE,
                         "cross-entropy needs a softmax output layer (the output is %s)",
                         descent_act_name(acts[L - 1]));
    if (acts[L - 1] == DESCENT_ACT_SOFTMAX && sizes[L] < 2)
        return set_error(err, DESCENT_E_USAGE, "softmax needs at least 2 outputs");
    size_t n = 0;
    for (int l = 0; l < L; l++) {
        n += ((size_t)sizes[l] + 1) * (size_t)sizes[l + 1];
        if (n > MAX_PARAMS)
            return set_error(err, DESCENT_E_NOMEM, "network has too many parameters (> %zu)",
                             MAX_PARAMS);
    }
    descent_net *net = calloc(1, sizeof *net);
    if (!net) return set_error(err, DESCENT_E_NOMEM, "out of memory");
    net->L = L;
    net->cost = cost;
    net->sizes = malloc(sizeof(int) * (size_t)(L + 1));
    net->acts = malloc(sizeof(descent_act) * (size_t)L);
    net->w_off = malloc(sizeof(size_t) * (size_t)L);
    net->b_off = malloc(sizeof(size_t) * (size_t)L);
    if (net->sizes && net->acts && net->w_off && net->b_off) {
        memcpy(net->sizes, sizes, sizeof(int) * (size_t)(L + 1));
        memcpy(net->acts, acts, sizeof(descent_act) * (size_t)L);
        net->n_params = net_layout(L, sizes, net->w_off, net->b_off);
        net->params = aligned_calloc(net->n_params, sizeof(float));
    }
    if (!net->params) {
        descent_net_free(net);
        return set_error(err, DESCENT_E_NOMEM, "out of memory for %zu parameters", n);
    }
    *out = net;
    return DESCENT_OK;
}

void descent_net_free(descent_net *net) {
    if (!net) return;
    free(net->sizes);
    free(net->acts);
    free(net->w_off);
    free(net->b_off);
    aligned_free(net->params);
    free(net->in_mean);
    free(net->in_std);
    free(net->prov_record);
    free(net->prov_parent);
    free(net->prov_text);
    free(net);
}

void descent_net_init(descent_net *net, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed, 0x1417ull);
    for (int l = 0; l < net->L; l++) {
        const double fan_in = net->sizes[l], fan_out = net->sizes[l + 1];
        /* uniform in [-limit, limit], limit from the activation's rule */
        const double limit = act_init_rule(net->acts[l]) == INIT_HE
                                 ? sqrt(6.0 / fan_in)
                                 : sqrt(6.0 / (fan_in + fan_out));
        float *w = net->params + net->w_off[l];
        const size_t nw = (size_t)net->sizes[l + 1] * (size_t)net->sizes[l];
        for (size_t i = 0; i < nw; i++) w[i] = (float)((2.0 * rng_uniform(&r) - 1.0) * limit);
        memset(net->params + net->b_off[l], 0, sizeof(float) * (size_t)net->sizes[l + 1]);
    }
}

int descent_net_layers(const descent_net *net) { return net->L; }
int descent_net_size(const descent_net *net, int i) { return net->sizes[i]; }
descent_act descent_net_act(const descent_net *net, int l) { return net->acts[l]; }
descent_cost descent_net_cost(const descent_net *net) { return net->cost; }
size_t descent_net_num_params(const descent_net *net) { return net->n_params; }
float *descent_net_params(descent_net *net) { return net->params; }
const float *descent_net_params_const(const descent_net *net) { return net->params; }
float *descent_net_weights(descent_net *net, int l) { return net->params + net->w_off[l]; }
float *descent_net_biases(descent_net *net, int l) { return net->params + net->b_off[l]; }

/* ---- workspace ------------------------------------------------------------ */
int workspace_init(workspace *ws, const descent_net *net, int bcap) {
    memset(ws, 0, sizeof *ws);
    ws->bcap = bcap;
    ws->L = net->L;
    ws->ld = calloc((size_t)net->L + 1, sizeof(int));
    ws->act = calloc((size_t)net->L + 1, sizeof(float *));
    if (!ws->ld || !ws->act) goto fail;
    for (int l = 0; l <= net->L; l++) {
        ws->ld[l] = round_up_int(net->sizes[l], DESCENT_ALIGN_FLOATS);
        if (ws->ld[l] > ws->ldmax) ws->ldmax = ws->ld[l];
        ws->act[l] = aligned_calloc((size_t)bcap * (size_t)ws->ld[l], sizeof(float));
        if (!ws->act[l]) goto fail;
    }
    for (int i = 0; i < 2; i++) {
        ws->delta[i] = aligned_calloc((size_t)bcap * (size_t)ws->ldmax, sizeof(float));
        if (!ws->delta[i]) goto fail;
    }
    ws->ldy = ws->ld[net->L];
    ws->y = aligned_calloc((size_t)bcap * (size_t)ws->ldy, sizeof(float));
    if (!ws->y) goto fail;
    return DESCENT_OK;
fail:
    workspace_free(ws);
    return DESCENT_E_NOMEM;
}

void workspace_free(workspace *ws) {
    if (ws->act)
        for (int l = 0; l <= ws->L; l++) aligned_free(ws->act[l]);
    free(ws->act);
    free(ws->ld);
    aligned_free(ws->delta[0]);
    aligned_free(ws->delta[1]);
    aligned_free(ws->y);
    memset(ws, 0, sizeof *ws);
}

/* ---- one block: forward, cost, backward ----------------------------------- */
/* The input of weight layer l: the block's a_{l-1} (after dropout while
 * training with it) */
static const float *layer_input(const workspace *ws, int l) {
    return ws->drop && l > 0 ? ws->drop->masked[l] : ws->act[l];
}

/* dC/dW_l += delta_l a_{l-1}^T ; dC/db_l += delta_l (summed over the block),
 * for output rows [r0, r1) of layer l: each row's sums are the same
 * operations whatever rows are computed with it (kernels.h) */
static void weight_gradient_rows(const descent_net *net, const workspace *ws, int l, int cur,
                                 int B, float *grad, int add, fx_grad *fx, int r0, int r1,
                                 const k_progress *progress, block_stats *st) {
    const int IN = net->sizes[l];
    const size_t wo = net->w_off[l] + (size_t)r0 * (size_t)IN, bo = net->b_off[l] + (size_t)r0;
    const float *delta = ws->delta[cur] + r0, *in = layer_input(ws, l);
    if (!fx) {
        long nonfinite = 0;
        k_dense_backward_weights(grad + wo, grad + bo, delta, ws->ldmax, in, ws->ld[l], B, IN,
                                 r1 - r0, add, &nonfinite, progress);
        st->nonfinite += (double)nonfinite;
    } else if (!fx->out) { /* one float sum per fixed chunk of samples, then exact integer sums */
        k_dense_backward_weights_fx(fx->g + wo, fx->g + bo, fx->w_exp[l], fx->b_exp[l], fx->limit,
                                    delta, ws->ldmax, in, ws->ld[l], B, fx->chunk, IN, r1 - r0,
                                    add, &fx->nonfinite, fx->range + 2 * l, progress);
    } else { /* the same integer sums, final: straight back to floats */
        uint64_t max[2];
        k_dense_backward_weights_fx_final(fx->out + wo, fx->out + bo, fx->w_exp[l], fx->b_exp[l],
                                          fx->limit, delta, ws->ldmax, in, ws->ld[l], B,
                                          fx->chunk, IN, r1 - r0, max, &fx->nonfinite,
                                          fx->range + 2 * l);
        for (int t = 0; t < 2; t++)
            if (max[t] > fx->max[2 * l + t]) fx->max[2 * l + t] = max[t];
    }
}

void net_block(const descent_net *net, workspace *ws, int B, float *grad, int add,
               fx_grad *fx, int classification, const grad_ready *ready, block_stats *st) {
    const int L = net->L;
    const int *n = net->sizes;
    net_standardize_block(net, ws->act[0], ws->ld[0], B);
    for (int l = 0; l < L; l++) {
        k_dense_forward(ws->act[l + 1], ws->ld[l + 1], layer_input(ws, l), ws->ld[l],
                        net->params + net->w_off[l], net->params + net->b_off[l], B, n[l],
                        n[l + 1], net->acts[l]);
        if (ws->drop && l + 1 < L)
            dropout_forward(ws->drop, l + 1, B, n[l + 1], ws->act[l + 1], ws->ld[l + 1]);
    }
    /* delta_L = dC0/da (.) sigma'(z_L), or the softmax forms (k_cost) */
    int cur = 0;
    k_cost(ws->act[L], ws->ld[L], ws->y, ws->ldy, ws->delta[cur], ws->ldmax, B, n[L],
           net->acts[L - 1], net->cost, classification, st);
    if (!grad && !fx) return;
    const k_progress *progress = ready ? &ready->progress : NULL;
    for (int l = L - 1; l >= 0; l--) {
        /* the first layer's rows in pieces when the step reduces them as they come */
        const int rows = l == 0 && ready && ready->rows > 0 ? ready->rows : n[l + 1];
        for (int r0 = 0; r0 < n[l + 1]; r0 += rows) {
            const int r1 = n[l + 1] - r0 < rows ? n[l + 1] : r0 + rows;
            weight_gradient_rows(net, ws, l, cur, B, grad, add, fx, r0, r1, progress, st);
            if (ready) ready->final(ready->ctx, l, r0, r1);
        }
        if (l > 0) {
            /* delta_{l-1} = (W_l^T delta_l) (.) sigma'(z_{l-1}), sigma' from the output
             * before dropout; then times the unit's dropout factor */
            k_dense_backward_input(ws->delta[1 - cur], ws->ldmax, ws->delta[cur], ws->ldmax,
                                   net->params + net->w_off[l], ws->act[l], ws->ld[l], B, n[l],
                                   n[l + 1], net->acts[l - 1]);
            if (ws->drop)
                dropout_backward(ws->drop, l, B, n[l], ws->ld[l], ws->delta[1 - cur], ws->ldmax);
            cur = 1 - cur;
        }
    }
}

/* ---- prediction from the caller's arrays ------------------------------------ */

int descent_net_predict(const descent_net *net, const float *x, size_t count, float *out,
                        descent_error *err) {
    REQUIRE_ARG(err, net);
    REQUIRE_ARG(err, x);
    REQUIRE_ARG(err, out);
    workspace ws;
    if (workspace_init(&ws, net, BLOCK_CAP))
        return set_error(err, DESCENT_E_NOMEM, "out of memory for the forward pass");
    const int L = net->L, nin = net->sizes[0], nout = net->sizes[L];
    for (size_t s0 = 0; s0 < count; s0 += BLOCK_CAP) {
        const int B = count - s0 < BLOCK_CAP ? (int)(count - s0) : BLOCK_CAP;
        for (int s = 0; s < B; s++)
            memcpy(ws.act[0] + (size_t)s * ws.ld[0], x + (s0 + s) * nin, sizeof(float) * nin);
        net_standardize_block(net, ws.act[0], ws.ld[0], B);
        for (int l = 0; l < L; l++)
            k_dense_forward(ws.act[l + 1], ws.ld[l + 1], ws.act[l], ws.ld[l],
                            net->params + net->w_off[l], net->params + net->b_off[l], B,
                            net->sizes[l], net->sizes[l + 1], net->acts[l]);
        if (net->acts[L - 1] == DESCENT_ACT_SOFTMAX) k_softmax(ws.act[L], ws.ld[L], B, nout);
        for (int s = 0; s < B; s++)
            memcpy(out + (s0 + s) * nout, ws.act[L] + (size_t)s * ws.ld[L], sizeof(float) * nout);
    }
    workspace_free(&ws);
    return DESCENT_OK;
}
