/*
 * descent - the command-line trainer. Uses only the public API
 * (descent/descent.h). It parses options, loads data, prints (rank 0 only),
 * writes output files (rank 0 only) and chooses exit codes:
 *   0 success, 2 bad usage or bad data, 1 any other failure,
 *   3 stopped by SIGTERM/SIGINT/SIGUSR1 after writing a checkpoint.
 * Under MPI every failure is agreed between ranks before anyone exits, and
 * exactly one rank (the lowest that failed) prints the message.
 */
#define _POSIX_C_SOURCE 200809L
#include <descent/descent.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef DEFAULT_DATA_DIR
#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#endif

/* The command-line fuzzer (tests/fuzz/fuzz_cli.c) builds this file with
 * DESCENT_FUZZ_CLI: main becomes descent_main and an exit returns to the
 * harness instead of ending the process. */
#ifdef DESCENT_FUZZ_CLI
#include <setjmp.h>
jmp_buf descent_fuzz_exit;
#define main descent_main
#define EXIT(code) longjmp(descent_fuzz_exit, (code) + 1)
#else
#define EXIT(code) exit(code)
#endif

static const char *g_cmd = "descent";
static int g_rank = 0, g_size = 1;

/* ---- exits ---------------------------------------------------------------- */
static int exit_code_for(int status) {
    switch (status) {
    case DESCENT_OK: return 0;
    case DESCENT_E_USAGE:
    case DESCENT_E_IO:
    case DESCENT_E_FORMAT:
    case DESCENT_E_MISMATCH:
    case DESCENT_E_NOMEM: return 2;
    case DESCENT_E_INTERRUPTED: return 3;
    default: return 1;
    }
}

static void leave(int code) {
    fflush(stdout);
#ifndef DESCENT_FUZZ_CLI /* the harness calls main again: MPI only once */
    descent_mpi_finalize();
#endif
    EXIT(code);
}

/* A usage error found identically on every rank (same argv): rank 0 prints. */
static void usage_error(const char *fmt, ...) {
    if (g_rank == 0) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s: ", g_cmd);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, " (see '%s --help')\n", g_cmd);
        va_end(ap);
    }
    leave(2);
}

/* Every rank leaves with the agreed status; rank `who` prints msg. After a
 * failed collective nothing can be agreed any more: the job is aborted. */
static void end_agreed(int status, int who, const char *msg) {
    if (status == DESCENT_E_COMM) {
        fprintf(stderr, "%s: rank %d: %s; aborting all ranks\n", g_cmd, g_rank, msg);
        descent_mpi_abort(1);
    }
    if (who == g_rank) {
        if (g_size > 1) fprintf(stderr, "%s: rank %d: %s\n", g_cmd, g_rank, msg);
        else fprintf(stderr, "%s: %s\n", g_cmd, msg);
    }
    leave(exit_code_for(status));
}

/* Agree on a status across ranks; if any failed, the lowest failing rank
 * prints its message and every rank exits with the same code. */
static void check(int rc, const descent_error *err) {
    int who = -1;
    const int agreed = descent_mpi_agree(rc, &who);
    if (agreed == DESCENT_OK) return;
    end_agreed(agreed, who, agreed == DESCENT_E_COMM ? "MPI communication failed" : err->msg);
}

/* For errors the library already agreed on (descent_train, descent_evaluate):
 * err->rank says where it happened; that rank prints. */
static void check_agreed(int rc, const descent_error *err) {
    if (rc != DESCENT_OK) end_agreed(rc, err->rank, err->msg);
}

static int cli_error(descent_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    err->rank = g_rank;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- option parsing ------------------------------------------------------- */
typedef struct {
    int argc, i;
    char **argv;
    const char *name;  /* current option name */
    const char *value; /* its value (after = or the next argument) */
} args;

static int arg_next(args *a) {
    if (a->i >= a->argc) return 0;
    a->name = a->argv[a->i++];
    a->value = NULL;
    if (strncmp(a->name, "--", 2) != 0) usage_error("unexpected argument '%s'", a->name);
    return 1;
}

static int is(args *a, const char *opt) {
    const size_t n = strlen(opt);
    if (strncmp(a->name, opt, n) != 0) return 0;
    if (a->name[n] == '=') { a->value = a->name + n + 1; return 1; }
    return a->name[n] == '\0';
}

static int flag(args *a, const char *opt) {
    if (!is(a, opt)) return 0;
    if (a->value) usage_error("option %s takes no value", opt);
    return 1;
}

static const char *val(args *a, const char *opt) {
    if (!is(a, opt)) return NULL;
    if (!a->value) {
        if (a->i >= a->argc) usage_error("option %s needs a value", opt);
        a->value = a->argv[a->i++];
    }
    return a->value;
}

static double num(const char *opt, const char *s) {
    char *end;
    errno = 0;
    const double x = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(x))
        usage_error("option %s: '%s' is not a number", opt, s);
    return x;
}

static long long whole(const char *opt, const char *s, long long lo, long long hi) {
    char *end;
    errno = 0;
    const long long x = strtoll(s, &end, 10);
    if (end == s || *end || errno) usage_error("option %s: '%s' is not a whole number", opt, s);
    if (x < lo || x > hi) usage_error("option %s: %s is out of range %lld..%lld", opt, s, lo, hi);
    return x;
}

