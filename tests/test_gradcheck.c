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

int main(void) {
    const int sizes[4] = {5, 6, 4, 3};
    const int m = 7, nin = 5, nout = 3;
    float x[7 * 5], y[7 * 3];
    unsigned seed = 12345;
    for (int i = 0; i < m * nin; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) % 2000) / 1000.0f - 1.0f;
    }
    for (int s = 0; s < m; s++)
        for (int j = 0; j < nout; j++) y[s * nout + j] = (j == s % nout) ? 1.0f : 0.0f;
    const descent_act hid[4] = {DESCENT_ACT_SIGMOID, DESCENT_ACT_TANH, DESCENT_ACT_RELU,
                                DESCENT_ACT_IDENTITY};
    const descent_act outs[5] = {DESCENT_ACT_SIGMOID, DESCENT_ACT_TANH, DESCENT_ACT_RELU,
                                 DESCENT_ACT_IDENTITY, DESCENT_ACT_SOFTMAX};
    int combos = 0;
    for (int h = 0; h < 4; h++)
        for (int o = 0; o < 5; o++)
            for (int c = 0; c < 2; c++) {
                if (c == DESCENT_COST_XENT && outs[o] != DESCENT_ACT_SOFTMAX) continue;
                descent_act acts[3] = {hid[h], hid[h], outs[o]};
                descent_net *net = NULL;
                descent_error err;
                int rc = descent_net_create(&net, 3, sizes, acts, (descent_cost)c, &err);
                CHECK(rc == 0, "create: %s", err.msg);
                if (rc) continue;
                descent_net_init(net, 7 + (uint64_t)combos);
                /* relu at the output: keep outputs positive so the check sees a gradient */
                if (outs[o] == DESCENT_ACT_RELU)
                    for (int j = 0; j < nout; j++) descent_net_biases(net, 2)[j] = 0.5f;
                const size_t np = descent_net_num_params(net);
                float *g = malloc(np * sizeof(float));
                double loss = 0;
                rc = descent_net_gradient(net, x, y, (size_t)m, g, &loss, &err);
                CHECK(rc == 0, "gradient: %s", err.msg);
                const double c0 = cost_of(net, x, y, m, nout);
                CHECK(rel_diff(loss, c0, 1e-6) < 1e-5, "%s/%s/%s: loss %g vs forward %g",
                      descent_act_name(hid[h]), descent_act_name(outs[o]),
                      descent_cost_name((descent_cost)c), loss, c0);
                float *p = descent_net_params(net);
                double worst = 0, gmax = 0;
                size_t worst_i = 0;
                for (size_t i = 0; i < np; i++) {
                    const float keep = p[i];
                    const float hstep = 3e-3f * fmaxf(1.0f, fabsf(keep));
                    p[i] = keep + hstep;
                    const double up = cost_of(net, x, y, m, nout);
                    p[i] = keep - hstep;
                    const double down = cost_of(net, x, y, m, nout);
                    p[i] = keep;
                    const double num = (up - down) / (2.0 * ((double)(keep + hstep) - keep));
                    const double e = fabs(num - g[i]) / fmax(fabs(num) + fabs(g[i]), 1e-2);
                    if (e > worst) { worst = e; worst_i = i; }
                    gmax = fmax(gmax, fabs(g[i]));
                }
                CHECK(worst < 2e-2, "%s/%s/%s: worst relative error %.3g at parameter %zu",
                      descent_act_name(hid[h]), descent_act_name(outs[o]),
                      descent_cost_name((descent_cost)c), worst, worst_i);
                CHECK(gmax > 1e-3, "%s/%s/%s: gradient is trivially zero (max %g)",
                      descent_act_name(hid[h]), descent_act_name(outs[o]),
                      descent_cost_name((descent_cost)c), gmax);
                free(g);
                descent_net_free(net);
                combos++;
            }
    CHECK(combos == 24, "ran %d combinations, expected 24", combos);
    printf("gradient check: %d activation x cost combinations\n", combos);
    TEST_EXIT();
}
