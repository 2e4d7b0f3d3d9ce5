/*
 * train.c - the training loop of the picture in DESIGN.md: global batch k of
 * the epoch's permutation(seed, epoch); this rank's contiguous slice of it
 * -> forward -> cost -> backward (gradients ADDED into one buffer zeroed once
 * per step); one sum-reduction of [gradients | loss | count | correct |
 * non-finite] across ranks; divide by the global m (the 1/m rule); the same
 * update on every rank. Also the split evaluation. Talks to MPI only through
 * the comm_* functions.
 */
#define _GNU_SOURCE /* M_PI */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Samples per block: enough for efficient kernels, small enough that the
 * activations of a block stay in cache. */
#define BLOCK_CAP 256
/* The reduced buffer's tail after the gradients */
enum { T_LOSS, T_COUNT, T_CORRECT, T_NONFINITE, T_LEN };

void descent_train_config_default(descent_train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 10;
    cfg->batch = 64;
    cfg->lr = 0.1;
    cfg->optimizer = DESCENT_OPT_GD;
    cfg->momentum = 0.9;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = 0.0;
    cfg->seed = 1;
    cfg->sync_check = 0;
}

int descent_train_config_check(const descent_train_config *c, descent_error *err) {
    if (c->epochs < 1 || c->epochs > 1000000)
        return set_error(err, DESCENT_E_USAGE, "epochs must be 1..1000000 (got %d)", c->epochs);
    if (c->batch < 1 || c->batch > ((size_t)1 << 24))
        return set_error(err, DESCENT_E_USAGE, "batch must be 1..16777216 (got %zu)", c->batch);
    if (!(c->lr > 0.0) || !isfinite(c->lr))
        return set_error(err, DESCENT_E_USAGE, "learning rate must be a positive number (got %g)",
                         c->lr);
    if ((unsigned)c->schedule >= DESCENT_LR_COUNT)
        return set_error(err, DESCENT_E_USAGE, "unknown learning-rate schedule");
    if ((unsigned)c->optimizer >= DESCENT_OPT_COUNT)
        return set_error(err, DESCENT_E_USAGE, "unknown optimizer");
    if (!(c->momentum >= 0.0 && c->momentum < 1.0))
        return set_error(err, DESCENT_E_USAGE, "momentum must be in [0,1) (got %g)", c->momentum);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0) || !(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return set_error(err, DESCENT_E_USAGE, "adam betas must be in [0,1)");
    if (!(c->eps > 0.0) || !isfinite(c->eps))
        return set_error(err, DESCENT_E_USAGE, "adam eps must be positive (got %g)", c->eps);
    if (!(c->weight_decay >= 0.0) || !isfinite(c->weight_decay))
        return set_error(err, DESCENT_E_USAGE, "weight decay must be >= 0 (got %g)",
                         c->weight_decay);
    if (c->sync_check < 0)
        return set_error(err, DESCENT_E_USAGE, "sync-check must be >= 0 (got %d)", c->sync_check);
    return DESCENT_OK;
}

/* Contiguous share [lo, hi) of n items for rank r of P: sizes differ by at
 * most one, some may be empty. */
static void share(size_t n, int r, int P, size_t *lo, size_t *hi) {
    *lo = n * (size_t)r / (size_t)P;
    *hi = n * (size_t)(r + 1) / (size_t)P;
}

static int sync_check(const descent_net *net, long step, descent_error *err) {
    const uint32_t crc = crc32_buf(0, net->params, net->n_params * sizeof(float));
    uint32_t mn, mx;
    if (comm_minmax_u32(crc, &mn, &mx))
        return set_error(err, DESCENT_E_IO, "MPI reduction failed during the sync check");
    if (mn != mx)
        return set_error(err, DESCENT_E_DESYNC, "parameters differ across ranks at step %ld "
                         "(checksums %08x..%08x)", step, mn, mx);
    return DESCENT_OK;
}

