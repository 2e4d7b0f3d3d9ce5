/* SPDX-License-Identifier: MIT */
/*
 * train.c - `descent train`: the options (train_options.c) and the resume
 * rules (resume.c), the data sets, the network, then training with the
 * report of train_report.c, the test-set evaluation and the model file.
 */
#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "train_report.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Progress lines when stderr is not a terminal (a batch job's log) and
 * --log-every is not given */
#define DEFAULT_LOG_SECONDS 60.0

/* The network the options describe (default: inputs,128,outputs), with
 * initial weights from the seed. */
static descent_net *build_network(const train_opts *o, const descent_data *train) {
    int sizes[MAX_LAYERS + 1], L = 2;
    descent_act acts[MAX_LAYERS];
    if (o->layers) L = parse_widths(o->layers, sizes, MAX_LAYERS + 1);
    else {
        sizes[0] = descent_data_features(train);
        sizes[1] = 128;
        sizes[2] = descent_data_outputs(train);
    }
    activations_of(o, acts, L);
    descent_net *net = NULL;
    descent_error err = {0};
    check(descent_net_create(&net, L, sizes, acts, (descent_cost)o->cost, &err), &err);
    descent_net_init(net, o->cfg.seed);
    return net;
}

/* A run stopped on request keeps what it trained: --out gets the model as
 * it is after the last step (atomically, rank 0), and the stop's message
 * (rank 0's, in stop) says where the model went. Collective. */
static void save_interrupted(const train_opts *o, const descent_net *net, descent_error *stop) {
    descent_error err = {0};
    check(o->out && g_rank == 0 ? descent_model_save(net, o->out, &err) : DESCENT_OK, &err);
    const size_t used = strlen(stop->msg);
    snprintf(stop->msg + used, sizeof stop->msg - used, o->out ? "; the model so far written to %s"
             : "; the model was not saved (no --out)", o->out ? o->out : "");
}

/* Train with the report (epoch lines, progress, the metrics file); a run
 * stopped on request saves what it has. */
static void run_training(const train_opts *o, descent_net *net, const descent_data *train,
                         const descent_data *val, descent_checkpoint *ck, train_ui *ui) {
    descent_error err = {0};
    ui->start = ui->epoch_mark = monotonic_seconds();
    check(metrics_open(ui, o->metrics, ck ? descent_checkpoint_epoch(ck) : 0, &err), &err);
    const descent_callbacks cb = train_callbacks(ui);
    const int rc = descent_train_resume(net, train, val, &o->cfg, ck, &cb, &err);
    descent_error merr = {0};
    const int mrc = metrics_finish(ui, &merr);
    if (rc == DESCENT_E_INTERRUPTED) save_interrupted(o, net, &err);
    check_agreed(rc, &err);
    check(mrc, &merr);
}

/* --restore-best: net becomes the best epoch's model, kept in memory when
 * this run saw that epoch, else (an epoch before a resume) read from the
 * --keep-best file by rank 0 and sent to every rank. Collective. */
static void restore_best_model(const train_opts *o, descent_net *net, const train_ui *ui) {
    if (!o->restore_best || !ui->best_epoch) return;
    const size_t n = descent_net_num_params(net);
    float *p = descent_net_params(net);
    if (ui->best_params_epoch == ui->best_epoch) {
        memcpy(p, ui->best_params, sizeof(float) * n);
    } else {
        descent_error err = {0};
        descent_net *best = NULL;
        int rc = g_rank == 0 ? descent_model_load(&best, o->cfg.best_model, &err) : DESCENT_OK;
        if (!rc && best && descent_net_num_params(best) != n)
            rc = cli_error(&err, DESCENT_E_MISMATCH, "%s: not this network's model (--keep-best)",
                           o->cfg.best_model);
        check(rc, &err);
        if (best) memcpy(p, descent_net_params_const(best), sizeof(float) * n);
        descent_net_free(best);
        check(descent_mpi_broadcast(p, sizeof(float) * n), &err);
    }
    if (g_rank == 0 && !o->quiet)
        printf("restored the best model: epoch %d (the lowest validation loss)\n", ui->best_epoch);
}

/* --standardize: a new network takes the training split's statistics; a
 * resumed or fine-tuned one keeps what its file holds (resume.c refuses
 * --standardize for one whose file has raw inputs). */