/* ---- data options shared by train, eval and predict ----------------------- */
typedef struct {
    const char *dir;                 /* IDX directory                       */
    const char *train_images, *train_labels, *test_images, *test_labels;
    const char *train_csv, *test_csv;
    descent_csv_options csv;
    long long limit, test_limit;
} data_opts;

static void data_opts_init(data_opts *d) {
    memset(d, 0, sizeof *d);
    d->csv.label_col = 0;
    d->limit = d->test_limit = -1;
}

static int data_opt(args *a, data_opts *d) {
    const char *v;
    if ((v = val(a, "--data"))) d->dir = v;
    else if ((v = val(a, "--train-images"))) d->train_images = v;
    else if ((v = val(a, "--train-labels"))) d->train_labels = v;
    else if ((v = val(a, "--test-images")) || (v = val(a, "--images"))) d->test_images = v;
    else if ((v = val(a, "--test-labels")) || (v = val(a, "--labels"))) d->test_labels = v;
    else if ((v = val(a, "--train-csv"))) d->train_csv = v;
    else if ((v = val(a, "--test-csv")) || (v = val(a, "--csv"))) d->test_csv = v;
    else if (flag(a, "--csv-header")) d->csv.header = 1;
    else if ((v = val(a, "--csv-label"))) {
        if (strcmp(v, "first") == 0) d->csv.label_col = 0;
        else if (strcmp(v, "last") == 0) d->csv.label_col = -1;
        else usage_error("option --csv-label: '%s' is not 'first' or 'last'", v);
    } else if ((v = val(a, "--csv-targets")))
        d->csv.n_targets = (int)whole("--csv-targets", v, 1, 1 << 20);
    else if ((v = val(a, "--csv-classes")))
        d->csv.n_classes = (int)whole("--csv-classes", v, 2, 1 << 16);
    else if ((v = val(a, "--limit"))) d->limit = whole("--limit", v, 1, INT64_MAX);
    else if ((v = val(a, "--test-limit"))) d->test_limit = whole("--test-limit", v, 1, INT64_MAX);
    else return 0;
    return 1;
}

/* Find DIR/name or DIR/name.gz */
static char *idx_in_dir(const char *dir, const char *name) {
    static char buf[4][4096];
    static int next;
    char *p = buf[next++ & 3];
    struct stat st;
    snprintf(p, 4096, "%s/%s", dir, name);
    if (stat(p, &st) == 0) return p;
    snprintf(p, 4096, "%s/%s.gz", dir, name);
    return p; /* missing files are reported by the loader, with this name */
}

