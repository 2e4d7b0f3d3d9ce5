/* SPDX-License-Identifier: MIT */
/*
 * train_options.c - what `descent train` reads from its command line: the
 * option table, its help, the checks between options, the files the run
 * will read and write, and the network options' parsers (used again by
 * resume.c to compare a resumed run's options with its checkpoint).
 */
#include "train.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The names of each choice, from the library's tables */
static const char *act_name(int i) { return descent_act_name((descent_act)i); }
static const char *cost_name(int i) { return descent_cost_name((descent_cost)i); }
static const char *optimizer_name(int i) { return descent_optimizer_name((descent_optimizer)i); }
static const char *schedule_name(int i) { return descent_lr_schedule_name((descent_lr_schedule)i); }
static char g_acts[256], g_hidden_acts[256], g_costs[128], g_optimizers[128], g_schedules[128];

static void list_choices(void) {
    join_names(g_acts, sizeof g_acts, DESCENT_ACT_COUNT, act_name, -1);
    join_names(g_hidden_acts, sizeof g_hidden_acts, DESCENT_ACT_COUNT, act_name,
               DESCENT_ACT_SOFTMAX);
    join_names(g_costs, sizeof g_costs, DESCENT_COST_COUNT, cost_name, -1);
    join_names(g_optimizers, sizeof g_optimizers, DESCENT_OPT_COUNT, optimizer_name, -1);
    join_names(g_schedules, sizeof g_schedules, DESCENT_LR_COUNT, schedule_name, -1);
}


static void help_train(void) {
    printf("Usage: descent train [options]\n\n"
           "Trains with classic backpropagation and mini-batch gradient descent. Under\n"
           "mpirun every rank takes its slice of each global batch; gradients are summed\n"
           "across ranks and divided by the global batch size.\n\n"
           "Network:\n"
           "  --layers N0,N1,...,NL  widths, input first (default: inputs,128,outputs)\n"
           "  --activation A        hidden layers (default sigmoid), one of:\n"
           "                        %s\n"
           "  --output-activation A  output layer (default sigmoid), one of:\n"
           "                        %s\n"
           "                        (--output A: its old name, still read)\n"
           "  --activations A1,...  one per layer (overrides the two above)\n"
           "  --cost C              mse (default: C0 = sum (a-y)^2) or xent (softmax only)\n"
           "  --standardize         map each input to (x - mean) / std, with the training\n"
           "                        split's per-feature mean and deviation, kept in the\n"
           "                        model (eval, predict and export apply them)\n"
           "Optimisation:\n"
           "  --epochs N            passes over the training set (default 10)\n"
           "  --batch M             global mini-batch; >= the training set size gives\n"
           "                        full-batch gradient descent (default 64)\n"
           "  --lr X                learning rate alpha (default 0.1)\n"
           "  --lr-schedule S       constant (default) or cosine: alpha (1+cos(pi t/T))/2\n"
           "  --warmup N|Ne         linear warm-up over the first N steps (Ne: epochs):\n"
           "                        step t uses lr t/N, then the schedule over the rest\n"
           "                        (for large global batches; see docs/user-guide.md)\n"
           "  --optimizer O         gd (default), momentum, adam\n"
           "  --momentum X          momentum coefficient (default 0.9)\n"
           "  --beta1 X --beta2 X --adam-eps X   Adam (0.9, 0.999, 1e-8)\n"
           "  --weight-decay X      L2 weight decay on the weights (default 0)\n"
           "  --seed N              initialisation and data order (default 1)\n"
           "  --val-fraction F      hold out the last fraction F of the training set\n"
           "  --dropout P           inverted dropout on hidden layers while training:\n"
           "                        a unit is dropped with probability P (default 0);\n"
           "                        the masks depend on (seed, epoch, sample, unit) only\n"
           "  --patience N          stop when the validation loss has not gone below its\n"
           "                        best for N epochs (needs --val-fraction)\n"
           "Output:\n"
           "  --out FILE            write the trained model (atomically)\n"
           "  --metrics FILE        one CSV row per epoch, added as the epoch ends\n"
           "  --keep-best FILE      write the model of the lowest validation loss so far\n"
           "                        to FILE after each epoch that lowers it (atomically;\n"
           "                        needs --val-fraction); --out gets the last epoch's\n"
           "  --restore-best        end with the best epoch's model: the test figures and\n"
           "                        --out are of the epoch of the lowest validation loss\n"
           "                        (needs --val-fraction; after --resume, --keep-best)\n"
           "  --sync-check N        compare parameter checksums across ranks every N steps\n"
           "  --reproducible        (default) exact sums: the same model bytes for any\n"
           "                        number of ranks, threads and kernel set (fixed-point\n"
           "                        gradient sums over fixed chunks of 32 or 64 samples;\n"
           "                        a rank's slice is whole chunks)\n"
           "  --float-sums          float gradient sums instead, rounded as the layout\n"
           "                        splits the batch (--no-reproducible: the same)\n"
           "  --comm-precision P    fp32 (default) or bf16: send the gradient between ranks\n"
           "                        as bfloat16 (half the bytes; sums in float32); bf16\n"
           "                        rounds as the layout splits the batch, so it implies\n"
           "                        --float-sums\n"
           "  --overlap             with several ranks, reduce the gradient piece by piece\n"
           "                        while the backward pass computes the rest (same sums)\n"
           "  --no-overlap          (default) reduce after the whole backward pass\n"
           "  --overlap-piece N     values of the first layer's gradient per piece\n"
           "                        (default 65536)\n"
           "  --quiet               no per-epoch lines\n"
           "  --log-every N|Ns      a progress line (step, running loss, samples/s, ETA)\n"
           "                        every N steps or N seconds, instead of the progress\n"
           "                        bar (default when stderr is not a terminal: 60s)\n"
           "  --stats               at the end, one line per rank on stderr: peak RSS,\n"
           "                        PSS (its share of pages shared with other ranks) and\n"
           "                        the Unix time the first step finished\n"
           "Checkpoints (full state: model, optimizer, position, hyper-parameters):\n"
           "  --checkpoint-dir DIR  write DIR/ckpt-<step>.dsc atomically\n"
           "  --checkpoint-every N  every N steps, or Ne for every N epochs\n"
           "  --keep-checkpoints K  keep the newest K (default 3)\n"
           "  --resume PATH         continue from a checkpoint file, or the newest in a\n"
           "                        directory; --epochs may extend the run; the first\n"
           "                        run's options may be given again (a different value\n"
           "                        is refused), the data must be the first run's, and\n"
           "                        --metrics continues its file\n"
           "  --init-model FILE     start from the network and weights of a model (or a\n"
           "                        checkpoint's model) with a new optimizer state and\n"
           "                        this command line's hyper-parameters: fine-tuning\n"
           "SIGTERM, SIGINT or SIGUSR1 finish the current step, write a checkpoint (with\n"
           "--checkpoint-dir) and the model so far (--out), and exit with status 3.\n\n%s",
           g_hidden_acts, g_acts, DATA_HELP);
}