int descent_evaluate(const descent_net *net, const descent_data *d, descent_eval_result *res,
                     uint64_t *confusion, descent_error *err) {
    memset(res, 0, sizeof *res);
    int rc = descent_data_check(d, net, err);
    const int nout = net->sizes[net->L];
    const size_t nconf = d->classification ? (size_t)nout * (size_t)nout : 0;
    double *acc = calloc(3 + nconf, sizeof(double));
    workspace ws = {0};
    if (!rc && (!acc || workspace_init(&ws, net, BLOCK_CAP)))
        rc = set_error(err, DESCENT_E_NOMEM, "out of memory for evaluation");
    int who;
    rc = comm_agree(rc, &who);
    if (rc) {
        free(acc);
        workspace_free(&ws);
        return remote_error(err, rc, who);
    }
    size_t lo, hi;
    share(d->n, comm_rank(), comm_size(), &lo, &hi);
    block_stats st = {0, 0, 0};
    for (size_t s0 = lo; s0 < hi; s0 += BLOCK_CAP) {
        const int B = hi - s0 < BLOCK_CAP ? (int)(hi - s0) : BLOCK_CAP;
        data_gather(d, NULL, s0, B, ws.act[0], ws.ld[0], ws.y, ws.ldy, nout);
        net_block(net, &ws, B, NULL, d->classification, &st);
        for (int s = 0; s < B && nconf; s++) {
            const int pred = k_argmax(ws.act[net->L] + (size_t)s * ws.ld[net->L], nout);
            acc[3 + (size_t)d->labels[s0 + s] * nout + pred] += 1.0;
        }
    }
    acc[0] = st.loss;
    acc[1] = st.correct;
    acc[2] = (double)(hi - lo);
    if (comm_sum_double(acc, 3 + nconf)) {
        free(acc);
        workspace_free(&ws);
        return set_error(err, DESCENT_E_IO, "MPI reduction failed during evaluation");
    }
    res->count = (size_t)acc[2];
    res->loss = acc[2] > 0 ? acc[0] / acc[2] : 0.0;
    res->accuracy = d->classification && acc[2] > 0 ? acc[1] / acc[2] : NAN;
    for (size_t i = 0; i < nconf && confusion; i++) confusion[i] = (uint64_t)acc[3 + i];
    free(acc);
    workspace_free(&ws);
    return DESCENT_OK;
}

/* Count NaN and Inf in a buffer */
static size_t count_nonfinite(const float *g, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !isfinite(g[i]);
    return bad;
}

