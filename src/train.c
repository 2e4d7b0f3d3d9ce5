/* SPDX-License-Identifier: MIT */
/*
 * train.c - the training loop: epochs of steps over the permutation that
 * depends only on (seed, epoch), the learning-rate schedule, the update
 * after every step, the callbacks, periodic and on-request checkpoints,
 * validation after each epoch with the best model and early stopping, and
 * the optional parameter sync check. The
 * step itself (slices, gradient sums, the reduction) is step.c; the update
 * rules are optim.c; the checks that ranks hold the same data and
 * parameters are consistency.c.
 */
#define _GNU_SOURCE /* M_PI */
#include "base.h"
#include "checkpoint.h"
#include "comm.h"
#include "config_fields.h"
#include "consistency.h"
#include "data.h"
#include "evaluate.h"
#include "optim.h"
#include "provenance.h"
#include "step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Everything the loop carries from step to step */
typedef struct {
    descent_net *net;
    const descent_data *train, *val;
    const descent_train_config *cfg;
    const descent_callbacks *cb;
    stepper sp;
    optimizer opt;
    uint32_t *perm;        /* the epoch's data order                        */
    size_t n, m;           /* training samples, global batch                */
    long steps_per_epoch;  /* ceil(n / m): the last batch may be partial     */
    long warmup;           /* steps of linear warm-up (may outlast the run)  */
    long step;             /* steps done                                    */
    int first_epoch;       /* where this run starts (a checkpoint's place)   */
    long first_k;
    double resume_loss, resume_correct; /* the started epoch's sums so far  */
    double lr;             /* the last step's learning rate                 */
    double best_val_loss;  /* lowest validation loss so far (+inf: none)    */
    int best_epoch;        /* its epoch (0: none)                           */
    int epoch_checkpoint_due; /* the epoch's checkpoint waits for validation */
    uint64_t train_id[FP_LEN], val_id[FP_LEN]; /* what checkpoints and the  */
                                               /* provenance record         */
    int stop_after_epoch;  /* a stop asked at the epoch's last step          */
} trainer;

/* The learning rate of step `step` (1-based) of total_steps: the linear
 * warm-up over its first `warmup` steps, then the schedule over the rest */
static double scheduled_lr(const descent_train_config *cfg, long step, long total_steps,
                           long warmup) {
    if (step <= warmup) return cfg->lr * (double)step / (double)warmup;
    double lr = cfg->lr;
    const long t = step - warmup, T = total_steps - warmup;
    if (cfg->schedule == DESCENT_LR_COSINE) /* alpha at the first step, ~0 at the last */
        lr *= 0.5 * (1.0 + cos(M_PI * (double)(t - 1) / (double)T));
    return lr;
}

/* Rank 0 writes the state after step t->step, k steps into epoch; agreed. */
static int save_checkpoint(const trainer *t, int epoch, long k, double loss_sum, double correct,
                           descent_error *err) {
    int rc = DESCENT_OK;
    if (comm_rank() == 0) {
        descent_checkpoint ck;
        memset(&ck, 0, sizeof ck);
        ck.step = (uint64_t)t->step;
        /* a finished epoch is stored as the start of the next one */
        const int done = k == t->steps_per_epoch;
        ck.epoch = (uint32_t)(done ? epoch + 1 : epoch);
        ck.k = (uint32_t)(done ? 0 : k);
        ck.epoch_loss = done ? 0.0 : loss_sum;
        ck.epoch_correct = done ? 0.0 : correct;
        ck.cfg = *t->cfg;
        ck.cfg.checkpoint_dir = NULL;
        ck.opt_t = (uint64_t)t->opt.t;
        ck.n = t->net->n_params;
        ck.m = t->opt.m;
        ck.v = t->opt.v;
        ck.L = t->net->L;
        ck.w_exp = t->sp.fx.w_exp;
        ck.b_exp = t->sp.fx.b_exp;
        ck.best_val_loss = t->best_val_loss;
        ck.best_epoch = (uint32_t)t->best_epoch;
        ck.has_data = 1;
        memcpy(ck.train_id, t->train_id, sizeof ck.train_id);
        memcpy(ck.val_id, t->val_id, sizeof ck.val_id);
        char path[PATH_CAP];
        rc = checkpoint_save(t->cfg->checkpoint_dir, t->cfg->checkpoint_keep, t->net, &ck, path,
                             err);
    }
    int who;
    rc = comm_agree(rc, &who);
    return remote_error(err, rc, who);
}

