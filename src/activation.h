/* SPDX-License-Identifier: MIT */
/*
 * activation.h - every activation in one table: its name, the function
 * a = f(z), its derivative written in terms of the output a (what the
 * backward pass has at hand), and the initialisation rule for the weights
 * that feed it. Adding an activation: a value in descent_act
 * (include/descent/descent.h), a row here, its vector derivative in
 * kernels.c (act_deriv_v), and the tests (tests/test_kernels.c,
 * tests/test_gradcheck.c).
 */
#ifndef DESCENT_ACTIVATION_H
#define DESCENT_ACTIVATION_H

#include "descent/descent.h"

#include <math.h>

/* Weight initialisation, uniform in [-limit, limit]:
 *  XAVIER (Glorot): limit = sqrt(6 / (fan_in + fan_out))
 *  HE:              limit = sqrt(6 / fan_in)                               */
typedef enum { INIT_XAVIER, INIT_HE } init_rule;

/* X(enum value, name, f(z), f'(z) in terms of a = f(z), init rule).
 * Softmax is applied across a whole output row (k_softmax, k_cost); here it
 * is the identity on each unit, and its Jacobian is handled by the cost. */
#define DESCENT_ACTIVATIONS(X)                                                           \
    X(DESCENT_ACT_SIGMOID, "sigmoid", 1.0f / (1.0f + expf(-z)), a * (1.0f - a), INIT_XAVIER) \
    X(DESCENT_ACT_TANH, "tanh", tanhf(z), 1.0f - a * a, INIT_XAVIER)                     \
    X(DESCENT_ACT_RELU, "relu", z > 0.0f ? z : 0.0f, a > 0.0f ? 1.0f : 0.0f, INIT_HE)    \
    X(DESCENT_ACT_IDENTITY, "identity", z, 1.0f, INIT_XAVIER)                            \
    X(DESCENT_ACT_SOFTMAX, "softmax", z, 1.0f, INIT_XAVIER)

#define ACT_COUNT_ROW(id, name, f, df, init) +1
_Static_assert(0 DESCENT_ACTIVATIONS(ACT_COUNT_ROW) == DESCENT_ACT_COUNT,
               "every descent_act needs a row in DESCENT_ACTIVATIONS");
#undef ACT_COUNT_ROW

/* a = f(z) */
static inline float act_apply(float z, descent_act act) {
    switch (act) {
#define ACT_APPLY_ROW(id, name, f, df, init) case id: return f;
        DESCENT_ACTIVATIONS(ACT_APPLY_ROW)
#undef ACT_APPLY_ROW
    default: return z;
    }
}

/* f'(z), written in terms of a = f(z) */
static inline float act_deriv(float a, descent_act act) {
    switch (act) {
#define ACT_DERIV_ROW(id, name, f, df, init) case id: return df;
        DESCENT_ACTIVATIONS(ACT_DERIV_ROW)
#undef ACT_DERIV_ROW
    default: return 1.0f;
    }
}

/* The initialisation rule of the weights feeding an activation */
static inline init_rule act_init_rule(descent_act act) {
    switch (act) {
#define ACT_INIT_ROW(id, name, f, df, init) case id: return init;
        DESCENT_ACTIVATIONS(ACT_INIT_ROW)
#undef ACT_INIT_ROW
    default: return INIT_XAVIER;
    }
}

#endif
