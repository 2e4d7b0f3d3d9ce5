/* SPDX-License-Identifier: MIT */
/* descent inside a host program that owns MPI (run with 4 ranks): the host
 * initialises MPI, splits its ranks into two groups and hands each group's
 * communicator to descent (as a Fortran handle, the public header has no
 * <mpi.h>). Each group trains XOR from arrays with its own seed; checks:
 * descent sees its group (rank, size), a group's ranks end identical, the
 * two groups differ, the result matches one process training alone, and
 * descent_mpi_finalize leaves the host's MPI running. */
#include <descent/descent.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static descent_net *train_xor(uint64_t seed) {
    static const float x[8][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {0, 0}, {0, 1}, {1, 0}, {1, 1}};
    static const int32_t labels[8] = {0, 1, 1, 0, 0, 1, 1, 0};
    const descent_array fx = {x, DESCENT_F32, 8, 2}, fy = {labels, DESCENT_I32, 8, 1};
    descent_error err = {0};
    descent_data *d = NULL;
    descent_net *net = NULL;
    const int sizes[] = {2, 6, 2};
    const descent_act acts[] = {DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX};
    CHECK(descent_data_from_arrays(&d, "xor", &fx, &fy, 0, &err) == 0, "%s", err.msg);
    CHECK(descent_net_create(&net, 2, sizes, acts, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    if (!d || !net) return NULL;
    descent_net_init(net, seed);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 200;
    cfg.batch = 4;
    cfg.lr = 0.5;
    cfg.seed = seed;
    CHECK(descent_train(net, d, NULL, &cfg, NULL, &err) == 0, "train: %s", err.msg);
    descent_data_free(d);
    return net;
}

static double checksum(const descent_net *net) {
    double s = 0;
    const float *p = descent_net_params_const(net);
    for (size_t i = 0; i < descent_net_num_params(net); i++) s += p[i] * (double)(i % 7 + 1);
    return s;
}

int main(int argc, char **argv) {
    int provided = 0, world_rank = 0, world_size = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (world_size != 4) {
        if (world_rank == 0) fprintf(stderr, "run with 4 ranks\n");
        MPI_Finalize();
        return 2;
    }
    const int group = world_rank % 2;
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, group, world_rank, &half);
    int half_rank = 0;
    MPI_Comm_rank(half, &half_rank);

    CHECK(descent_mpi_init_comm(MPI_Comm_c2f(half)) == DESCENT_OK, "init_comm refused");
    CHECK(descent_mpi_size() == 2 && descent_mpi_rank() == half_rank,
          "descent sees rank %d of %d, not %d of 2", descent_mpi_rank(), descent_mpi_size(),
          half_rank);
    CHECK(descent_mpi_init_comm(MPI_Comm_c2f(half)) == DESCENT_E_USAGE,
          "a second init_comm while active is accepted");
    descent_net *together = train_xor((uint64_t)group + 7);
    descent_mpi_finalize();
    int finalized = 1;
    MPI_Finalized(&finalized);
    CHECK(!finalized, "descent_mpi_finalize finalised the host's MPI");
    CHECK(descent_mpi_size() == 1, "after finalize descent still sees %d ranks", descent_mpi_size());

    /* the same training in this process alone */
    descent_net *alone = train_xor((uint64_t)group + 7);
    double sums[4] = {0};
    if (together && alone) {
        sums[world_rank] = checksum(together);
        const float *a = descent_net_params_const(together), *b = descent_net_params_const(alone);
        double worst = 0;
        for (size_t i = 0; i < descent_net_num_params(alone); i++)
            worst = fmax(worst, rel_diff(a[i], b[i], 1e-3));
        CHECK(worst < 2e-4, "2 ranks and 1 process differ by %g", worst);
    }
    /* the host's MPI still works: compare the groups' results */
    double all[4];
    CHECK(MPI_Allreduce(sums, all, 4, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS,
          "MPI unusable after descent_mpi_finalize");
    CHECK(all[0] == all[2] && all[1] == all[3], "ranks of one group differ: %.17g %.17g, %.17g %.17g",
          all[0], all[2], all[1], all[3]);
    CHECK(all[0] != all[1], "the two groups (different seeds) trained the same model");
    descent_net_free(together);
    descent_net_free(alone);

    int failures = t_failures, total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (world_rank == 0) printf("mpi host: %s\n", total ? "FAILED" : "ok");
    MPI_Comm_free(&half);
    MPI_Finalize();
    return total ? 1 : 0;
}
