/* SPDX-License-Identifier: MIT */
/* Data parallelism is the same mathematics as one process. Run under mpirun
 * with P ranks and OMP_NUM_THREADS=T:
 *   test_mpi_equiv OUT            write per-step losses and final parameters
 *   test_mpi_equiv OUT REF        ... and compare them with REF (one process)
 * Named problems: 10 samples with global batch 7 (neither divides by 3 or 4,
 * so some ranks get empty slices), and a 3-layer network on 200 samples.
 * Every rank also writes its parameters; rank 0 checks they are identical
 * byte for byte on all ranks. Against one process only the order of the
 * float sums differs between layouts, so the float problems are compared
 * within a tolerance derived from what correct code shows: over P = 1..4 x
 * T = 1, 2 the largest relative differences (floor 1e-3) measured were
 * 2.4e-7 for a step's loss and 1.1e-5 for a final parameter (Adam, whose
 * first steps divide by the gradient's size, amplifies rounding); the
 * tolerances are 5e-6 and 2e-4, about 20x those. A third problem runs in
 * reproducible mode (global batch 150: chunks of 64, 64 and 22, then a last
 * batch of 50 in one chunk, so some ranks get none) and must match one
 * process exactly: that comparison does not depend on rounding. The
 * problems are then run again with the reduction overlapped with the
 * backward pass (overlap on, pieces of 40 values: the first layer's
 * gradient in several pieces): the same tolerances against one process,
 * and, with every rank on one host (host sums in local-rank order) or in
 * reproducible mode, the same bytes as without overlap. */
#include <descent/descent.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_STEPS 512
/* float sums: about 20x the largest difference correct code shows (above) */
#define LOSS_TOLERANCE 5e-6
#define PARAM_TOLERANCE 2e-4
typedef struct {
    long n;
    double loss[MAX_STEPS];
} trace;

static void on_step(const descent_step_info *step, void *user) {
    trace *t = user;
    if (t->n < MAX_STEPS) t->loss[t->n++] = step->batch_loss;
}

static descent_data *make_data(const char *dir, int n, int rank) {
    char path[700];
    snprintf(path, sizeof path, "%s/equiv_%d.csv", dir, n);
    if (rank == 0) {
        char tmp[800];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        unsigned s = 17;
        for (int i = 0; i < n; i++) {
            const int c = (i * 7) % 3;
            fprintf(f, "%d", c);
            for (int k = 0; k < 5; k++) {
                s = s * 1103515245u + 12345u;
                fprintf(f, ",%.5f", (k % 3 == c ? 0.8 : 0.1) + ((s >> 8) % 1000) / 2000.0);
            }
            fputc('\n', f);
        }
        fclose(f);
        rename(tmp, path);
    }
    descent_mpi_agree(DESCENT_OK, NULL); /* the file exists for everyone */
    descent_csv_options o = {0, 0, 0, 3, 0};
    descent_data *d = NULL;
    descent_error err;
    if (descent_data_load_csv(&d, path, &o, &err)) fprintf(stderr, "%s\n", err.msg);
    return d;
}

typedef struct {
    const char *name;
    int n, batch, epochs, L;
    int sizes[4];
    descent_act acts[3];
    descent_cost cost;
    descent_optimizer opt;
    double lr;
    int reproducible; /* 1: must match one process bit for bit */
    int overlap_of;   /* >= 0: that problem with overlap on, same bytes */
} problem;

