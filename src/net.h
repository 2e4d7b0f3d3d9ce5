/* SPDX-License-Identifier: MIT */
/*
 * net.h - the network behind the opaque descent_net (net.c): widths,
 * activations and cost, ONE parameter buffer with the layers as views into
 * it, and the forward and backward pass over one block of samples.
 */
#ifndef DESCENT_NET_H
#define DESCENT_NET_H

#include "dropout.h"
#include "kernels.h"

struct descent_net {
    int L;                 /* weight layers                                */
    int *sizes;            /* L+1 widths                                   */
    descent_act *acts;     /* L activations                                */
    descent_cost cost;
    size_t n_params;
    size_t *w_off, *b_off; /* offsets of W_l and b_l in params             */
    float *params;         /* ONE buffer, 64-byte aligned                  */
    float *in_mean, *in_std; /* inputs standardised first (standardize.c),  */
                             /* sizes[0] each; NULL: raw inputs             */
    char *prov_record;     /* how descent_train made it (provenance.c);    */
    char *prov_parent;     /* the provenance of the net it was fine-tuned  */
    char *prov_text;       /* from; both rendered. NULLs: none             */
};

/* Samples per block: enough for efficient kernels, small enough that the
 * activations of a block stay in cache. A multiple of the reproducible
 * mode's chunk (step.c). */
#define BLOCK_CAP 256

/* x_k <- (x_k - mean_k) / std_k for B rows of stride ld, when the network
 * standardises its inputs (standardize.c); nothing otherwise */
void net_standardize_block(const descent_net *net, float *x, int ld, int B);

/* Offsets of the layer views for these widths; returns the parameter count. */
size_t net_layout(int L, const int *sizes, size_t *w_off, size_t *b_off);

/* What net_block tells the step while it backpropagates the step's last
 * block, so the reduction of finished parts can start while the rest is
 * computed: after layer l's weight and bias gradients (l >= 1), final(ctx,
 * l, 0, n_{l+1}); the first layer's (the largest, and computed last) is cut
 * into pieces of `rows` output units, and after each final(ctx, 0, r0, r1)
 * for its rows [r0, r1). */
typedef struct {
    void (*final)(void *ctx, int l, int r0, int r1);
    void *ctx;
    int rows;
    k_progress progress; /* run inside the weight-gradient kernels meanwhile */
} grad_ready;

/* The activations and error terms of one block of samples */
typedef struct {
    int bcap;              /* samples per block                             */
    int L;
    int *ld;               /* row stride of act[l]                          */
    float **act;           /* act[0] input block, act[l] layer l output     */
    float *delta[2];       /* ping-pong error terms, bcap x ldmax           */
    int ldmax;
    float *y;              /* targets, bcap x ld[L]                         */
    int ldy;
    dropout *drop;         /* while training with dropout, else NULL: the   */
                           /* caller sets drop->sample for each block       */
} workspace;

int workspace_init(workspace *ws, const descent_net *net, int bcap);
void workspace_free(workspace *ws);

/* Where net_block puts a block's gradient sums in reproducible mode: per
 * fixed chunk of samples, converted to 32-bit fixed point and added. */
typedef struct {
    int32_t *g;            /* the parameters' layout, fixed point           */
    const int *w_exp, *b_exp; /* value * 2^w_exp[l] for W_l, 2^b_exp[l] for b_l */
    int chunk;             /* samples per fixed chunk (block offsets are     */
                           /* multiples of it)                               */
    double limit;          /* largest |chunk sum| * 2^s accepted             */
    long nonfinite;        /* NaN/Inf sums                                   */
    k_range *range;        /* the values out of range, W_l's at 2l, b_l's at */
                           /* 2l + 1                                         */
    float *out;            /* NULL, or the sums are final (one block, one    */
                           /* rank): converted back to floats into out       */
                           /* (value * 2^-s, the parameters' layout) instead */
                           /* of stored in g                                 */
    uint64_t *max;         /* with out: the largest |integer sum| of W_l in  */
                           /* max[2l], of b_l in max[2l+1] (raised to it)    */
} fx_grad;

/* Forward the block in ws->act[0] (B samples, targets in ws->y). If grad
 * != NULL also backpropagates and writes the block's summed per-sample
 * gradients into grad (added to its contents when add is 1, overwriting
 * them when 0; a NaN or Inf stored there counts in st->nonfinite); if fx !=
 * NULL instead puts each chunk's sums, in fixed point, into fx->g (added or
 * overwriting as for grad), or with fx->out their final float values there. The
 * output layer's activations end in ws->act[L] either way. With ws->drop
 * the hidden layers' outputs pass through dropout (dropout.h); ready (may
 * be NULL) is told as parts of the gradient become final (grad_ready). */
void net_block(const descent_net *net, workspace *ws, int B, float *grad, int add,
               fx_grad *fx, int classification, const grad_ready *ready, block_stats *st);

#endif