/* Load the training (which=0) or test (which=1) set; NULL if none named. */
static descent_data *load_set(data_opts *d, int which, int required) {
    const char *img = which ? d->test_images : d->train_images;
    const char *lab = which ? d->test_labels : d->train_labels;
    const char *csv = which ? d->test_csv : d->train_csv;
    if (!img && !lab && !csv && (d->dir || required)) {
        const char *dir = d->dir ? d->dir : DEFAULT_DATA_DIR;
        img = idx_in_dir(dir, which ? "t10k-images-idx3-ubyte" : "train-images-idx3-ubyte");
        lab = idx_in_dir(dir, which ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte");
    }
    if (csv && (img || lab))
        usage_error("give either a CSV file or IDX image and label files, not both");
    if (!csv && !img && !lab) return NULL;
    if (!csv && (!img || !lab))
        usage_error("IDX data needs both an images and a labels file (%s given)",
                    img ? "only images" : "only labels");
    descent_data *out = NULL;
    descent_error err = {0};
    int rc = csv ? descent_data_load_csv(&out, csv, &d->csv, &err)
                 : descent_data_load_idx(&out, img, lab, &err);
    check(rc, &err);
    const long long lim = which ? d->test_limit : d->limit;
    if (lim > 0) descent_data_truncate(out, (size_t)lim);
    return out;
}

/* ---- help ----------------------------------------------------------------- */
static const char *const DATA_HELP =
    "Data (IDX files may be gzip-compressed; CSV: one sample per line):\n"
    "  --data DIR            IDX directory with train-/t10k-images-idx3-ubyte[.gz]\n"
    "                        and -labels-idx1-ubyte[.gz] (default " DEFAULT_DATA_DIR ")\n"
    "  --train-images F --train-labels F   IDX training set\n"
    "  --test-images F  --test-labels F    IDX test set (also --images/--labels)\n"
    "  --train-csv F --test-csv F          CSV sets (also --csv)\n"
    "  --csv-header          the first line is a header\n"
    "  --csv-label first|last  label column for classification (default first)\n"
    "  --csv-targets K       regression: the last K columns are targets\n"
    "  --csv-classes N       number of classes (default: largest label + 1)\n"
    "  --limit N             use only the first N training samples\n"
    "  --test-limit N        use only the first N test samples\n";

static void help_main(void) {
    printf("descent %s - train fully connected neural networks by gradient descent,\n"
           "on many cores (OpenMP) and many machines (MPI).\n\n"
           "Usage: descent COMMAND [options]      (mpirun -n P descent train ... for P ranks)\n\n"
           "Commands:\n"
           "  train     train a network, write the model (--out), report test accuracy\n"
           "  eval      loss, accuracy and confusion matrix of a model on a data set\n"
           "  predict   class or output vector for every input row\n"
           "  info      what a model file holds\n"
           "  export    write a model's weights and biases as NumPy .npy files\n"
           "  commbench time MPI_Allreduce on this machine (input of the cost model)\n\n"
           "'descent COMMAND --help' describes each. 'descent --version' prints the version.\n"
           "Exit status: 0 success, 2 bad usage or bad data, 1 other failure,\n"
           "3 stopped by a signal (SIGTERM, SIGINT, SIGUSR1) after writing a checkpoint.\n",
           DESCENT_VERSION_STRING);
}

static void help_train(void) {
    printf("Usage: descent train [options]\n\n"
           "Trains with classic backpropagation and mini-batch gradient descent. Under\n"
           "mpirun every rank takes its slice of each global batch; gradients are summed\n"
           "across ranks and divided by the global batch size.\n\n"
           "Network:\n"
           "  --layers N0,N1,...,NL  widths, input first (default: inputs,128,outputs)\n"
           "  --activation A        hidden layers: sigmoid (default), tanh, relu, identity\n"
           "  --output A            output layer: sigmoid (default), tanh, relu, identity,\n"
           "                        softmax\n"
           "  --activations A1,...  one per layer (overrides the two above)\n"
           "  --cost C              mse (default: C0 = sum (a-y)^2) or xent (softmax only)\n"
           "Optimisation:\n"
           "  --epochs N            passes over the training set (default 10)\n"
           "  --batch M             global mini-batch; >= the training set size gives\n"
           "                        full-batch gradient descent (default 64)\n"
           "  --lr X                learning rate alpha (default 0.1)\n"
           "  --lr-schedule S       constant (default) or cosine: alpha (1+cos(pi t/T))/2\n"
           "  --optimizer O         gd (default), momentum, adam\n"
           "  --momentum X          momentum coefficient (default 0.9)\n"
           "  --beta1 X --beta2 X --adam-eps X   Adam (0.9, 0.999, 1e-8)\n"
           "  --weight-decay X      L2 weight decay on the weights (default 0)\n"
           "  --seed N              initialisation and data order (default 1)\n"
           "  --val-fraction F      hold out the last fraction F of the training set\n"
           "Output:\n"
           "  --out FILE            write the trained model (atomically)\n"
           "  --metrics FILE        one CSV row per epoch\n"
           "  --sync-check N        compare parameter checksums across ranks every N steps\n"
           "  --reproducible        bit-identical results for any number of ranks and\n"
           "                        threads: exact fixed-point gradient sums over fixed\n"
           "                        16-sample chunks (a rank's slice is whole chunks);\n"
           "                        about 40%% slower\n"
           "  --no-reproducible     (default) float sums; slices differ by at most one sample\n"
           "  --quiet               no per-epoch lines\n"
           "  --stats               at the end, one line per rank on stderr: peak RSS and\n"
           "                        the Unix time the first step finished\n"
           "Checkpoints (full state: model, optimizer, position, hyper-parameters):\n"
           "  --checkpoint-dir DIR  write DIR/ckpt-<step>.dsc atomically\n"
           "  --checkpoint-every N  every N steps, or Ne for every N epochs\n"
           "  --keep-checkpoints K  keep the newest K (default 3)\n"
           "  --resume PATH         continue from a checkpoint file, or the newest in a\n"
           "                        directory; --epochs may extend the run\n"
           "SIGTERM, SIGINT or SIGUSR1 finish the current step, write a checkpoint (with\n"
           "--checkpoint-dir) and exit with status 3.\n\n%s",
           DATA_HELP);
}

static void help_eval(void) {
    printf("Usage: descent eval --model FILE [data options]\n\n"
           "Prints the mean loss, the accuracy and the confusion matrix (rows: true class,\n"
           "columns: predicted class) of the model on the test set.\n\n%s",
           DATA_HELP);
}

static void help_predict(void) {
    printf("Usage: descent predict --model FILE (--images F | --csv F) [options]\n\n"
           "Prints one line per input row: the predicted class, or with --outputs the whole\n"
           "output vector (comma separated).\n\n"
           "  --model FILE          the model\n"
           "  --images F            IDX images (plain or .gz)\n"
           "  --csv F               CSV rows of features only (no label column)\n"
           "  --csv-header          the CSV's first line is a header\n"
           "  --outputs             print the output vector instead of the class\n"
           "  --output FILE         write to FILE (atomically) instead of stdout\n");
}

/* ---- network description -------------------------------------------------- */
typedef struct {
    int L;
    int sizes[1025];
    descent_act acts[1024];
    descent_cost cost;
} net_spec;

static int parse_int_list(const char *opt, const char *s, int *out, int max) {
    int n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > (1 << 24))
            usage_error("option %s: '%s' is not a list of positive widths", opt, s);
        if (n == max) usage_error("option %s: more than %d entries", opt, max);
        out[n++] = (int)v;
        if (*end == '\0') break;
        if (*end != ',') usage_error("option %s: '%s' is not a comma-separated list", opt, s);
        p = end + 1;
    }
    return n;
}

static descent_act parse_act(const char *opt, const char *s) {
    const int a = descent_act_parse(s);
    if (a < 0)
        usage_error("option %s: unknown activation '%s' (sigmoid, tanh, relu, identity, softmax)",
                    opt, s);
    return (descent_act)a;
}

