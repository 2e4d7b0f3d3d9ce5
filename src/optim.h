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
/* Gradient sums held in another form than floats: read fills out[0, len)
 * with the sums of elements [off, off + len) of the parameter buffer, all
 * within tensor `tensor` (W_l is 2l, b_l is 2l + 1), as floats. Called by
 * the update's threads, a tile at a time, each element once. */
typedef struct {
    void (*read)(void *ctx, int tensor, size_t off, size_t len, float *out);
    void *ctx;
} grad_converter;
/* optimizer_step with the sums read through conv */
void optimizer_step_converted(optimizer *o, const descent_train_config *cfg, double lr,
                              descent_net *net, const grad_converter *conv, float m);

#endif
