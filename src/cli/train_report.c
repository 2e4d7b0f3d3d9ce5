/* SPDX-License-Identifier: MIT */
/*
 * train_report.c - what `descent train` shows and records while it runs:
 * the start-up banner, the affinity warning, the progress bar, one line per
 * epoch, the metrics file (FILE.partial until training succeeds), the
 * per-rank --stats line, and the signals that ask training to stop.
 */
#define _POSIX_C_SOURCE 200809L
#include "train_report.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- signals: SIGTERM, SIGINT and SIGUSR1 ask training to stop after the
 * current step, write a checkpoint and exit with status 3 ---- */
static volatile sig_atomic_t g_stop_signal;
static void on_signal(int sig) { g_stop_signal = sig; }
static int should_stop(void *user) {
    (void)user;
    return g_stop_signal != 0;
}

void end_if_stop_requested(const char *when) {
    descent_error err = {0};
    check(g_stop_signal ? cli_error(&err, DESCENT_E_INTERRUPTED, "stopped on request %s, before "
                                    "training began (nothing written)", when)
                        : DESCENT_OK, &err);
}

void install_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

/* ---- start-up ---- */
void print_banner(const descent_net *net, const descent_train_config *cfg,
                  const char *float_because, size_t n_train, size_t n_val, size_t n_test,
                  int quiet) {
    const int threads = descent_threads(), L = descent_net_layers(net);
    char hosts[1024];
    descent_mpi_hosts(hosts, sizeof hosts); /* collective: every rank */
    if (g_rank != 0 || quiet) return;
    printf("descent %s: %d rank%s x %d thread%s on %s; %s kernels\n", DESCENT_VERSION_STRING,
           g_size, g_size == 1 ? "" : "s", threads, threads == 1 ? "" : "s", hosts,
           descent_kernel_set());
    printf("network ");
    for (int l = 0; l <= L; l++) printf("%s%d", l ? "-" : "", descent_net_size(net, l));
    printf(" (");
    for (int l = 0; l < L; l++) printf("%s%s", l ? "," : "", descent_act_name(descent_net_act(net, l)));
    char warm[48] = "";
    if (cfg->warmup_steps || cfg->warmup_epochs)
        snprintf(warm, sizeof warm, ", warm-up %ld %s", cfg->warmup_epochs ? (long)cfg->warmup_epochs
                 : cfg->warmup_steps, cfg->warmup_epochs ? "epochs" : "steps");
    char sums[96];
    if (cfg->reproducible) snprintf(sums, sizeof sums, "exact sums");
    else if (float_because) snprintf(sums, sizeof sums, "float sums (%s needs them)", float_because);
    else snprintf(sums, sizeof sums, "float sums");
    printf("; cost %s), %zu parameters; %s lr %g%s%s, batch %zu, %d epochs, seed %llu, %s%s\n",
           descent_cost_name(descent_net_cost(net)), descent_net_num_params(net),
           descent_optimizer_name(cfg->optimizer), cfg->lr,
           cfg->schedule == DESCENT_LR_COSINE ? " (cosine)" : "", warm, cfg->batch, cfg->epochs,
           (unsigned long long)cfg->seed, sums,
           cfg->overlap && descent_mpi_size() > 1 ? ", reduction overlapped" : "");
    printf("data: %zu training, %zu validation, %zu test samples\n", n_train, n_val, n_test);
    fflush(stdout);
}

void warn_if_threads_share_cpus(void) {
    char placed[1024];
    descent_place_threads(placed, sizeof placed); /* collective */
    if (placed[0]) fprintf(stderr, "%s: %s\n", g_cmd, placed);
    const int threads = descent_threads(), min_cpus = descent_mpi_min_affinity();
    if (g_rank == 0 && min_cpus > 0 && min_cpus < threads)
        fprintf(stderr, "%s: warning: a rank may run on only %d CPU%s but uses %d OpenMP threads; "
                "its threads share %s. With Open MPI use '--map-by slot:PE=%d --bind-to core' "
                "(or '--bind-to none') and OMP_PLACES=cores OMP_PROC_BIND=close\n",
                g_cmd, min_cpus, min_cpus == 1 ? "" : "s", threads,
                min_cpus == 1 ? "one core" : "those CPUs", threads);
}

