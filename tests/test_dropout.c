/* SPDX-License-Identifier: MIT */
/* Inverted dropout (src/dropout.c, net_block): masks are a function of
 * (seed, epoch, sample, layer, unit) only and drop the asked fraction; the
 * backward pass is the exact gradient of the network with those masks
 * (central differences); a sample's gradient does not depend on the block
 * it is computed in; dropping nothing changes nothing; a kept unit's
 * output is divided by the keep probability 1 - p (the gradient check
 * holds for any factor, so the forward values are checked themselves). */
#include <descent/descent.h>
#include <string.h>

#include "dropout.h"
#include "net.h"
#include "testutil.h"

enum { M = 9, NIN = 5, H1 = 12, H2 = 8, NOUT = 3 };
static float g_x[M * NIN], g_y[M * NOUT];
static uint32_t g_sample[M] = {17, 3, 900, 41, 5, 6, 7000, 12, 99};

static descent_net *make_net(void) {
    static const int sizes[4] = {NIN, H1, H2, NOUT};
    static const descent_act acts[3] = {DESCENT_ACT_TANH, DESCENT_ACT_SIGMOID, DESCENT_ACT_SOFTMAX};
    descent_net *net = NULL;
    descent_error err;
    CHECK(descent_net_create(&net, 3, sizes, acts, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    if (net) descent_net_init(net, 3);
    unsigned seed = 777;
    for (int i = 0; i < M * NIN; i++) {
        seed = seed * 1103515245u + 12345u;
        g_x[i] = (float)((seed >> 8) % 2000) / 1000.0f - 1.0f;
    }
    for (int s = 0; s < M; s++)
        for (int j = 0; j < NOUT; j++) g_y[s * NOUT + j] = j == s % NOUT;
    return net;
}

/* Samples [s0, s0 + B) of the batch through net_block with dropout p:
 * the loss summed, and (grad != NULL) the gradient sum added into grad */
static double run_block(const descent_net *net, double p, int s0, int B, float *grad) {
    workspace ws;
    dropout d;
    double loss = NAN;
    if (workspace_init(&ws, net, M) != 0) return loss;
    if (p > 0 && dropout_init(&d, net->L, ws.ld, M, p, 42) == 0) {
        d.epoch = 5;
        d.sample = g_sample + s0;
        ws.drop = &d;
    }
    for (int s = 0; s < B; s++) {
        memcpy(ws.act[0] + (size_t)s * ws.ld[0], g_x + (s0 + s) * NIN, sizeof(float) * NIN);
        memcpy(ws.y + (size_t)s * ws.ldy, g_y + (s0 + s) * NOUT, sizeof(float) * NOUT);
    }
    block_stats st = {0};
    net_block(net, &ws, B, grad, 1, NULL, 1, NULL, &st);
    loss = st.loss;
    if (ws.drop) dropout_free(&d);
    workspace_free(&ws);
    return loss;
}

static void masks_depend_only_on_their_inputs(void) {
    dropout a = {.p = 0.3, .seed = 9, .epoch = 2}, b = a;
    long kept = 0, n = 0, same = 0, moved = 0;
    for (uint32_t s = 0; s < 2000; s++)
        for (int j = 0; j < 50; j++, n++) {
            const int k = dropout_keeps(&a, s, 1, j);
            kept += k;
            same += k == dropout_keeps(&b, s, 1, j);
            b.epoch = 3;
            moved += k != dropout_keeps(&b, s, 1, j);
            b.epoch = 2;
        }
    CHECK(same == n, "the same inputs gave another mask");
    CHECK(fabs((double)kept / n - 0.7) < 0.01, "kept %.4f of the units, expected 0.7",
          (double)kept / n);
    CHECK(moved > n / 3, "another epoch changed only %ld of %ld draws", moved, n);
}

static void gradient_is_exact_for_the_masks(void) {
    descent_net *net = make_net();
    if (!net) return;
    const size_t np = net->n_params;
    float *g = calloc(np, sizeof(float));
    run_block(net, 0.4, 0, M, g);
    double worst = 0, gmax = 0;
    for (size_t i = 0; i < np; i++) {
        float *p = net->params + i;
        const float keep = *p, h = 3e-3f * fmaxf(1.0f, fabsf(keep));
        *p = keep + h;
        const double up = run_block(net, 0.4, 0, M, NULL);
        *p = keep - h;
        const double down = run_block(net, 0.4, 0, M, NULL);
        *p = keep;
        const double num = (up - down) / (2.0 * ((double)(keep + h) - keep));
        worst = fmax(worst, fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), 1e-2));
        gmax = fmax(gmax, fabs(g[i]));
    }
    CHECK(worst < 2e-2, "worst relative error %.3g against central differences", worst);
    CHECK(gmax > 1e-3, "gradient trivially zero");
    /* for one sample: exactly the dropped units of layer 1 have no gradient
     * on their incoming weights */
    memset(g, 0, np * sizeof(float));
    run_block(net, 0.4, 0, 1, g);
    dropout d = {.p = 0.4, .seed = 42, .epoch = 5};
    int dropped = 0;
    for (int j = 0; j < H1; j++) {
        const int kept = dropout_keeps(&d, g_sample[0], 1, j);
        dropped += !kept;
        double row = 0;
        for (int k = 0; k < NIN; k++) row += fabs(g[net->w_off[0] + (size_t)j * NIN + k]);
        CHECK(kept ? row > 0 : row == 0, "unit %d (%s) has gradient %g on its weights", j,
              kept ? "kept" : "dropped", row);
    }
    CHECK(dropped > 0 && dropped < H1, "%d of %d units dropped", dropped, H1);
    printf("dropout gradient check: worst %.2g; %d of %d units dropped for sample %u\n", worst,
           dropped, H1, g_sample[0]);
    free(g);
    descent_net_free(net);
}

