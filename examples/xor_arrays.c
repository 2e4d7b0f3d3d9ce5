/* SPDX-License-Identifier: MIT */
/*
 * xor_arrays.c - train XOR from arrays in memory with the descent library:
 * no files, no MPI needed. Prints the four predictions and exits 0 when the
 * network learned XOR (every output on the right side of 0.5).
 *
 *   cc xor_arrays.c $(pkg-config --cflags --libs descent) -o xor_arrays
 */
#include <descent/descent.h>

#include <stdio.h>

static int fail(const descent_error *err) {
    fprintf(stderr, "xor_arrays: %s\n", err->msg);
    return 2;
}

int main(void) {
    /* the four inputs and their targets: one output, a regression target */
    const float inputs[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    const float targets[4] = {0, 1, 1, 0};
    const descent_array x = {inputs, DESCENT_F32, 4, 2};
    const descent_array y = {targets, DESCENT_F32, 4, 1};
    descent_error err = {0};
    descent_data *data = NULL;
    if (descent_data_from_arrays(&data, "xor", &x, &y, 0, &err)) return fail(&err);
    /* the library copied the arrays: they could be freed here */

    const int sizes[] = {2, 4, 1};
    const descent_act acts[] = {DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID};
    descent_net *net = NULL;
    if (descent_net_create(&net, 2, sizes, acts, DESCENT_COST_MSE, &err)) return fail(&err);
    descent_net_init(net, 1);

    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 4000;
    cfg.batch = 4; /* full-batch gradient descent */
    cfg.lr = 2.0;
    if (descent_train(net, data, NULL, &cfg, NULL, &err)) return fail(&err);

    float out[4];
    if (descent_net_predict(net, &inputs[0][0], 4, out, &err)) return fail(&err);
    int right = 0;
    for (int i = 0; i < 4; i++) {
        printf("%g xor %g -> %.3f\n", inputs[i][0], inputs[i][1], out[i]);
        right += (out[i] > 0.5f) == (targets[i] > 0.5f);
    }
    printf("%d of 4 right\n", right);
    descent_net_free(net);
    descent_data_free(data);
    return right == 4 ? 0 : 1;
}
