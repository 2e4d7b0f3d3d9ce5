/* SPDX-License-Identifier: MIT */
/* The derivation's own network: 2 inputs, 3 sigmoid hidden units, 2 sigmoid
 * outputs, squared error C0 = sum_j (a_j - y_j)^2. With fixed weights, every
 * partial derivative from the library is compared with the boxed formulas
 * evaluated here by hand, index by index, in double:
 *   delta^(L)_j   = 2 (a^(L)_j - y_j) a^(L)_j (1 - a^(L)_j)
 *   dC0/dw^(L)_jk = delta^(L)_j a^(L-1)_k,      dC0/db^(L)_j = delta^(L)_j
 *   delta^(L-1)_k = (sum_j delta^(L)_j w^(L)_jk) a^(L-1)_k (1 - a^(L-1)_k)
 *   dC0/dw^(L-1)_kl = delta^(L-1)_k a^(L-2)_l,  dC0/db^(L-1)_k = delta^(L-1)_k
 * and for m samples dC/dw = (1/m) sum_i dC_i/dw. */
#include <descent/descent.h>
#include <string.h>

#include "testutil.h"

static double sig(double z) { return 1.0 / (1.0 + exp(-z)); }

/* fixed weights w^(1) (3x2), b^(1), w^(2) (2x3), b^(2), and two samples */
static const double W1[3][2] = {{0.15, -0.25}, {0.40, 0.10}, {-0.30, 0.55}};
static const double B1[3] = {0.05, -0.10, 0.20};
static const double W2[2][3] = {{0.35, -0.45, 0.60}, {-0.20, 0.30, 0.25}};
static const double B2[2] = {0.10, -0.05};
static const float X[2][2] = {{0.05f, 0.10f}, {0.90f, -0.40f}};
static const float Y[2][2] = {{0.01f, 0.99f}, {1.0f, 0.0f}};

/* The 2-3-2 sigmoid network with the fixed weights */
static descent_net *derivation_net(void) {
    static const int sizes[3] = {2, 3, 2};
    static const descent_act acts[2] = {DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID};
    descent_net *net = NULL;
    descent_error err;
    CHECK(descent_net_create(&net, 2, sizes, acts, DESCENT_COST_MSE, &err) == 0, "%s", err.msg);
    if (!net) return NULL;
    float *w1 = descent_net_weights(net, 0), *b1 = descent_net_biases(net, 0);
    float *w2 = descent_net_weights(net, 1), *b2 = descent_net_biases(net, 1);
    for (int k = 0; k < 3; k++) {
        for (int l = 0; l < 2; l++) w1[k * 2 + l] = (float)W1[k][l];
        b1[k] = (float)B1[k];
    }
    for (int j = 0; j < 2; j++) {
        for (int k = 0; k < 3; k++) w2[j * 3 + k] = (float)W2[j][k];
        b2[j] = (float)B2[j];
    }
    return net;
}

/* The boxed formulas by hand, summed over the first m samples */
typedef struct {
    double gW1[3][2], gB1[3], gW2[2][3], gB2[2], cost;
} hand_gradient;

static void by_hand(int m, hand_gradient *h) {
    memset(h, 0, sizeof *h);
    for (int i = 0; i < m; i++) {
        double z1[3], a1[3], z2[2], a2[2], d2[2], d1[3];
        for (int k = 0; k < 3; k++) {
            z1[k] = W1[k][0] * X[i][0] + W1[k][1] * X[i][1] + B1[k];
            a1[k] = sig(z1[k]);
        }
        for (int j = 0; j < 2; j++) {
            z2[j] = W2[j][0] * a1[0] + W2[j][1] * a1[1] + W2[j][2] * a1[2] + B2[j];
            a2[j] = sig(z2[j]);
            h->cost += (a2[j] - Y[i][j]) * (a2[j] - Y[i][j]);
            d2[j] = 2.0 * (a2[j] - Y[i][j]) * a2[j] * (1.0 - a2[j]);
            h->gB2[j] += d2[j];
            for (int k = 0; k < 3; k++) h->gW2[j][k] += d2[j] * a1[k];
        }
        for (int k = 0; k < 3; k++) {
            d1[k] = (d2[0] * W2[0][k] + d2[1] * W2[1][k]) * a1[k] * (1.0 - a1[k]);
            h->gB1[k] += d1[k];
            for (int l = 0; l < 2; l++) h->gW1[k][l] += d1[k] * X[i][l];
        }
    }
}