/* The checkpoint's set (role: "training", "validation") and this run's
 * are the same data, split the same way */
static int same_set(const char *role, const uint64_t *then, const uint64_t *now,
                    descent_error *err) {
    if (memcmp(then, now, sizeof(uint64_t) * FP_LEN) == 0) return DESCENT_OK;
    char a[96] = "none", b[96] = "none";
    if (then[FP_COUNT]) data_identity_text(a, sizeof a, then);
    if (now[FP_COUNT]) data_identity_text(b, sizeof b, now);
    return set_error(err, DESCENT_E_MISMATCH, "cannot resume on other data: the checkpoint's %s "
                     "set was %s, this run's is %s (give the first run's data options: the same "
                     "files, --limit and --val-fraction)", role, a, b);
}

/* Can this run continue from that checkpoint? */
static int check_resume(const trainer *t, const descent_checkpoint *from, descent_error *err) {
    const descent_net *net = t->net;
    const descent_train_config *cfg = t->cfg, *c = &from->cfg;
    if (from->n != net->n_params)
        return set_error(err, DESCENT_E_USAGE, "cannot resume: the checkpoint holds %zu "
                         "parameters, the network %zu", from->n, net->n_params);
    int fixed_differ = 0; /* the fields a resume cannot change (config_fields.h) */
#define FIXED_DIFFERS(field, kind, def, role, ver, wire, valid, rule, opt) \
    fixed_differ |= (role) == CF_FIXED && cf_bits(c->field) != cf_bits(cfg->field);
    DESCENT_CONFIG_FIELDS(FIXED_DIFFERS)
#undef FIXED_DIFFERS
    if (fixed_differ)
        return set_error(err, DESCENT_E_USAGE, "cannot resume: batch, seed, optimizer and mode "
                         "must be the checkpoint's (batch %zu, seed %llu, %s, %s)", c->batch,
                         (unsigned long long)c->seed, descent_optimizer_name(c->optimizer),
                         c->reproducible ? "reproducible" : "float sums");
    if (!from->has_data) return DESCENT_OK; /* an older checkpoint: not recorded */
    const int rc = same_set("training", from->train_id, t->train_id, err);
    return rc ? rc : same_set("validation", from->val_id, t->val_id, err);
}

/* The sets' identities, for the checkpoints and a resume's check */
static void identify_data(trainer *t) {
    data_identity(t->train, t->train_id);
    memset(t->val_id, 0, sizeof t->val_id);
    if (t->val) data_identity(t->val, t->val_id);
}

/* Continue exactly where the checkpoint stopped: optimizer state, the
 * fixed-point scales, the position and the started epoch's sums. */
static void restore(trainer *t, const descent_checkpoint *from) {
    const size_t np = t->net->n_params;
    t->opt.t = (long)from->opt_t;
    if (from->m) memcpy(t->opt.m, from->m, np * sizeof(float));
    if (from->v) memcpy(t->opt.v, from->v, np * sizeof(float));
    if (from->w_exp && t->sp.fx.w_exp) fx_scales_restore(&t->sp.fx, from->w_exp, from->b_exp);
    t->step = (long)from->step;
    t->first_epoch = (int)from->epoch;
    t->first_k = (long)from->k;
    t->resume_loss = from->epoch_loss;
    t->resume_correct = from->epoch_correct;
    t->best_val_loss = from->best_val_loss;
    t->best_epoch = (int)from->best_epoch;
}

/* The net's provenance (provenance.c) for this run as it stands: a fresh
 * run makes the net's earlier provenance, if any, its parent; a resumed
 * one keeps the parent its checkpoint recorded. */
