/* SPDX-License-Identifier: MIT */
/*
 * model_tools.c - the commands that read a model file and nothing else:
 * `descent info` (layers, activations, cost, weight statistics) and
 * `descent export` (NumPy .npy files).
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>

descent_net *load_model(const char *path) {
    if (!path) usage_error("--model FILE is required");
    descent_net *net = NULL;
    descent_error err = {0};
    check(descent_model_load(&net, path, &err), &err);
    return net;
}

static void help_info(void) {
    printf("Usage: descent info --model FILE\n\nPrints the layers, "
           "activations, cost and parameter statistics of a model\n(or of a checkpoint's model).\n");
}

static void print_layer(const descent_net *net, int l) {
    const int in = descent_net_size(net, l), out = descent_net_size(net, l + 1);
    const float *w = descent_net_weights((descent_net *)net, l);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < (size_t)in * out; i++) { s += w[i]; s2 += (double)w[i] * w[i]; }
    const double nw = (double)in * out, mean = s / nw;
    printf("layer %d: %d -> %d, %s, weights mean %.5f std %.5f\n", l + 1, in, out,
           descent_act_name(descent_net_act(net, l)), mean, sqrt(fmax(0, s2 / nw - mean * mean)));
}

int cmd_info(int argc, char **argv) {
    g_cmd = "descent info";
    option_table t = {.help = help_info};
    const char *model = NULL;
    opt_add(&t, (option_spec){.name = "--help", .kind = OPT_HELP});
    opt_add(&t, (option_spec){.name = "--model", .kind = OPT_INPUT, .dst = &model});
    parse_options(&t, argc, argv);
    descent_net *net = load_model(model);
    if (g_rank == 0) {
        const int L = descent_net_layers(net);
        printf("model: %s\nlayers: %d\ncost: %s\nparameters: %zu\n", model, L,
               descent_cost_name(descent_net_cost(net)), descent_net_num_params(net));
        for (int l = 0; l < L; l++) print_layer(net, l);
    }
    descent_net_free(net);
    return 0;
}

static void help_export(void) {
    printf("Usage: descent export --model FILE --dir DIR\n\nWrites "
           "DIR/W1.npy, DIR/b1.npy, ... (float32; W_l is out x in) and\n"
           "DIR/manifest.json (widths, activations, cost, format version); all or none.\n"
           "FILE may be a model or a checkpoint.\n");
}

/* The model is not one of the files the export writes into dir */
static void check_export_paths(const char *model, const char *dir, int L) {
    static char names[PATHS_MAX][4096];
    path_list l = {.n = 0};
    paths_add(&l, "--model", model, 0);
    const int files = 2 * L + 1 < PATHS_MAX ? 2 * L + 1 : PATHS_MAX - 1;
    for (int i = 0; i < files; i++) {
        if (i == files - 1) snprintf(names[i], sizeof names[i], "%s/manifest.json", dir);
        else snprintf(names[i], sizeof names[i], "%s/%c%d.npy", dir, i % 2 ? 'b' : 'W', i / 2 + 1);
        paths_add(&l, "--dir (a file it writes)", names[i], 1);
    }
    check_paths(&l, NULL);
}

int cmd_export(int argc, char **argv) {
    g_cmd = "descent export";
    option_table t = {.help = help_export};
    const char *model = NULL, *dir = NULL;
    opt_add(&t, (option_spec){.name = "--help", .kind = OPT_HELP});
    opt_add(&t, (option_spec){.name = "--model", .kind = OPT_INPUT, .dst = &model});
    opt_add(&t, (option_spec){.name = "--dir", .kind = OPT_OUTPUT, .dst = &dir});
    parse_options(&t, argc, argv);
    if (!dir) usage_error("--dir DIR is required");
    require_output(dir, DESCENT_OUTPUT_DIR);
    descent_net *net = load_model(model);
    check_export_paths(model, dir, descent_net_layers(net));
    descent_error err = {0};
    const int rc = g_rank == 0 ? descent_model_export_npy(net, dir, &err) : DESCENT_OK;
    check(rc, &err);
    if (g_rank == 0)
        printf("wrote %d layers and manifest.json to %s\n", descent_net_layers(net), dir);
    descent_net_free(net);
    return 0;
}
