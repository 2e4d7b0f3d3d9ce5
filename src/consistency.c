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

enum { FP_COUNT, FP_FEATURES, FP_OUTPUTS, FP_KIND, FP_X_CRC, FP_Y_CRC, FP_LEN };

static void fingerprint(const descent_data *d, uint64_t fp[FP_LEN]) {
    const size_t nx = d->n * (size_t)d->n_in;
    fp[FP_COUNT] = d->n;
    fp[FP_FEATURES] = (uint64_t)d->n_in;
    fp[FP_OUTPUTS] = (uint64_t)d->n_out;
    fp[FP_KIND] = (uint64_t)d->classification << 1 | (d->x8 != NULL);
    fp[FP_X_CRC] = d->x8 ? crc32_buf(0, d->x8, nx) : crc32_buf(0, d->xf, nx * sizeof(float));
    fp[FP_Y_CRC] = d->classification
                       ? crc32_buf(0, d->labels, d->n * sizeof(int32_t))
                       : crc32_buf(0, d->targets, d->n * (size_t)d->n_out * sizeof(float));
}

/* "rank 2: 24 samples of 5 features, checksum 1a2b3c4d/00ff00ff" */
static void describe(char *buf, size_t len, int rank, const uint64_t *fp) {
    snprintf(buf, len, "rank %d: %llu samples of %llu features, checksum %08llx/%08llx", rank,
             (unsigned long long)fp[FP_COUNT], (unsigned long long)fp[FP_FEATURES],
             (unsigned long long)fp[FP_X_CRC], (unsigned long long)fp[FP_Y_CRC]);
}

int ranks_same_data(const descent_data *d, const char *role, descent_error *err) {
    const int P = comm_size();
    if (P == 1) return DESCENT_OK;
    uint64_t mine[FP_LEN];
    fingerprint(d, mine);
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