static void gradient_does_not_depend_on_the_block(void) {
    descent_net *net = make_net();
    if (!net) return;
    const size_t np = net->n_params;
    float *whole = calloc(np, sizeof(float)), *parts = calloc(np, sizeof(float));
    const double l1 = run_block(net, 0.25, 0, M, whole);
    const double l2 = run_block(net, 0.25, 0, 4, parts) + run_block(net, 0.25, 4, M - 4, parts);
    CHECK(rel_diff(l1, l2, 1e-6) < 1e-6, "loss %g as one block, %g in two", l1, l2);
    double worst = 0;
    for (size_t i = 0; i < np; i++) worst = fmax(worst, rel_diff(whole[i], parts[i], 1e-4));
    CHECK(worst < 1e-5, "gradient differs by %g between one block and two", worst);
    free(whole);
    free(parts);
    descent_net_free(net);
}

static void kept_outputs_are_divided_by_the_keep_probability(void) {
    enum { B = 4, N = 16 };
    const int ld[2] = {N, N};
    const double p = 0.4;
    dropout d;
    if (dropout_init(&d, 2, ld, B, p, 42) != 0) { CHECK(0, "no memory"); return; }
    d.epoch = 5;
    d.sample = g_sample;
    float act[B * N];
    for (int i = 0; i < B * N; i++) act[i] = 0.25f + 0.01f * (float)i;
    dropout_forward(&d, 1, B, N, act, N);
    int kept = 0;
    for (int s = 0; s < B; s++)
        for (int j = 0; j < N; j++) {
            const int k = dropout_keeps(&d, g_sample[s], 1, j);
            const double want = k ? act[s * N + j] / (1.0 - p) : 0.0, got = d.masked[1][s * N + j];
            kept += k;
            CHECK(fabs(got - want) <= 1e-6 * fabs(want), "sample %d unit %d (%s): output %g, "
                  "expected %g", s, j, k ? "kept" : "dropped", got, want);
        }
    CHECK(kept > 0 && kept < B * N, "%d of %d outputs kept", kept, B * N);
    dropout_free(&d);
}

static void dropping_nothing_changes_nothing(void) {
    descent_net *net = make_net();
    if (!net) return;
    const size_t np = net->n_params;
    float *off = calloc(np, sizeof(float)), *tiny = calloc(np, sizeof(float));
    run_block(net, 0, 0, M, off);
    /* p so small that no draw of these samples drops a unit: scale 1/(1-p) rounds to 1 */
    run_block(net, 1e-12, 0, M, tiny);
    CHECK(memcmp(off, tiny, np * sizeof(float)) == 0, "p = 1e-12 changed the gradient");
    free(off);
    free(tiny);
    descent_net_free(net);
}

int main(int argc, char **argv) {
    static const scenario all[] = {SCENARIO(masks_depend_only_on_their_inputs),
                                   SCENARIO(gradient_is_exact_for_the_masks),
                                   SCENARIO(gradient_does_not_depend_on_the_block),
                                   SCENARIO(dropping_nothing_changes_nothing),
                                   SCENARIO(kept_outputs_are_divided_by_the_keep_probability)};
    return RUN_SCENARIOS(argc, argv, all);
}
