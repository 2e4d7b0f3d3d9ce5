/* SPDX-License-Identifier: MIT */
/*
 * commbench.c - `descent commbench`: the time of MPI_Allreduce(SUM) for
 * given float counts on this machine's ranks, the alpha and beta of the
 * cost model (scripts/costmodel.py).
 */
#include "cli.h"

#include <stdio.h>

static void help_commbench(void) {
    printf("Usage: mpirun -n P descent commbench [--floats N]... [--reps R] [--busy-us U]\n"
           "                                     [--bf16 | --int32]\n\n"
           "Times MPI_Allreduce(SUM) of N floats (default: 1 and 235146, the\n"
           "784-256-128-10 network's gradient) and prints the median and minimum\n"
           "of R runs (default 50) in microseconds: the inputs of the cost model in\n"
           "scripts/costmodel.py and scripts/cluster/scaleout.sh.\n"
           "  --busy-us U   compute for U microseconds before each run, as a training\n"
           "                step does (default 0)\n"
           "  --bf16        the reduction of --comm-precision bf16: N values as bfloat16\n"
           "  --int32       the reduction of the default exact sums: N values as int32\n");
}

#define MAX_SIZES 16
typedef struct {
    size_t n[MAX_SIZES];
    int count;
} size_list;

/* --floats may repeat: each adds a size */
static void add_size(const char *opt, const char *value, void *dst) {
    size_list *s = dst;
    if (s->count == MAX_SIZES) usage_error("at most %d %s", MAX_SIZES, opt);
    s->n[s->count++] = (size_t)opt_whole(opt, value, 1, (long long)1 << 32);
}

int cmd_commbench(int argc, char **argv) {
    g_cmd = "descent commbench";
    option_table t = {.help = help_commbench};
    long long reps = 50, busy_us = 0;
    int bf16 = 0, int32 = 0;
    size_list sizes = {{0}, 0};
    opt_add(&t, (option_spec){.name = "--help", .kind = OPT_HELP});
    opt_add(&t, (option_spec){.name = "--floats", .kind = OPT_CUSTOM, .dst = &sizes,
                              .custom = add_size});
    opt_add(&t, (option_spec){.name = "--reps", .kind = OPT_INT, .dst = &reps, .lo = 1,
                              .hi = 1000000});
    opt_add(&t, (option_spec){.name = "--busy-us", .kind = OPT_INT, .dst = &busy_us, .lo = 0,
                              .hi = 10000000});
    opt_add(&t, (option_spec){.name = "--bf16", .kind = OPT_FLAG, .dst = &bf16, .lo = 1});
    opt_add(&t, (option_spec){.name = "--int32", .kind = OPT_FLAG, .dst = &int32, .lo = 1});
    parse_options(&t, argc, argv);
    if (bf16 && int32) usage_error("give --bf16 or --int32, not both");
    const int wire = bf16 ? DESCENT_WIRE_BF16 : int32 ? DESCENT_WIRE_INT32 : DESCENT_WIRE_FP32;
    if (sizes.count == 0) sizes = (size_list){{1, 235146}, 2};
    if (g_rank == 0) printf("ranks,floats,bytes,median_us,min_us,busy_us,precision\n");
    for (int i = 0; i < sizes.count; i++) {
        double med = 0, mn = 0;
        descent_error err = {0};
        const int rc = descent_mpi_time_reduction(sizes.n[i], (int)reps, 1e-6 * (double)busy_us,
                                                  wire, &med, &mn);
        if (rc) cli_error(&err, rc, "allreduce of %zu floats failed", sizes.n[i]);
        check(rc, &err);
        if (g_rank == 0)
            printf("%d,%zu,%zu,%.2f,%.2f,%lld,%s\n", g_size, sizes.n[i],
                   (bf16 ? 2 : 4) * sizes.n[i], 1e6 * med, 1e6 * mn, busy_us,
                   bf16 ? "bf16" : int32 ? "int32" : "fp32");
    }
    return 0;
}