static int note_provenance(trainer *t, int resumed, descent_error *err) {
    descent_net *net = t->net;
    const int bf16 = t->cfg->comm_bf16 && comm_size() > 1;
    char *record = provenance_record(t->cfg, bf16, t->train_id, t->val ? t->val_id : NULL,
                                     t->best_val_loss, t->best_epoch);
    const int rc = record ? net_set_provenance(net, record, resumed ? net->prov_parent
                                                                    : net->prov_text)
                          : DESCENT_E_NOMEM;
    free(record);
    return rc ? set_error(err, rc, "out of memory for the model's provenance") : DESCENT_OK;
}

/* Checks, buffers and the starting point, agreed by every rank. */
static int trainer_init(trainer *t, const descent_checkpoint *from, descent_error *err) {
    const descent_train_config *cfg = t->cfg;
    /* first, and collective: what follows differs between configurations */
    int rc = ranks_same_config(cfg, t->val != NULL, err);
    if (rc) return rc;
    rc = descent_train_config_check(cfg, err);
    if (!rc && cfg->dropout > 0 && t->net->L < 2)
        rc = set_error(err, DESCENT_E_USAGE, "dropout %g: the network has no hidden layer to "
                       "drop units of", cfg->dropout);
    if (!rc) identify_data(t);
    if (!rc && from) rc = check_resume(t, from, err);
    if (!rc) rc = descent_data_check(t->train, t->net, err);
    if (!rc && t->val) rc = descent_data_check(t->val, t->net, err);
    if (!rc && t->train->n > UINT32_MAX)
        rc = set_error(err, DESCENT_E_NOMEM, "%s: more than 2^32 samples", t->train->path);
    if (!rc && t->train->n == 0)
        rc = set_error(err, DESCENT_E_USAGE, "%s: no training samples", t->train->path);
    t->n = t->train->n;
    t->m = cfg->batch < t->n ? cfg->batch : t->n;
    t->steps_per_epoch = t->m ? (long)((t->n + t->m - 1) / t->m) : 0;
    t->first_epoch = 1;
    t->best_val_loss = INFINITY;
    t->warmup = cfg->warmup_epochs ? t->steps_per_epoch * (long)cfg->warmup_epochs
                                   : cfg->warmup_steps;
    if (!rc && !t->val && (cfg->patience > 0 || cfg->best_model))
        rc = set_error(err, DESCENT_E_USAGE, "%s needs a validation set",
                       cfg->patience > 0 ? "early stopping (patience)" : "keeping the best model");
    if (!rc) {
        rc = stepper_init(&t->sp, t->net, t->train, cfg, err);
        t->perm = malloc(sizeof(uint32_t) * (t->n ? t->n : 1));
        if (!rc && (!t->perm || optimizer_init(&t->opt, cfg, t->net->n_params)))
            rc = set_error(err, DESCENT_E_NOMEM, "out of memory for training buffers");
    }
    if (!rc && from) restore(t, from);
    if (!rc) rc = note_provenance(t, from != NULL, err);
    /* every rank learns whether any rank failed to set up, and which */
    int who;
    rc = comm_agree(rc, &who);
    rc = remote_error(err, rc, who);
    if (!rc) rc = ranks_same_data(t->train, "training", err);
    if (!rc && t->val) rc = ranks_same_data(t->val, "validation", err);
    if (!rc) rc = ranks_same_params(t->net, 0, err);
    if (!rc && from && t->first_k >= t->steps_per_epoch)
        rc = set_error(err, DESCENT_E_USAGE, "cannot resume: the checkpoint is at step %ld of an "
                       "epoch of %ld steps (different data?)", t->first_k, t->steps_per_epoch);
    return rc;
}

static void trainer_free(trainer *t) {
    free(t->perm);
    stepper_free(&t->sp);
    optimizer_free(&t->opt);
}

/* Prefix a step's failure with where it happened. Every rank saw the same
 * reduced counts, so all stop at this step with the same message: rank 0
 * reports it (a failed collective is each rank's own). */
static int step_failed(int rc, int epoch, long step, descent_error *err) {
    if (err) {
        char inner[sizeof err->msg];
        snprintf(inner, sizeof inner, "%s", err->msg);
        set_error(err, rc, "epoch %d, step %ld: %s%s", epoch, step, inner,
                  rc == DESCENT_E_NONFINITE ? "; lower the learning rate or check the data" : "");
        if (rc != DESCENT_E_COMM) err->rank = 0;
    }
    return rc;
}