static int precision_lookup(const char *s) {
    return strcmp(s, "fp32") == 0 ? 0 : strcmp(s, "bf16") == 0 ? 1 : -1;
}

static int act_lookup(const char *s) { return descent_act_parse(s); }
static int cost_lookup(const char *s) { return descent_cost_parse(s); }
static int optimizer_lookup(const char *s) { return descent_optimizer_parse(s); }
static int schedule_lookup(const char *s) { return descent_lr_schedule_parse(s); }

/* A count N, or N with a unit suffix ("3e": epochs, "60s": seconds), at
 * least `least`: into *plain or *with_unit, the other set to 0 */
static void count_or_unit(const char *opt, const char *v, char unit, long least, long *plain,
                          long *with_unit) {
    const size_t len = strlen(v);
    *plain = 0;
    *with_unit = 0;
    if (len > 1 && v[len - 1] == unit) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.*s", (int)(len - 1), v);
        *with_unit = (long)opt_whole(opt, buf, least, 1000000);
    } else {
        *plain = (long)opt_whole(opt, v, least, (long long)1 << 48);
    }
}

/* N (steps) or Ne (epochs), at least `least` */
static void steps_or_epochs(const char *opt, const char *v, int least, long *steps,
                            int *epochs) {
    long e;
    count_or_unit(opt, v, 'e', least, steps, &e);
    *epochs = (int)e;
}

static void checkpoint_every(const char *opt, const char *v, void *dst) {
    descent_train_config *cfg = dst;
    steps_or_epochs(opt, v, 1, &cfg->checkpoint_steps, &cfg->checkpoint_epochs);
}