/* The library's mean gradient over m samples, index by index, against the
 * hand sums divided by m (the 1/m rule). */
static void check_gradient(descent_net *net, int m) {
    hand_gradient h;
    by_hand(m, &h);
    float g[17], x_in[4], y_in[4];
    memcpy(x_in, X, sizeof x_in);
    memcpy(y_in, Y, sizeof y_in);
    double loss = 0;
    descent_error err;
    CHECK(descent_net_num_params(net) == 17, "17 parameters, got %zu", descent_net_num_params(net));
    CHECK(descent_net_gradient(net, x_in, y_in, (size_t)m, g, &loss, &err) == 0, "%s", err.msg);
    CHECK(rel_diff(loss, h.cost / m, 1e-9) < 1e-6, "m=%d: cost %.9g vs %.9g", m, loss, h.cost / m);
    /* layout: W1 (3x2), b1 (3), W2 (2x3), b2 (2) */
    int idx = 0, nonzero = 0;
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < 2; l++, idx++) {
            CHECK(rel_diff(g[idx], h.gW1[k][l] / m, 1e-7) < 1e-5, "m=%d dC/dw1_%d%d: %.9g vs %.9g",
                  m, k, l, g[idx], h.gW1[k][l] / m);
            nonzero += g[idx] != 0;
        }
    for (int k = 0; k < 3; k++, idx++)
        CHECK(rel_diff(g[idx], h.gB1[k] / m, 1e-7) < 1e-5, "m=%d dC/db1_%d: %.9g vs %.9g", m, k,
              g[idx], h.gB1[k] / m);
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 3; k++, idx++) {
            CHECK(rel_diff(g[idx], h.gW2[j][k] / m, 1e-7) < 1e-5, "m=%d dC/dw2_%d%d: %.9g vs %.9g",
                  m, j, k, g[idx], h.gW2[j][k] / m);
            nonzero += g[idx] != 0;
        }
    for (int j = 0; j < 2; j++, idx++)
        CHECK(rel_diff(g[idx], h.gB2[j] / m, 1e-7) < 1e-5, "m=%d dC/db2_%d: %.9g vs %.9g", m, j,
              g[idx], h.gB2[j] / m);
    CHECK(nonzero == 12, "m=%d: %d of 12 weight gradients are non-zero", m, nonzero);
}

static void one_sample_matches_hand_formulas(void) {
    descent_net *net = derivation_net();
    if (net) check_gradient(net, 1);
    descent_net_free(net);
}

static void two_samples_are_the_mean(void) {
    descent_net *net = derivation_net();
    if (net) check_gradient(net, 2);
    descent_net_free(net);
}

/* one step of the derivation's gradient descent, theta <- theta - alpha grad C */
static void gradient_step_lowers_cost(void) {
    descent_net *net = derivation_net();
    if (!net) return;
    float g[17];
    double loss0 = 0, loss1 = 0;
    float x1[2] = {0.05f, 0.10f}, y1[2] = {0.01f, 0.99f};
    descent_error err;
    descent_net_gradient(net, x1, y1, 1, g, &loss0, &err);
    float *p = descent_net_params(net);
    for (int i = 0; i < 17; i++) p[i] -= 0.5f * g[i];
    descent_net_gradient(net, x1, y1, 1, g, &loss1, &err);
    CHECK(loss1 < loss0, "a gradient step must lower the cost: %g -> %g", loss0, loss1);
    descent_net_free(net);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {
        SCENARIO(one_sample_matches_hand_formulas),
        SCENARIO(two_samples_are_the_mean),
        SCENARIO(gradient_step_lowers_cost),
    };
    return RUN_SCENARIOS(argc, argv, scenarios);
}