/* The error a stop on request ends training with: one message, from rank 0 */
static int stopped_on_request(const trainer *t, int epoch, descent_error *err) {
    const descent_train_config *cfg = t->cfg;
    set_error(err, DESCENT_E_INTERRUPTED, "stopped on request after epoch %d, step %ld%s%s", epoch,
              t->step, cfg->checkpoint_dir ? "; checkpoint written to " :
              "; no checkpoint (no checkpoint directory)",
              cfg->checkpoint_dir ? cfg->checkpoint_dir : "");
    if (err) err->rank = 0;
    return DESCENT_E_INTERRUPTED;
}

/* After step k (0-based) of epoch: the checkpoint the policy asks for, then
 * the stop a rank asked for (at an epoch's last step both wait for the
 * epoch's end). */
static int after_step(trainer *t, int epoch, long k, int stop, double loss_sum, double correct,
                      descent_error *err) {
    const descent_train_config *cfg = t->cfg;
    const int last_of_epoch = k + 1 == t->steps_per_epoch;
    const int periodic =
        (cfg->checkpoint_steps > 0 && t->step % cfg->checkpoint_steps == 0) ||
        (cfg->checkpoint_epochs > 0 && last_of_epoch && epoch % cfg->checkpoint_epochs == 0);
    if (last_of_epoch) {
        /* the epoch ends as usual (validation, its report), then its
         * checkpoint, which includes them; a stop takes effect after that */
        t->epoch_checkpoint_due = cfg->checkpoint_dir && (periodic || stop);
        t->stop_after_epoch = stop;
        return DESCENT_OK;
    }
    if (cfg->checkpoint_dir && (periodic || stop)) {
        const int rc = save_checkpoint(t, epoch, k + 1, loss_sum, correct, err);
        if (rc) return rc;
    }
    return stop ? stopped_on_request(t, epoch, err) : DESCENT_OK;
}

/* The steps of one epoch; its summed loss and correct count in es. */
static int run_epoch(trainer *t, int epoch, descent_epoch_stats *es, descent_error *err) {
    const descent_train_config *cfg = t->cfg;
    const descent_callbacks *cb = t->cb;
    const long total_steps = t->steps_per_epoch * cfg->epochs;
    const int resumed = epoch == t->first_epoch;
    double loss_sum = resumed ? t->resume_loss : 0.0, correct = resumed ? t->resume_correct : 0.0;
    t->sp.comm_s = 0.0;
    stepper_start_epoch(&t->sp, epoch);
    permutation(t->perm, t->n, cfg->seed, (uint64_t)epoch);
    for (long k = resumed ? t->first_k : 0; k < t->steps_per_epoch; k++) {
        const int stop = cb && cb->should_stop && cb->should_stop(cb->user);
        const size_t first = (size_t)k * t->m, mk = t->n - first < t->m ? t->n - first : t->m;
        step_result r = {0, 0, 1.0f, 0};
        int rc = step_run(&t->sp, t->net, t->perm, first, mk, stop, &r, err);
        t->step++;
        if (rc) return step_failed(rc, epoch, t->step, err);
        t->lr = scheduled_lr(cfg, t->step, total_steps, t->warmup);
        stepper_update(&t->sp, &t->opt, cfg, t->lr, t->net, r.m);
        loss_sum += r.loss;
        correct += r.correct;
        if (cb && cb->on_step) {
            const descent_step_info si = {epoch, k + 1, t->steps_per_epoch, t->step,
                                          r.loss / r.m, mk};
            cb->on_step(&si, cb->user);
        }
        if (cfg->sync_check > 0 && t->step % cfg->sync_check == 0 &&
            (rc = ranks_same_params(t->net, t->step, err)))
            return rc;
        if (cb && cb->on_progress && (k % 16 == 15 || k + 1 == t->steps_per_epoch))
            cb->on_progress(epoch, k + 1, t->steps_per_epoch, cb->user);
        if ((rc = after_step(t, epoch, k, r.stop, loss_sum, correct, err))) return rc;
    }
    es->train_loss = loss_sum / (double)t->n;
    es->train_accuracy = t->train->classification ? correct / (double)t->n : NAN;
    return DESCENT_OK;
}

