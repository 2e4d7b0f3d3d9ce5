/* SPDX-License-Identifier: MIT */
/* One step of each optimizer, exactly as documented (docs/user-guide.md "Optimizers",
 * docs/derivation.md): from the mean gradient g of a full batch, weights
 * take g + wd * w, biases g alone (weight decay is on weights only), and
 *   gd:       p <- p - lr g
 *   momentum: v <- mu v + g (v starts at 0);  p <- p - lr v
 *   adam:     m <- (1 - b1) g;  v <- (1 - b2) g^2 (both start at 0);
 *             p <- p - lr (m / (1 - b1)) / (sqrt(v / (1 - b2)) + eps)
 * and the second momentum step carries the first; the reproducible mode's
 * fixed-point sums take the same step; a cosine schedule's first
 * step takes the full rate. The step's gradient (300 samples: two blocks) is
 * summed in another order than descent_net_gradient sums it, so the
 * comparison allows float rounding (1e-5), far below what a wrong rule
 * changes. Biases start far from zero so that decaying them would show. */
#define _GNU_SOURCE /* M_PI */
#include <descent/descent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testdata.h"
#include "testutil.h"

#define LR 0.1
#define WD 0.5
#define MU 0.9
/* more than one block of samples (256), so a step sums two blocks */
#define BATCH 300

/* BATCH samples: a class label and 3 features */
static descent_data *make_data(void) {
    char *text = malloc(BATCH * 64), *p = text;
    unsigned s = 11;
    for (int i = 0; i < BATCH; i++) {
        p += sprintf(p, "%d", i % 2);
        for (int k = 0; k < 3; k++) {
            s = s * 1103515245u + 12345u;
            p += sprintf(p, ",%.4f", ((s >> 8) % 2000) / 1000.0 - 1.0 + (k == i % 2 ? 0.5 : 0.0));
        }
        *p++ = '\n';
    }
    *p = '\0';
    descent_data *d = load_csv_text(text, 0);
    free(text);
    return d;
}

static const int SIZES[3] = {3, 4, 2};

/* The 3-4-2 network with seed 17 and biases far from zero */
static descent_net *make_net(void) {
    const descent_act acts[2] = {DESCENT_ACT_TANH, DESCENT_ACT_SIGMOID};
    descent_net *net = NULL;
    descent_error err;
    CHECK(descent_net_create(&net, 2, SIZES, acts, DESCENT_COST_MSE, &err) == 0, "%s", err.msg);
    if (!net) return NULL;
    descent_net_init(net, 17);
    for (int l = 0; l < 2; l++)
        for (int j = 0; j < SIZES[l + 1]; j++) descent_net_biases(net, l)[j] = 2.0f - (float)j;
    return net;
}

/* The mean gradient of the whole data set at net's parameters */
static float *mean_gradient(const descent_net *net, const descent_data *d) {
    const size_t np = descent_net_num_params(net);
    float *g = malloc(np * sizeof(float));
    float *x = malloc(BATCH * 3 * sizeof(float)), *y = malloc(BATCH * 2 * sizeof(float));
    for (int i = 0; i < BATCH; i++) descent_data_sample(d, (size_t)i, x + 3 * i, y + 2 * i);
    double loss;
    descent_error err;
    CHECK(descent_net_gradient(net, x, y, BATCH, g, &loss, &err) == 0, "%s", err.msg);
    free(x);
    free(y);
    return g;
}

static descent_train_config one_batch_config(descent_optimizer opt, int epochs) {
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.optimizer = opt;
    cfg.lr = LR;
    cfg.momentum = MU;
    cfg.weight_decay = WD;
    cfg.eps = 1.0; /* adam's first step depends on the gradient's size, not just its sign */
    cfg.batch = BATCH;
    cfg.epochs = epochs;
    return cfg;
}

/* is parameter i (of the 3-4-2 layout) a weight? */
static int is_weight(size_t i) {
    size_t off = 0;
    for (int l = 0; l < 2; l++) {
        const size_t nw = (size_t)SIZES[l] * SIZES[l + 1], nb = (size_t)SIZES[l + 1];
        if (i < off + nw) return 1;
        if (i < off + nw + nb) return 0;
        off += nw + nb;
    }
    return 0;
}

/* The largest relative difference between got and want, and where */
static double worst_difference(const float *got, const double *want, size_t n, size_t *where) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i]));
        if (e > worst) { worst = e; *where = i; }
    }
    return worst;
}

