/* SPDX-License-Identifier: MIT */
/*
 * predict.c - `descent predict`: the predicted class (or the output
 * vector) of every input row, to stdout or atomically to a file.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static void help_predict(void) {
    printf("Usage: descent predict [--model] FILE (--images F | --csv F | --npy F) [options]\n\n"
           "Prints one line per input row: the predicted class, or with --outputs the whole\n"
           "output vector (comma separated).\n\n"
           "  --model FILE          the model (or a checkpoint: its model)\n"
           "  --images F            IDX images (plain or .gz)\n"
           "  --csv F               CSV rows of features only (no label column)\n"
           "  --csv-header          the CSV's first line is a header\n"
           "  --npy F               NumPy features, (n, k) or (n, d1, d2, ...): uint8\n"
           "                        (scaled to [0,1]), float32 or float64 (plain or .gz)\n"
           "  --outputs             print the output vector instead of the class\n"
           "  --output FILE         write to FILE (atomically) instead of stdout\n");
}

typedef struct {
    const float *out;
    size_t n;
    int nout, vectors;
} pred_ctx;

static int write_predictions(FILE *f, void *ctx) {
    const pred_ctx *p = ctx;
    for (size_t i = 0; i < p->n; i++) {
        const float *o = p->out + i * (size_t)p->nout;
        if (p->vectors) {
            for (int j = 0; j < p->nout; j++)
                if (fprintf(f, "%s%.9g", j ? "," : "", o[j]) < 0) return -1;
        } else {
            int best = 0;
            for (int j = 1; j < p->nout; j++)
                if (o[j] > o[best]) best = j;
            if (fprintf(f, "%d", best) < 0) return -1;
        }
        if (fputc('\n', f) == EOF) return -1;
    }
    return 0;
}

/* The network's outputs for every row of set (n x nout, malloc'ed). */
static int predict_all(const descent_net *net, const descent_data *set, const char *path,
                       float **out, descent_error *err) {
    const int nin = descent_net_size(net, 0), nout = descent_net_size(net, descent_net_layers(net));
    *out = NULL;
    if (descent_data_features(set) != nin)
        return cli_error(err, DESCENT_E_MISMATCH, "%s: rows have %d features but the model's "
                         "input layer has %d", path, descent_data_features(set), nin);
    const size_t n = descent_data_count(set);
    float *x = malloc(sizeof(float) * n * (size_t)nin);
    *out = malloc(sizeof(float) * n * (size_t)nout);
    int rc = x && *out ? DESCENT_OK
                       : cli_error(err, DESCENT_E_NOMEM, "out of memory for %zu rows", n);
    for (size_t i = 0; !rc && i < n; i++) descent_data_sample(set, i, x + i * (size_t)nin, NULL);
    if (!rc) rc = descent_net_predict(net, x, n, *out, err);
    free(x);
    return rc;
}

int cmd_predict(int argc, char **argv) {
    g_cmd = "descent predict";
    option_table t = {.help = help_predict};
    const char *model = NULL, *images = NULL, *csv = NULL, *npy = NULL, *output = NULL;
    int header = 0, vectors = 0;
    opt_add(&t, (option_spec){.name = "--help", .kind = OPT_HELP});
    t.positional = opt_add(&t, (option_spec){.name = "--model", .kind = OPT_INPUT, .dst = &model});
    opt_add(&t, (option_spec){.name = "--images", .kind = OPT_INPUT, .dst = &images});
    opt_add(&t, (option_spec){.name = "--csv", .kind = OPT_INPUT, .dst = &csv});
    opt_add(&t, (option_spec){.name = "--npy", .kind = OPT_INPUT, .dst = &npy});
    opt_add(&t, (option_spec){.name = "--output", .kind = OPT_OUTPUT, .dst = &output});
    opt_add(&t, (option_spec){.name = "--csv-header", .kind = OPT_FLAG, .dst = &header, .lo = 1});
    opt_add(&t, (option_spec){.name = "--outputs", .kind = OPT_FLAG, .dst = &vectors, .lo = 1});
    parse_options(&t, argc, argv);
    if ((images != NULL) + (csv != NULL) + (npy != NULL) != 1)
        usage_error("give exactly one of --images, --csv or --npy");
    if (header && !csv) usage_error("--csv-header applies to --csv only");
    path_list paths = {.n = 0};
    paths_from_table(&paths, &t);
    check_paths(&paths, NULL);
    require_output(output, DESCENT_OUTPUT_FILE);
    descent_error err = {0};

    descent_net *net = load_model(model);
    const descent_csv_options copt = {header, 0, 0, 0, 1};
    descent_data *set = NULL;
    float *out = NULL;
    int rc = csv ? descent_data_load_csv(&set, csv, &copt, &err)
             : npy ? descent_data_load_npy(&set, npy, NULL, 0, &err)
                   : descent_data_load_idx(&set, images, NULL, &err);
    if (!rc) rc = predict_all(net, set, csv ? csv : npy ? npy : images, &out, &err);
    check(rc, &err);
    const pred_ctx pc = {out, descent_data_count(set), descent_net_size(net, descent_net_layers(net)),
                         vectors};
    if (g_rank == 0) {
        if (output) rc = descent_write_file(output, write_predictions, (void *)&pc, &err);
        else if (write_predictions(stdout, (void *)&pc) != 0 || fflush(stdout) != 0)
            rc = cli_error(&err, DESCENT_E_IO, "standard output: write error");
    }
    check(rc, &err);
    free(out);
    descent_data_free(set);
    descent_net_free(net);
    return 0;
}
