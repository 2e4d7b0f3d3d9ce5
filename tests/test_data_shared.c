/* SPDX-License-Identifier: MIT */
/* One copy of the data per host (run with 4 ranks on one host):
 * descent_data_load_shared calls the loader once per host, every rank sees
 * the loader's samples, a host whose ranks ask for different data (keys)
 * has every rank load its own, and a loader's failure is every rank's
 * failure. */
#include <descent/descent.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* 10 MB of features: more than one of the pieces in which the loading rank
 * moves its copy into shared memory (data_share.c) */
enum { N = 100000, K = 25 };
static int g_calls;

/* N samples of K float features, labels i % 3; feature values from the seed */
static int load_arrays(descent_data **set, void *ctx, descent_error *err) {
    static float x[N * K];
    static int32_t y[N];
    const int seed = *(const int *)ctx;
    g_calls++;
    if (seed < 0) {
        snprintf(err->msg, sizeof err->msg, "loader failed on purpose");
        err->code = DESCENT_E_IO;
        return DESCENT_E_IO;
    }
    for (int i = 0; i < N * K; i++) x[i] = (float)((i * 37 + seed) % 101) / 100.0f;
    for (int i = 0; i < N; i++) y[i] = i % 3;
    const descent_array fx = {x, DESCENT_F32, N, K}, fy = {y, DESCENT_I32, N, 1};
    return descent_data_from_arrays(set, "arrays", &fx, &fy, 0, err);
}

static int total_calls(void) {
    int all = 0;
    MPI_Allreduce(&g_calls, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    g_calls = 0;
    return all;
}

static void check_samples(const descent_data *d, int seed) {
    float x[K], y[3];
    int bad = 0;
    for (size_t i = 0; i < N; i += 97) {
        descent_data_sample(d, i, x, y);
        for (int k = 0; k < K; k++)
            bad += x[k] != (float)(((int)i * K * 37 + k * 37 + seed) % 101) / 100.0f;
        bad += y[i % 3] != 1.0f;
    }
    CHECK(bad == 0 && descent_data_count(d) == N, "%d wrong values", bad);
}

int main(int argc, char **argv) {
    if (descent_mpi_init(&argc, &argv) != 0) return 2;
    const int rank = descent_mpi_rank();
    descent_error err = {0};
    descent_data *d = NULL;

    int seed = 5;
    CHECK(descent_data_load_shared(&d, "the same data", load_arrays, &seed, &err) == 0, "%s", err.msg);
    const int calls = total_calls();
    CHECK(calls == 1, "4 ranks on one host: the loader ran %d times, not once", calls);
    if (d) check_samples(d, seed);
    descent_data_free(d);
    d = NULL;

    /* rank 3 asks for other data: every rank of the host reads its own */
    int other = rank == 3 ? 9 : 5;
    CHECK(descent_data_load_shared(&d, rank == 3 ? "other data" : "the same data", load_arrays,
                                   &other, &err) == 0, "%s", err.msg);
    const int calls2 = total_calls();
    CHECK(calls2 == 4, "with one rank on other data the loader ran %d times, not 4", calls2);
    if (d) check_samples(d, other);
    descent_data_free(d);
    d = NULL;

    /* the loader fails: every rank fails, the others with DESCENT_E_REMOTE */
    int failing = -1;
    const int rc = descent_data_load_shared(&d, "the same data", load_arrays, &failing, &err);
    CHECK(rc != 0 && d == NULL, "a failed load gave rank %d a set (rc %d)", rank, rc);
    CHECK(rank == 0 ? rc == DESCENT_E_IO : rc == DESCENT_E_IO && err.rank == 0,
          "rank %d: status %d, rank %d in the error", rank, rc, err.rank);

    int failures = t_failures, total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("data shared per host: %s\n", total ? "FAILED" : "ok");
    descent_mpi_finalize();
    return total ? 1 : 0;
}