/* ---- train ---------------------------------------------------------------- */
/* SIGTERM, SIGINT and SIGUSR1 ask training to stop after the current step,
 * write a checkpoint and exit with status 3. */
static volatile sig_atomic_t g_stop_signal;
static void on_signal(int sig) { g_stop_signal = sig; }
static int should_stop(void *user) {
    (void)user;
    return g_stop_signal != 0;
}
static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}
typedef struct {
    FILE *metrics;
    int quiet, tty, total_epochs;
    double first_step; /* wall-clock (Unix) time the first step finished */
} train_ui;

static double unix_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_step(long step, double loss, void *user) {
    train_ui *ui = user;
    (void)loss;
    if (ui->first_step == 0.0) ui->first_step = unix_now();
    (void)step;
}

static void on_progress(int epoch, long step, long steps, void *user) {
    train_ui *ui = user;
    if (g_rank != 0 || !ui->tty || ui->quiet) return;
    const int width = 30, done = (int)(width * step / steps);
    fprintf(stderr, "\repoch %d/%d [", epoch, ui->total_epochs);
    for (int i = 0; i < width; i++) fputc(i < done ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%", (int)(100 * step / steps));
    if (step == steps) fprintf(stderr, "\r%*s\r", width + 30, "");
    fflush(stderr);
}

static void fmt_acc(char *buf, size_t n, double x) {
    if (isnan(x)) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.4f", x);
}

static int on_epoch(const descent_epoch_stats *st, void *user) {
    train_ui *ui = user;
    if (g_rank != 0) return 0;
    char ta[16], va[16];
    fmt_acc(ta, sizeof ta, st->train_accuracy);
    fmt_acc(va, sizeof va, st->has_val ? st->val.accuracy : NAN);
    const double share = st->seconds > 0 ? 100.0 * st->comm_seconds / st->seconds : 0.0;
    if (!ui->quiet) {
        printf("epoch %3d/%d  loss %.5f  train-acc %s", st->epoch, ui->total_epochs,
               st->train_loss, ta);
        if (st->has_val) printf("  val-loss %.5f  val-acc %s", st->val.loss, va);
        printf("  %8.0f samples/s  %6.2f s  (compute %.2f s, comm %.2f s = %.1f%%)\n",
               st->samples_per_sec, st->seconds, st->compute_seconds, st->comm_seconds, share);
        fflush(stdout);
    }
    if (ui->metrics) {
        fprintf(ui->metrics, "%d,%.9g,%.9g,%.9g,%.9g,%.6g,%.6g,%.6g,%.6g\n", st->epoch,
                st->train_loss, st->train_accuracy, st->has_val ? st->val.loss : NAN,
                st->has_val ? st->val.accuracy : NAN, st->samples_per_sec, st->seconds,
                st->compute_seconds, st->comm_seconds);
        fflush(ui->metrics);
    }
    return 0;
}

static int cmd_train(int argc, char **argv) {
    g_cmd = "descent train";
    args a = {argc, 2, argv, NULL, NULL};
    data_opts d;
    data_opts_init(&d);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    const char *layers = NULL, *acts = NULL, *out = NULL, *metrics = NULL, *v;
    descent_act hidden = DESCENT_ACT_SIGMOID, output = DESCENT_ACT_SIGMOID;
    descent_cost cost = DESCENT_COST_MSE;
    double val_fraction = 0.0;
    int quiet = 0;
    const char *resume = NULL, *changed = NULL, *netopt = NULL;
    int epochs_given = 0, stats = 0;
    while (arg_next(&a)) {
        if (flag(&a, "--help")) { if (g_rank == 0) help_train(); leave(0); }
        else if (data_opt(&a, &d)) continue;
        else if ((v = val(&a, "--layers"))) layers = netopt = v;
        else if ((v = val(&a, "--activation"))) { hidden = parse_act("--activation", v); netopt = v; }
        else if ((v = val(&a, "--output"))) { output = parse_act("--output", v); netopt = v; }
        else if ((v = val(&a, "--activations"))) acts = netopt = v;
        else if ((v = val(&a, "--resume"))) resume = v;
        else if ((v = val(&a, "--checkpoint-dir"))) cfg.checkpoint_dir = v;
        else if ((v = val(&a, "--checkpoint-every"))) {
            const size_t len = strlen(v);
            if (len > 1 && v[len - 1] == 'e') {
                char buf[32];
                snprintf(buf, sizeof buf, "%.*s", (int)(len - 1), v);
                cfg.checkpoint_epochs = (int)whole("--checkpoint-every", buf, 1, 1000000);
            } else {
                cfg.checkpoint_steps = (long)whole("--checkpoint-every", v, 1, INT64_MAX);
            }
        } else if ((v = val(&a, "--keep-checkpoints")))
            cfg.checkpoint_keep = (int)whole("--keep-checkpoints", v, 1, 1000000);
        else if ((v = val(&a, "--cost"))) {
            netopt = v;
            const int c = descent_cost_parse(v);
            if (c < 0) usage_error("option --cost: unknown cost '%s' (mse, xent)", v);
            cost = (descent_cost)c;
        } else if ((v = val(&a, "--epochs"))) {
            cfg.epochs = (int)whole("--epochs", v, 1, 1000000);
            epochs_given = 1;
        }
        else if ((v = val(&a, "--batch"))) cfg.batch = (size_t)whole("--batch", v, 1, 1 << 24);
        else if ((v = val(&a, "--lr"))) cfg.lr = num("--lr", v);
        else if ((v = val(&a, "--lr-schedule"))) {
            if (strcmp(v, "constant") == 0) cfg.schedule = DESCENT_LR_CONSTANT;
            else if (strcmp(v, "cosine") == 0) cfg.schedule = DESCENT_LR_COSINE;
            else usage_error("option --lr-schedule: unknown schedule '%s' (constant, cosine)", v);
        } else if ((v = val(&a, "--optimizer"))) {
            const int o = descent_optimizer_parse(v);
            if (o < 0) usage_error("option --optimizer: unknown optimizer '%s' (gd, momentum, adam)", v);
            cfg.optimizer = (descent_optimizer)o;
        } else if ((v = val(&a, "--momentum"))) cfg.momentum = num("--momentum", v);
        else if ((v = val(&a, "--beta1"))) cfg.beta1 = num("--beta1", v);
        else if ((v = val(&a, "--beta2"))) cfg.beta2 = num("--beta2", v);
        else if ((v = val(&a, "--adam-eps"))) cfg.eps = num("--adam-eps", v);
        else if ((v = val(&a, "--weight-decay"))) cfg.weight_decay = num("--weight-decay", v);
        else if ((v = val(&a, "--seed"))) cfg.seed = (uint64_t)whole("--seed", v, 0, INT64_MAX);
        else if ((v = val(&a, "--val-fraction"))) {
            val_fraction = num("--val-fraction", v);
            if (!(val_fraction > 0 && val_fraction < 1))
                usage_error("option --val-fraction: %s is not in (0,1)", v);
        } else if ((v = val(&a, "--out"))) out = v;
        else if ((v = val(&a, "--metrics"))) metrics = v;
        else if ((v = val(&a, "--sync-check")))
            cfg.sync_check = (int)whole("--sync-check", v, 0, 1 << 30);
        else if (flag(&a, "--quiet")) quiet = 1;
        else if (flag(&a, "--stats")) stats = 1;
        else if (flag(&a, "--reproducible")) cfg.reproducible = 1;
        else if (flag(&a, "--no-reproducible")) cfg.reproducible = 0;
        else usage_error("unknown option '%s'", a.name);
    }
    if (resume) { /* the checkpoint fixes the network and the mathematics */
        static const char *const fixed[] = {"--batch", "--lr", "--lr-schedule", "--optimizer",
                                            "--momentum", "--beta1", "--beta2", "--adam-eps",
                                            "--weight-decay", "--seed", "--reproducible",
                                            "--no-reproducible", NULL};
        for (int i = 2; i < argc && !changed; i++)
            for (int f = 0; fixed[f]; f++) {
                const size_t fl = strlen(fixed[f]);
                if (strncmp(argv[i], fixed[f], fl) == 0 && (argv[i][fl] == 0 || argv[i][fl] == '='))
                    changed = fixed[f];
            }
        if (netopt) usage_error("--resume takes the network from the checkpoint; drop --layers, "
                                "--activation(s), --output and --cost");
        if (changed) usage_error("--resume continues the checkpoint's training exactly; %s "
                                 "cannot change", changed);
    }
    descent_error err = {0};
    check(descent_train_config_check(&cfg, &err), &err);
    descent_net *net = NULL;
    descent_checkpoint *ck = NULL;
    if (resume) {
        descent_train_config saved;
        char file[4096];
        check(descent_checkpoint_load(resume, &net, &saved, &ck, file, sizeof file, &err), &err);
        saved.epochs = epochs_given ? cfg.epochs : saved.epochs;
        saved.sync_check = cfg.sync_check;
        saved.checkpoint_dir = cfg.checkpoint_dir;
        saved.checkpoint_steps = cfg.checkpoint_steps;
        saved.checkpoint_epochs = cfg.checkpoint_epochs;
        saved.checkpoint_keep = cfg.checkpoint_keep;
        cfg = saved;
        if (g_rank == 0 && !quiet)
            printf("resuming from %s: epoch %d, step %ld\n", file, descent_checkpoint_epoch(ck),
                   descent_checkpoint_step(ck));
    }

    descent_data *train = load_set(&d, 0, 1);
    descent_data *test = load_set(&d, 1, 0);
    if (!test && !d.train_images && !d.train_csv) test = load_set(&d, 1, 1);
    descent_data *val = NULL;
    if (val_fraction > 0) check(descent_data_split(train, val_fraction, &val, &err), &err);

    /* the network */
    net_spec ns = {0};
    if (net) {
        ns.L = descent_net_layers(net);
        for (int l = 0; l <= ns.L; l++) ns.sizes[l] = descent_net_size(net, l);
        for (int l = 0; l < ns.L; l++) ns.acts[l] = descent_net_act(net, l);
        cost = descent_net_cost(net);
    } else if (layers) ns.L = parse_int_list("--layers", layers, ns.sizes, 1025) - 1;
    else {
        ns.sizes[0] = descent_data_features(train);
        ns.sizes[1] = 128;
        ns.sizes[2] = descent_data_outputs(train);
        ns.L = 2;
    }
    if (ns.L < 1) usage_error("option --layers: need at least an input and an output width");
    if (net) {
        /* from the checkpoint */
    } else if (acts) {
        char *copy = strdup(acts), *save = NULL;
        int n = 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (n == ns.L)
                usage_error("option --activations: %s names more than the %d layers", acts, ns.L);
            ns.acts[n++] = parse_act("--activations", t);
        }
        free(copy);
        if (n != ns.L)
            usage_error("option --activations: %d given for %d layers", n, ns.L);
    } else {
        for (int l = 0; l < ns.L; l++) ns.acts[l] = l == ns.L - 1 ? output : hidden;
    }
    int rc = DESCENT_OK;
    if (!net) {
        rc = descent_net_create(&net, ns.L, ns.sizes, ns.acts, cost, &err);
        check(rc, &err);
        descent_net_init(net, cfg.seed);
    }
    rc = descent_data_check(train, net, &err);
    if (!rc && test) rc = descent_data_check(test, net, &err);
    check(rc, &err);

    /* start-up line */
    const int threads = descent_threads();
    char hosts[1024];
    descent_mpi_hosts(hosts, sizeof hosts);
    const int min_cpus = descent_mpi_min_affinity();
    if (g_rank == 0 && !quiet) {
        printf("descent %s: %d rank%s x %d thread%s on %s\n", DESCENT_VERSION_STRING, g_size,
               g_size == 1 ? "" : "s", threads, threads == 1 ? "" : "s", hosts);
        printf("network ");
        for (int l = 0; l <= ns.L; l++) printf("%s%d", l ? "-" : "", ns.sizes[l]);
        printf(" (");
        for (int l = 0; l < ns.L; l++) printf("%s%s", l ? "," : "", descent_act_name(ns.acts[l]));
        printf("; cost %s), %zu parameters; %s lr %g%s, batch %zu, %d epochs, seed %llu, %s\n",
               descent_cost_name(cost), descent_net_num_params(net),
               descent_optimizer_name(cfg.optimizer), cfg.lr,
               cfg.schedule == DESCENT_LR_COSINE ? " (cosine)" : "", cfg.batch, cfg.epochs,
               (unsigned long long)cfg.seed, cfg.reproducible ? "reproducible" : "float sums");
        printf("data: %zu training, %zu validation, %zu test samples\n",
               descent_data_count(train), val ? descent_data_count(val) : 0,
               test ? descent_data_count(test) : 0);
        fflush(stdout);
    }
    if (g_rank == 0 && min_cpus > 0 && min_cpus < threads)
        fprintf(stderr, "%s: warning: a rank may run on only %d CPU%s but uses %d OpenMP threads; "
                "its threads share %s. With Open MPI use '--map-by slot:PE=%d --bind-to core' "
                "(or '--bind-to none') and OMP_PLACES=cores OMP_PROC_BIND=close\n",
                g_cmd, min_cpus, min_cpus == 1 ? "" : "s", threads,
                min_cpus == 1 ? "one core" : "those CPUs", threads);

    /* metrics go to FILE.partial and become FILE only when training succeeds */
    train_ui ui = {NULL, quiet, isatty(2), cfg.epochs, 0.0};
    char metrics_tmp[4096];
    rc = DESCENT_OK;
    if (metrics && g_rank == 0) {
        snprintf(metrics_tmp, sizeof metrics_tmp, "%s.partial", metrics);
        ui.metrics = fopen(metrics_tmp, "w");
        if (!ui.metrics)
            rc = cli_error(&err, DESCENT_E_IO, "%s: cannot create: %s", metrics_tmp,
                                   strerror(errno));
        else
            fprintf(ui.metrics, "epoch,train_loss,train_accuracy,val_loss,val_accuracy,"
                    "samples_per_s,seconds,compute_seconds,comm_seconds\n");
    }
    check(rc, &err);
    descent_callbacks cb = {on_epoch, on_step, on_progress, should_stop, &ui};
    install_signals();
    rc = descent_train_resume(net, train, val, &cfg, ck, &cb, &err);
    descent_checkpoint_free(ck);
    if (ui.metrics) {
        fclose(ui.metrics);
        if (rc) remove(metrics_tmp);
    }
    check_agreed(rc, &err);
    if (ui.metrics && rename(metrics_tmp, metrics) != 0)
        rc = cli_error(&err, DESCENT_E_IO, "%s: cannot rename into place: %s", metrics,
                               strerror(errno));
    check(rc, &err);

    if (test) {
        descent_eval_result res;
        rc = descent_evaluate(net, test, &res, NULL, &err);
        check_agreed(rc, &err);
        if (g_rank == 0) {
            if (descent_data_is_classification(test))
                printf("test accuracy: %.4f  (loss %.5f, %zu samples)\n", res.accuracy, res.loss,
                       res.count);
            else
                printf("test loss: %.6f  (%zu samples)\n", res.loss, res.count);
        }
    }
    if (out && g_rank == 0) rc = descent_model_save(net, out, &err);
    check(rc, &err);
    if (stats) { /* one line per rank, for benchmarks */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "stats: rank %d peak_rss_mb %.1f first_step_unix %.6f\n", g_rank,
                (double)ru.ru_maxrss / 1024.0, ui.first_step);
    }
    descent_net_free(net);
    descent_data_free(train);
    descent_data_free(test);
    descent_data_free(val);
    return 0;
}

