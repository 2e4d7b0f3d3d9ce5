/* SPDX-License-Identifier: MIT */
/*
 * evaluate.c - loss, accuracy and confusion matrix of a network over a data
 * set, split across ranks (each takes a contiguous share) and summed with
 * exact integer reductions, so the result does not depend on the layout.
 * Under MPI the ranks first check that they hold the same set.
 */
#include "base.h"
#include "comm.h"
#include "consistency.h"
#include "evaluate.h"
#include "data.h"
#include "net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The integer sums: [non-finite, correct, count, the loss's exact digits,
 * confusion...] */
enum { E_NONFINITE, E_CORRECT, E_COUNT, E_LOSS, E_CONFUSION = E_LOSS + EXACT_DIGITS };

/* This rank's share of d through the network, counted into acc; returns
 * the float loss sum (what a non-finite cost makes of the loss). */
static double evaluate_share(const descent_net *net, const descent_data *d, workspace *ws,
                             int64_t *acc) {
    const int nout = net->sizes[net->L];
    size_t lo, hi;
    share_of(d->n, comm_rank(), comm_size(), &lo, &hi);
    block_stats st = {0};
    for (size_t s0 = lo; s0 < hi; s0 += BLOCK_CAP) {
        const int B = hi - s0 < BLOCK_CAP ? (int)(hi - s0) : BLOCK_CAP;
        data_gather(d, NULL, s0, B, ws->act[0], ws->ld[0], ws->y, ws->ldy, nout);
        net_block(net, ws, B, NULL, 0, NULL, d->classification, NULL, &st);
        for (int s = 0; s < B && d->classification; s++) {
            const int pred = k_argmax(ws->act[net->L] + (size_t)s * ws->ld[net->L], nout);
            acc[E_CONFUSION + (size_t)d->labels[s0 + s] * nout + pred] += 1;
        }
    }
    exact_normalise(st.loss_exact.d); /* digits below 2^32: any ranks' sum fits */
    memcpy(acc + E_LOSS, st.loss_exact.d, sizeof st.loss_exact.d);
    acc[E_NONFINITE] = (int64_t)st.nonfinite;
    acc[E_CORRECT] = (int64_t)st.correct;
    acc[E_COUNT] = (int64_t)(hi - lo);
    return st.loss;
}

int evaluate_set(const descent_net *net, const descent_data *d, descent_eval_result *res,
                 uint64_t *confusion, int compare_ranks, descent_error *err) {
    memset(res, 0, sizeof *res);
    int rc = descent_data_check(d, net, err);
    const int nout = net->sizes[net->L];
    const size_t nconf = d->classification ? (size_t)nout * (size_t)nout : 0;
    int64_t *acc = calloc(E_CONFUSION + nconf, sizeof(int64_t));
    workspace ws = {0};
    if (!rc && (!acc || workspace_init(&ws, net, BLOCK_CAP)))
        rc = set_error(err, DESCENT_E_NOMEM, "out of memory for evaluation");
    int who;
    rc = comm_agree(rc, &who); /* sets who: read only after it */
    rc = remote_error(err, rc, who);
    if (!rc && compare_ranks) rc = ranks_same_data(d, "evaluation", err);
    double loss = 0.0;
    if (!rc) {
        loss = evaluate_share(net, d, &ws, acc);
        if (comm_sum_i64(acc, E_CONFUSION + nconf) || comm_sum_double(&loss, 1))
            rc = set_error(err, DESCENT_E_COMM, "MPI reduction failed during evaluation");
    }
    if (!rc) {
        const double count = (double)acc[E_COUNT];
        res->count = (size_t)acc[E_COUNT];
        exact_normalise(acc + E_LOSS);
        if (count > 0) res->loss = (acc[E_NONFINITE] == 0 ? exact_value(acc + E_LOSS) : loss) / count;
        res->accuracy = d->classification && count > 0 ? (double)acc[E_CORRECT] / count : NAN;
        for (size_t i = 0; i < nconf && confusion; i++)
            confusion[i] = (uint64_t)acc[E_CONFUSION + i];
    }
    free(acc);
    workspace_free(&ws);
    return rc;
}

int descent_evaluate(const descent_net *net, const descent_data *d, descent_eval_result *res,
                     uint64_t *confusion, descent_error *err) {
    REQUIRE_ARG(err, net);
    REQUIRE_ARG(err, d);
    REQUIRE_ARG(err, res);
    return evaluate_set(net, d, res, confusion, 1, err);
}
