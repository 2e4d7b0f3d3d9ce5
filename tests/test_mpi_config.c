/* SPDX-License-Identifier: MIT */
/* The library's own check that every rank trains with the same
 * configuration (run with 2 ranks; a host program calls descent_train, so
 * no command line was compared first): rank 1 with another learning rate,
 * or without the validation set rank 0 has, gets DESCENT_E_MISMATCH on
 * both ranks before the first step, the message naming the field and both
 * values; the same configuration trains. */
#include <descent/descent.h>
#include <mpi.h>
#include <string.h>

#include "testutil.h"

static descent_data *xor_set(void) {
    static const float x[8][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 0}, {0, 1}, {1, 0}, {1, 1}};
    static const int32_t labels[8] = {0, 1, 1, 0, 0, 1, 1, 0};
    const descent_array fx = {x, DESCENT_F32, 8, 2}, fy = {labels, DESCENT_I32, 8, 1};
    descent_data *d = NULL;
    descent_error err = {0};
    CHECK(descent_data_from_arrays(&d, "xor", &fx, &fy, 0, &err) == 0, "%s", err.msg);
    return d;
}

/* descent_train with rank 1's config changed by `change`; its status */
static int train_with(void (*change)(descent_train_config *), int rank1_val, descent_error *err) {
    descent_data *d = xor_set(), *val = xor_set();
    descent_net *net = NULL;
    const int sizes[] = {2, 4, 2};
    const descent_act acts[] = {DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX};
    CHECK(descent_net_create(&net, 2, sizes, acts, DESCENT_COST_XENT, err) == 0, "%s", err->msg);
    descent_net_init(net, 3);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 2;
    cfg.batch = 4;
    if (descent_mpi_rank() == 1 && change) change(&cfg);
    const int with_val = descent_mpi_rank() == 0 || rank1_val;
    const int rc = descent_train(net, d, with_val ? val : NULL, &cfg, NULL, err);
    descent_net_free(net);
    descent_data_free(d);
    descent_data_free(val);
    return rc;
}

static void other_lr(descent_train_config *cfg) { cfg->lr = 0.25; }

int main(int argc, char **argv) {
    CHECK(descent_mpi_init(&argc, &argv) == 0, "MPI initialisation");
    descent_error err = {0};
    int rc = train_with(other_lr, 1, &err);
    CHECK(rc == DESCENT_E_MISMATCH || rc == DESCENT_E_REMOTE, "other lr: status %d", rc);
    if (descent_mpi_rank() == err.rank)
        CHECK(strstr(err.msg, "lr is 0.10000000000000001 on rank 0 and 0.25 on rank 1") != NULL,
              "other lr: message '%s'", err.msg);
    rc = train_with(NULL, 0, &err);
    CHECK(rc == DESCENT_E_MISMATCH || rc == DESCENT_E_REMOTE, "no validation set on rank 1: status %d", rc);
    if (descent_mpi_rank() == err.rank)
        CHECK(strstr(err.msg, "validation set is given on rank 0 and none on rank 1") != NULL,
              "no validation set on rank 1: message '%s'", err.msg);
    rc = train_with(NULL, 1, &err);
    CHECK(rc == DESCENT_OK, "the same configuration: %s", err.msg);
    const int failures = t_failures;
    descent_mpi_finalize();
    return failures ? 1 : 0;
}
