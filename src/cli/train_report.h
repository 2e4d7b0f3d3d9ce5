/* SPDX-License-Identifier: MIT */
/*
 * train_report.h - what `descent train` shows and records while it runs
 * (train_report.c).
 */
#ifndef DESCENT_TRAIN_REPORT_H
#define DESCENT_TRAIN_REPORT_H

#include "cli.h"

#include <stdio.h>

typedef struct {
    const char *metrics_path; /* rank 0 with --metrics: FILE               */
    FILE *metrics;            /* FILE, open to append, once it exists      */
    descent_error metrics_err; /* a write to it failed (code 0: none)      */
    int quiet, tty, total_epochs;
    double first_step;      /* wall-clock (Unix) time the first step ended */
    size_t batch, n_train;  /* samples per step (the last may be fewer)    */
    const char *best_model; /* --keep-best FILE, or NULL                    */
    double start;           /* monotonic time training started             */
    double elapsed_before;  /* seconds an earlier run (resumed) took        */
    /* the progress bar: this epoch's steps so far and their loss */
    double bar_loss_sum;
    long bar_steps;
    double epoch_mark;      /* when the last epoch ended (or training began) */
    int best_epoch;         /* the best validation epoch so far (0: none)  */
    int last_epoch;         /* the last epoch that ended                   */
    /* progress lines: every log_steps steps, or every log_seconds seconds
     * (both 0: none); the samples and time since the last one */
    long log_steps;
    double log_seconds, log_mark;
    size_t log_samples;
    long log_step_mark;
    /* --restore-best: the parameters of the best epoch this run saw (every
     * rank keeps them), copied from net after that epoch */
    const descent_net *net;
    float *best_params;     /* NULL: not asked for                         */
    int best_params_epoch;  /* the epoch they are of (0: none yet)         */
} train_ui;

/* CLOCK_MONOTONIC in seconds */
double monotonic_seconds(void);
/* SIGTERM, SIGINT, SIGUSR1: stop after the current step (should_stop);
 * installed before anything else `descent train` does. */
void install_stop_signals(void);
/* A stop asked for before training (on any rank) ends the command here,
 * exit 3; `when` says what was being done. Collective. */
void end_if_stop_requested(const char *when);
/* Rank 0 prints what will run, where, on what (unless quiet); with
 * float_because, the option that chose float sums. Collective. */
void print_banner(const descent_net *net, const descent_train_config *cfg,
                  const char *float_because, size_t n_train, size_t n_val, size_t n_test,
                  int quiet);
/* Ranks of a host whose threads were pinned to the same CPUs get CPUs of
 * their own (or the fix, when the host is too small), said on stderr; a
 * warning when a rank's threads outnumber the CPUs it may run on.
 * Collective. */
void warn_if_threads_share_cpus(void);
/* The library's callbacks: progress bar, epoch lines, metrics rows, stop. */
descent_callbacks train_callbacks(train_ui *ui);
/* The metrics file FILE (rank 0), a live log of whole rows: a fresh run
 * makes it with its first epoch's row; a run resuming at resume_epoch
 * replaces it at once with the header and the earlier run's rows of the
 * epochs before it (so one file holds every epoch once across stops and
 * kills), then appends. metrics_finish closes it and reports a write that
 * failed, naming FILE (the rows before it stay). */
int metrics_open(train_ui *ui, const char *path, int resume_epoch, descent_error *err);
int metrics_finish(train_ui *ui, descent_error *err);
/* --stats: one line per rank on stderr. */
void print_stats(const train_ui *ui);

#endif
