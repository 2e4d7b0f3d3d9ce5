/*
 * train.c - the training loop of the picture in DESIGN.md: global batch k of
 * the epoch's permutation(seed, epoch); this rank's contiguous slice of it
 * -> forward -> cost -> backward (gradients ADDED into one buffer zeroed once
 * per step); one sum-reduction of [gradients | loss | count | correct |
 * non-finite] across ranks; divide by the global m (the 1/m rule); the same
 * update on every rank. Also the split evaluation. Talks to MPI only through
 * the comm_* functions.
 *
 * Two ways to sum a step's gradients:
 *  - float: each rank sums its samples' gradients in float, MPI sums the
 *    ranks' floats. Same mathematics for any layout, but the rounding
 *    depends on how the batch was split.
 *  - reproducible: the global batch is cut into fixed chunks of REPRO_CHUNK
 *    consecutive positions; a rank's slice is whole chunks. Each chunk's sum
 *    (a fixed float computation) is converted to 64-bit fixed point with a
 *    per-tensor power-of-two scale that every rank derives from the previous
 *    step's reduced sums, and the integers are summed: exact, so threads,
 *    ranks and MPI's reduction order cannot change a bit. A value out of the
 *    fixed-point range is counted in the reduction; then every rank lowers
 *    the scale and redoes the step (rare, and the same on every layout).
 */
#define _GNU_SOURCE /* M_PI */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Samples per block: enough for efficient kernels, small enough that the
 * activations of a block stay in cache. A multiple of REPRO_CHUNK. */
#define BLOCK_CAP 256
#define REPRO_CHUNK 16
/* The reduced buffer's tail after the gradients */
enum { T_LOSS, T_COUNT, T_CORRECT, T_NONFINITE, T_RANGE, T_STOP, T_LEN };
/* Reproducible mode: the largest reduced sum is placed at 2^FX_TARGET; a
 * chunk's sum may exceed it 2^(50 - FX_TARGET) times before a redo. */
#define FX_TARGET 40
#define FX_REDO_SHIFT 12
#define FX_MAX_REDO 8

void descent_train_config_default(descent_train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 10;
    cfg->batch = 64;
    cfg->lr = 0.1;
    cfg->schedule = DESCENT_LR_CONSTANT;
    cfg->optimizer = DESCENT_OPT_GD;
    cfg->momentum = 0.9;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = 0.0;
    cfg->seed = 1;
    cfg->sync_check = 0;
    cfg->reproducible = 0;
    cfg->checkpoint_dir = NULL;
    cfg->checkpoint_steps = 0;
    cfg->checkpoint_epochs = 0;
    cfg->checkpoint_keep = 3;
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
    if (c->checkpoint_steps < 0 || c->checkpoint_epochs < 0 || c->checkpoint_keep < 1)
        return set_error(err, DESCENT_E_USAGE, "checkpoint interval must be >= 0 and keep >= 1");
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
        return set_error(err, DESCENT_E_COMM, "MPI reduction failed during the sync check");
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
    /* [loss_fx, range, correct, count, confusion...] as exact integers; the
     * float loss sum as a fallback when a cost is out of fixed-point range */
    int64_t *acc = calloc(4 + nconf, sizeof(int64_t));
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
    block_stats st = {0};
    for (size_t s0 = lo; s0 < hi; s0 += BLOCK_CAP) {
        const int B = hi - s0 < BLOCK_CAP ? (int)(hi - s0) : BLOCK_CAP;
        data_gather(d, NULL, s0, B, ws.act[0], ws.ld[0], ws.y, ws.ldy, nout);
        net_block(net, &ws, B, NULL, 0, NULL, d->classification, &st);
        for (int s = 0; s < B && nconf; s++) {
            const int pred = k_argmax(ws.act[net->L] + (size_t)s * ws.ld[net->L], nout);
            acc[4 + (size_t)d->labels[s0 + s] * nout + pred] += 1;
        }
    }
    acc[0] = st.loss_fx;
    acc[1] = (int64_t)(st.range + st.nonfinite);
    acc[2] = (int64_t)st.correct;
    acc[3] = (int64_t)(hi - lo);
    double loss = st.loss;
    if (comm_sum_i64(acc, 4 + nconf) || comm_sum_double(&loss, 1)) {
        free(acc);
        workspace_free(&ws);
        return set_error(err, DESCENT_E_COMM, "MPI reduction failed during evaluation");
    }
    const double count = (double)acc[3];
    res->count = (size_t)acc[3];
    if (count > 0)
        res->loss = (acc[1] == 0 ? ldexp((double)acc[0], -LOSS_FX_BITS) : loss) / count;
    res->accuracy = d->classification && count > 0 ? (double)acc[2] / count : NAN;
    for (size_t i = 0; i < nconf && confusion; i++) confusion[i] = (uint64_t)acc[4 + i];
    free(acc);
    workspace_free(&ws);
    return DESCENT_OK;
}

