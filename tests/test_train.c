/* SPDX-License-Identifier: MIT */
/* Training behaviour through the public API: XOR learned to 100% with the
 * derivation's network and with softmax/cross-entropy under each optimizer;
 * the same data order and result whatever OMP_NUM_THREADS is (here 1 vs 2
 * threads: bit-identical parameters); an epoch's last, partial batch is a
 * step; a gradient that overflows while the loss stays finite stops
 * training; configuration checks. */
#include <descent/descent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "testdata.h"
#include "testutil.h"

static double train_xor(descent_act hidden, descent_act out, descent_cost cost,
                        descent_optimizer opt, double lr, int epochs) {
    descent_data *d = load_csv_text("0,0,0\n1,0,1\n1,1,0\n0,1,1\n", 0);
    if (!d) return -1;
    const int sizes[3] = {2, 8, 2};
    const descent_act acts[2] = {hidden, out};
    descent_net *net;
    descent_error err;
    if (descent_net_create(&net, 2, sizes, acts, cost, &err)) return -1;
    descent_net_init(net, 3);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = epochs;
    cfg.batch = 4; /* full-batch gradient descent */
    cfg.lr = lr;
    cfg.optimizer = opt;
    int rc = descent_train(net, d, NULL, &cfg, NULL, &err);
    CHECK(rc == 0, "train: %s", err.msg);
    descent_eval_result res;
    uint64_t conf[4];
    rc = descent_evaluate(net, d, &res, conf, &err);
    CHECK(rc == 0, "evaluate: %s", err.msg);
    CHECK(conf[0] + conf[1] + conf[2] + conf[3] == 4, "confusion matrix counts 4 samples");
    descent_net_free(net);
    descent_data_free(d);
    return res.accuracy;
}

/* a synthetic 3-class problem, deterministic */
static descent_data *blobs(int n) {
    size_t cap = (size_t)n * 80 + 1;
    char *text = malloc(cap), *p = text;
    unsigned s = 7;
    for (int i = 0; i < n; i++) {
        const int c = i % 3;
        p += sprintf(p, "%d", c);
        for (int k = 0; k < 6; k++) {
            s = s * 1103515245u + 12345u;
            const double noise = ((s >> 8) % 1000) / 1000.0 - 0.5;
            p += sprintf(p, ",%.4f", (k % 3 == c ? 1.0 : 0.0) + noise);
        }
        *p++ = '\n';
    }
    *p = 0;
    descent_data *d = load_csv_text(text, 0);
    free(text);
    return d;
}

