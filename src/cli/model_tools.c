/* SPDX-License-Identifier: MIT */
/*
 * model_tools.c - the commands that read a model file and nothing else:
 * `descent info` (layers, activations, cost, weight statistics) and
 * `descent export` (NumPy .npy files).
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

descent_net *load_model(const char *path) {
    if (!path) usage_error("no model given: --model FILE (or the file alone)");
    descent_net *net = NULL;
    descent_error err = {0};
    check(descent_model_load(&net, path, &err), &err);
    return net;
}

static void help_info(void) {
    printf("Usage: descent info [--model] FILE\n\nPrints the layers, "
           "activations, cost and parameter statistics of a model; of a checkpoint,\n"
           "also where its run stands (step, epoch) and how it trains (optimizer,\n"
           "learning rate and schedule, batch, seed, sums, regularisation). Then the\n"
           "provenance of a trained model: the descent version and configuration that\n"
           "made it, its data's sizes and checksums, its best validation loss, and the\n"
           "provenance of the model it was fine-tuned from.\n");
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

/* The inputs' standardization, when the model has one: its range */
static void print_standardization(const descent_net *net) {
    const float *mean, *std;
    if (!descent_net_standardization(net, &mean, &std)) return;
    const int n = descent_net_size(net, 0);
    float mlo = mean[0], mhi = mean[0], slo = std[0], shi = std[0];
    for (int k = 1; k < n; k++) {
        mlo = fminf(mlo, mean[k]);
        mhi = fmaxf(mhi, mean[k]);
        slo = fminf(slo, std[k]);
        shi = fmaxf(shi, std[k]);
    }
    printf("inputs: standardized, (x - mean) / std per feature; mean %g to %g, std %g to %g\n",
           mlo, mhi, slo, shi);
}

