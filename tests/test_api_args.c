/* SPDX-License-Identifier: MIT */
/*
 * test_api_args.c - the public API's arguments: a NULL where none is
 * allowed, and an enum value outside its list, are DESCENT_E_USAGE with a
 * message naming the argument (never a crash); the NULLs the header allows
 * work.
 */
#include "testutil.h"

#include <descent/descent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rc is DESCENT_E_USAGE and err names `word` */
static void usage(const char *what, int rc, const descent_error *err, const char *word) {
    CHECK(rc == DESCENT_E_USAGE, "%s: status %d, expected DESCENT_E_USAGE", what, rc);
    CHECK(strstr(err->msg, word) != NULL, "%s: message '%s' does not name %s", what, err->msg, word);
}

static void every_argument(void) {
    descent_error err = {0};
    const int sizes[] = {3, 4, 2};
    const descent_act acts[] = {DESCENT_ACT_SIGMOID, DESCENT_ACT_SIGMOID};
    descent_net *net = NULL;
    usage("create: NULL out", descent_net_create(NULL, 2, sizes, acts, DESCENT_COST_MSE, &err), &err, "out");
    usage("create: NULL sizes", descent_net_create(&net, 2, NULL, acts, DESCENT_COST_MSE, &err), &err, "sizes");
    usage("create: NULL acts", descent_net_create(&net, 2, sizes, NULL, DESCENT_COST_MSE, &err), &err, "acts");
    const descent_act bad_acts[] = {(descent_act)99, DESCENT_ACT_SIGMOID};
    usage("create: unknown activation", descent_net_create(&net, 2, sizes, bad_acts, DESCENT_COST_MSE, &err), &err, "activation");
    usage("create: unknown cost", descent_net_create(&net, 2, sizes, acts, (descent_cost)77, &err), &err, "cost");
    CHECK(descent_net_create(&net, 2, sizes, acts, DESCENT_COST_MSE, NULL) == DESCENT_OK, "create with err NULL");
    descent_net_init(net, 1);

    float x[3] = {0.1f, 0.2f, 0.3f}, y[2] = {0, 1}, out[2], *grad = calloc(descent_net_num_params(net), sizeof(float));
    double loss;
    usage("predict: NULL net", descent_net_predict(NULL, x, 1, out, &err), &err, "net");
    usage("predict: NULL x", descent_net_predict(net, NULL, 1, out, &err), &err, "x");
    usage("gradient: NULL grad", descent_net_gradient(net, x, y, 1, NULL, &loss, &err), &err, "grad");
    usage("save: NULL net", descent_model_save(NULL, "/tmp/x.model", &err), &err, "net");
    usage("save: NULL path", descent_model_save(net, NULL, &err), &err, "path");
    usage("load: NULL path", descent_model_load(&net, NULL, &err), &err, "path");
    usage("export: NULL dir", descent_model_export_npy(net, NULL, &err), &err, "dir");
    usage("write: NULL writer", descent_write_file("/tmp/x", NULL, NULL, &err), &err, "writer");
    usage("output: NULL path", descent_check_output(NULL, DESCENT_OUTPUT_FILE, &err), &err, "NULL");
    usage("output: unknown kind", descent_check_output("/tmp/x", (descent_output)9, &err), &err, "kind");
    CHECK(descent_file_is_checkpoint(NULL) == 0 && descent_file_is_checkpoint("/nonexistent") == 0,
          "a NULL or missing path is a checkpoint");
    CHECK(descent_open_input(NULL, &err) == NULL, "open_input(NULL) opened something");
    usage("open_input: NULL path", err.code, &err, "path");

    descent_data *d = NULL;
    usage("csv: NULL out", descent_data_load_csv(NULL, "x.csv", NULL, &err), &err, "out");
    usage("csv: NULL path", descent_data_load_csv(&d, NULL, NULL, &err), &err, "path");
    usage("idx: NULL images", descent_data_load_idx(&d, NULL, NULL, &err), &err, "images");
    usage("npy: NULL features", descent_data_load_npy(&d, NULL, NULL, 0, &err), &err, "features");
    usage("shared: NULL load", descent_data_load_shared(&d, "k", NULL, NULL, &err), &err, "load");
    usage("split: NULL set", descent_data_split(NULL, 0.5, &d, &err), &err, "d");

    /* the NULL the header allows: CSV options (classification, label first) */
    const char *csv = "/tmp/descent_api_args.csv";
    FILE *f = fopen(csv, "w");
    CHECK(f != NULL, "cannot write %s", csv);
    for (int i = 0; f && i < 8; i++) fprintf(f, "%d,%d,%d,%d\n", i % 2, i, i + 1, i + 2);
    if (f) fclose(f);
    CHECK(descent_data_load_csv(&d, csv, NULL, &err) == DESCENT_OK, "csv with NULL options: %s", err.msg);
    CHECK(d && descent_data_count(d) == 8 && descent_data_features(d) == 3, "csv with NULL options: wrong shape");
    remove(csv);
    usage("check: NULL net", descent_data_check(d, NULL, &err), &err, "net");
    float stat[3];
    usage("stats: NULL set", descent_data_feature_stats(NULL, stat, stat, &err), &err, "d");
    usage("stats: NULL std", descent_data_feature_stats(d, stat, NULL, &err), &err, "std");
    usage("standardize: NULL net", descent_net_set_standardization(NULL, stat, stat, &err), &err, "net");
    usage("standardize: mean alone", descent_net_set_standardization(net, stat, NULL, &err), &err, "both");
    CHECK(descent_net_standardization(NULL, NULL, NULL) == 0, "a NULL network standardises");
    CHECK(descent_net_provenance(NULL) == NULL, "a NULL network has a provenance");

    descent_train_config cfg;
    descent_train_config_default(&cfg);
    usage("config check: NULL", descent_train_config_check(NULL, &err), &err, "cfg");
    /* the size field: a struct that was never filled, or one from a newer header */
    cfg.size = 0;
    usage("config check: size 0", descent_train_config_check(&cfg, &err), &err, "descent_train_config_default");
    usage("train: config size 0", descent_train(net, d, NULL, &cfg, NULL, &err), &err, "size 0");
    cfg.size = sizeof cfg + 8;
    usage("config check: a larger size", descent_train_config_check(&cfg, &err), &err, "is not one");
    descent_train_config_default(&cfg);
    cfg.optimizer = (descent_optimizer)42;
    usage("config check: unknown optimizer", descent_train_config_check(&cfg, &err), &err, "optimizer");
    descent_train_config_default(&cfg);
    cfg.reproducible = 7;
    usage("config check: reproducible 7", descent_train_config_check(&cfg, &err), &err, "reproducible");
    descent_train_config_default(&cfg);
    usage("train: NULL net", descent_train(NULL, d, NULL, &cfg, NULL, &err), &err, "net");
    usage("train: NULL data", descent_train(net, NULL, NULL, &cfg, NULL, &err), &err, "train");
    /* a NULL configuration is the default one: the same parameters, bit for bit */
    descent_net *twin = NULL;
    CHECK(descent_net_create(&twin, 2, sizes, acts, DESCENT_COST_MSE, &err) == DESCENT_OK, "twin: %s", err.msg);
    if (twin) memcpy(descent_net_params(twin), descent_net_params(net), sizeof(float) * descent_net_num_params(net));
    CHECK(descent_train(net, d, NULL, NULL, NULL, &err) == DESCENT_OK, "train with NULL config: %s", err.msg);
    CHECK(twin && descent_train(twin, d, NULL, &cfg, NULL, &err) == DESCENT_OK, "train with defaults: %s", err.msg);
    CHECK(twin && memcmp(descent_net_params(net), descent_net_params(twin),
                         sizeof(float) * descent_net_num_params(net)) == 0,
          "a NULL config did not train as the defaults do");
    descent_net_free(twin);
    descent_eval_result res;
    usage("evaluate: NULL result", descent_evaluate(net, d, NULL, NULL, &err), &err, "res");
    descent_train_config got;
    descent_train_config_default(&got);
    descent_checkpoint *ck = NULL;
    descent_net *loaded = NULL; /* a failed load leaves it NULL */
    usage("checkpoint: NULL path", descent_checkpoint_load(NULL, &loaded, &got, &ck, NULL, 0, &err), &err, "path");
    memset(&got, 0, sizeof got);
    usage("checkpoint: a config without its size",
          descent_checkpoint_load("/nonexistent", &loaded, &got, &ck, NULL, 0, &err), &err, "size 0");
    CHECK(loaded == NULL && ck == NULL, "a failed checkpoint load gave a network or a state");
    CHECK(descent_act_parse(NULL) == -1 && descent_cost_parse(NULL) == -1 &&
          descent_optimizer_parse(NULL) == -1 && descent_lr_schedule_parse(NULL) == -1,
          "parsing a NULL name is not -1");

    /* dropout needs a hidden layer to drop units of */
    descent_net *flat = NULL;
    const int flat_sizes[] = {3, 2};
    CHECK(descent_net_create(&flat, 1, flat_sizes, acts, DESCENT_COST_MSE, &err) == DESCENT_OK, "flat net: %s", err.msg);
    descent_net_init(flat, 1);
    cfg.epochs = 1;
    cfg.dropout = 0.5;
    usage("dropout without a hidden layer", descent_train(flat, d, NULL, &cfg, NULL, &err), &err, "hidden layer");
    cfg.dropout = 0.0;
    CHECK(descent_train(flat, d, NULL, &cfg, NULL, &err) == DESCENT_OK, "training without dropout: %s", err.msg);
    (void)res;
    descent_net_free(flat);
    descent_net_free(net);
    descent_data_free(d);
    free(grad);
}

int main(int argc, char **argv) {
    static const scenario list[] = {SCENARIO(every_argument)};
    return run_scenarios(argc, argv, list, 1);
}
