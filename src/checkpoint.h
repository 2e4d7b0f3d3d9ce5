/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.h - the training state behind the opaque descent_checkpoint
 * (checkpoint.c), and writing it.
 */
#ifndef DESCENT_CHECKPOINT_H
#define DESCENT_CHECKPOINT_H

#include "base.h"
#include "data.h"
#include "descent/descent.h"

#include <stdint.h>

struct descent_checkpoint {
    uint64_t step;           /* steps done                                   */
    uint32_t epoch, k;       /* epoch in progress (1-based), steps done in it */
    double epoch_loss, epoch_correct; /* its accumulators so far             */
    descent_train_config cfg;
    uint64_t opt_t;          /* optimizer steps                              */
    size_t n;                /* parameters                                   */
    float *m, *v;            /* optimizer state, NULL when unused            */
    int L;
    int32_t *w_exp, *b_exp;  /* fixed-point exponents (reproducible mode)    */
    double best_val_loss;    /* lowest validation loss so far (+inf: none)   */
    uint32_t best_epoch;     /* its epoch (0: none)                          */
    int has_data;            /* the sets below are known (version 3 on)      */
    uint64_t train_id[FP_LEN], val_id[FP_LEN]; /* data_identity of the      */
                             /* training and validation sets (val: all 0 for */
                             /* none)                                        */
};

/* Write DIR/ckpt-<step>.dsc atomically and delete all but the newest keep.
 * ck's pointers refer to the caller's live buffers. path gets the name. */
int checkpoint_save(const char *dir, int keep, const descent_net *net,
                    const descent_checkpoint *ck, char path[PATH_CAP], descent_error *err);

#endif
