/* SPDX-License-Identifier: MIT */
/* kernel_bench: the layer kernels alone, at one network's shapes, with the
 * data in cache. For each weight layer: forward, weight gradient and (past
 * the first layer) input delta, each called REPS times; prints the best
 * call's GFLOP/s (the least disturbed by other work on the machine) and the
 * whole step's kernel-only rate; also the reproducible mode's weight
 * gradient (chunks of repro_chunk(BATCH) samples summed into 64-bit fixed point), which
 * replaces the weight gradient in that mode, and its final variant (one
 * rank's whole batch: the integer sums back to floats without being
 * stored). Threads: OMP_NUM_THREADS.
 *   kernel_bench [BATCH [REPS [WIDTHS]]]     e.g. kernel_bench 64 2000 784,256,128,10
 * Output: one CSV row per kernel (kernel,layer,in,out,batch,threads,gflops)
 * and a last row "step" with the step's kernel-only GFLOP/s and samples/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base.h"
#include "kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define MAXL 16

int main(int argc, char **argv) {
    const int B = argc > 1 ? atoi(argv[1]) : 64;
    const int reps = argc > 2 ? atoi(argv[2]) : 1000;
    int n[MAXL + 1], L = 0;
    const char *widths = argc > 3 ? argv[3] : "784,256,128,10";
    for (const char *p = widths; *p && L <= MAXL; L++) {
        n[L] = atoi(p);
        p = strchr(p, ',');
        if (!p) { L++; break; }
        p++;
    }
    L -= 1; /* weight layers */
    if (B < 1 || reps < 1 || L < 1 || L > MAXL) {
        fprintf(stderr, "usage: kernel_bench [BATCH [REPS [WIDTHS]]]\n");
        return 2;
    }
    int maxw = 0;
    for (int l = 0; l <= L; l++) {
        if (n[l] < 1) { fprintf(stderr, "kernel_bench: bad width list '%s'\n", widths); return 2; }
        maxw = n[l] > maxw ? n[l] : maxw;
    }
    const int ldmax = round_up_int(maxw, DESCENT_ALIGN_FLOATS);
    float *act[MAXL + 1], *w[MAXL], *b[MAXL], *dw[MAXL], *db[MAXL];
    int32_t *dwx[MAXL], *dbx[MAXL];
    int ld[MAXL + 1];
    float *d0 = aligned_calloc((size_t)B * ldmax, sizeof(float));
    float *d1 = aligned_calloc((size_t)B * ldmax, sizeof(float));
    if (!d0 || !d1) return 1;
    for (int l = 0; l <= L; l++) {
        ld[l] = round_up_int(n[l], DESCENT_ALIGN_FLOATS);
        act[l] = aligned_calloc((size_t)B * ld[l], sizeof(float));
        if (!act[l]) return 1;
        for (size_t i = 0; i < (size_t)B * ld[l]; i++) act[l][i] = (float)(i % 7) * 0.1f;
    }
    for (size_t i = 0; i < (size_t)B * ldmax; i++) d0[i] = (float)(i % 5) * 0.01f;
    for (int l = 0; l < L; l++) {
        const size_t nw = (size_t)n[l] * n[l + 1];
        w[l] = aligned_calloc(nw, sizeof(float));
        dw[l] = aligned_calloc(nw, sizeof(float));
        b[l] = aligned_calloc(n[l + 1], sizeof(float));
        db[l] = aligned_calloc(n[l + 1], sizeof(float));
        dwx[l] = aligned_calloc(nw, sizeof(int32_t));
        dbx[l] = aligned_calloc(n[l + 1], sizeof(int32_t));
        if (!w[l] || !dw[l] || !b[l] || !db[l] || !dwx[l] || !dbx[l]) return 1;
        for (size_t i = 0; i < nw; i++) w[l][i] = (float)((int)(i % 11) - 5) * 0.01f;
    }
    double tf[MAXL], tw[MAXL], ti[MAXL], tx[MAXL], tz[MAXL];
    for (int l = 0; l < L; l++) tf[l] = tw[l] = ti[l] = tx[l] = tz[l] = 1e30;
    for (int r = 0; r < reps; r++) {
        for (int l = 0; l < L; l++) {
            const double t = now();
            /* as bench.sh trains: relu hidden layers, a softmax output layer */
            k_dense_forward(act[l + 1], ld[l + 1], act[l], ld[l], w[l], b[l], B, n[l], n[l + 1],
                            l + 1 < L ? DESCENT_ACT_RELU : DESCENT_ACT_SOFTMAX);
            const double e = now() - t;
            tf[l] = e < tf[l] ? e : tf[l];
        }
        for (int l = L - 1; l >= 0; l--) {
            long nonfinite = 0;
            double t = now();
            k_dense_backward_weights(dw[l], db[l], d0, ldmax, act[l], ld[l], B, n[l], n[l + 1], 0,
                                     &nonfinite, NULL);
            double e = now() - t;
            tw[l] = e < tw[l] ? e : tw[l];
            if (l > 0) {
                t = now();
                k_dense_backward_input(d1, ldmax, d0, ldmax, w[l], act[l], ld[l], B, n[l], n[l + 1],
                                       DESCENT_ACT_RELU);
                e = now() - t;
                ti[l] = e < ti[l] ? e : ti[l];
            }
        }
    }
    /* separately: its integer sums would push the others' data out of cache */
    for (int r = 0; r < reps; r++)
        for (int l = L - 1; l >= 0; l--) {
            long nonfinite = 0;
            k_range range[2] = {{0}};
            double t = now();
            k_dense_backward_weights_fx(dwx[l], dbx[l], 20, 20, 0x1p30, d0, ldmax, act[l], ld[l], B,
                                        repro_chunk((size_t)B), n[l], n[l + 1], 1, &nonfinite, range, NULL);
            double e = now() - t;
            tx[l] = e < tx[l] ? e : tx[l];
            /* one rank's whole batch: the sums back to floats, no integers stored */
            uint64_t max[2];
            t = now();
            k_dense_backward_weights_fx_final(dw[l], db[l], 20, 20, 0x1p30, d0, ldmax, act[l],
                                              ld[l], B, repro_chunk((size_t)B), n[l], n[l + 1],
                                              max, &nonfinite, range);
            e = now() - t;
            tz[l] = e < tz[l] ? e : tz[l];
        }
    const int threads = descent_threads();
    double total_t = 0, total_f = 0;
    printf("kernel,layer,in,out,batch,threads,gflops\n");
    for (int l = 0; l < L; l++) {
        const double f = 2.0 * B * n[l] * n[l + 1];
        printf("forward,%d,%d,%d,%d,%d,%.1f\n", l + 1, n[l], n[l + 1], B, threads, f / tf[l] / 1e9);
        printf("weight_gradient,%d,%d,%d,%d,%d,%.1f\n", l + 1, n[l], n[l + 1], B, threads,
               f / tw[l] / 1e9);
        printf("weight_gradient_fx,%d,%d,%d,%d,%d,%.1f\n", l + 1, n[l], n[l + 1], B, threads,
               f / tx[l] / 1e9);
        printf("weight_gradient_fx_final,%d,%d,%d,%d,%d,%.1f\n", l + 1, n[l], n[l + 1], B,
               threads, f / tz[l] / 1e9);
        total_t += tf[l] + tw[l];
        total_f += 2 * f;
        if (l > 0) {
            printf("input_delta,%d,%d,%d,%d,%d,%.1f\n", l + 1, n[l], n[l + 1], B, threads,
                   f / ti[l] / 1e9);
            total_t += ti[l];
            total_f += f;
        }
    }
    printf("step,all,%d,%d,%d,%d,%.1f,%.0f samples/s\n", n[0], n[L], B, threads,
           total_f / total_t / 1e9, B / total_t);
    return 0;
}
