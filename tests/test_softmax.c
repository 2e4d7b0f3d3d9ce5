/* SPDX-License-Identifier: MIT */
/* Softmax with large logits, in the cost (training, evaluation) and in
 * prediction: e^1000 overflows a float, so both must shift the logits by
 * their maximum first. One softmax layer 2 -> 3 whose logits for x = (1, 0)
 * are (1000, 0, -1000): the output is (1, 0, 0), the cross-entropy of class
 * 1 is exactly 1000 and its gradient dC/dz = a - y = (1, -1, 0). */
#include <descent/descent.h>
#include <math.h>

#include "testutil.h"

static descent_net *big_logits(descent_cost cost) {
    const int sizes[2] = {2, 3};
    const descent_act acts[1] = {DESCENT_ACT_SOFTMAX};
    descent_net *net = NULL;
    descent_error err;
    CHECK(descent_net_create(&net, 1, sizes, acts, cost, &err) == 0, "%s", err.msg);
    if (!net) return NULL;
    float *w = descent_net_weights(net, 0), *b = descent_net_biases(net, 0);
    const float W[6] = {1000, 0, 0, 0, -1000, 0};
    for (int i = 0; i < 6; i++) w[i] = W[i];
    for (int j = 0; j < 3; j++) b[j] = 0;
    return net;
}

static const float X[2] = {1, 0}, Y[3] = {0, 1, 0};

/* The loss and gradient of the big-logit network under cost, against the
 * expected loss and gradient (layout W (3x2), then b (3)) */
static void check_gradient(descent_cost cost, double want_loss, const float want[9]) {
    descent_net *net = big_logits(cost);
    if (!net) return;
    float g[9];
    double loss = 0;
    descent_error err;
    const int rc = descent_net_gradient(net, X, Y, 1, g, &loss, &err);
    CHECK(rc == 0, "gradient: %s", rc ? err.msg : "");
    CHECK(fabs(loss - want_loss) < 1e-3, "%s: loss %g, expected %g", descent_cost_name(cost), loss,
          want_loss);
    for (int i = 0; i < 9; i++)
        CHECK(isfinite(g[i]) && fabsf(g[i] - want[i]) < 1e-6f, "%s: gradient %d is %g, expected %g",
              descent_cost_name(cost), i, g[i], want[i]);
    descent_net_free(net);
}

/* -log a_1 = 1000; dC/dz = a - y = (1, -1, 0): dW = delta x^T, db = delta */
static void cross_entropy_of_large_logits(void) {
    const float want[9] = {1, 0, -1, 0, 0, 0, 1, -1, 0};
    check_gradient(DESCENT_COST_XENT, 1000.0, want);
}

/* (1-0)^2 + (0-1)^2 = 2; a = (1, 0, 0) is saturated, so dC/dz = 0 */
static void squared_error_of_large_logits(void) {
    const float want[9] = {0};
    check_gradient(DESCENT_COST_MSE, 2.0, want);
}

static void prediction_of_large_logits(void) {
    descent_net *net = big_logits(DESCENT_COST_XENT);
    if (!net) return;
    float out[3] = {-1, -1, -1};
    descent_error err;
    CHECK(descent_net_predict(net, X, 1, out, &err) == 0, "predict: %s", err.msg);
    CHECK(out[0] == 1.0f && out[1] == 0.0f && out[2] == 0.0f, "softmax (%g, %g, %g), expected "
          "(1, 0, 0)", out[0], out[1], out[2]);
    descent_net_free(net);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {
        SCENARIO(cross_entropy_of_large_logits),
        SCENARIO(squared_error_of_large_logits),
        SCENARIO(prediction_of_large_logits),
    };
    return RUN_SCENARIOS(argc, argv, scenarios);
}