/* ---- eval ----------------------------------------------------------------- */
static descent_net *load_model(const char *path) {
    if (!path) usage_error("--model FILE is required");
    descent_net *net = NULL;
    descent_error err = {0};
    check(descent_model_load(&net, path, &err), &err);
    return net;
}

static int cmd_eval(int argc, char **argv) {
    g_cmd = "descent eval";
    args a = {argc, 2, argv, NULL, NULL};
    data_opts d;
    data_opts_init(&d);
    const char *model = NULL, *v;
    while (arg_next(&a)) {
        if (flag(&a, "--help")) { if (g_rank == 0) help_eval(); leave(0); }
        else if (data_opt(&a, &d)) continue;
        else if ((v = val(&a, "--model"))) model = v;
        else usage_error("unknown option '%s'", a.name);
    }
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
            printf("%6s", "");
            for (int j = 0; j < nout; j++) printf(" %6d", j);
            printf("\n");
            for (int i = 0; i < nout; i++) {
                printf("%6d", i);
                for (int j = 0; j < nout; j++) printf(" %6llu", (unsigned long long)conf[i * nout + j]);
                printf("\n");
            }
        }
    }
    free(conf);
    descent_data_free(set);
    descent_net_free(net);
    return 0;
}

/* ---- predict -------------------------------------------------------------- */
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