static float *train_blobs(int threads, descent_optimizer opt, size_t *np_out) {
#ifdef _OPENMP
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    descent_data *d = blobs(300);
    const int sizes[4] = {6, 37, 19, 3};
    const descent_act acts[3] = {DESCENT_ACT_TANH, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX};
    descent_net *net;
    descent_error err;
    descent_net_create(&net, 3, sizes, acts, DESCENT_COST_XENT, &err);
    descent_net_init(net, 11);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 4;
    cfg.batch = 29;
    cfg.lr = opt == DESCENT_OPT_ADAM ? 0.01 : 0.1;
    cfg.optimizer = opt;
    cfg.weight_decay = 1e-4;
    CHECK(descent_train(net, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    const size_t np = descent_net_num_params(net);
    float *p = malloc(np * sizeof(float));
    memcpy(p, descent_net_params(net), np * sizeof(float));
    *np_out = np;
    descent_net_free(net);
    descent_data_free(d);
    return p;
}

static void xor_sigmoid_mse_gd(void) {
    const double acc = train_xor(DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID, DESCENT_COST_MSE,
                                 DESCENT_OPT_GD, 4.0, 4000);
    CHECK(acc == 1.0, "XOR with the derivation's sigmoid/squared-error network: accuracy %g", acc);
}

static void xor_tanh_softmax_momentum(void) {
    const double acc = train_xor(DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX, DESCENT_COST_XENT,
                                 DESCENT_OPT_MOMENTUM, 0.1, 500);
    CHECK(acc == 1.0, "XOR tanh/softmax/xent momentum: accuracy %g", acc);
}

static void xor_relu_softmax_adam(void) {
    const double acc = train_xor(DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX, DESCENT_COST_XENT,
                                 DESCENT_OPT_ADAM, 0.05, 500);
    CHECK(acc == 1.0, "XOR relu/softmax/xent adam: accuracy %g", acc);
}

/* every optimizer, with weight decay: 1 and 2 threads give the same bits */
static void threads_do_not_change_parameters(void) {
    for (int o = 0; o < DESCENT_OPT_COUNT; o++) {
        size_t n1, n2;
        float *p1 = train_blobs(1, (descent_optimizer)o, &n1);
        float *p2 = train_blobs(2, (descent_optimizer)o, &n2);
        size_t differ = 0;
        for (size_t i = 0; i < n1; i++) differ += memcmp(&p1[i], &p2[i], sizeof(float)) != 0;
        CHECK(n1 == n2 && differ == 0, "%s: 1 vs 2 threads: %zu of %zu parameters differ",
              descent_optimizer_name((descent_optimizer)o), differ, n1);
        free(p1);
        free(p2);
    }
}

typedef struct {
    long steps;
    long epoch_steps[4];
    double loss[16];       /* each step's batch loss */
    char where[16][32];    /* each step's "epoch.step/steps:samples" */
} step_count;

static void count_step(const descent_step_info *s, void *user) {
    step_count *c = user;
    c->steps = s->step;
    if (s->step < 1 || s->step > 16) return;
    c->loss[s->step - 1] = s->batch_loss;
    snprintf(c->where[s->step - 1], sizeof c->where[0], "%d.%ld/%ld:%zu", s->epoch,
             s->step_in_epoch, s->steps_per_epoch, s->samples);
}

static int note_epoch(const descent_epoch_stats *st, void *user) {
    step_count *c = user;
    if (st->epoch >= 1 && st->epoch <= 4) c->epoch_steps[st->epoch - 1] = st->steps;
    return 0;
}

/* 10 samples in batches of 4: 3 steps an epoch, the third of 2 samples */
static void partial_last_batch_is_a_step(void) {
    descent_data *d = load_csv_text("0,0,0\n1,0,1\n1,1,0\n0,1,1\n0,0,0\n"
                                    "1,0,1\n1,1,0\n0,1,1\n0,0,0\n1,0,1\n", 0);
    const int sizes[3] = {2, 4, 2};
    const descent_act acts[2] = {DESCENT_ACT_TANH, DESCENT_ACT_SIGMOID};
    descent_net *net = NULL;
    descent_error err;
    CHECK(d && descent_net_create(&net, 2, sizes, acts, DESCENT_COST_MSE, &err) == 0, "setup");
    if (!d || !net) return;
    descent_net_init(net, 5);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.batch = 4;
    cfg.epochs = 2;
    step_count c = {0};
    descent_callbacks cb = {note_epoch, count_step, NULL, NULL, &c};
    CHECK(descent_train(net, d, NULL, &cfg, &cb, &err) == 0, "%s", err.msg);
    CHECK(c.steps == 6, "%ld steps in 2 epochs of 10 samples in batches of 4, expected 6", c.steps);
    CHECK(c.epoch_steps[0] == 3 && c.epoch_steps[1] == 6, "steps after each epoch: %ld, %ld",
          c.epoch_steps[0], c.epoch_steps[1]);
    /* what the per-step callback is told: the last batch of an epoch is the 2 left */
    static const char *const want[6] = {"1.1/3:4", "1.2/3:4", "1.3/3:2",
                                        "2.1/3:4", "2.2/3:4", "2.3/3:2"};
    for (int i = 0; i < 6; i++)
        CHECK(strcmp(c.where[i], want[i]) == 0, "step %d was told %s, expected %s", i + 1,
              c.where[i], want[i]);
    descent_net_free(net);
    descent_data_free(d);
}

/* One feature of 3e38 with zero first-layer weights: every output is finite
 * and so is the loss, but the first layer's weight gradient, summed over 256
 * samples, overflows. Training must stop with DESCENT_E_NONFINITE at that
 * step, in both ways of summing, not apply an infinite update. */
static void train_overflow_case(int reproducible) {
    char *text = malloc(256 * 16), *p = text;
    for (int i = 0; i < 256; i++) p += sprintf(p, "%d,3e38,0\n", i % 2);
    descent_data *d = load_csv_text(text, 0);
    free(text);
    const int sizes[3] = {2, 2, 2};
    const descent_act acts[2] = {DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID};
    descent_net *net = NULL;
    descent_error err;
    CHECK(d && descent_net_create(&net, 2, sizes, acts, DESCENT_COST_MSE, &err) == 0, "setup");
    if (!d || !net) return;
    float *w1 = descent_net_weights(net, 0), *w2 = descent_net_weights(net, 1);
    for (int i = 0; i < 4; i++) { w1[i] = 0.0f; w2[i] = 1.0f; }
    float x[2] = {3e38f, 0.0f}, out[2];
    CHECK(descent_net_predict(net, x, 1, out, &err) == 0 && isfinite(out[0]) && isfinite(out[1]),
          "the forward pass is not finite: %g %g", out[0], out[1]);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.batch = 256;
    cfg.epochs = 1;
    cfg.reproducible = reproducible;
    step_count c = {0};
    descent_callbacks cb = {NULL, count_step, NULL, NULL, &c};
    const int rc = descent_train(net, d, NULL, &cfg, &cb, &err);
    CHECK(rc == DESCENT_E_NONFINITE, "%s: training returned %d (%s), expected a non-finite stop",
          reproducible ? "reproducible" : "float", rc, rc ? err.msg : "no error");
    CHECK(c.steps == 0, "an update was applied before the stop (%ld steps)", c.steps);
    CHECK(isfinite(descent_net_weights(net, 0)[0]), "the parameters became non-finite");
    descent_net_free(net);
    descent_data_free(d);
}

static void overflowing_gradient_stops_training(void) {
    train_overflow_case(0);
    train_overflow_case(1);
}

/* Each epoch visits the data in a new order that depends on the seed: with
 * a learning rate too small to move any parameter, a step's loss depends
 * only on which samples its batch holds. */
static void data_order_changes_every_epoch(void) {
    descent_data *d = blobs(12);
    const int sizes[3] = {6, 5, 3};
    const descent_act acts[2] = {DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX};
    step_count runs[2];
    for (int r = 0; r < 2; r++) {
        descent_net *net = NULL;
        descent_error err;
        CHECK(d && descent_net_create(&net, 2, sizes, acts, DESCENT_COST_XENT, &err) == 0, "setup");
        if (!d || !net) return;
        descent_net_init(net, 3);
        descent_train_config cfg;
        descent_train_config_default(&cfg);
        cfg.batch = 4;
        cfg.epochs = 2;
        cfg.lr = 1e-30;
        cfg.seed = 7;
        runs[r] = (step_count){0};
        descent_callbacks cb = {NULL, count_step, NULL, NULL, &runs[r]};
        CHECK(descent_train(net, d, NULL, &cfg, &cb, &err) == 0, "%s", err.msg);
        descent_net_free(net);
    }
    CHECK(runs[0].steps == 6, "%ld steps", runs[0].steps);
    CHECK(memcmp(runs[0].loss, runs[0].loss + 3, 3 * sizeof(double)) != 0,
          "epoch 2 visited the data in epoch 1's order (batch losses %g %g %g)", runs[0].loss[0],
          runs[0].loss[1], runs[0].loss[2]);
    CHECK(memcmp(runs[0].loss, runs[1].loss, 6 * sizeof(double)) == 0,
          "the same seed gave another order");
    descent_data_free(d);
}

static void bad_configuration_refused(void) {
    descent_train_config cfg;
    descent_error err;
    descent_train_config_default(&cfg);
    cfg.lr = -1;
    CHECK(descent_train_config_check(&cfg, &err) == DESCENT_E_USAGE, "negative learning rate");
    descent_train_config_default(&cfg);
    cfg.lr = 0;
    CHECK(descent_train_config_check(&cfg, &err) == DESCENT_E_USAGE, "zero learning rate");
    descent_train_config_default(&cfg);
    cfg.epochs = 0;
    CHECK(descent_train_config_check(&cfg, &err) == DESCENT_E_USAGE, "zero epochs");
}

static void nonsense_network_refused(void) {
    descent_net *net = NULL;
    descent_error err;
    const int sizes[3] = {2, 3, 2};
    descent_act bad1[2] = {DESCENT_ACT_SOFTMAX, DESCENT_ACT_SOFTMAX};
    CHECK(descent_net_create(&net, 2, sizes, bad1, DESCENT_COST_XENT, &err) == DESCENT_E_USAGE &&
              strstr(err.msg, "softmax"), "softmax on a hidden layer: %s", err.msg);
    descent_act bad2[2] = {DESCENT_ACT_RELU, DESCENT_ACT_SIGMOID};
    CHECK(descent_net_create(&net, 2, sizes, bad2, DESCENT_COST_XENT, &err) == DESCENT_E_USAGE &&
              strstr(err.msg, "cross-entropy"), "cross-entropy without softmax: %s", err.msg);
    const int zero[3] = {2, 0, 2};
    CHECK(descent_net_create(&net, 2, zero, bad2, DESCENT_COST_MSE, &err) == DESCENT_E_USAGE,
          "zero width");
    CHECK(net == NULL, "failed create leaves no network");
}

/* every name in the tables parses back to its value */
static void names_round_trip(void) {
    for (int i = 0; i < DESCENT_ACT_COUNT; i++)
        CHECK(descent_act_parse(descent_act_name((descent_act)i)) == i, "activation %d", i);
    for (int i = 0; i < DESCENT_COST_COUNT; i++)
        CHECK(descent_cost_parse(descent_cost_name((descent_cost)i)) == i, "cost %d", i);
    for (int i = 0; i < DESCENT_OPT_COUNT; i++)
        CHECK(descent_optimizer_parse(descent_optimizer_name((descent_optimizer)i)) == i,
              "optimizer %d", i);
    for (int i = 0; i < DESCENT_LR_COUNT; i++)
        CHECK(descent_lr_schedule_parse(descent_lr_schedule_name((descent_lr_schedule)i)) == i,
              "schedule %d", i);
    for (int i = 0; i < DESCENT_E_COUNT; i++)
        CHECK(strcmp(descent_strerror(i), "unknown error") != 0, "status %d has no text", i);
    CHECK(descent_act_parse("swish") == -1, "an unknown activation parses");
}

/* dir and what it holds gone */
static void remove_dir(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cannot remove %s", dir);
}

/* a small tanh-softmax network for blobs(): 6 features, 3 classes */
static descent_net *blobs_net(void) {
    const int sizes[3] = {6, 5, 3};
    const descent_act acts[2] = {DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX};
    descent_net *net = NULL;
    descent_error err;
    CHECK(descent_net_create(&net, 2, sizes, acts, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    if (net) descent_net_init(net, 2);
    return net;
}

/* A stop asked at the last step of an epoch: that epoch ends as usual (its
 * report through on_epoch), its checkpoint is the start of the next epoch,
 * and training returns DESCENT_E_INTERRUPTED */
typedef struct { int polls, stop_at, epochs_reported; } stop_probe;
static int stop_on_poll(void *user) {
    stop_probe *p = user;
    return ++p->polls == p->stop_at;
}
static int count_epochs(const descent_epoch_stats *st, void *user) {
    ((stop_probe *)user)->epochs_reported = st->epoch;
    return 0;
}

static void stop_at_an_epochs_last_step_ends_the_epoch(void) {
    descent_data *d = blobs(40); /* batch 8: 5 steps an epoch */
    descent_net *net = blobs_net();
    descent_error err;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/descent_stop_%d", (int)getpid());
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 3;
    cfg.batch = 8;
    cfg.checkpoint_dir = dir;
    stop_probe probe = {0, 10, 0}; /* the poll before step 10: epoch 2's last */
    const descent_callbacks cb = {.on_epoch = count_epochs, .should_stop = stop_on_poll, .user = &probe};
    CHECK(mkdir(dir, 0700) == 0, "cannot create %s", dir);
    const int rc = descent_train(net, d, NULL, &cfg, &cb, &err);
    CHECK(rc == DESCENT_E_INTERRUPTED, "status %d (%s)", rc, err.msg);
    CHECK(probe.epochs_reported == 2, "epoch 2 was %sreported (last report: epoch %d)",
          probe.epochs_reported == 2 ? "" : "not ", probe.epochs_reported);
    descent_net *back = NULL;
    descent_checkpoint *ck = NULL;
    descent_train_config saved;
    descent_train_config_default(&saved);
    CHECK(descent_checkpoint_load(dir, &back, &saved, &ck, NULL, 0, &err) == 0, "%s", err.msg);
    if (ck)
        CHECK(descent_checkpoint_epoch(ck) == 3 && descent_checkpoint_step(ck) == 10,
              "checkpoint at epoch %d, step %ld: expected the start of epoch 3, step 10",
              descent_checkpoint_epoch(ck), descent_checkpoint_step(ck));
    descent_checkpoint_free(ck);
    descent_net_free(back);
    remove_dir(dir);
    descent_net_free(net);
    descent_data_free(d);
}

/* A resume refuses a batch, seed, optimizer or mode other than the
 * checkpoint's (before it changes the network), and accepts the checkpoint's
 * own configuration */
static void resume_refuses_other_fixed_fields(void) {
    descent_data *d = blobs(40);
    descent_net *net = blobs_net();
    descent_error err;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/descent_fixed_%d", (int)getpid());
    CHECK(mkdir(dir, 0700) == 0, "cannot create %s", dir);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 2;
    cfg.batch = 8;
    cfg.checkpoint_dir = dir;
    cfg.checkpoint_epochs = 1;
    CHECK(descent_train(net, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    descent_net *back = NULL;
    descent_checkpoint *ck = NULL;
    descent_train_config saved;
    descent_train_config_default(&saved);
    CHECK(descent_checkpoint_load(dir, &back, &saved, &ck, NULL, 0, &err) == 0, "%s", err.msg);
    if (ck) {
        saved.epochs = 3;
        saved.checkpoint_dir = NULL;
        descent_train_config other = saved;
        other.batch = 4;
        int rc = descent_train_resume(back, d, NULL, &other, ck, NULL, &err);
        CHECK(rc == DESCENT_E_USAGE && strstr(err.msg, "batch, seed"),
              "another batch: status %d (%s)", rc, err.msg);
        other = saved;
        other.seed = saved.seed + 1;
        rc = descent_train_resume(back, d, NULL, &other, ck, NULL, &err);
        CHECK(rc == DESCENT_E_USAGE && strstr(err.msg, "batch, seed"),
              "another seed: status %d (%s)", rc, err.msg);
        rc = descent_train_resume(back, d, NULL, &saved, ck, NULL, &err);
        CHECK(rc == DESCENT_OK, "the checkpoint's own configuration: status %d (%s)", rc, err.msg);
    }
    descent_checkpoint_free(ck);
    descent_net_free(back);
    remove_dir(dir);
    descent_net_free(net);
    descent_data_free(d);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {
        SCENARIO(xor_sigmoid_mse_gd),
        SCENARIO(xor_tanh_softmax_momentum),
        SCENARIO(xor_relu_softmax_adam),
        SCENARIO(threads_do_not_change_parameters),
        SCENARIO(partial_last_batch_is_a_step),
        SCENARIO(overflowing_gradient_stops_training),
        SCENARIO(data_order_changes_every_epoch),
        SCENARIO(bad_configuration_refused),
        SCENARIO(nonsense_network_refused),
        SCENARIO(names_round_trip),
        SCENARIO(stop_at_an_epochs_last_step_ends_the_epoch),
        SCENARIO(resume_refuses_other_fixed_fields),
    };
    return RUN_SCENARIOS(argc, argv, scenarios);
}
