/* SPDX-License-Identifier: MIT */
/* The ceiling: the exact matrix products of one training step of the
 * 784-256-128-10 network (3 forward, 3 weight-gradient, 2 input-delta)
 * through OpenBLAS's cblas_sgemm. Prints CSV lines
 *   ceiling,threads,batch,gflops,seconds_per_epoch
 * (the implied epoch time for 60,000 samples). Built and run by bench.sh:
 *   ceiling THREADS BATCH REPS */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static float *mat(size_t n) {
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 1, m = argc > 2 ? atoi(argv[2]) : 64;
    const int reps = argc > 3 ? atoi(argv[3]) : 200;
    openblas_set_num_threads(threads);
    const int n[4] = {784, 256, 128, 10};
    float *A[4], *W[3], *dW[3], *Dl[4];
    for (int l = 0; l < 4; l++) { A[l] = mat((size_t)m * n[l]); Dl[l] = mat((size_t)m * n[l]); }
    for (int l = 0; l < 3; l++) { W[l] = mat((size_t)n[l + 1] * n[l]); dW[l] = mat((size_t)n[l + 1] * n[l]); }
    double flops = 0;
    for (int l = 0; l < 3; l++) flops += 2.0 * m * n[l] * n[l + 1] * 2; /* forward + weight grad */
    for (int l = 1; l < 3; l++) flops += 2.0 * m * n[l] * n[l + 1];     /* input deltas */
    double best = 1e30;
    for (int r = -10; r < reps; r++) {
        const double t0 = now();
        for (int l = 0; l < 3; l++) /* A[l+1] (m x out) = A[l] (m x in) W[l]^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n[l + 1], n[l], 1.0f, A[l],
                        n[l], W[l], n[l], 0.0f, A[l + 1], n[l + 1]);
        for (int l = 2; l >= 0; l--) { /* dW[l] (out x in) += D[l+1]^T A[l] */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n[l + 1], n[l], m, 1.0f,
                        Dl[l + 1], n[l + 1], A[l], n[l], 1.0f, dW[l], n[l]);
            if (l > 0) /* D[l] (m x in) = D[l+1] (m x out) W[l] (out x in) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n[l], n[l + 1], 1.0f,
                            Dl[l + 1], n[l + 1], W[l], n[l], 0.0f, Dl[l], n[l]);
        }
        const double dt = now() - t0;
        if (r >= 0 && dt < best) best = dt;
    }
    const double steps = (60000 + m - 1) / m;
    printf("ceiling,%d,%d,%.2f,%.4f\n", threads, m, flops / best / 1e9, best * steps);
    return 0;
}