/* Everything a step needs besides the network */
typedef struct {
    const descent_data *train;
    const uint32_t *perm;
    workspace ws;
    int bcap, nout;
    float *grad;      /* np + T_LEN floats: the float sums (reproducible: the
                       * mean, converted from gfx)                          */
    int64_t *gfx;     /* np + T_LEN integers (reproducible mode)             */
    int *sw, *sb;     /* fixed-point exponents per layer                     */
    double comm_s;    /* seconds spent in the reduction                      */
    int stop;         /* this rank was asked to stop                         */
} stepper;

typedef struct {
    double loss, correct, count;
    float divide;     /* what the optimizer divides the gradient by (1/m)    */
    int stop;         /* some rank was asked to stop                         */
} step_result;

static int step_float(stepper *sp, const descent_net *net, size_t first, size_t mk,
                      step_result *out, descent_error *err) {
    const size_t np = net->n_params;
    float *g = sp->grad;
    size_t lo, hi;
    share(mk, comm_rank(), comm_size(), &lo, &hi);
    /* the first block overwrites the sums, later ones add to them; an empty
     * slice contributes zeros */
    if (hi == lo) memset(g, 0, sizeof(float) * np);
    block_stats st = {0};
    for (size_t b0 = lo; b0 < hi; b0 += (size_t)sp->bcap) {
        const int B = hi - b0 < (size_t)sp->bcap ? (int)(hi - b0) : sp->bcap;
        data_gather(sp->train, sp->perm + first + b0, 0, B, sp->ws.act[0], sp->ws.ld[0],
                    sp->ws.y, sp->ws.ldy, sp->nout);
        net_block(net, &sp->ws, B, g, b0 > lo, NULL, sp->train->classification, &st);
    }
    /* non-finite losses and gradient sums were counted as they were stored */
    g[np + T_LOSS] = (float)st.loss;
    g[np + T_COUNT] = (float)(hi - lo);
    g[np + T_CORRECT] = (float)st.correct;
    g[np + T_NONFINITE] = (float)st.nonfinite;
    g[np + T_RANGE] = 0.0f;
    g[np + T_STOP] = (float)sp->stop;
    const double t0 = comm_wtime();
    if (comm_sum_float(g, np + T_LEN)) return set_error(err, DESCENT_E_COMM, "MPI reduction failed");
    sp->comm_s += comm_wtime() - t0;
    if (g[np + T_NONFINITE] != 0.0f || !isfinite(g[np + T_LOSS]))
        return set_error(err, DESCENT_E_NONFINITE, "non-finite loss or gradient");
    /* the 1/m rule: the optimizer divides the global sum by the global batch */
    const float mg = g[np + T_COUNT];
    out->loss = g[np + T_LOSS];
    out->correct = g[np + T_CORRECT];
    out->count = mg;
    out->divide = mg;
    out->stop = g[np + T_STOP] != 0.0f;
    return DESCENT_OK;
}

static int floor_log2_u64(uint64_t x) { return 63 - __builtin_clzll(x); }