static int cmd_predict(int argc, char **argv) {
    g_cmd = "descent predict";
    args a = {argc, 2, argv, NULL, NULL};
    const char *model = NULL, *images = NULL, *csv = NULL, *output = NULL, *v;
    descent_csv_options copt = {0, 0, 0, 0, 1};
    int vectors = 0;
    while (arg_next(&a)) {
        if (flag(&a, "--help")) { if (g_rank == 0) help_predict(); leave(0); }
        else if ((v = val(&a, "--model"))) model = v;
        else if ((v = val(&a, "--images"))) images = v;
        else if ((v = val(&a, "--csv"))) csv = v;
        else if ((v = val(&a, "--output"))) output = v;
        else if (flag(&a, "--csv-header")) copt.header = 1;
        else if (flag(&a, "--outputs")) vectors = 1;
        else usage_error("unknown option '%s'", a.name);
    }
    if (!images == !csv) usage_error("give exactly one of --images or --csv");
    descent_net *net = load_model(model);
    const int nin = descent_net_size(net, 0), nout = descent_net_size(net, descent_net_layers(net));
    descent_error err = {0};
    descent_data *set = NULL;
    int rc = csv ? descent_data_load_csv(&set, csv, &copt, &err)
                 : descent_data_load_idx(&set, images, NULL, &err);
    if (!rc && descent_data_features(set) != nin)
        rc = cli_error(&err, DESCENT_E_MISMATCH, "%s: rows have %d features but the model's "
                       "input layer has %d", csv ? csv : images, descent_data_features(set), nin);
    const size_t n = rc ? 0 : descent_data_count(set);
    float *x = NULL, *out = NULL;
    if (!rc) {
        x = malloc(sizeof(float) * n * (size_t)nin);
        out = malloc(sizeof(float) * n * (size_t)nout);
        if (!x || !out) rc = cli_error(&err, DESCENT_E_NOMEM, "out of memory for %zu rows", n);
    }
    for (size_t i = 0; !rc && i < n; i++) descent_data_sample(set, i, x + i * (size_t)nin, NULL);
    if (!rc) rc = descent_net_predict(net, x, n, out, &err);
    check(rc, &err);
    pred_ctx pc = {out, n, nout, vectors};
    if (g_rank == 0) {
        if (output) rc = descent_write_file(output, write_predictions, &pc, &err);
        else if (write_predictions(stdout, &pc) != 0 || fflush(stdout) != 0)
            rc = cli_error(&err, DESCENT_E_IO, "standard output: write error");
    }
    check(rc, &err);
    free(x);
    free(out);
    descent_data_free(set);
    descent_net_free(net);
    return 0;
}

