/* SPDX-License-Identifier: MIT */
/*
 * eval.c - `descent eval`: loss, accuracy and confusion matrix of a model
 * on a data set (the test set by default), split across ranks.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static void help_eval(void) {
    printf("Usage: descent eval [--model] FILE [data options]\n\n"
           "Prints the mean loss, the accuracy and the confusion matrix (rows: true class,\n"
           "columns: predicted class) of the model (or a checkpoint's model) on the test set.\n\n"
           "  --model FILE          the model (the option's name may be left out)\n%s",
           TEST_DATA_HELP);
}

static void print_confusion(const uint64_t *conf, int nout) {
    printf("%6s", "");
    for (int j = 0; j < nout; j++) printf(" %6d", j);
    printf("\n");
    for (int i = 0; i < nout; i++) {
        printf("%6d", i);
        for (int j = 0; j < nout; j++) printf(" %6llu", (unsigned long long)conf[i * nout + j]);
        printf("\n");
    }
}

int cmd_eval(int argc, char **argv) {
    g_cmd = "descent eval";
    option_table t = {.help = help_eval};
    data_opts d;
    const char *model = NULL;
    opt_add(&t, (option_spec){.name = "--help", .kind = OPT_HELP});
    data_options_add(&t, &d, DATA_TEST_ONLY);
    t.positional = opt_add(&t, (option_spec){.name = "--model", .kind = OPT_INPUT, .dst = &model});
    parse_options(&t, argc, argv);

    descent_net *net = load_model(model);
    descent_data *set = load_set(&d, 1, 1);
    descent_error err = {0};
    check(descent_data_check(set, net, &err), &err);
    const int nout = descent_net_size(net, descent_net_layers(net));
    const int cls = descent_data_is_classification(set);
    uint64_t *conf = cls ? calloc((size_t)nout * nout, sizeof(uint64_t)) : NULL;
    if (cls && !conf) check(cli_error(&err, DESCENT_E_NOMEM, "out of memory"), &err);
    descent_eval_result res;
    check_agreed(descent_evaluate(net, set, &res, conf, &err), &err);
    if (g_rank == 0) {
        printf("samples: %zu\nloss: %.6f\n", res.count, res.loss);
        if (cls) {
            printf("accuracy: %.4f\nconfusion matrix (rows: true class, columns: predicted):\n",
                   res.accuracy);
            print_confusion(conf, nout);
        }
    }
    free(conf);
    descent_data_free(set);
    descent_net_free(net);
    return 0;
}
