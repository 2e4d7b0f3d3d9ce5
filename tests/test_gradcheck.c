/* SPDX-License-Identifier: MIT */
/* Central-difference gradient check for every valid activation x cost
 * combination on a small network (3 layers), against the library's
 * backpropagation. Guards against a gradient that is trivially zero. */
#include <descent/descent.h>
#include <string.h>

#include "testutil.h"

/* mean cost over the batch, from the forward pass, accumulated in double */
static double cost_of(const descent_net *net, const float *x, const float *y, int m, int nout) {
    float out[64 * 8];
    descent_error err;
    if (descent_net_predict(net, x, (size_t)m, out, &err)) return NAN;
    double c = 0;
    for (int s = 0; s < m; s++)
        for (int j = 0; j < nout; j++) {
            const double a = out[s * nout + j], t = y[s * nout + j];
            if (descent_net_cost(net) == DESCENT_COST_MSE) c += (a - t) * (a - t);
            else if (t != 0) c -= t * log(a);
        }
    return c / m;
}

/* The batch: M samples of up to MAX_IN features, one-hot targets */
enum { M = 7, NOUT = 3, MAX_IN = 40 };
static float g_x[M * MAX_IN], g_y[M * NOUT];

static void make_batch(int nin) {
    unsigned seed = 12345;
    for (int i = 0; i < M * nin; i++) {
        seed = seed * 1103515245u + 12345u;
        g_x[i] = (float)((seed >> 8) % 2000) / 1000.0f - 1.0f;
    }
    for (int s = 0; s < M; s++)
        for (int j = 0; j < NOUT; j++) g_y[s * NOUT + j] = (j == s % NOUT) ? 1.0f : 0.0f;
}

/* One 3-layer network of these widths (hidden, hidden, out; cost), on the
 * batch made for sizes[0] inputs: backpropagation's loss against the forward
 * pass, and every parameter's gradient against a central difference. */
static void check_combination(const int sizes[4], descent_act hidden, descent_act out,
                              descent_cost cost, uint64_t seed) {
    const char *hn = descent_act_name(hidden), *on = descent_act_name(out),
               *cn = descent_cost_name(cost);
    descent_act acts[3] = {hidden, hidden, out};
    descent_net *net = NULL;
    descent_error err;
    int rc = descent_net_create(&net, 3, sizes, acts, cost, &err);
    CHECK(rc == 0, "create: %s", err.msg);
    if (rc) return;
    descent_net_init(net, seed);
    /* relu at the output: keep outputs positive so the check sees a gradient */
    if (out == DESCENT_ACT_RELU)
        for (int j = 0; j < NOUT; j++) descent_net_biases(net, 2)[j] = 0.5f;
    const size_t np = descent_net_num_params(net);
    float *g = malloc(np * sizeof(float));
    double loss = 0;
    rc = descent_net_gradient(net, g_x, g_y, (size_t)M, g, &loss, &err);
    CHECK(rc == 0, "gradient: %s", err.msg);
    const double c0 = cost_of(net, g_x, g_y, M, NOUT);
    CHECK(rel_diff(loss, c0, 1e-6) < 1e-5, "%s/%s/%s: loss %g vs forward %g", hn, on, cn, loss, c0);
    float *p = descent_net_params(net);
    double worst = 0, gmax = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < np; i++) {
        const float keep = p[i];
        const float hstep = 3e-3f * fmaxf(1.0f, fabsf(keep));
        p[i] = keep + hstep;
        const double up = cost_of(net, g_x, g_y, M, NOUT);
        p[i] = keep - hstep;
        const double down = cost_of(net, g_x, g_y, M, NOUT);
        p[i] = keep;
        const double num = (up - down) / (2.0 * ((double)(keep + hstep) - keep));
        const double e = fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), 1e-2);
        if (e > worst) { worst = e; worst_i = i; }
        gmax = fmax(gmax, fabs(g[i]));
    }
    CHECK(worst < 2e-2, "%s/%s/%s: worst relative error %.3g at parameter %zu", hn, on, cn, worst,
          worst_i);
    CHECK(gmax > 1e-3, "%s/%s/%s: gradient is trivially zero (max %g)", hn, on, cn, gmax);
    free(g);
    descent_net_free(net);
}

/* Every hidden activation with every output activation and cost that fit,
 * on a small 5-6-4-3 network */
static void every_activation_and_cost(void) {
    static const int sizes[4] = {5, 6, 4, NOUT};
    make_batch(sizes[0]);
    int combos = 0;
    for (int h = 0; h < DESCENT_ACT_COUNT; h++)
        for (int o = 0; o < DESCENT_ACT_COUNT; o++)
            for (int c = 0; c < DESCENT_COST_COUNT; c++) {
                if (h == DESCENT_ACT_SOFTMAX) continue; /* output layer only */
                if (c == DESCENT_COST_XENT && o != DESCENT_ACT_SOFTMAX) continue;
                check_combination(sizes, (descent_act)h, (descent_act)o, (descent_cost)c,
                                  7 + (uint64_t)combos);
                combos++;
            }
    const int hidden = DESCENT_ACT_COUNT - 1; /* every activation but softmax */
    CHECK(combos == hidden * DESCENT_ACT_COUNT + hidden, "ran %d combinations", combos);
    printf("gradient check: %d activation x cost combinations\n", combos);
}

/* 37-40-19-3 on 7 samples: widths that fill the kernels' full vector and
 * register tiles (16 floats with AVX-512, 8 with AVX) and leave edges of
 * every kind: a vector tail of the inputs, partial output and sample tiles */
static void wide_layers_reach_every_kernel_path(void) {
    static const int sizes[4] = {37, 40, 19, NOUT};
    make_batch(sizes[0]);
    /* smooth activations: with this many relu units some central difference
     * would straddle a kink (relu's derivative is checked on the small net) */
    check_combination(sizes, DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX, DESCENT_COST_XENT, 5);
    check_combination(sizes, DESCENT_ACT_SIGMOID, DESCENT_ACT_IDENTITY, DESCENT_COST_MSE, 6);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {SCENARIO(every_activation_and_cost),
                                         SCENARIO(wide_layers_reach_every_kernel_path)};
    return RUN_SCENARIOS(argc, argv, scenarios);
}