/* ---- info and export ------------------------------------------------------ */
static int cmd_info(int argc, char **argv) {
    g_cmd = "descent info";
    args a = {argc, 2, argv, NULL, NULL};
    const char *model = NULL, *v;
    while (arg_next(&a)) {
        if (flag(&a, "--help")) {
            if (g_rank == 0) printf("Usage: descent info --model FILE\n\nPrints the layers, "
                                    "activations, cost and parameter statistics of a model.\n");
            leave(0);
        } else if ((v = val(&a, "--model"))) model = v;
        else usage_error("unknown option '%s'", a.name);
    }
    descent_net *net = load_model(model);
    if (g_rank == 0) {
        const int L = descent_net_layers(net);
        printf("model: %s\nlayers: %d\ncost: %s\nparameters: %zu\n", model, L,
               descent_cost_name(descent_net_cost(net)), descent_net_num_params(net));
        for (int l = 0; l < L; l++) {
            const int in = descent_net_size(net, l), outw = descent_net_size(net, l + 1);
            const float *w = descent_net_weights(net, l);
            double s = 0, s2 = 0;
            for (size_t i = 0; i < (size_t)in * outw; i++) { s += w[i]; s2 += (double)w[i] * w[i]; }
            const double nw = (double)in * outw, mean = s / nw;
            printf("layer %d: %d -> %d, %s, weights mean %.5f std %.5f\n", l + 1, in, outw,
                   descent_act_name(descent_net_act(net, l)), mean, sqrt(fmax(0, s2 / nw - mean * mean)));
        }
    }
    descent_net_free(net);
    return 0;
}