/* ---- while training: the callbacks ---- */
static double unix_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds since training started, counting an earlier (resumed) run's */
static double elapsed(const train_ui *ui) { return ui->elapsed_before + monotonic_seconds() - ui->start; }

/* "1h02m", "3m07s", "12s" */
static void fmt_duration(char *buf, size_t n, double s) {
    const long t = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

/* epoch 3/10  step 450/937  loss 0.41230  182000 samples/s  ETA 1m12s: one
 * line when the interval is over (the epoch's mean batch loss so far; the
 * samples/s since the last line; the ETA of the whole run) */
static void log_progress(train_ui *ui, const descent_step_info *s) {
    if (g_rank != 0 || ui->quiet || (ui->log_steps == 0 && ui->log_seconds <= 0)) return;
    const double now = monotonic_seconds();
    if (ui->log_mark == 0.0) { /* the first step of this run (a resumed one starts late) */
        ui->log_mark = ui->start;
        ui->log_step_mark = s->step - 1;
    }
    ui->log_samples += s->samples;
    const int due = ui->log_steps ? s->step % ui->log_steps == 0
                                  : now - ui->log_mark >= ui->log_seconds;
    if (!due) return;
    const double secs = now - ui->log_mark;
    const long steps = s->step - ui->log_step_mark;
    const long left = (s->steps_per_epoch - s->step_in_epoch) +
                      (long)(ui->total_epochs - s->epoch) * s->steps_per_epoch;
    char eta[32];
    fmt_duration(eta, sizeof eta, steps > 0 ? secs / (double)steps * (double)left : 0.0);
    fprintf(stderr, "epoch %d/%d  step %ld/%ld  loss %.5f  %.0f samples/s  ETA %s\n", s->epoch,
            ui->total_epochs, s->step_in_epoch, s->steps_per_epoch,
            ui->bar_steps ? ui->bar_loss_sum / (double)ui->bar_steps : 0.0,
            secs > 0 ? (double)ui->log_samples / secs : 0.0, eta);
    fflush(stderr);
    ui->log_mark = now;
    ui->log_samples = 0;
    ui->log_step_mark = s->step;
}

static void on_step(const descent_step_info *s, void *user) {
    train_ui *ui = user;
    if (ui->bar_steps == 0) fault_point("epoch-started"); /* after the last epoch's checkpoint */
    if (ui->first_step == 0.0) ui->first_step = unix_now();
    ui->bar_loss_sum += s->batch_loss;
    ui->bar_steps++;
    log_progress(ui, s);
}

/* epoch 3/10 [#########.....]  45%  loss 0.41230  182000 samples/s  ETA 1m12s
 * (the epoch's mean batch loss so far; the ETA of the whole run) */
static void on_progress(int epoch, long step, long steps, void *user) {
    train_ui *ui = user;
    if (g_rank != 0 || !ui->tty || ui->quiet) return;
    const int width = 30, done = (int)(width * step / steps);
    const double secs = monotonic_seconds() - ui->epoch_mark;
    const double per_step = ui->bar_steps ? secs / (double)ui->bar_steps : 0;
    const long left = (steps - step) + (long)(ui->total_epochs - epoch) * steps;
    char eta[32];
    fmt_duration(eta, sizeof eta, per_step * (double)left);
    fprintf(stderr, "\repoch %d/%d [", epoch, ui->total_epochs);
    for (int i = 0; i < width; i++) fputc(i < done ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%  loss %.5f  %.0f samples/s  ETA %s ", (int)(100 * step / steps),
            ui->bar_steps ? ui->bar_loss_sum / (double)ui->bar_steps : 0.0,
            secs > 0 ? (double)ui->bar_steps * (double)ui->batch / secs : 0.0, eta);
    if (step == steps) fprintf(stderr, "\r%*s\r", width + 80, "");
    fflush(stderr);
}

static void fmt_acc(char *buf, size_t n, double x) {
    if (isnan(x)) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.4f", x);
}

/* The metrics file's row of an epoch (below) */
static int metrics_row(train_ui *ui, const descent_epoch_stats *st, double total);

/* Every rank: the best epoch's parameters, for --restore-best */
static void keep_best_params(train_ui *ui, const descent_epoch_stats *st) {
    ui->last_epoch = st->epoch;
    if (st->has_val) ui->best_epoch = st->best_epoch;
    if (!ui->best_params || !st->has_val || st->best_epoch != st->epoch) return;
    memcpy(ui->best_params, descent_net_params_const(ui->net),
           sizeof(float) * descent_net_num_params(ui->net));
    ui->best_params_epoch = st->epoch;
}

static int on_epoch(const descent_epoch_stats *st, void *user) {
    train_ui *ui = user;
    keep_best_params(ui, st);
    if (g_rank != 0) return 0;
    fault_point("epoch-ended");
    char ta[16], va[16];
    fmt_acc(ta, sizeof ta, st->train_accuracy);
    fmt_acc(va, sizeof va, st->has_val ? st->val.accuracy : NAN);
    const double share = st->seconds > 0 ? 100.0 * st->comm_seconds / st->seconds : 0.0;
    const double total = elapsed(ui);
    ui->epoch_mark = monotonic_seconds(); /* the progress bar's next epoch starts */
    ui->bar_loss_sum = 0.0;
    ui->bar_steps = 0;
    if (!ui->quiet) {
        char when[32];
        fmt_duration(when, sizeof when, total);
        printf("epoch %3d/%d  loss %.5f  train-acc %s", st->epoch, ui->total_epochs,
               st->train_loss, ta);
        if (st->has_val)
            printf("  val-loss %.5f  val-acc %s%s", st->val.loss, va,
                   st->best_epoch == st->epoch ? " (best)" : "");
        printf("  lr %.4g  %8.0f samples/s  %6.2f s  (compute %.2f s, comm %.2f s = %.1f%%)  "
               "elapsed %s\n", st->lr, st->samples_per_sec, st->seconds, st->compute_seconds,
               st->comm_seconds, share, when);
        if (st->early_stop)
            printf("early stop: the validation loss has not gone below its best for %d epochs; "
                   "best epoch %d (val-loss %.5f)\n", st->epoch - st->best_epoch,
                   st->best_epoch, st->best_val_loss);
        fflush(stdout);
    }
    if (ui->metrics_path && metrics_row(ui, st, total)) return 1; /* the record cannot be kept: stop */
    return 0;
}

descent_callbacks train_callbacks(train_ui *ui) {
    return (descent_callbacks){on_epoch, on_step, on_progress, should_stop, ui};
}

/* ---- the metrics file ---- */
static const char METRICS_HEADER[] = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,"
                                     "samples_per_s,seconds,compute_seconds,comm_seconds,lr,"
                                     "elapsed_seconds\n";

/* The rows of epochs before `epoch` from an earlier run's file, each epoch
 * once and in order: malloc'ed text (possibly empty), or NULL when there is
 * no such file. */
static char *earlier_rows(const char *path, int epoch) {
    FILE *f = descent_open_input(path, NULL);
    if (!f) return NULL;
    size_t cap = 4096, used = 0;
    char *rows = malloc(cap), line[1024];
    int next = 1;
    while (rows && fgets(line, sizeof line, f)) {
        char *end;
        const long e = strtol(line, &end, 10);
        if (end == line || *end != ',' || e != next || e >= epoch) continue;
        const size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') continue; /* not a whole row */
        if (used + n + 1 > cap) {
            char *bigger = realloc(rows, cap *= 2);
            if (!bigger) { free(rows); rows = NULL; break; }
            rows = bigger;
        }
        memcpy(rows + used, line, n + 1);
        used += n;
        next++;
    }
    fclose(f);
    if (rows) rows[used] = '\0';
    return rows;
}

/* The elapsed_seconds (last column) of the last of these rows, 0 if none */
static double last_elapsed(const char *rows) {
    const size_t n = strlen(rows);
    if (n < 2) return 0.0;
    const char *line = rows + n - 1; /* the final newline */
    while (line > rows && line[-1] != '\n') line--;
    const char *comma = strrchr(line, ',');
    int fields = 0;
    for (const char *p = line; *p && *p != '\n'; p++) fields += *p == ',';
    if (!comma || fields != 10) return 0.0; /* a row from before the column existed */
    const double v = strtod(comma + 1, NULL);
    return isfinite(v) && v > 0 ? v : 0.0;
}

/* The header and the rows so far: what FILE is replaced with, whole */
static int write_start(FILE *f, void *rows) {
    return fputs(METRICS_HEADER, f) < 0 || (rows && fputs(rows, f) < 0) ? -1 : 0;
}

/* FILE becomes the header and `rows`, at once (a reader sees the old file
 * or the new one), and is opened to append the next rows. */
static int metrics_start(train_ui *ui, const char *rows) {
    const int rc = descent_write_file(ui->metrics_path, write_start, (void *)rows,
                                      &ui->metrics_err);
    if (rc) return rc;
    ui->metrics = fopen(ui->metrics_path, "a");
    if (!ui->metrics)
        return cli_error(&ui->metrics_err, DESCENT_E_IO, "%s: cannot open: %s", ui->metrics_path,
                         strerror(errno));
    fault_point("metrics-opened");
    return DESCENT_OK;
}

/* One epoch's row, durable before the epoch's checkpoint is written. The
 * first row of a run creates the file with it; a later one is appended,
 * and one that cannot be written whole is cut off again, so the file holds
 * whole rows only. */
static int metrics_row(train_ui *ui, const descent_epoch_stats *st, double total) {
    if (ui->metrics_err.code) return 1;
    char row[512];
    snprintf(row, sizeof row, "%d,%.9g,%.9g,%.9g,%.9g,%.6g,%.6g,%.6g,%.6g,%.9g,%.6g\n", st->epoch,
             st->train_loss, st->train_accuracy, st->has_val ? st->val.loss : NAN,
             st->has_val ? st->val.accuracy : NAN, st->samples_per_sec, st->seconds,
             st->compute_seconds, st->comm_seconds, st->lr, total);
    if (!ui->metrics) {
        if (metrics_start(ui, row)) return 1;
    } else {
        const long before = ftell(ui->metrics);
        if (fputs(row, ui->metrics) < 0 || fflush(ui->metrics) != 0 ||
            fsync(fileno(ui->metrics)) != 0) {
            const int e = errno ? errno : EIO;
            clearerr(ui->metrics);
            if (before >= 0 && ftruncate(fileno(ui->metrics), before) == 0)
                fsync(fileno(ui->metrics));
            cli_error(&ui->metrics_err, DESCENT_E_IO, "%s: cannot write: %s", ui->metrics_path,
                      strerror(e));
            return 1;
        }
    }
    fault_point("row-written");
    return 0;
}

int metrics_open(train_ui *ui, const char *path, int resume_epoch, descent_error *err) {
    ui->metrics = NULL;
    ui->metrics_path = g_rank == 0 ? path : NULL;
    memset(&ui->metrics_err, 0, sizeof ui->metrics_err);
    if (!ui->metrics_path || resume_epoch <= 1) return DESCENT_OK; /* made by the first row */
    char *rows = earlier_rows(path, resume_epoch);
    if (!rows) return DESCENT_OK;
    ui->elapsed_before = last_elapsed(rows);
    const int rc = metrics_start(ui, rows);
    free(rows);
    if (rc) *err = ui->metrics_err;
    return rc;
}

int metrics_finish(train_ui *ui, descent_error *err) {
    if (ui->metrics) {
        const int e = fflush(ui->metrics) != 0 || fsync(fileno(ui->metrics)) != 0 ? errno : 0;
        if ((fclose(ui->metrics) != 0 || e) && !ui->metrics_err.code)
            cli_error(&ui->metrics_err, DESCENT_E_IO, "%s: cannot write: %s", ui->metrics_path,
                      strerror(e ? e : errno));
        ui->metrics = NULL;
    }
    if (!ui->metrics_err.code) return DESCENT_OK;
    *err = ui->metrics_err;
    return err->code;
}

/* ---- the end ---- */
/* This process's proportional set size in MiB (pages shared with other
 * processes count by their share), from /proc/self/smaps_rollup; -1 when
 * the kernel does not provide it */
static double pss_mb(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) return -1.0;
    char line[256];
    double kb = -1.0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pss: %lf kB", &kb) == 1) break;
    fclose(f);
    return kb < 0 ? -1.0 : kb / 1024.0;
}

void print_stats(const train_ui *ui) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "stats: rank %d peak_rss_mb %.1f first_step_unix %.6f pss_mb %.1f\n", g_rank,
            (double)ru.ru_maxrss / 1024.0, ui->first_step, pss_mb());
}
