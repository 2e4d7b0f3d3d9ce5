/* SPDX-License-Identifier: MIT */
/*
 * optim.h - update rules on the flat parameter buffer (optim.c): the
 * derivation's gradient descent, momentum and Adam, with L2 weight decay on
 * the weights.
 */
#ifndef DESCENT_OPTIM_H
#define DESCENT_OPTIM_H

#include "net.h"

typedef struct {
    descent_optimizer kind;
    size_t n;
    float *m, *v;          /* state buffers with the parameters' layout     */
    long t;                /* steps taken                                   */
} optimizer;

int optimizer_init(optimizer *o, const descent_train_config *cfg, size_t n);
void optimizer_free(optimizer *o);
/* One update on every parameter of net from grad_sum, the gradient summed
 * over the global batch, and m, what the step says to divide it by (the 1/m
 * rule, mean_of in base.h): the division happens inside the update loop so
 * the sum is read once. Weight decay applies to weights, not biases.
 * OpenMP-parallel and elementwise: any thread split gives the same bits. */
void optimizer_step(optimizer *o, const descent_train_config *cfg, double lr,
                    descent_net *net, const float *grad_sum, float m);
/* The same update from the reproducible mode's sums in 64-bit fixed point
 * (W_l's scaled by 2^sw[l], b_l's by 2^sb[l]), each turned back into a
 * float in the update loop exactly as k_fx_to_float does (one pass over the
 * sums instead of two); max[2l] and max[2l+1] get the largest |sum| of W_l
 * and of b_l. */
void optimizer_step_fx(optimizer *o, const descent_train_config *cfg, double lr,
                       descent_net *net, const int64_t *grad_sum, const int *sw, const int *sb,
                       float m, uint64_t *max);

#endif
