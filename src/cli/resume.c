/* SPDX-License-Identifier: MIT */
/*
 * resume.c - where `descent train` starts from other than fresh weights.
 * --init-model: a model's (or checkpoint's) network and weights, with a new
 * optimizer state and this command line's hyper-parameters (fine-tuning).
 * --resume: the checkpoint brings the network,
 * the hyper-parameters and the position, so the same command line can start
 * a run and resume it (what a batch script that is requeued does). An
 * option given again must agree with the checkpoint; a conflicting one is
 * refused, naming the option and both values. --epochs may grow, and the
 * checkpoint options, --sync-check and the outputs are this run's (the
 * roles in src/config_fields.h).
 */
#include "train.h"
#include "../config_fields.h" /* the roles of the hyper-parameters */

#include <stdio.h>
#include <string.h>

/* "784,256,10" */
static void widths_text(char *buf, size_t len, const int *sizes, int L) {
    size_t used = 0;
    buf[0] = '\0';
    for (int l = 0; l <= L && used < len; l++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d", l ? "," : "", sizes[l]);
}

/* "relu,relu,softmax" */
static void acts_text(char *buf, size_t len, const descent_act *acts, int L) {
    size_t used = 0;
    buf[0] = '\0';
    for (int l = 0; l < L && used < len; l++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", l ? "," : "",
                                 descent_act_name(acts[l]));
}

/* Whose network a conflict is with: the checkpoint's (--resume) or the
 * model's (--init-model) */
static const char *g_source = "checkpoint";

static void conflict(const char *opt, const char *given, const char *saved) {
    if (strcmp(g_source, "model") == 0)
        usage_error("option %s: %s differs from the model's %s (--init-model starts from that "
                    "network; drop the option)", opt, given, saved);
    usage_error("option %s: %s differs from the checkpoint's %s (--resume continues the "
                "checkpoint's training; drop the option, or start a new run)", opt, given, saved);
}

/* The network options given, against the checkpoint's or model's network */
static void check_network_options(const train_opts *o, const descent_net *net) {
    const int L = descent_net_layers(net);
    int saved_sizes[MAX_LAYERS + 1];
    descent_act saved_acts[MAX_LAYERS], given_acts[MAX_LAYERS];
    for (int l = 0; l <= L; l++) saved_sizes[l] = descent_net_size(net, l);
    for (int l = 0; l < L; l++) saved_acts[l] = descent_net_act(net, l);
    char given[4096], saved[4096];
    if (o->layers) {
        int sizes[MAX_LAYERS + 1];
        const int gl = parse_widths(o->layers, sizes, MAX_LAYERS + 1);
        widths_text(saved, sizeof saved, saved_sizes, L);
        if (gl != L || memcmp(sizes, saved_sizes, sizeof(int) * (size_t)(L + 1)) != 0)
            conflict("--layers", o->layers, saved);
    }
    const int output_given =
        opt_given(&o->table, "--output-activation") || opt_given(&o->table, "--output");
    const int any_act = opt_given(&o->table, "--activation") || output_given ||
                        opt_given(&o->table, "--activations");
    if (any_act) {
        activations_of(o, given_acts, L);
        for (int l = 0; l < L; l++) {
            const int hidden_only = !o->acts && !output_given && l == L - 1;
            const int output_only = !o->acts && !opt_given(&o->table, "--activation") && l < L - 1;
            if (hidden_only || output_only || given_acts[l] == saved_acts[l]) continue;
            acts_text(given, sizeof given, given_acts, L);
            acts_text(saved, sizeof saved, saved_acts, L);
            conflict(o->acts           ? "--activations"
                     : l == L - 1      ? "--output-activation"
                                       : "--activation",
                     given, saved);
        }
    }
    if (opt_given(&o->table, "--cost") && (descent_cost)o->cost != descent_net_cost(net))
        conflict("--cost", descent_cost_name((descent_cost)o->cost),
                 descent_cost_name(descent_net_cost(net)));
}

/* ... and --standardize: a network trained on raw inputs cannot start
 * standardising them (its weights are for raw inputs) */
static void check_network(const train_opts *o, const descent_net *net) {
    check_network_options(o, net);
    if (o->standardize && !descent_net_standardization(net, NULL, NULL))
        usage_error("option --standardize: %s %s was trained on raw inputs (its weights are for "
                    "them); leave --standardize out, or train a new network",
                    o->resume ? "the checkpoint's run in" : "the model",
                    o->resume ? o->resume : o->init_model);
}

/* Two different numbers as texts that show the difference: %g, or every
 * digit when %g makes them look alike */
static void number_texts(char *a, char *b, size_t len, double x, double y) {
    snprintf(a, len, "%g", x);
    snprintf(b, len, "%g", y);
    if (strcmp(a, b) != 0) return;
    snprintf(a, len, "%.17g", x);
    snprintf(b, len, "%.17g", y);
}

/* "100" (steps) or "2e" (epochs) */
static void warmup_text(char *buf, size_t len, const descent_train_config *c) {
    if (c->warmup_epochs) snprintf(buf, len, "%de", c->warmup_epochs);
    else snprintf(buf, len, "%ld", c->warmup_steps);
}

/* A hyper-parameter as a message shows it: "reproducible sums", a
 * schedule's or optimizer's name, "2e" or "100" for the warm-up, or the
 * number (texts_of_pair makes two different numbers look different) */
static void value_text(char *buf, size_t len, const char *field, const descent_train_config *c,
                       double v) {
    if (strcmp(field, "reproducible") == 0)
        snprintf(buf, len, "%s", c->reproducible ? "reproducible sums" : "float sums");
    else if (strcmp(field, "schedule") == 0)
        snprintf(buf, len, "%s", descent_lr_schedule_name(c->schedule));
    else if (strcmp(field, "optimizer") == 0)
        snprintf(buf, len, "%s", descent_optimizer_name(c->optimizer));
    else if (strncmp(field, "warmup_", 7) == 0)
        warmup_text(buf, len, c);
    else
        snprintf(buf, len, "%g", v);
}

static void texts_of_pair(char *a, char *b, size_t len, const char *field,
                          const descent_train_config *g, const descent_train_config *c, double x,
                          double y) {
    value_text(a, len, field, g, x);
    value_text(b, len, field, c, y);
    if (strcmp(a, b) == 0) number_texts(a, b, len, x, y);
}

/* Was the option of a field given? --reproducible's field also answers to
 * --float-sums and --no-reproducible */
static int option_given(const train_opts *o, const char *opt) {
    return opt_given(&o->table, opt) ||
           (strcmp(opt, "--reproducible") == 0 && (opt_given(&o->table, "--float-sums") ||
                                                   opt_given(&o->table, "--no-reproducible")));
}

/* Each hyper-parameter given that decides the parameters (config_fields.h:
 * CF_FIXED and CF_MATH), against the checkpoint's */
static void check_hyper(const train_opts *o, const descent_train_config *c) {
    const descent_train_config *g = &o->cfg;
    char a[64], b[64];
#define SAME_OF(field, kind, def, role, ver, wire, valid, rule, opt)                           \
    if (((role) == CF_FIXED || (role) == CF_MATH) && option_given(o, opt) &&                 \
        cf_bits(g->field) != cf_bits(c->field)) {                                            \
        texts_of_pair(a, b, sizeof a, #field, g, c, cf_number(g->field), cf_number(c->field)); \
        conflict(strcmp(opt, "--reproducible") == 0 && !g->reproducible ? "--float-sums"      \
                                                                          : opt, a, b);      \
    }
    DESCENT_CONFIG_FIELDS(SAME_OF)
#undef SAME_OF
}

/* The configuration a resumed run trains with: the checkpoint's, with this
 * run's choices (CF_RUN) and --epochs when given (CF_GOAL) */
static void merge_config(const train_opts *o, descent_train_config *saved) {
#define MERGE_OF(field, kind, def, role, ver, wire, valid, rule, opt)                            \
    if ((role) == CF_RUN || ((role) == CF_GOAL && opt_given(&o->table, opt)))                  \
        saved->field = o->cfg.field;
    DESCENT_CONFIG_FIELDS(MERGE_OF)
#undef MERGE_OF
}

descent_net *load_resume(train_opts *o, descent_checkpoint **ck) {
    descent_error err = {0};
    descent_train_config saved;
    descent_train_config_default(&saved);
    descent_net *net = NULL;
    char file[4096];
    check(descent_checkpoint_load(o->resume, &net, &saved, ck, file, sizeof file, &err), &err);
    check_network(o, net);
    check_hyper(o, &saved);
    merge_config(o, &saved);
    o->cfg = saved;
    if (g_rank == 0 && !o->quiet)
        printf("resuming from %s: epoch %d, step %ld\n", file, descent_checkpoint_epoch(*ck),
               descent_checkpoint_step(*ck));
    return net;
}

descent_net *load_init_model(const train_opts *o) {
    descent_net *net = load_model(o->init_model);
    g_source = "model";
    check_network(o, net);
    if (g_rank == 0 && !o->quiet)
        printf("starting from the weights of %s (new optimizer state)\n", o->init_model);
    return net;
}
