/* SPDX-License-Identifier: MIT */
/*
 * step.h - one step of mini-batch gradient descent up to the update
 * (step.c): this rank's slice of the global batch -> forward -> cost ->
 * backward, the gradient sums in float or (reproducible mode) in exact
 * fixed point, and ONE sum-reduction of [gradients | tail] across ranks
 * (after the pass, or with overlap started piece by piece during it).
 * The step owns the gradient buffer and decides the divisor of the 1/m
 * rule; the optimizer (optim.h) applies it while updating.
 */
#ifndef DESCENT_STEP_H
#define DESCENT_STEP_H

#include "comm.h"
#include "fixed_point.h"
#include "net.h"
#include "optim.h"

/* How a step's sums travel between ranks: one path per layout, chosen once
 * (stepper_init) from the configuration and where the ranks run. Each
 * names the tests that take it. */
typedef enum {
    STEP_FLOAT_MPI,      /* float sums by MPI; one rank: nothing to add     */
                         /* (mpi_equiv_P1_*; multinode_equiv: a rank per host) */
    STEP_FLOAT_HOST,     /* float sums meet in each host's shared memory,   */
                         /* then between hosts (mpi_equiv_P2_* to _P4_*,    */
                         /* mpi_host, multinode_equiv)                      */
    STEP_FLOAT_BF16,     /* float sums sent as bfloat16 (scaleout_options)  */
    STEP_FLOAT_PIPE,     /* float sums started piece by piece during the    */
                         /* last block's backward pass, over a host or MPI, */
                         /* as bfloat16 with comm_bf16 (scaleout_options,   */
                         /* multinode_reproducible's float part)            */
    STEP_FIXED_ONE_RANK, /* fixed point on one rank: a batch of one block   */
                         /* is final in the kernels' floats                 */
                         /* (reproducible_matrix 1xT, test_repro_precision) */
    STEP_FIXED_MPI,      /* integer sums by MPI, a rank per host            */
                         /* (multinode_reproducible)                        */
    STEP_FIXED_HOST,     /* integer sums in each host's shared memory       */
                         /* (reproducible_matrix: Fashion-MNIST at 2 and 3  */
                         /* ranks; checkpoints)                             */
    STEP_FIXED_COMBINE,  /* one host, at most a chunk per rank: the ranks'  */
                         /* float chunk sums meet in the host's memory and  */
                         /* become fixed point as they are added            */
                         /* (reproducible_matrix: xor at 2 to 4 ranks,      */
                         /* Fashion-MNIST at 4)                             */
    STEP_FIXED_PIPE,     /* integer sums piece by piece during the pass     */
                         /* (multinode_reproducible)                        */
} step_path;

typedef struct {
    const descent_data *train;
    step_path path;
    int reproducible;
    workspace ws;
    int bcap, nout;
    float *grad;      /* n_params + tail floats: the summed gradients       */
    int32_t *gfx;     /* n_params + tail integers (reproducible mode)       */
    fx_scales fx;     /* the sums' scales and largest values (reproducible) */
    k_range *range;   /* reproducible: this rank's values out of range, and */
    uint32_t *shift;  /* the scales' shifts for a redo (2L each, as fx.max) */
    int floats_ready; /* reproducible: grad holds the step's floats, made   */
                      /* by the kernels (one rank, one block) or the host's */
                      /* combine (STEP_FIXED_COMBINE); else the update      */
                      /* reads gfx                                          */
    int chunk;        /* samples per fixed-point chunk (reproducible)       */
    int32_t *rec, *recs; /* STEP_FIXED_COMBINE: this rank's totals [tail |  */
                         /* maxima], and every local rank's                 */
    const float **hsrc;  /* STEP_FIXED_COMBINE: room for the host's buffers */
    double comm_s;    /* seconds spent in the reduction since last reset    */
    dropout drop;     /* with cfg->dropout > 0 (ws.drop points here)        */
    uint16_t *g16;    /* the gradient as bfloat16 (cfg->comm_bf16, P > 1)   */
    comm_sum *host;   /* float sums through the host's shared memory, with  */
                      /* grad in its segment (several ranks on a host)      */
    comm_pipe *pipe;  /* overlap (cfg->overlap): the sum started piece by   */
                      /* piece during the last block's backward pass        */
    grad_ready ready; /* what net_block tells the pipe                      */
    const descent_net *net;
} stepper;

typedef struct {
    double loss;      /* summed cost over the global batch                  */
    double correct;   /* correctly classified samples in it                 */
    float m;          /* samples in the global batch: the 1/m divisor       */
    int stop;         /* some rank was asked to stop                        */
} step_result;

/* Buffers for steps of global batch cfg->batch over train. Collective; on
 * failure too, every rank must call stepper_free. */
int stepper_init(stepper *sp, const descent_net *net, const descent_data *train,
                 const descent_train_config *cfg, descent_error *err);
void stepper_free(stepper *sp);
/* The epoch the next steps belong to (dropout's masks depend on it). */
void stepper_start_epoch(stepper *sp, int epoch);

/* One step over positions [first, first + mk) of the epoch's permutation
 * perm: leaves the global gradient SUM (undivided) in sp->grad, or in
 * reproducible mode in sp->gfx as fixed point unless sp->floats_ready, and
 * the batch's totals in out. stop: this rank was asked to stop (it travels
 * in the reduction, so every rank learns it after the same step).
 * Collective; every rank returns the same status. */
int step_run(stepper *sp, const descent_net *net, const uint32_t *perm, size_t first,
             size_t mk, int stop, step_result *out, descent_error *err);
/* After a successful step_run: the optimizer's update from the step's sums
 * divided by m (optim.h), then in reproducible mode the next step's
 * fixed-point exponents (from this step's largest sums) */
void stepper_update(stepper *sp, optimizer *o, const descent_train_config *cfg, double lr,
                    descent_net *net, float m);

#endif