static void standardize_inputs(const train_opts *o, descent_net *net, const descent_data *train) {
    if (!o->standardize || descent_net_standardization(net, NULL, NULL)) return;
    const size_t n = (size_t)descent_data_features(train);
    float *mean = malloc(sizeof(float) * n), *std = malloc(sizeof(float) * n);
    descent_error err = {0};
    int rc = mean && std ? descent_data_feature_stats(train, mean, std, &err)
                         : cli_error(&err, DESCENT_E_NOMEM, "out of memory");
    if (!rc) rc = descent_net_set_standardization(net, mean, std, &err);
    free(mean);
    free(std);
    check(rc, &err);
}

static void report_test(descent_net *net, const descent_data *test) {
    descent_eval_result res;
    descent_error err = {0};
    check_agreed(descent_evaluate(net, test, &res, NULL, &err), &err);
    if (g_rank != 0) return;
    if (descent_data_is_classification(test))
        printf("test accuracy: %.4f  (loss %.5f, %zu samples)\n", res.accuracy, res.loss,
               res.count);
    else
        printf("test loss: %.6f  (%zu samples)\n", res.loss, res.count);
}

int cmd_train(int argc, char **argv) {
    g_cmd = "descent train";
    train_opts o;
    parse_train_options(&o, argc, argv);
    if (opt_given(&o.table, "--output") && g_rank == 0)
        fprintf(stderr, "%s: note: --output is the old name of --output-activation\n", g_cmd);
    descent_error err = {0};
    check(descent_train_config_check(&o.cfg, &err), &err);
    check_train_files(&o);
    descent_checkpoint *ck = NULL;
    if (o.resume && o.init_model)
        usage_error("give --resume (continue a run) or --init-model (a new run from given "
                    "weights), not both");
    descent_net *net = o.resume ? load_resume(&o, &ck) : o.init_model ? load_init_model(&o) : NULL;

    descent_data *train = load_set(&o.data, 0, 1);
    descent_data *test = load_set(&o.data, 1, 0);
    if (!test && !o.data.train_images && !o.data.train_csv && !o.data.train_npy) test = load_set(&o.data, 1, 1);
    end_if_stop_requested("while the data was loading");
    descent_data *val = NULL;
    if (o.val_fraction > 0) check(descent_data_split(train, o.val_fraction, &val, &err), &err);
    if (!net) net = build_network(&o, train);
    int rc = descent_data_check(train, net, &err);
    if (!rc && test) rc = descent_data_check(test, net, &err);
    check(rc, &err);
    standardize_inputs(&o, net, train);

    print_banner(net, &o.cfg, o.float_because, descent_data_count(train),
                 val ? descent_data_count(val) : 0,
                 test ? descent_data_count(test) : 0, o.quiet);
    if (descent_net_standardization(net, NULL, NULL) && g_rank == 0 && !o.quiet)
        printf("inputs standardized: (x - mean) / std per feature, from the training split\n");
    warn_if_threads_share_cpus();
    const int tty = isatty(2), log_given = opt_given(&o.table, "--log-every");
    train_ui ui = {.quiet = o.quiet, .tty = tty && !log_given, .total_epochs = o.cfg.epochs,
                   .log_steps = o.log_steps,
                   .log_seconds = log_given ? o.log_seconds : tty ? 0.0 : DEFAULT_LOG_SECONDS,
                   .batch = o.cfg.batch, .n_train = descent_data_count(train),
                   .best_model = o.cfg.best_model};
    ui.net = net;
    if (o.restore_best) {
        ui.best_params = malloc(sizeof(float) * descent_net_num_params(net));
        check(ui.best_params ? DESCENT_OK : cli_error(&err, DESCENT_E_NOMEM, "out of memory"), &err);
    }
    run_training(&o, net, train, val, ck, &ui);
    descent_checkpoint_free(ck);
    if (ui.best_model && ui.best_epoch && g_rank == 0 && !o.quiet)
        printf("best model (epoch %d, lowest validation loss) in %s\n", ui.best_epoch,
               ui.best_model);
    restore_best_model(&o, net, &ui);
    free(ui.best_params);
    const int restored = o.restore_best && ui.best_epoch;
    if (test) report_test(net, test);
    if (o.out && g_rank == 0) rc = descent_model_save(net, o.out, &err);
    check(rc, &err);
    if (g_rank == 0 && o.out && !o.quiet)
        printf("model written to %s (epoch %d: %s)\n", o.out,
               restored ? ui.best_epoch : ui.last_epoch,
               restored ? "the lowest validation loss" : "the last");
    if (g_rank == 0 && !o.out)
        fprintf(stderr, "%s: note: the model was not saved (no --out)\n", g_cmd);
    if (o.stats) print_stats(&ui);
    descent_net_free(net);
    descent_data_free(train);
    descent_data_free(test);
    descent_data_free(val);
    return 0;
}
