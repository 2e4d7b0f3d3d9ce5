/* Data parallelism is the same mathematics as one process. Run under mpirun
 * with P ranks and OMP_NUM_THREADS=T:
 *   test_mpi_equiv OUT            write per-step losses and final parameters
 *   test_mpi_equiv OUT REF        ... and compare them with REF (one process)
 * Two problems: 10 samples with global batch 7 (neither divides by 3 or 4,
 * so some ranks get empty slices), and a 3-layer network on 200 samples.
 * Every rank also writes its parameters; rank 0 checks they are identical
 * byte for byte on all ranks. Tolerance against one process: per-step loss
 * and every final parameter within a relative 2e-5 (floor 1e-3): only the
 * order of the float sums differs between layouts. A third problem runs in
 * reproducible mode (global batch 50: 4 chunks, the last partial) and must
 * match one process exactly. */
#include <descent/descent.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_STEPS 512
typedef struct {
    long n;
    double loss[MAX_STEPS];
} trace;

static void on_step(long step, double loss, void *user) {
    trace *t = user;
    if (t->n < MAX_STEPS) t->loss[t->n++] = loss;
    (void)step;
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
    int n, batch, epochs, L;
    int sizes[4];
    descent_act acts[3];
    descent_cost cost;
    descent_optimizer opt;
    double lr;
    int reproducible; /* 1: must match one process bit for bit */
} problem;

int main(int argc, char **argv) {
    if (descent_mpi_init(&argc, &argv)) return 1;
    if (argc < 2) { fprintf(stderr, "usage: test_mpi_equiv OUT [REF]\n"); return 2; }
    const int rank = descent_mpi_rank(), P = descent_mpi_size();
    const char *out = argv[1], *ref = argc > 2 ? argv[2] : NULL;
    char dir[512];
    snprintf(dir, sizeof dir, "%s.d", out);
    if (rank == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        if (system(cmd) != 0) return 1;
    }
    const problem probs[3] = {
        {10, 7, 20, 2, {5, 4, 3, 0}, {DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID}, DESCENT_COST_MSE,
         DESCENT_OPT_GD, 2.0, 0},
        {200, 32, 3, 3, {5, 33, 17, 3}, {DESCENT_ACT_TANH, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX},
         DESCENT_COST_XENT, DESCENT_OPT_ADAM, 0.01, 0},
        {200, 50, 3, 3, {5, 33, 17, 3}, {DESCENT_ACT_TANH, DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX},
         DESCENT_COST_XENT, DESCENT_OPT_ADAM, 0.01, 1},
    };
    FILE *fo = rank == 0 ? fopen(out, "wb") : NULL;
    FILE *fr = rank == 0 && ref ? fopen(ref, "rb") : NULL;
    CHECK(rank != 0 || fo, "cannot write %s", out);
    CHECK(rank != 0 || !ref || fr, "cannot read reference %s", ref);
    for (int pi = 0; pi < 3; pi++) {
        const problem *pb = &probs[pi];
        descent_data *d = make_data(dir, pb->n, rank);
        descent_net *net;
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
        trace tr = {0, {0}};
        descent_callbacks cb = {NULL, on_step, NULL, NULL, &tr};
        const int rc = descent_train(net, d, NULL, &cfg, &cb, &err);
        CHECK(rc == 0, "problem %d: train on %d ranks: %s", pi, P, err.msg);
        const size_t np = descent_net_num_params(net);
        const float *p = descent_net_params(net);
        /* every rank's parameters, compared byte for byte by rank 0 */
        char mine[600];
        snprintf(mine, sizeof mine, "%s/params_%d_rank%d.bin", dir, pi, rank);
        FILE *fm = fopen(mine, "wb");
        fwrite(p, sizeof(float), np, fm);
        fclose(fm);
        descent_mpi_agree(DESCENT_OK, NULL);
        if (rank == 0) {
            float *other = malloc(np * sizeof(float));
            for (int r = 1; r < P; r++) {
                snprintf(mine, sizeof mine, "%s/params_%d_rank%d.bin", dir, pi, r);
                FILE *f = fopen(mine, "rb");
                const size_t got = f ? fread(other, sizeof(float), np, f) : 0;
                if (f) fclose(f);
                CHECK(got == np && memcmp(other, p, np * sizeof(float)) == 0,
                      "problem %d: rank %d holds different parameters than rank 0", pi, r);
            }
            free(other);
            fwrite(&tr.n, sizeof tr.n, 1, fo);
            fwrite(tr.loss, sizeof(double), (size_t)tr.n, fo);
            fwrite(p, sizeof(float), np, fo);
            if (fr) {
                long rn = -1;
                double rl[MAX_STEPS];
                float *rp = malloc(np * sizeof(float));
                CHECK(fread(&rn, sizeof rn, 1, fr) == 1 && rn == tr.n, "problem %d: %ld steps, "
                      "reference %ld", pi, tr.n, rn);
                if (rn == tr.n && fread(rl, sizeof(double), (size_t)rn, fr) == (size_t)rn &&
                    fread(rp, sizeof(float), np, fr) == np) {
                    double wl = 0, wp = 0;
                    for (long i = 0; i < rn; i++) wl = fmax(wl, rel_diff(tr.loss[i], rl[i], 1e-3));
                    for (size_t i = 0; i < np; i++) wp = fmax(wp, rel_diff(p[i], rp[i], 1e-3));
                    printf("problem %d, %d ranks: %ld steps, max relative difference from one "
                           "process: losses %.3g, parameters %.3g\n", pi, P, rn, wl, wp);
                    const double tol = pb->reproducible ? 0.0 : 2e-5;
                    CHECK(wl <= tol, "problem %d: losses differ from one process by %.3g", pi, wl);
                    CHECK(wp <= tol, "problem %d: parameters differ from one process by %.3g", pi,
                          wp);
                    CHECK(tr.loss[rn - 1] < tr.loss[0], "problem %d: loss did not fall", pi);
                } else {
                    CHECK(0, "problem %d: reference file is short", pi);
                }
                free(rp);
            }
        }
        descent_net_free(net);
        descent_data_free(d);
    }
    if (fo) fclose(fo);
    if (fr) fclose(fr);
    /* the verdict must reach every rank's exit code */
    int who;
    const int any = descent_mpi_agree(t_failures ? DESCENT_E_MISMATCH : DESCENT_OK, &who);
    descent_mpi_finalize();
    return any ? 1 : 0;
}
