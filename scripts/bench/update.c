/* SPDX-License-Identifier: MIT */
/* update_bench: one optimizer update of a whole network's parameters, the
 * gradient sums in cache as far as they fit: gd, momentum and Adam from
 * float sums, and gd from the reproducible mode's 32-bit fixed-point sums
 * (read through fixed_point.c's converter). Each is called REPS times;
 * prints the median call and the bytes it moves per second (parameters,
 * sums and optimizer state, each read once and the parameters and state
 * written once). Threads: OMP_NUM_THREADS.
 *   update_bench [REPS [WIDTHS]]            e.g. update_bench 500 784,256,128,10
 * Output: CSV optimizer,sums,params,threads,us,gbytes_per_s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base.h"
#include "fixed_point.h"
#include "optim.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define MAXL 16

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median seconds of reps updates of net by cfg's optimizer; the sums
 * are g or, with conv, what conv reads */
static double median_update(const descent_train_config *cfg, descent_net *net, const float *g,
                            const grad_converter *conv, int reps, double *times) {
    optimizer o;
    if (optimizer_init(&o, cfg, net->n_params)) return -1;
    for (int r = 0; r < reps; r++) {
        const double t = now();
        if (conv)
            optimizer_step_converted(&o, cfg, 1e-3, net, conv, 64.0f);
        else
            optimizer_step(&o, cfg, 1e-3, net, g, 64.0f);
        times[r] = now() - t;
    }
    optimizer_free(&o);
    qsort(times, (size_t)reps, sizeof *times, by_value);
    return times[reps / 2];
}

int main(int argc, char **argv) {
    const int reps = argc > 1 ? atoi(argv[1]) : 500;
    const char *widths = argc > 2 ? argv[2] : "784,256,128,10";
    int n[MAXL + 1], L = 0;
    for (const char *p = widths; *p && L <= MAXL; L++) {
        n[L] = atoi(p);
        p = strchr(p, ',');
        if (!p) { L++; break; }
        p++;
    }
    L -= 1;
    if (reps < 1 || L < 1 || L > MAXL) {
        fprintf(stderr, "usage: update_bench [REPS [WIDTHS]]\n");
        return 2;
    }
    descent_act acts[MAXL];
    for (int l = 0; l < L; l++) acts[l] = l + 1 < L ? DESCENT_ACT_RELU : DESCENT_ACT_SOFTMAX;
    descent_net *net = NULL;
    descent_error err;
    if (descent_net_create(&net, L, n, acts, DESCENT_COST_XENT, &err)) {
        fprintf(stderr, "update_bench: %s\n", err.msg);
        return 2;
    }
    descent_net_init(net, 1);
    const size_t np = net->n_params;
    float *g = aligned_calloc(np, sizeof(float));
    int32_t *gx = aligned_calloc(np, sizeof(int32_t));
    double *times = malloc((size_t)reps * sizeof *times);
    fx_scales scales;
    if (!g || !gx || !times || fx_scales_init(&scales, L, 1)) return 1;
    for (size_t i = 0; i < np; i++) {
        g[i] = (float)((int)(i % 13) - 6) * 1e-3f;
        gx[i] = ((int32_t)(i % 13) - 6) * (1 << 20);
    }
    printf("optimizer,sums,params,threads,us,gbytes_per_s\n");
    static const descent_optimizer kinds[3] = {DESCENT_OPT_GD, DESCENT_OPT_MOMENTUM,
                                               DESCENT_OPT_ADAM};
    static const int state_buffers[3] = {0, 1, 2};
    for (int k = 0; k < 3; k++) {
        descent_train_config cfg;
        descent_train_config_default(&cfg);
        cfg.optimizer = kinds[k];
        const double t = median_update(&cfg, net, g, NULL, reps, times);
        const double bytes = (double)np * sizeof(float) * (3 + 2 * state_buffers[k]);
        printf("%s,float,%zu,%d,%.1f,%.1f\n", descent_optimizer_name(kinds[k]), np,
               descent_threads(), t * 1e6, bytes / t / 1e9);
    }
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    fx_reader reader;
    const grad_converter conv = {fx_read_sums, &reader};
    fx_reader_start(&reader, gx, &scales);
    const double t = median_update(&cfg, net, NULL, &conv, reps, times);
    const double bytes = (double)np * (2 * sizeof(float) + sizeof(int32_t));
    printf("gd,fixed_point,%zu,%d,%.1f,%.1f\n", np, descent_threads(), t * 1e6, bytes / t / 1e9);
    fx_scales_free(&scales);
    free(times);
    aligned_free(gx);
    aligned_free(g);
    descent_net_free(net);
    return 0;
}