int descent_train(descent_net *net, const descent_data *train, const descent_data *val,
                  const descent_train_config *cfg, const descent_callbacks *cb,
                  descent_error *err) {
    const int P = comm_size(), rank = comm_rank();
    int rc = descent_train_config_check(cfg, err);
    if (!rc) rc = descent_data_check(train, net, err);
    if (!rc && val) rc = descent_data_check(val, net, err);
    if (!rc && train->n > UINT32_MAX)
        rc = set_error(err, DESCENT_E_NOMEM, "%s: more than 2^32 samples", train->path);
    const size_t n = train->n, np = net->n_params;
    const size_t m = cfg->batch < n ? cfg->batch : n;
    const size_t slice_max = (m + (size_t)P - 1) / (size_t)P;
    const int bcap = slice_max < BLOCK_CAP ? (int)(slice_max ? slice_max : 1) : BLOCK_CAP;
    const int nout = net->sizes[net->L];
    workspace ws = {0};
    optimizer opt = {0};
    uint32_t *perm = NULL;
    float *grad = NULL;
    if (!rc) {
        perm = malloc(sizeof(uint32_t) * (n ? n : 1));
        grad = aligned_calloc(np + T_LEN, sizeof(float));
        if (!perm || !grad || workspace_init(&ws, net, bcap) || optimizer_init(&opt, cfg, np))
            rc = set_error(err, DESCENT_E_NOMEM, "out of memory for training buffers");
    }
    /* every rank learns whether any rank failed to set up, and which */
    int who;
    rc = remote_error(err, comm_agree(rc, &who), who);
    if (!rc) rc = sync_check(net, 0, err);

    const long steps_per_epoch = (long)((n + m - 1) / m);
    const long total_steps = steps_per_epoch * cfg->epochs;
    long step = 0;
    for (int epoch = 1; !rc && epoch <= cfg->epochs; epoch++) {
        const double e0 = comm_wtime();
        double comm_s = 0.0, loss_sum = 0.0, correct = 0.0;
        permutation(perm, n, cfg->seed, (uint64_t)epoch);
        for (long k = 0; k < steps_per_epoch; k++) {
            const size_t first = (size_t)k * m, mk = n - first < m ? n - first : m;
            size_t lo, hi;
            share(mk, rank, P, &lo, &hi);
            memset(grad, 0, sizeof(float) * (np + T_LEN));
            block_stats st = {0, 0, 0};
            for (size_t b0 = lo; b0 < hi; b0 += (size_t)bcap) {
                const int B = hi - b0 < (size_t)bcap ? (int)(hi - b0) : bcap;
                data_gather(train, perm + first + b0, 0, B, ws.act[0], ws.ld[0], ws.y, ws.ldy,
                            nout);
                net_block(net, &ws, B, grad, train->classification, &st);
            }
            grad[np + T_LOSS] = (float)st.loss;
            grad[np + T_COUNT] = (float)(hi - lo);
            grad[np + T_CORRECT] = (float)st.correct;
            grad[np + T_NONFINITE] = (float)(st.nonfinite + (double)count_nonfinite(grad, np));
            const double t1 = comm_wtime();
            if (comm_sum_float(grad, np + T_LEN)) {
                rc = set_error(err, DESCENT_E_IO, "MPI reduction failed at step %ld", step + 1);
                break;
            }
            comm_s += comm_wtime() - t1;
            step++;
            /* every rank sees the same reduced counts, so all take this branch */
            if (grad[np + T_NONFINITE] != 0.0f || !isfinite(grad[np + T_LOSS])) {
                rc = set_error(err, DESCENT_E_NONFINITE, "epoch %d, step %ld: non-finite loss or "
                               "gradient (%g values); lower the learning rate or check the data",
                               epoch, step, (double)grad[np + T_NONFINITE]);
                break;
            }
            /* the 1/m rule: divide the global sum by the global batch once */
            const float mg = grad[np + T_COUNT];
            for (size_t i = 0; i < np; i++) grad[i] /= mg;
            double lr = cfg->lr;
            if (cfg->schedule == DESCENT_LR_COSINE) /* step-1 of total-1: alpha at the start, ~0 at the end */
                lr *= 0.5 * (1.0 + cos(M_PI * (double)(step - 1) / (double)total_steps));
            optimizer_step(&opt, cfg, lr, net, grad);
            loss_sum += grad[np + T_LOSS];
            if (cb && cb->on_step) cb->on_step(step, grad[np + T_LOSS] / mg, cb->user);
            correct += grad[np + T_CORRECT];
            if (cfg->sync_check > 0 && step % cfg->sync_check == 0) {
                rc = sync_check(net, step, err);
                if (rc) break;
            }
            if (cb && cb->on_progress && (k % 16 == 15 || k + 1 == steps_per_epoch))
                cb->on_progress(epoch, k + 1, steps_per_epoch, cb->user);
        }
        if (rc) break;
        descent_epoch_stats es;
        memset(&es, 0, sizeof es);
        es.epoch = epoch;
        es.steps = step;
        es.train_loss = loss_sum / (double)n;
        es.train_accuracy = train->classification ? correct / (double)n : NAN;
        es.seconds = comm_wtime() - e0;
        es.samples_per_sec = (double)n / es.seconds;
        es.comm_seconds = comm_s;
        es.compute_seconds = es.seconds - comm_s;
        if (val) {
            rc = descent_evaluate(net, val, &es.val, NULL, err);
            if (rc) break;
            es.has_val = 1;
        }
        if (cb && cb->on_epoch && cb->on_epoch(&es, cb->user)) break;
    }
    if (!rc && cfg->sync_check > 0) rc = sync_check(net, step, err);
    free(perm);
    aligned_free(grad);
    workspace_free(&ws);
    optimizer_free(&opt);
    return rc;
}