static void warmup(const char *opt, const char *v, void *dst) {
    descent_train_config *cfg = dst;
    steps_or_epochs(opt, v, 0, &cfg->warmup_steps, &cfg->warmup_epochs);
}

/* --log-every N (steps) or Ns (seconds) */
static void log_every(const char *opt, const char *v, void *dst) {
    train_opts *o = dst;
    long seconds;
    count_or_unit(opt, v, 's', 1, &o->log_steps, &seconds);
    o->log_seconds = (double)seconds;
}

/* A number below 1 and above 0 (or, with zero_too, from 0) into *dst */
static void unit_number(const char *opt, const char *v, void *dst, int zero_too) {
    char *end;
    errno = 0;
    const double x = strtod(v, &end);
    if (end == v || *end || errno || !((zero_too ? x >= 0 : x > 0) && x < 1))
        usage_error("option %s: %s is not in %s0,1)", opt, v, zero_too ? "[" : "(");
    *(double *)dst = x;
}

static void fraction(const char *opt, const char *v, void *dst) { unit_number(opt, v, dst, 0); }
static void probability(const char *opt, const char *v, void *dst) { unit_number(opt, v, dst, 1); }

static void add_network_options(option_table *t, train_opts *o) {
    opt_add(t, (option_spec){.name = "--layers", .kind = OPT_STRING, .dst = &o->layers});
    opt_add(t, (option_spec){.name = "--activation", .kind = OPT_CHOICE, .dst = &o->hidden,
                             .lookup = act_lookup, .what = "activation",
                             .choices = g_acts});
    opt_add(t, (option_spec){.name = "--output-activation", .kind = OPT_CHOICE, .dst = &o->output,
                             .lookup = act_lookup, .what = "activation",
                             .choices = g_acts});
    /* the old name, easily taken for predict's output file: still read, with a note */
    opt_add(t, (option_spec){.name = "--output", .kind = OPT_CHOICE, .dst = &o->output,
                             .lookup = act_lookup, .what = "activation",
                             .choices = g_acts});
    opt_add(t, (option_spec){.name = "--activations", .kind = OPT_STRING, .dst = &o->acts});
    opt_add(t, (option_spec){.name = "--standardize", .kind = OPT_FLAG, .dst = &o->standardize,
                             .lo = 1});
    opt_add(t, (option_spec){.name = "--cost", .kind = OPT_CHOICE, .dst = &o->cost,
                             .lookup = cost_lookup, .what = "cost", .choices = g_costs});
}

static void add_optimisation_options(option_table *t, train_opts *o) {
    descent_train_config *c = &o->cfg;
    opt_add(t, (option_spec){.name = "--epochs", .kind = OPT_INT, .dst = &o->epochs, .lo = 1,
                             .hi = 1000000});
    opt_add(t, (option_spec){.name = "--batch", .kind = OPT_INT, .dst = &o->batch, .lo = 1,
                             .hi = 1 << 24});
    opt_add(t, (option_spec){.name = "--lr", .kind = OPT_NUMBER, .dst = &c->lr});
    opt_add(t, (option_spec){.name = "--lr-schedule", .kind = OPT_CHOICE, .dst = &o->schedule,
                             .lookup = schedule_lookup, .what = "schedule",
                             .choices = g_schedules});
    opt_add(t, (option_spec){.name = "--warmup", .kind = OPT_CUSTOM, .dst = c, .custom = warmup});
    opt_add(t, (option_spec){.name = "--optimizer", .kind = OPT_CHOICE, .dst = &o->optimizer,
                             .lookup = optimizer_lookup, .what = "optimizer",
                             .choices = g_optimizers});
    opt_add(t, (option_spec){.name = "--momentum", .kind = OPT_NUMBER, .dst = &c->momentum});
    opt_add(t, (option_spec){.name = "--beta1", .kind = OPT_NUMBER, .dst = &c->beta1});
    opt_add(t, (option_spec){.name = "--beta2", .kind = OPT_NUMBER, .dst = &c->beta2});
    opt_add(t, (option_spec){.name = "--adam-eps", .kind = OPT_NUMBER, .dst = &c->eps});
    opt_add(t, (option_spec){.name = "--weight-decay", .kind = OPT_NUMBER, .dst = &c->weight_decay});
    opt_add(t, (option_spec){.name = "--seed", .kind = OPT_INT, .dst = &o->seed, .lo = 0,
                             .hi = INT64_MAX});
    opt_add(t, (option_spec){.name = "--val-fraction", .kind = OPT_CUSTOM, .dst = &o->val_fraction,
                             .custom = fraction});
    opt_add(t, (option_spec){.name = "--dropout", .kind = OPT_CUSTOM, .dst = &c->dropout,
                             .custom = probability});
    opt_add(t, (option_spec){.name = "--patience", .kind = OPT_INT, .dst = &o->patience, .lo = 1,
                             .hi = 1000000});
    opt_add(t, (option_spec){.name = "--comm-precision", .kind = OPT_CHOICE, .dst = &c->comm_bf16,
                             .lookup = precision_lookup, .what = "precision",
                             .choices = "fp32, bf16"});
    opt_add(t, (option_spec){.name = "--overlap", .kind = OPT_FLAG, .dst = &c->overlap, .lo = 1});
    opt_add(t, (option_spec){.name = "--no-overlap", .kind = OPT_FLAG, .dst = &c->overlap, .lo = 0});
    opt_add(t, (option_spec){.name = "--overlap-piece", .kind = OPT_INT, .dst = &o->overlap_piece,
                             .lo = 1, .hi = INT64_MAX});
    opt_add(t, (option_spec){.name = "--reproducible", .kind = OPT_FLAG, .dst = &c->reproducible,
                             .lo = 1});
    opt_add(t, (option_spec){.name = "--float-sums", .kind = OPT_FLAG, .dst = &c->reproducible,
                             .lo = 0});
    opt_add(t, (option_spec){.name = "--no-reproducible", .kind = OPT_FLAG,
                             .dst = &c->reproducible, .lo = 0});
}

