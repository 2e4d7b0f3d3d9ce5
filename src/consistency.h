/* SPDX-License-Identifier: MIT */
/*
 * consistency.h - do all ranks hold the same inputs? (consistency.c)
 * Collective; every rank gets the same status, and the message is rank 0's.
 */
#ifndef DESCENT_CONSISTENCY_H
#define DESCENT_CONSISTENCY_H

#include "base.h"

/* The data set d is the same on every rank (shape and contents); role
 * ("training", "validation", "evaluation") goes into the message. */
int ranks_same_data(const descent_data *d, const char *role, descent_error *err);
/* Every rank was given the same configuration (every field) and each has a
 * validation set or none does; the message names the field and both
 * values, from the lowest rank that differs from rank 0. */
int ranks_same_config(const descent_train_config *cfg, int has_val, descent_error *err);
/* The parameters are the same on every rank (a checksum); step for the
 * message. */
int ranks_same_params(const descent_net *net, long step, descent_error *err);

#endif