static int cmd_export(int argc, char **argv) {
    g_cmd = "descent export";
    args a = {argc, 2, argv, NULL, NULL};
    const char *model = NULL, *dir = NULL, *v;
    while (arg_next(&a)) {
        if (flag(&a, "--help")) {
            if (g_rank == 0) printf("Usage: descent export --model FILE --dir DIR\n\nWrites "
                                    "DIR/W1.npy, DIR/b1.npy, ... (float32; W_l is out x in).\n");
            leave(0);
        } else if ((v = val(&a, "--model"))) model = v;
        else if ((v = val(&a, "--dir"))) dir = v;
        else usage_error("unknown option '%s'", a.name);
    }
    if (!dir) usage_error("--dir DIR is required");
    descent_net *net = load_model(model);
    descent_error err = {0};
    int rc = g_rank == 0 ? descent_model_export_npy(net, dir, &err) : DESCENT_OK;
    check(rc, &err);
    if (g_rank == 0) printf("wrote %d layers to %s\n", descent_net_layers(net), dir);
    descent_net_free(net);
    return 0;
}

/* ---- commbench ------------------------------------------------------------ */
static int cmd_commbench(int argc, char **argv) {
    g_cmd = "descent commbench";
    args a = {argc, 2, argv, NULL, NULL};
    long long reps = 50;
    const char *v;
    size_t sizes[16];
    int ns = 0;
    while (arg_next(&a)) {
        if (flag(&a, "--help")) {
            if (g_rank == 0)
                printf("Usage: mpirun -n P descent commbench [--floats N]... [--reps R]\n\n"
                       "Times MPI_Allreduce(SUM) of N floats (default: 1 and 235146, the\n"
                       "784-256-128-10 network's gradient) and prints the median and minimum\n"
                       "of R runs (default 50) in microseconds: the inputs of the cost model in\n"
                       "scripts/costmodel.py.\n");
            leave(0);
        } else if ((v = val(&a, "--floats"))) {
            if (ns == 16) usage_error("at most 16 --floats");
            sizes[ns++] = (size_t)whole("--floats", v, 1, (long long)1 << 32);
        } else if ((v = val(&a, "--reps"))) reps = whole("--reps", v, 1, 1000000);
        else usage_error("unknown option '%s'", a.name);
    }
    if (ns == 0) { sizes[0] = 1; sizes[1] = 235146; ns = 2; }
    if (g_rank == 0) printf("ranks,floats,bytes,median_us,min_us\n");
    for (int i = 0; i < ns; i++) {
        double med = 0, mn = 0;
        descent_error err = {0};
        int rc = descent_mpi_time_allreduce(sizes[i], (int)reps, &med, &mn);
        if (rc) cli_error(&err, rc, "allreduce of %zu floats failed", sizes[i]);
        check(rc, &err);
        if (g_rank == 0)
            printf("%d,%zu,%zu,%.2f,%.2f\n", g_size, sizes[i], 4 * sizes[i], 1e6 * med, 1e6 * mn);
    }
    return 0;
}

/* Started by an MPI launcher (mpirun/mpiexec, srun --mpi=pmix, Hydra)? A
 * plain `descent ...` is a job of one process: it skips MPI initialisation,
 * which as an Open MPI singleton costs about 0.4 s of start-up, and behaves
 * exactly as a singleton would. DESCENT_MPI=1 forces MPI, =0 skips it. */
static int launched_by_mpi(void) {
    const char *force = getenv("DESCENT_MPI");
    if (force && *force) return strcmp(force, "0") != 0;
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE", "MPI_LOCALNRANKS", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int main(int argc, char **argv);
int main(int argc, char **argv) {
#ifdef DESCENT_FUZZ_CLI
    if (0) {
#else
    if (launched_by_mpi() && descent_mpi_init(&argc, &argv) != DESCENT_OK) {
#endif
        fprintf(stderr, "descent: MPI initialisation failed\n");
        return 1;
    }
    g_rank = descent_mpi_rank();
    g_size = descent_mpi_size();
    if (argc < 2) { if (g_rank == 0) help_main(); leave(2); }
    const char *cmd = argv[1];
    int rc = 2;
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (g_rank == 0) help_main();
        rc = 0;
    } else if (strcmp(cmd, "--version") == 0) {
        if (g_rank == 0) printf("descent %s\n", DESCENT_VERSION_STRING);
        rc = 0;
    } else if (strcmp(cmd, "train") == 0) rc = cmd_train(argc, argv);
    else if (strcmp(cmd, "eval") == 0) rc = cmd_eval(argc, argv);
    else if (strcmp(cmd, "predict") == 0) rc = cmd_predict(argc, argv);
    else if (strcmp(cmd, "info") == 0) rc = cmd_info(argc, argv);
    else if (strcmp(cmd, "export") == 0) rc = cmd_export(argc, argv);
    else if (strcmp(cmd, "commbench") == 0) rc = cmd_commbench(argc, argv);
    else usage_error("unknown command '%s'", cmd);
    leave(rc);
    return rc;
}
