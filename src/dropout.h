/* SPDX-License-Identifier: MIT */
/*
 * dropout.h - inverted dropout on the hidden layers while training
 * (dropout.c). Each hidden unit's output is kept with probability 1 - p and
 * then divided by 1 - p, or set to 0; the backward pass multiplies the
 * unit's error term by the same factor. Whether a unit is kept is a hash of
 * (seed, epoch, the sample's index in the data set, layer, unit) and
 * nothing else, so it does not depend on ranks, threads, or where the
 * sample sits in a block: --reproducible stays bit-identical.
 */
#ifndef DESCENT_DROPOUT_H
#define DESCENT_DROPOUT_H

#include <stdint.h>

typedef struct {
    double p;                /* probability of dropping a unit, (0, 1)       */
    float scale;             /* 1 / (1 - p)                                  */
    uint64_t seed, epoch;
    const uint32_t *sample;  /* the block's samples' indices in the data set */
    int L;
    float **masked;          /* masked[l] (hidden l = 1..L-1): the block's    */
                             /* outputs after dropout, the next layer's input */
    float **keep;            /* keep[l]: each unit's factor, 0 or scale       */
} dropout;

/* Buffers for blocks of bcap samples of the L-layer network's hidden widths
 * (row strides ld[l]); returns 0 or -1 (no memory). */
int dropout_init(dropout *d, int L, const int *ld, int bcap, double p, uint64_t seed);
void dropout_free(dropout *d);

/* Does (seed, epoch, sample, layer, unit) keep the unit? */
int dropout_keeps(const dropout *d, uint32_t sample, int layer, int unit);

/* Hidden layer l's outputs act (B x n, stride ld) -> d->masked[l], with the
 * factors in d->keep[l]. */
void dropout_forward(dropout *d, int l, int B, int n, const float *act, int ld);
/* The error terms of hidden layer l's outputs (B x n, stride ldd) times the
 * same factors (stride ld, as the forward's). */
void dropout_backward(const dropout *d, int l, int B, int n, int ld, float *delta, int ldd);

#endif