/* The expected parameter after one step of opt from p with gradient g
 * (decayed: a weight) */
static double expected(descent_optimizer opt, const descent_train_config *cfg, double p,
                       double g, int decayed) {
    const double gi = g + (decayed ? WD * p : 0.0);
    switch (opt) {
    case DESCENT_OPT_GD: return p - LR * gi;
    case DESCENT_OPT_MOMENTUM: return p - LR * gi;
    default: {
        const double m = (1 - cfg->beta1) * gi, v = (1 - cfg->beta2) * gi * gi;
        return p - LR * (m / (1 - cfg->beta1)) / (sqrt(v / (1 - cfg->beta2)) + cfg->eps);
    }
    }
}

static void check_one_step(descent_optimizer opt, int reproducible) {
    descent_data *d = make_data();
    descent_net *net = make_net();
    if (!d || !net) return;
    const size_t np = descent_net_num_params(net);
    float *g = mean_gradient(net, d);
    double *want = malloc(np * sizeof(double));
    descent_train_config cfg = one_batch_config(opt, 1);
    cfg.reproducible = reproducible;
    const float *p = descent_net_params(net);
    for (size_t i = 0; i < np; i++) want[i] = expected(opt, &cfg, p[i], g[i], is_weight(i));
    descent_error err;
    CHECK(descent_train(net, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    size_t at = 0;
    const double worst = worst_difference(p, want, np, &at);
    CHECK(worst < 1e-5, "%s: parameter %zu is %.9g after one step, expected %.9g (error %.3g)",
          descent_optimizer_name(opt), at, p[at], want[at], worst);
    free(g);
    free(want);
    descent_net_free(net);
    descent_data_free(d);
}

/* The second step of momentum carries the first: v2 = mu v1 + g(p1) + wd p1 */
static void momentum_second_step_keeps_velocity(void) {
    descent_data *d = make_data();
    descent_net *once = make_net(), *twice = make_net();
    if (!d || !once || !twice) return;
    const size_t np = descent_net_num_params(once);
    float *g0 = mean_gradient(once, d);
    double *v1 = malloc(np * sizeof(double)), *want = malloc(np * sizeof(double));
    for (size_t i = 0; i < np; i++)
        v1[i] = g0[i] + (is_weight(i) ? WD * descent_net_params(once)[i] : 0.0);
    descent_error err;
    descent_train_config cfg = one_batch_config(DESCENT_OPT_MOMENTUM, 1);
    CHECK(descent_train(once, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    float *g1 = mean_gradient(once, d);
    const float *p1 = descent_net_params(once);
    for (size_t i = 0; i < np; i++)
        want[i] = p1[i] - LR * (MU * v1[i] + g1[i] + (is_weight(i) ? WD * p1[i] : 0.0));
    cfg.epochs = 2;
    CHECK(descent_train(twice, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    size_t at = 0;
    const double worst = worst_difference(descent_net_params(twice), want, np, &at);
    CHECK(worst < 1e-5, "parameter %zu is %.9g after two steps, expected %.9g (error %.3g)", at,
          descent_net_params(twice)[at], want[at], worst);
    free(g0); free(g1); free(v1); free(want);
    descent_net_free(once);
    descent_net_free(twice);
    descent_data_free(d);
}

/* cosine schedule: alpha (1 + cos(pi (t - 1) / T)) / 2, so a run of one step
 * takes it at the full rate */
static void cosine_first_step_takes_full_rate(void) {
    descent_data *d = make_data();
    descent_net *plain = make_net(), *cosine = make_net();
    if (!d || !plain || !cosine) return;
    descent_error err;
    descent_train_config cfg = one_batch_config(DESCENT_OPT_GD, 1);
    CHECK(descent_train(plain, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    cfg.schedule = DESCENT_LR_COSINE;
    CHECK(descent_train(cosine, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    const size_t np = descent_net_num_params(plain);
    CHECK(memcmp(descent_net_params(plain), descent_net_params(cosine), np * sizeof(float)) == 0,
          "the first cosine step did not take the full learning rate");
    descent_net_free(plain);
    descent_net_free(cosine);
    descent_data_free(d);
}

/* The learning rate of each epoch's (one) step, from the epoch callback */
static int record_lr(const descent_epoch_stats *st, void *user) {
    ((double *)user)[st->epoch - 1] = st->lr;
    return 0;
}

/* --warmup W: step t <= W at lr t / W, then the schedule over the other
 * steps; the first warm-up step is exactly a step at lr / W */
static void warmup_ramps_linearly_then_schedule(void) {
    descent_data *d = make_data();
    descent_net *warm = make_net(), *quarter = make_net();
    if (!d || !warm || !quarter) return;
    descent_error err;
    double lr[6] = {0};
    descent_callbacks cb = {.on_epoch = record_lr, .user = lr};
    descent_train_config cfg = one_batch_config(DESCENT_OPT_GD, 6);
    cfg.warmup_steps = 4;
    CHECK(descent_train(warm, d, NULL, &cfg, &cb, &err) == 0, "%s", err.msg);
    const double want[6] = {LR / 4, LR / 2, 3 * LR / 4, LR, LR, LR};
    for (int e = 0; e < 6; e++) CHECK(lr[e] == want[e], "step %d: lr %g, expected %g", e + 1, lr[e], want[e]);
    /* cosine after 2 warm-up steps of 4: the full rate, then half */
    cfg = one_batch_config(DESCENT_OPT_GD, 4);
    cfg.schedule = DESCENT_LR_COSINE;
    cfg.warmup_epochs = 2;
    descent_net *cosine_net = make_net();
    CHECK(descent_train(cosine_net, d, NULL, &cfg, &cb, &err) == 0, "%s", err.msg);
    descent_net_free(cosine_net);
    const double cosine[4] = {LR / 2, LR, LR, LR * 0.5 * (1 + cos(M_PI / 2))};
    for (int e = 0; e < 4; e++)
        CHECK(fabs(lr[e] - cosine[e]) < 1e-15, "cosine step %d: lr %g, expected %g", e + 1, lr[e], cosine[e]);
    /* warm-up epochs of several steps: 2 epochs of 4 steps are 8 steps, so
     * the first epoch ends (step 4) at half the rate */
    cfg = one_batch_config(DESCENT_OPT_GD, 3);
    cfg.batch = BATCH / 4;
    cfg.warmup_epochs = 2;
    descent_net *epochs_net = make_net();
    CHECK(descent_train(epochs_net, d, NULL, &cfg, &cb, &err) == 0, "%s", err.msg);
    descent_net_free(epochs_net);
    const double by_epochs[3] = {LR / 2, LR, LR};
    for (int e = 0; e < 3; e++)
        CHECK(lr[e] == by_epochs[e], "warm-up 2 epochs of 4 steps: epoch %d ends at lr %g, "
              "expected %g", e + 1, lr[e], by_epochs[e]);
    /* one warm-up step of 4 is one plain step at lr / 4, bit for bit */
    cfg = one_batch_config(DESCENT_OPT_GD, 1);
    cfg.warmup_steps = 4;
    descent_net *warm1 = make_net();
    CHECK(descent_train(warm1, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    cfg.warmup_steps = 0;
    cfg.lr = LR / 4;
    CHECK(descent_train(quarter, d, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    CHECK(memcmp(descent_net_params(warm1), descent_net_params(quarter),
                 descent_net_num_params(quarter) * sizeof(float)) == 0,
          "the first warm-up step is not a step at lr / 4");
    descent_net_free(warm);
    descent_net_free(warm1);
    descent_net_free(quarter);
    descent_data_free(d);
}

static void gd_step_with_weight_decay(void) { check_one_step(DESCENT_OPT_GD, 0); }
static void momentum_step_with_weight_decay(void) { check_one_step(DESCENT_OPT_MOMENTUM, 0); }
static void adam_step_with_weight_decay(void) { check_one_step(DESCENT_OPT_ADAM, 0); }
/* the fixed-point sums (300 = 4 chunks of 64 and one of 44) give the same step */
static void reproducible_gd_step(void) { check_one_step(DESCENT_OPT_GD, 1); }

int main(int argc, char **argv) {
    static const scenario scenarios[] = {
        SCENARIO(gd_step_with_weight_decay),
        SCENARIO(momentum_step_with_weight_decay),
        SCENARIO(adam_step_with_weight_decay),
        SCENARIO(reproducible_gd_step),
        SCENARIO(momentum_second_step_keeps_velocity),
        SCENARIO(cosine_first_step_takes_full_rate),
        SCENARIO(warmup_ramps_linearly_then_schedule),
    };
    return RUN_SCENARIOS(argc, argv, scenarios);
}