static void add_output_options(option_table *t, train_opts *o) {
    descent_train_config *c = &o->cfg;
    opt_add(t, (option_spec){.name = "--out", .kind = OPT_OUTPUT, .dst = &o->out});
    opt_add(t, (option_spec){.name = "--metrics", .kind = OPT_OUTPUT, .dst = &o->metrics});
    opt_add(t, (option_spec){.name = "--keep-best", .kind = OPT_OUTPUT, .dst = &c->best_model});
    opt_add(t, (option_spec){.name = "--restore-best", .kind = OPT_FLAG, .dst = &o->restore_best,
                             .lo = 1});
    opt_add(t, (option_spec){.name = "--sync-check", .kind = OPT_INT, .dst = &o->sync_check,
                             .lo = 0, .hi = 1 << 30});
    opt_add(t, (option_spec){.name = "--quiet", .kind = OPT_FLAG, .dst = &o->quiet, .lo = 1});
    opt_add(t, (option_spec){.name = "--log-every", .kind = OPT_CUSTOM, .dst = o,
                             .custom = log_every});
    opt_add(t, (option_spec){.name = "--stats", .kind = OPT_FLAG, .dst = &o->stats, .lo = 1});
    opt_add(t, (option_spec){.name = "--checkpoint-dir", .kind = OPT_OUTPUT,
                             .dst = &c->checkpoint_dir});
    opt_add(t, (option_spec){.name = "--checkpoint-every", .kind = OPT_CUSTOM, .dst = c,
                             .custom = checkpoint_every});
    opt_add(t, (option_spec){.name = "--keep-checkpoints", .kind = OPT_INT, .dst = &o->keep,
                             .lo = 1, .hi = 1000000});
    opt_add(t, (option_spec){.name = "--resume", .kind = OPT_INPUT, .dst = &o->resume});
    opt_add(t, (option_spec){.name = "--init-model", .kind = OPT_INPUT, .dst = &o->init_model});
}