static int step_repro(stepper *sp, const descent_net *net, size_t first, size_t mk,
                      step_result *out, descent_error *err) {
    const size_t np = net->n_params;
    const int P = comm_size(), rank = comm_rank(), C = REPRO_CHUNK;
    int64_t *g = sp->gfx;
    /* whole chunks per rank: chunk boundaries do not depend on P */
    const size_t nc = (mk + C - 1) / C;
    size_t c0, c1;
    share(nc, rank, P, &c0, &c1);
    const size_t lo = c0 * C, hi = c1 * C < mk ? c1 * C : mk;
    /* no chunk may exceed 2^62 / nc, so the integer sum cannot overflow */
    const int lim_exp = 62 - (floor_log2_u64(nc) + 1) < 50 ? 62 - (floor_log2_u64(nc) + 1) : 50;
    for (int attempt = 0;; attempt++) {
        memset(g, 0, sizeof(int64_t) * (np + T_LEN));
        fx_grad fx = {g, sp->sw, sp->sb, C, ldexp(1.0, lim_exp), 0, 0};
        block_stats st = {0};
        for (size_t b0 = lo; b0 < hi; b0 += (size_t)sp->bcap) {
            const int B = hi - b0 < (size_t)sp->bcap ? (int)(hi - b0) : sp->bcap;
            data_gather(sp->train, sp->perm + first + b0, 0, B, sp->ws.act[0], sp->ws.ld[0],
                        sp->ws.y, sp->ws.ldy, sp->nout);
            net_block(net, &sp->ws, B, NULL, 0, &fx, sp->train->classification, &st);
        }
        g[np + T_LOSS] = st.loss_fx;
        g[np + T_COUNT] = (int64_t)(hi - lo);
        g[np + T_CORRECT] = (int64_t)st.correct;
        g[np + T_NONFINITE] = (int64_t)st.nonfinite + fx.nonfinite;
        g[np + T_RANGE] = fx.range + (int64_t)st.range;
        g[np + T_STOP] = sp->stop;
        const double t0 = comm_wtime();
        if (comm_sum_i64(g, np + T_LEN)) return set_error(err, DESCENT_E_COMM, "MPI reduction failed");
        sp->comm_s += comm_wtime() - t0;
        if (g[np + T_NONFINITE] != 0)
            return set_error(err, DESCENT_E_NONFINITE, "non-finite loss or gradient (%lld values)",
                             (long long)g[np + T_NONFINITE]);
        if (g[np + T_RANGE] == 0) break;
        if (attempt == FX_MAX_REDO)
            return set_error(err, DESCENT_E_NONFINITE, "gradient or loss beyond the fixed-point "
                             "range even after %d rescalings (%lld values); lower the learning "
                             "rate or use --no-reproducible", FX_MAX_REDO,
                             (long long)g[np + T_RANGE]);
        for (int l = 0; l < net->L; l++) { /* identical on every rank */
            sp->sw[l] -= FX_REDO_SHIFT;
            sp->sb[l] -= FX_REDO_SHIFT;
        }
    }
    const float mg = (float)g[np + T_COUNT];
    for (int l = 0; l < net->L; l++) {
        const size_t wo = net->w_off[l], bo = net->b_off[l], be = bo + (size_t)net->sizes[l + 1];
        int *ex[2] = {&sp->sw[l], &sp->sb[l]};
        const size_t from[2] = {wo, bo}, to[2] = {bo, be};
        for (int t = 0; t < 2; t++) {
            /* the 1/m rule, in the same operations on every rank */
            const uint64_t mx = k_fx_to_float(sp->grad + from[t], g + from[t], to[t] - from[t],
                                              *ex[t], mg);
            /* next step's scale puts this step's largest sum at 2^FX_TARGET */
            if (mx > 0) {
                int e = *ex[t] + FX_TARGET - floor_log2_u64(mx);
                *ex[t] = e < -300 ? -300 : e > 300 ? 300 : e;
            }
        }
    }
    out->loss = ldexp((double)g[np + T_LOSS], -LOSS_FX_BITS);
    out->correct = (double)g[np + T_CORRECT];
    out->count = mg;
    out->divide = 1.0f; /* k_fx_to_float divided by m */
    out->stop = g[np + T_STOP] != 0;
    return DESCENT_OK;
}

/* Write a checkpoint of the state after `step` (rank 0), and agree. */
static int save_checkpoint(const descent_net *net, const descent_train_config *cfg,
                           const optimizer *opt, const stepper *sp, long step, int epoch, long k,
                           long steps_per_epoch, double loss_sum, double correct,
                           descent_error *err) {
    int rc = DESCENT_OK;
    if (comm_rank() == 0) {
        descent_checkpoint ck;
        memset(&ck, 0, sizeof ck);
        ck.step = (uint64_t)step;
        /* a finished epoch is stored as the start of the next one */
        const int done = k == steps_per_epoch;
        ck.epoch = (uint32_t)(done ? epoch + 1 : epoch);
        ck.k = (uint32_t)(done ? 0 : k);
        ck.epoch_loss = done ? 0.0 : loss_sum;
        ck.epoch_correct = done ? 0.0 : correct;
        ck.cfg = *cfg;
        ck.cfg.checkpoint_dir = NULL;
        ck.opt_t = (uint64_t)opt->t;
        ck.n = net->n_params;
        ck.m = opt->m;
        ck.v = opt->v;
        ck.L = net->L;
        ck.sw = sp->sw;
        ck.sb = sp->sb;
        char path[4096];
        rc = checkpoint_save(cfg->checkpoint_dir, cfg->checkpoint_keep, net, &ck, path,
                             sizeof path, err);
    }
    int who;
    rc = comm_agree(rc, &who);
    return remote_error(err, rc, who);
}