static const problem problems[] = {
    {"sigmoid_gd_uneven_slices", 10, 7, 20, 2, {5, 4, 3, 0},
     {DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID}, DESCENT_COST_MSE, DESCENT_OPT_GD, 2.0, 0, -1},
    {"adam_three_layers", 200, 32, 3, 3, {5, 33, 17, 3},
     {DESCENT_ACT_TANH, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX}, DESCENT_COST_XENT,
     DESCENT_OPT_ADAM, 0.01, 0, -1},
    {"reproducible_adam", 200, 150, 8, 3, {5, 33, 17, 3},
     {DESCENT_ACT_TANH, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX}, DESCENT_COST_XENT,
     DESCENT_OPT_ADAM, 0.01, 1, -1},
    {"sigmoid_gd_uneven_slices_overlap", 10, 7, 20, 2, {5, 4, 3, 0},
     {DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID}, DESCENT_COST_MSE, DESCENT_OPT_GD, 2.0, 0, 0},
    {"adam_three_layers_overlap", 200, 32, 3, 3, {5, 33, 17, 3},
     {DESCENT_ACT_TANH, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX}, DESCENT_COST_XENT,
     DESCENT_OPT_ADAM, 0.01, 0, 1},
    {"reproducible_adam_overlap", 200, 150, 8, 3, {5, 33, 17, 3},
     {DESCENT_ACT_TANH, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX}, DESCENT_COST_XENT,
     DESCENT_OPT_ADAM, 0.01, 1, 2},
};
#define N_PROBLEMS (int)(sizeof problems / sizeof problems[0])

static int g_rank, g_size, g_one_host;
static char g_dir[512];
static float *g_params[N_PROBLEMS]; /* each problem's result, for its overlap twin */

/* Train pb on every rank; the per-step losses in tr. */
static descent_net *train_problem(const problem *pb, trace *tr) {
    descent_data *d = make_data(g_dir, pb->n, g_rank);
    descent_net *net = NULL;
    descent_error err;
    CHECK(descent_net_create(&net, pb->L, pb->sizes, pb->acts, pb->cost, &err) == 0, "%s",
          err.msg);
    descent_net_init(net, 5);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = pb->epochs;
    cfg.batch = (size_t)pb->batch;
    cfg.lr = pb->lr;
    cfg.optimizer = pb->opt;
    cfg.sync_check = 1; /* the library compares checksums every step */
    cfg.reproducible = pb->reproducible;
    cfg.overlap = pb->overlap_of >= 0;
    cfg.overlap_piece = 40;
    descent_callbacks cb = {NULL, on_step, NULL, NULL, tr};
    const int rc = descent_train(net, d, NULL, &cfg, &cb, &err);
    CHECK(rc == 0, "train on %d ranks: %s", g_size, err.msg);
    descent_data_free(d);
    return net;
}

/* Every rank writes its parameters; rank 0 compares them byte for byte. */
static void check_ranks_agree(int pi, const float *p, size_t np) {
    char path[600];
    snprintf(path, sizeof path, "%s/params_%d_rank%d.bin", g_dir, pi, g_rank);
    FILE *fm = fopen(path, "wb");
    fwrite(p, sizeof(float), np, fm);
    fclose(fm);
    descent_mpi_agree(DESCENT_OK, NULL);
    if (g_rank != 0) return;
    float *other = malloc(np * sizeof(float));
    for (int r = 1; r < g_size; r++) {
        snprintf(path, sizeof path, "%s/params_%d_rank%d.bin", g_dir, pi, r);
        FILE *f = fopen(path, "rb");
        const size_t got = f ? fread(other, sizeof(float), np, f) : 0;
        if (f) fclose(f);
        CHECK(got == np && memcmp(other, p, np * sizeof(float)) == 0,
              "rank %d holds different parameters than rank 0", r);
    }
    free(other);
}

/* Rank 0: the losses and parameters against one process's (the next record
 * of the reference file): within the tolerances, or exactly in reproducible
 * mode. */