void parse_train_options(train_opts *o, int argc, char **argv) {
    list_choices();
    memset(o, 0, sizeof *o);
    descent_train_config_default(&o->cfg);
    o->table.help = help_train;
    o->epochs = o->cfg.epochs;
    o->batch = (long long)o->cfg.batch;
    o->seed = (long long)o->cfg.seed;
    o->keep = o->cfg.checkpoint_keep;
    o->schedule = o->cfg.schedule;
    o->optimizer = o->cfg.optimizer;
    o->hidden = o->output = DESCENT_ACT_SIGMOID;
    o->cost = DESCENT_COST_MSE;
    opt_add(&o->table, (option_spec){.name = "--help", .kind = OPT_HELP});
    data_options_add(&o->table, &o->data, DATA_TRAIN_AND_TEST);
    add_network_options(&o->table, o);
    add_optimisation_options(&o->table, o);
    add_output_options(&o->table, o);
    parse_options(&o->table, argc, argv);
    o->cfg.epochs = (int)o->epochs;
    o->cfg.batch = (size_t)o->batch;
    o->cfg.seed = (uint64_t)o->seed;
    o->cfg.sync_check = (int)o->sync_check;
    o->cfg.overlap_piece = (size_t)o->overlap_piece;
    o->cfg.checkpoint_keep = (int)o->keep;
    o->cfg.schedule = (descent_lr_schedule)o->schedule;
    o->cfg.optimizer = (descent_optimizer)o->optimizer;
    o->cfg.patience = (int)o->patience;
    int widths[MAX_LAYERS + 1];
    if (o->cfg.dropout > 0 && o->layers && parse_widths(o->layers, widths, MAX_LAYERS + 1) == 1)
        usage_error("option --dropout: the network %s has no hidden layer to drop units of",
                    o->layers);
    if ((o->cfg.patience || o->cfg.best_model || o->restore_best) && o->val_fraction == 0)
        usage_error("%s needs a validation set (--val-fraction F)",
                    o->cfg.patience ? "--patience" : o->cfg.best_model ? "--keep-best"
                                                                      : "--restore-best");
    if (o->restore_best && o->resume && !o->cfg.best_model)
        usage_error("--restore-best with --resume needs --keep-best FILE: the best epoch may "
                    "be one of the first run's, whose model only that file holds");
    /* an approximate option takes the float sums unless exact ones were
     * asked for by name (then the configuration check refuses the pair); a
     * resumed run keeps its checkpoint's sums */
    if (o->cfg.comm_bf16 && o->cfg.reproducible && !opt_given(&o->table, "--reproducible") &&
        !o->resume) {
        o->cfg.reproducible = 0;
        o->float_because = "--comm-precision bf16";
    }
}

/* A run continues in the checkpoint directory it resumes from */
static int resumes_into(const named_path *out, const named_path *in) {
    return strcmp(out->option, "--checkpoint-dir") == 0 && strcmp(in->option, "--resume") == 0;
}

/* No output of the run is one of its inputs or another output */
static void check_paths_differ(const train_opts *o) {
    path_list l = {.n = 0};
    paths_from_table(&l, &o->table);
    const int named_train = o->data.train_images || o->data.train_csv || o->data.train_npy;
    data_inputs(&o->data, 0, 1, &l);
    data_inputs(&o->data, 1, !named_train, &l);
    check_paths(&l, resumes_into);
}

void check_train_files(const train_opts *o) {
    check_paths_differ(o);
    /* every file the run will write can be written: found out now, not
     * after hours of training */
    require_output(o->out, DESCENT_OUTPUT_FILE);
    require_output(o->metrics, DESCENT_OUTPUT_FILE);
    require_output(o->cfg.best_model, DESCENT_OUTPUT_FILE);
    require_output(o->cfg.checkpoint_dir, DESCENT_OUTPUT_NEW_DIR);
}

int parse_widths(const char *s, int *sizes, int max) {
    int n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        const long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > (1 << 24))
            usage_error("option --layers: '%s' is not a list of positive widths", s);
        if (n == max) usage_error("option --layers: more than %d entries", max);
        sizes[n++] = (int)v;
        if (*end == '\0') break;
        if (*end != ',') usage_error("option --layers: '%s' is not a comma-separated list", s);
        p = end + 1;
    }
    if (n < 2) usage_error("option --layers: need at least an input and an output width");
    return n - 1;
}

void parse_activation_list(const char *list, descent_act *acts, int L) {
    int n = 0;
    for (const char *p = list;; p++) { /* every comma separates two names: none is empty */
        const size_t len = strcspn(p, ",");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
        if (n == L)
            usage_error("option --activations: %s names more than the %d layers", list, L);
        const int a = descent_act_parse(name);
        if (a < 0)
            usage_error("option --activations: unknown activation '%s' (%s)", name, g_acts);
        acts[n++] = (descent_act)a;
        p += len;
        if (*p == '\0') break;
    }
    if (n != L) usage_error("option --activations: %d given for %d layers", n, L);
}

void activations_of(const train_opts *o, descent_act *acts, int L) {
    if (o->acts) parse_activation_list(o->acts, acts, L);
    else
        for (int l = 0; l < L; l++) acts[l] = l == L - 1 ? o->output : o->hidden;
}

