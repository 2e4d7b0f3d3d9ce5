/* SPDX-License-Identifier: MIT */
/*
 * provenance.h - how a network was made (provenance.c): the record that
 * descent_train writes into the network it trains, kept in model files and
 * checkpoints (model.c).
 */
#ifndef DESCENT_PROVENANCE_H
#define DESCENT_PROVENANCE_H

#include "base.h"
#include "data.h"

/* The text of one training run: version, the configuration that decides
 * the result (bf16_between_ranks: the gradient travelled as bfloat16), the data (val_id NULL: no validation set) and, when
 * best_epoch > 0, the best validation loss. malloc'd; NULL: out of memory. */
char *provenance_record(const descent_train_config *cfg, int bf16_between_ranks,
                        const uint64_t train_id[FP_LEN],
                        const uint64_t *val_id, double best_val_loss, int best_epoch);

/* The net's record and its parent's provenance (either may be NULL; no
 * record: none at all), copied. DESCENT_E_NOMEM leaves the net as it was. */
int net_set_provenance(descent_net *net, const char *record, const char *parent);

#endif