/* After the epoch's validation (identical on every rank): a new lowest
 * loss is remembered and, with best_model, written by rank 0; patience
 * epochs without one end the training. */
static int track_best(trainer *t, int epoch, descent_epoch_stats *es, descent_error *err) {
    const descent_train_config *cfg = t->cfg;
    es->has_val = 1;
    int rc = DESCENT_OK;
    if (es->val.loss < t->best_val_loss) {
        t->best_val_loss = es->val.loss;
        t->best_epoch = epoch;
        /* the record's best loss, then the best model that carries it */
        rc = note_provenance(t, 1, err);
        if (!rc && cfg->best_model && comm_rank() == 0)
            rc = descent_model_save(t->net, cfg->best_model, err);
        int who;
        rc = comm_agree(rc, &who);
        rc = remote_error(err, rc, who);
    }
    es->best_epoch = t->best_epoch;
    es->best_val_loss = t->best_val_loss;
    es->early_stop = cfg->patience > 0 && epoch < cfg->epochs &&
                     epoch - t->best_epoch >= cfg->patience;
    return rc;
}

int descent_train(descent_net *net, const descent_data *train, const descent_data *val,
                  const descent_train_config *cfg, const descent_callbacks *cb,
                  descent_error *err) {
    return descent_train_resume(net, train, val, cfg, NULL, cb, err);
}

int descent_train_resume(descent_net *net, const descent_data *train, const descent_data *val,
                         const descent_train_config *cfg, const descent_checkpoint *from,
                         const descent_callbacks *cb, descent_error *err) {
    REQUIRE_ARG(err, net);
    REQUIRE_ARG(err, train);
    descent_train_config full; /* the defaults, or the caller's (of any size) */
    if (!cfg) descent_train_config_default(&full);
    else if (config_of_caller(cfg, &full, err)) return DESCENT_E_USAGE;
    cfg = &full;
    trainer t = {.net = net, .train = train, .val = val, .cfg = cfg, .cb = cb};
    int rc = trainer_init(&t, from, err);
    for (int epoch = t.first_epoch; !rc && epoch <= cfg->epochs; epoch++) {
        const double e0 = comm_wtime();
        descent_epoch_stats es;
        memset(&es, 0, sizeof es);
        rc = run_epoch(&t, epoch, &es, err);
        if (rc) break;
        es.epoch = epoch;
        es.steps = t.step;
        es.seconds = comm_wtime() - e0;
        es.samples_per_sec = (double)t.n / es.seconds;
        es.comm_seconds = t.sp.comm_s;
        es.compute_seconds = es.seconds - t.sp.comm_s;
        es.lr = t.lr;
        if (val) {
            rc = evaluate_set(net, val, &es.val, NULL, 0, err);
            if (!rc) rc = track_best(&t, epoch, &es, err);
            if (rc) break;
        }
        /* the epoch's report (its metrics row) comes before its checkpoint,
         * so a run resumed from that checkpoint never lacks the row; a
         * stop asked by any rank's callback stops every rank here */
        const int stop = cb && cb->on_epoch && cb->on_epoch(&es, cb->user);
        const int agreed = comm_agree(stop ? DESCENT_E_INTERRUPTED : DESCENT_OK, NULL);
        if (agreed == DESCENT_E_COMM) {
            rc = set_error(err, DESCENT_E_COMM, "MPI communication failed after epoch %d", epoch);
            break;
        }
        if (t.epoch_checkpoint_due) {
            t.epoch_checkpoint_due = 0;
            rc = save_checkpoint(&t, epoch, t.steps_per_epoch, 0.0, 0.0, err);
            if (rc) break;
        }
        if (t.stop_after_epoch) { /* the same on every rank: it came in the reduction */
            rc = stopped_on_request(&t, epoch, err);
            break;
        }
        if (agreed || es.early_stop) break;
    }
    if (!rc && cfg->sync_check > 0) rc = ranks_same_params(net, t.step, err);
    trainer_free(&t);
    return rc;
}
