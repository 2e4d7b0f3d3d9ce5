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
/* The parameters are the same on every rank (a checksum); step for the
 * message. */
int ranks_same_params(const descent_net *net, long step, descent_error *err);

#endif
