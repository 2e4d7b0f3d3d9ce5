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
#include "config_fields.h"
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
/* Every field of descent_train_config (config_fields.h), and whether there
 * is a validation set: as bits to compare and as a value to show */
#define CF_NAME_OF(field, kind, def, role, ver, wire, valid, rule, opt) #field,
#define CF_KIND_OF(field, kind, def, role, ver, wire, valid, rule, opt) kind,
static const char *const cf_names[] = {DESCENT_CONFIG_FIELDS(CF_NAME_OF) "validation set"};
static const cf_kind cf_kinds[] = {DESCENT_CONFIG_FIELDS(CF_KIND_OF) CF_PATH};
#undef CF_NAME_OF
#undef CF_KIND_OF
#define CF_COUNT (sizeof cf_names / sizeof cf_names[0])

static void config_values(const descent_train_config *c, int has_val, uint64_t v[CF_COUNT]) {
    size_t i = 0;
#define CF_VALUE_OF(field, kind, def, role, ver, wire, valid, rule, opt) v[i++] = cf_bits(c->field);
    DESCENT_CONFIG_FIELDS(CF_VALUE_OF)
#undef CF_VALUE_OF
    v[i] = (uint64_t)has_val;
}

static void show_value(char *buf, size_t len, cf_kind kind, uint64_t v) {
    double x;
    memcpy(&x, &v, sizeof x);
    if (kind == CF_REAL) snprintf(buf, len, "%.17g", x);
    else if (kind == CF_PATH) snprintf(buf, len, "%s", v ? "given" : "none");
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