static void compare_with_reference(FILE *fr, const problem *pb, const trace *tr, const float *p,
                                   size_t np) {
    long rn = -1;
    double rl[MAX_STEPS];
    float *rp = malloc(np * sizeof(float));
    CHECK(fread(&rn, sizeof rn, 1, fr) == 1 && rn == tr->n, "%ld steps, reference %ld", tr->n, rn);
    if (rn == tr->n && fread(rl, sizeof(double), (size_t)rn, fr) == (size_t)rn &&
        fread(rp, sizeof(float), np, fr) == np) {
        double wl = 0, wp = 0;
        for (long i = 0; i < rn; i++) wl = fmax(wl, rel_diff(tr->loss[i], rl[i], 1e-3));
        for (size_t i = 0; i < np; i++) wp = fmax(wp, rel_diff(p[i], rp[i], 1e-3));
        printf("%s, %d ranks: %ld steps, max relative difference from one process: losses %.3g, "
               "parameters %.3g\n", pb->name, g_size, rn, wl, wp);
        const double loss_tol = pb->reproducible ? 0.0 : LOSS_TOLERANCE;
        const double param_tol = pb->reproducible ? 0.0 : PARAM_TOLERANCE;
        CHECK(wl <= loss_tol, "losses differ from one process by %.3g", wl);
        CHECK(wp <= param_tol, "parameters differ from one process by %.3g", wp);
        CHECK(tr->loss[rn - 1] < tr->loss[0], "loss did not fall");
    } else {
        CHECK(0, "reference file is short");
    }
    free(rp);
}

/* One problem: train, ranks agree, record (and compare) on rank 0. */
static void run_problem(int pi, FILE *fo, FILE *fr) {
    const problem *pb = &problems[pi];
    t_scenario = pb->name;
    trace tr = {0, {0}};
    descent_net *net = train_problem(pb, &tr);
    if (!net) return;
    const size_t np = descent_net_num_params(net);
    const float *p = descent_net_params(net);
    check_ranks_agree(pi, p, np);
    g_params[pi] = malloc(np * sizeof(float));
    memcpy(g_params[pi], p, np * sizeof(float));
    const int twin = pb->overlap_of;
    if (twin >= 0 && (pb->reproducible || g_one_host))
        CHECK(memcmp(g_params[twin], p, np * sizeof(float)) == 0,
              "with overlap the parameters differ from %s's", problems[twin].name);
    if (fo) {
        fwrite(&tr.n, sizeof tr.n, 1, fo);
        fwrite(tr.loss, sizeof(double), (size_t)tr.n, fo);
        fwrite(p, sizeof(float), np, fo);
        if (fr) compare_with_reference(fr, pb, &tr, p, np);
    }
    descent_net_free(net);
}

int main(int argc, char **argv) {
    if (descent_mpi_init(&argc, &argv)) return 1;
    if (argc < 2) { fprintf(stderr, "usage: test_mpi_equiv OUT [REF]\n"); return 2; }
    g_rank = descent_mpi_rank(), g_size = descent_mpi_size();
    char hosts[4096];
    g_one_host = descent_mpi_hosts(hosts, sizeof hosts) == DESCENT_OK && !strchr(hosts, ',');
    const char *out = argv[1], *ref = argc > 2 ? argv[2] : NULL;
    snprintf(g_dir, sizeof g_dir, "%s.d", out);
    if (g_rank == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", g_dir);
        if (system(cmd) != 0) return 1;
    }
    FILE *fo = g_rank == 0 ? fopen(out, "wb") : NULL;
    FILE *fr = g_rank == 0 && ref ? fopen(ref, "rb") : NULL;
    CHECK(g_rank != 0 || fo, "cannot write %s", out);
    CHECK(g_rank != 0 || !ref || fr, "cannot read reference %s", ref);
    for (int pi = 0; pi < N_PROBLEMS; pi++) run_problem(pi, fo, fr);
    for (int pi = 0; pi < N_PROBLEMS; pi++) free(g_params[pi]);
    if (fo) fclose(fo);
    if (fr) fclose(fr);
    /* the verdict must reach every rank's exit code */
    int who;
    const int any = descent_mpi_agree(t_failures ? DESCENT_E_MISMATCH : DESCENT_OK, &who);
    descent_mpi_finalize();
    return any ? 1 : 0;
}