/* Can this run continue from that checkpoint? */
static int check_resume(const descent_net *net, const descent_train_config *cfg,
                        const descent_checkpoint *from, descent_error *err) {
    const descent_train_config *c = &from->cfg;
    if (from->n != net->n_params)
        return set_error(err, DESCENT_E_USAGE, "cannot resume: the checkpoint holds %zu "
                         "parameters, the network %zu", from->n, net->n_params);
    if (c->batch != cfg->batch || c->seed != cfg->seed || c->optimizer != cfg->optimizer ||
        c->reproducible != cfg->reproducible)
        return set_error(err, DESCENT_E_USAGE, "cannot resume: batch, seed, optimizer and mode "
                         "must be the checkpoint's (batch %zu, seed %llu, %s, %s)", c->batch,
                         (unsigned long long)c->seed, descent_optimizer_name(c->optimizer),
                         c->reproducible ? "reproducible" : "float sums");
    return DESCENT_OK;
}

int descent_train(descent_net *net, const descent_data *train, const descent_data *val,
                  const descent_train_config *cfg, const descent_callbacks *cb,
                  descent_error *err) {
    return descent_train_resume(net, train, val, cfg, NULL, cb, err);
}

int descent_train_resume(descent_net *net, const descent_data *train, const descent_data *val,
                         const descent_train_config *cfg, const descent_checkpoint *from,
                         const descent_callbacks *cb, descent_error *err) {
    const int P = comm_size();
    int rc = descent_train_config_check(cfg, err);
    if (!rc && from) rc = check_resume(net, cfg, from, err);
    if (!rc) rc = descent_data_check(train, net, err);
    if (!rc && val) rc = descent_data_check(val, net, err);
    if (!rc && train->n > UINT32_MAX)
        rc = set_error(err, DESCENT_E_NOMEM, "%s: more than 2^32 samples", train->path);
    const size_t n = train->n, np = net->n_params;
    const size_t m = cfg->batch < n ? cfg->batch : n;
    /* a rank's largest slice: one share, or (reproducible) whole chunks */
    size_t slice_max = (m + (size_t)P - 1) / (size_t)P;
    if (cfg->reproducible) {
        const size_t nc = (m + REPRO_CHUNK - 1) / REPRO_CHUNK;
        slice_max = (nc + (size_t)P - 1) / (size_t)P * REPRO_CHUNK;
    }
    stepper sp = {0};
    sp.train = train;
    sp.nout = net->sizes[net->L];
    sp.bcap = slice_max < BLOCK_CAP ? (int)(slice_max ? slice_max : 1) : BLOCK_CAP;
    optimizer opt = {0};
    uint32_t *perm = NULL;
    if (!rc) {
        perm = malloc(sizeof(uint32_t) * (n ? n : 1));
        sp.grad = aligned_calloc(np + T_LEN, sizeof(float));
        if (cfg->reproducible) {
            sp.gfx = aligned_calloc(np + T_LEN, sizeof(int64_t));
            sp.sw = calloc((size_t)net->L, sizeof(int));
            sp.sb = calloc((size_t)net->L, sizeof(int));
        }
        if (!perm || !sp.grad || (cfg->reproducible && (!sp.gfx || !sp.sw || !sp.sb)) ||
            workspace_init(&sp.ws, net, sp.bcap) || optimizer_init(&opt, cfg, np))
            rc = set_error(err, DESCENT_E_NOMEM, "out of memory for training buffers");
        for (int l = 0; rc == 0 && sp.sw && l < net->L; l++) sp.sw[l] = sp.sb[l] = 30;
    }
    long step = 0;
    int first_epoch = 1;
    long first_k = 0;
    double resume_loss = 0.0, resume_correct = 0.0;
    if (!rc && from) { /* continue exactly where the checkpoint stopped */
        opt.t = (long)from->opt_t;
        if (from->m) memcpy(opt.m, from->m, np * sizeof(float));
        if (from->v) memcpy(opt.v, from->v, np * sizeof(float));
        if (from->sw && sp.sw) {
            memcpy(sp.sw, from->sw, sizeof(int) * (size_t)net->L);
            memcpy(sp.sb, from->sb, sizeof(int) * (size_t)net->L);
        }
        step = (long)from->step;
        first_epoch = (int)from->epoch;
        first_k = (long)from->k;
        resume_loss = from->epoch_loss;
        resume_correct = from->epoch_correct;
    }
    sp.perm = perm;
    /* every rank learns whether any rank failed to set up, and which */
    int who;
    rc = comm_agree(rc, &who);
    rc = remote_error(err, rc, who);
    if (!rc) rc = sync_check(net, 0, err);

    const long steps_per_epoch = (long)((n + m - 1) / m);
    const long total_steps = steps_per_epoch * cfg->epochs;
    if (!rc && from && first_k >= steps_per_epoch)
        rc = set_error(err, DESCENT_E_USAGE, "cannot resume: the checkpoint is at step %ld of an "
                       "epoch of %ld steps (different data?)", first_k, steps_per_epoch);
    for (int epoch = first_epoch; !rc && epoch <= cfg->epochs; epoch++) {
        const double e0 = comm_wtime();
        const int resumed = epoch == first_epoch;
        double loss_sum = resumed ? resume_loss : 0.0, correct = resumed ? resume_correct : 0.0;
        sp.comm_s = 0.0;
        permutation(perm, n, cfg->seed, (uint64_t)epoch);
        for (long k = resumed ? first_k : 0; k < steps_per_epoch; k++) {
            sp.stop = cb && cb->should_stop && cb->should_stop(cb->user);
            const size_t first = (size_t)k * m, mk = n - first < m ? n - first : m;
            step_result r = {0, 0, 0, 1.0f, 0};
            rc = cfg->reproducible ? step_repro(&sp, net, first, mk, &r, err)
                                   : step_float(&sp, net, first, mk, &r, err);
            step++;
            if (rc) {
                /* every rank saw the same reduced counts: all stop here */
                if (err) {
                    char inner[sizeof err->msg];
                    snprintf(inner, sizeof inner, "%s", err->msg);
                    set_error(err, rc, "epoch %d, step %ld: %s%s", epoch, step, inner,
                              rc == DESCENT_E_NONFINITE
                                  ? "; lower the learning rate or check the data" : "");
                }
                break;
            }
            double lr = cfg->lr;
            if (cfg->schedule == DESCENT_LR_COSINE) /* alpha at the first step, ~0 at the last */
                lr *= 0.5 * (1.0 + cos(M_PI * (double)(step - 1) / (double)total_steps));
            optimizer_step(&opt, cfg, lr, net, sp.grad, r.divide);
            loss_sum += r.loss;
            correct += r.correct;
            if (cb && cb->on_step) cb->on_step(step, r.loss / r.count, cb->user);
            if (cfg->sync_check > 0 && step % cfg->sync_check == 0) {
                rc = sync_check(net, step, err);
                if (rc) break;
            }
            if (cb && cb->on_progress && (k % 16 == 15 || k + 1 == steps_per_epoch))
                cb->on_progress(epoch, k + 1, steps_per_epoch, cb->user);
            const int last_of_epoch = k + 1 == steps_per_epoch;
            const int periodic =
                (cfg->checkpoint_steps > 0 && step % cfg->checkpoint_steps == 0) ||
                (cfg->checkpoint_epochs > 0 && last_of_epoch && epoch % cfg->checkpoint_epochs == 0);
            if (cfg->checkpoint_dir && (periodic || r.stop)) {
                rc = save_checkpoint(net, cfg, &opt, &sp, step, epoch, k + 1, steps_per_epoch,
                                     loss_sum, correct, err);
                if (rc) break;
            }
            if (r.stop) {
                set_error(err, DESCENT_E_INTERRUPTED, "stopped on request after epoch %d, step %ld"
                          "%s%s", epoch, step, cfg->checkpoint_dir ? "; checkpoint written to " :
                          " (no --checkpoint-dir: nothing saved)",
                          cfg->checkpoint_dir ? cfg->checkpoint_dir : "");
                if (err) err->rank = 0; /* one message, from rank 0 */
                rc = DESCENT_E_INTERRUPTED;
                break;
            }
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
        es.comm_seconds = sp.comm_s;
        es.compute_seconds = es.seconds - sp.comm_s;
        if (val) {
            rc = descent_evaluate(net, val, &es.val, NULL, err);
            if (rc) break;
            es.has_val = 1;
        }
        if (cb && cb->on_epoch && cb->on_epoch(&es, cb->user)) break;
    }
    if (!rc && cfg->sync_check > 0) rc = sync_check(net, step, err);
    free(perm);
    aligned_free(sp.grad);
    aligned_free(sp.gfx);
    free(sp.sw);
    free(sp.sb);
    workspace_free(&sp.ws);
    optimizer_free(&opt);
    return rc;
}
