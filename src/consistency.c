/* SPDX-License-Identifier: MIT */
/*
 * consistency.c - checks that every rank works on the same inputs, which
 * data parallelism assumes and nothing else would notice: the same data set
 * (its shape and a checksum of its contents, before the first step) and the
 * same parameters (a checksum, at start, every --sync-check steps and at
 * the end). A mismatch is the same verdict on every rank, reported once,
 * by rank 0.
 */
#include "consistency.h"

#include "comm.h"
#include "data.h"
#include "net.h"

#include <stdlib.h>
#include <string.h>

/* "rank 2: 24 samples of 5 features, checksum 1a2b3c4d/00ff00ff" */
static void describe(char *buf, size_t len, int rank, const uint64_t *fp) {
    char what[96];
    data_identity_text(what, sizeof what, fp);
    snprintf(buf, len, "rank %d: %s", rank, what);
}

int ranks_same_data(const descent_data *d, const char *role, descent_error *err) {
    const int P = comm_size();
    if (P == 1) return DESCENT_OK;
    uint64_t mine[FP_LEN];
    data_identity(d, mine);
    uint64_t *all = malloc(sizeof(uint64_t) * FP_LEN * (size_t)P);
    if (!all) return set_error(err, DESCENT_E_NOMEM, "out of memory comparing the data sets");
    if (comm_allgather_u64(mine, FP_LEN, all)) {
        free(all);
        return set_error(err, DESCENT_E_COMM, "MPI communication failed comparing the data sets");
    }
    int first_bad = -1, nbad = 0;
    for (int r = 1; r < P; r++)
        for (int i = 0; i < FP_LEN; i++)
            if (all[(size_t)r * FP_LEN + i] != all[i]) {
                if (first_bad < 0) first_bad = r;
                nbad++;
                break;
            }
    int rc = DESCENT_OK;
    if (nbad) {
        char ref[160], bad[160];
        describe(ref, sizeof ref, 0, all);
        describe(bad, sizeof bad, first_bad, all + (size_t)first_bad * FP_LEN);
        rc = set_error(err, DESCENT_E_MISMATCH, "the ranks hold different %s data (%d of %d ranks "
                       "differ from rank 0; %s; %s): every rank must read the same files",
                       role, nbad, P, ref, bad);
        if (err) err->rank = 0; /* every rank found the same: one message */
    }
    free(all);
    return rc;
}

/* ---- the training configuration ---- */
/* Every field of descent_train_config, and whether there is a validation
 * set: as bits to compare and as a value to show */
typedef enum { CF_INT, CF_REAL, CF_NAME } cf_kind;
#define CONFIG_FIELDS(X)                                                         \
    X("epochs", CF_INT, c->epochs) X("batch", CF_INT, c->batch)                  \
    X("lr", CF_REAL, c->lr) X("schedule", CF_INT, c->schedule)                   \
    X("warmup_steps", CF_INT, c->warmup_steps)                                   \
    X("warmup_epochs", CF_INT, c->warmup_epochs)                                 \
    X("optimizer", CF_INT, c->optimizer) X("momentum", CF_REAL, c->momentum)     \
    X("beta1", CF_REAL, c->beta1) X("beta2", CF_REAL, c->beta2)                  \
    X("eps", CF_REAL, c->eps) X("weight_decay", CF_REAL, c->weight_decay)        \
    X("seed", CF_INT, c->seed) X("sync_check", CF_INT, c->sync_check)            \
    X("comm_bf16", CF_INT, c->comm_bf16) X("reproducible", CF_INT, c->reproducible) \
    X("checkpoint_dir", CF_NAME, c->checkpoint_dir != NULL)                      \
    X("checkpoint_steps", CF_INT, c->checkpoint_steps)                           \
    X("checkpoint_epochs", CF_INT, c->checkpoint_epochs)                         \
    X("checkpoint_keep", CF_INT, c->checkpoint_keep)                             \
    X("patience", CF_INT, c->patience)                                           \
    X("best_model", CF_NAME, c->best_model != NULL)                              \
    X("dropout", CF_REAL, c->dropout) X("overlap", CF_INT, c->overlap)           \
    X("overlap_piece", CF_INT, c->overlap_piece)                                 \
    X("validation set", CF_NAME, has_val)

#define CF_NAME_OF(name, kind, value) name,
#define CF_KIND_OF(name, kind, value) kind,
static const char *const cf_names[] = {CONFIG_FIELDS(CF_NAME_OF)};
static const cf_kind cf_kinds[] = {CONFIG_FIELDS(CF_KIND_OF)};
#define CF_COUNT (sizeof cf_names / sizeof cf_names[0])

static uint64_t real_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static void config_values(const descent_train_config *c, int has_val, uint64_t v[CF_COUNT]) {
    size_t i = 0;
#define CF_VALUE_OF(name, kind, value) \
    v[i++] = (kind) == CF_REAL ? real_bits((double)(value)) : (uint64_t)(value);
    CONFIG_FIELDS(CF_VALUE_OF)
#undef CF_VALUE_OF
}

static void show_value(char *buf, size_t len, cf_kind kind, uint64_t v) {
    double x;
    memcpy(&x, &v, sizeof x);
    if (kind == CF_REAL) snprintf(buf, len, "%.17g", x);
    else if (kind == CF_NAME) snprintf(buf, len, "%s", v ? "given" : "none");
    else snprintf(buf, len, "%llu", (unsigned long long)v);
}

int ranks_same_config(const descent_train_config *cfg, int has_val, descent_error *err) {
    if (comm_size() == 1) return DESCENT_OK;
    uint64_t mine[CF_COUNT], rank0[CF_COUNT];
    config_values(cfg, has_val, mine);
    memcpy(rank0, mine, sizeof rank0);
    int rc = comm_bcast(rank0, sizeof rank0) ? set_error(err, DESCENT_E_COMM, "MPI communication "
                                                         "failed comparing the configurations")
                                             : DESCENT_OK;
    for (size_t i = 0; !rc && i < CF_COUNT; i++) {
        if (mine[i] == rank0[i]) continue;
        char a[48], b[48];
        show_value(a, sizeof a, cf_kinds[i], rank0[i]);
        show_value(b, sizeof b, cf_kinds[i], mine[i]);
        rc = set_error(err, DESCENT_E_MISMATCH, "the ranks were given different training "
                       "configurations: %s is %s on rank 0 and %s on rank %d", cf_names[i], a, b,
                       comm_rank());
    }
    int who;
    rc = comm_agree(rc, &who);
    return remote_error(err, rc, who);
}

int ranks_same_params(const descent_net *net, long step, descent_error *err) {
    const uint32_t crc = crc32_buf(0, net->params, net->n_params * sizeof(float));
    uint32_t mn, mx;
    if (comm_minmax_u32(crc, &mn, &mx))
        return set_error(err, DESCENT_E_COMM, "MPI reduction failed during the sync check");
    if (mn == mx) return DESCENT_OK;
    set_error(err, DESCENT_E_DESYNC, "parameters differ across ranks at step %ld (checksums "
              "%08x..%08x)", step, mn, mx);
    if (err) err->rank = 0;
    return DESCENT_E_DESYNC;
}
