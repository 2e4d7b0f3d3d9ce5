/* SPDX-License-Identifier: MIT */
/*
 * evaluate.h - evaluation for the library's own callers (evaluate.c).
 */
#ifndef DESCENT_EVALUATE_H
#define DESCENT_EVALUATE_H

#include "descent/descent.h"

/* descent_evaluate, comparing the ranks' copies of d first only when
 * compare_ranks is set (the training loop compared its validation set once,
 * before the first step, and evaluates it after every epoch). Collective. */
int evaluate_set(const descent_net *net, const descent_data *d, descent_eval_result *res,
                 uint64_t *confusion, int compare_ranks, descent_error *err);

#endif