/* How the model was made, its lines indented under "provenance:" */
static void print_provenance(const descent_net *net) {
    const char *text = descent_net_provenance(net);
    if (!text) return;
    printf("provenance:\n");
    for (const char *line = text; *line;) {
        const size_t n = strcspn(line, "\n");
        printf("  %.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
}

/* Where a checkpoint's run stands and how it was configured */
static void print_training_state(const descent_train_config *cfg, const descent_checkpoint *ck) {
    char warm[64] = "none";
    if (cfg->warmup_steps) snprintf(warm, sizeof warm, "%ld steps", cfg->warmup_steps);
    if (cfg->warmup_epochs) snprintf(warm, sizeof warm, "%d epochs", cfg->warmup_epochs);
    const int epoch = descent_checkpoint_epoch(ck); /* the one a resume runs next */
    if (epoch > cfg->epochs)
        printf("checkpoint: after step %ld, all %d epochs done\n", descent_checkpoint_step(ck),
               cfg->epochs);
    else
        printf("checkpoint: after step %ld, resumes in epoch %d of %d\n",
               descent_checkpoint_step(ck), epoch, cfg->epochs);
    printf("training: %s, lr %g (%s schedule, warm-up %s), batch %zu, seed %llu, %s sums\n",
           descent_optimizer_name(cfg->optimizer), cfg->lr, descent_lr_schedule_name(cfg->schedule),
           warm, cfg->batch, (unsigned long long)cfg->seed,
           cfg->reproducible ? "exact (fixed-point)" : "float");
    printf("regularisation: weight decay %g, dropout %g\n", cfg->weight_decay, cfg->dropout);
}

int cmd_info(int argc, char **argv) {
    g_cmd = "descent info";
    option_table t = {.help = help_info};
    const char *model = NULL;
    opt_add(&t, (option_spec){.name = "--help", .kind = OPT_HELP});
    t.positional = opt_add(&t, (option_spec){.name = "--model", .kind = OPT_INPUT, .dst = &model});
    parse_options(&t, argc, argv);
    /* a checkpoint is read once, for its model and its training state */
    descent_checkpoint *ck = NULL;
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    descent_net *net = NULL;
    if (descent_file_is_checkpoint(model)) {
        descent_error err = {0};
        check(descent_checkpoint_load(model, &net, &cfg, &ck, NULL, 0, &err), &err);
    } else {
        net = load_model(model);
    }
    if (g_rank == 0) {
        const int L = descent_net_layers(net);
        printf("model: %s\nlayers: %d\ncost: %s\nparameters: %zu\n", model, L,
               descent_cost_name(descent_net_cost(net)), descent_net_num_params(net));
        for (int l = 0; l < L; l++) print_layer(net, l);
        print_standardization(net);
        if (ck) print_training_state(&cfg, ck);
        print_provenance(net);
    }
    descent_checkpoint_free(ck);
    descent_net_free(net);
    return 0;
}

static void help_export(void) {
    printf("Usage: descent export [--model] FILE --dir DIR\n\nWrites "
           "DIR/W1.npy, DIR/b1.npy, ... (float32; W_l is out x in) and\n"
           "DIR/manifest.json (widths, activations, cost, format version); all or none.\n"
           "DIR is created when it does not exist (its parent must). FILE may be a model\n"
           "or a checkpoint.\n");
}

/* The model is not one of the files the export writes into dir (the
 * first layers' files, as many as the list holds) */
static void check_export_paths(const char *model, const char *dir, const descent_net *net) {
    static char names[PATHS_MAX][4096];
    path_list l = {.n = 0};
    int k = 0;
    paths_add(&l, "--model", model, 0);
    const char *fixed[3] = {"manifest.json", NULL, NULL};
    if (descent_net_standardization(net, NULL, NULL)) {
        fixed[1] = "mean.npy";
        fixed[2] = "std.npy";
    }
    for (int i = 0; i < 3 && fixed[i]; i++) snprintf(names[k++], sizeof names[0], "%s/%s", dir, fixed[i]);
    for (int layer = 1; layer <= descent_net_layers(net) && k + 2 < PATHS_MAX - 1; layer++) {
        snprintf(names[k++], sizeof names[0], "%s/W%d.npy", dir, layer);
        snprintf(names[k++], sizeof names[0], "%s/b%d.npy", dir, layer);
    }
    for (int i = 0; i < k; i++) paths_add(&l, "--dir (a file it writes)", names[i], 1);
    check_paths(&l, NULL);
}

/* The export into dir, made first when make_dir; a failed export leaves no
 * directory it made. */
static int export_into(const descent_net *net, const char *dir, int make_dir, descent_error *err) {
    if (make_dir && mkdir(dir, 0777) != 0)
        return cli_error(err, DESCENT_E_IO, "%s: cannot create the directory: %s", dir,
                         strerror(errno));
    const int rc = descent_model_export_npy(net, dir, err);
    if (rc && make_dir) rmdir(dir);
    return rc;
}

int cmd_export(int argc, char **argv) {
    g_cmd = "descent export";
    option_table t = {.help = help_export};
    const char *model = NULL, *dir = NULL;
    opt_add(&t, (option_spec){.name = "--help", .kind = OPT_HELP});
    t.positional = opt_add(&t, (option_spec){.name = "--model", .kind = OPT_INPUT, .dst = &model});
    opt_add(&t, (option_spec){.name = "--dir", .kind = OPT_OUTPUT, .dst = &dir});
    parse_options(&t, argc, argv);
    if (!dir) usage_error("--dir DIR is required");
    struct stat st;
    const int make_dir = stat(dir, &st) != 0 && errno == ENOENT; /* rank 0's is what counts */
    require_output(dir, make_dir ? DESCENT_OUTPUT_FILE : DESCENT_OUTPUT_DIR);
    descent_net *net = load_model(model);
    check_export_paths(model, dir, net);
    descent_error err = {0};
    const int rc = g_rank == 0 ? export_into(net, dir, make_dir, &err) : DESCENT_OK;
    check(rc, &err);
    if (g_rank == 0)
        printf("wrote %d layers and manifest.json to %s%s\n", descent_net_layers(net), dir,
               make_dir ? " (created)" : "");
    descent_net_free(net);
    return 0;
}
