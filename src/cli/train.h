/* SPDX-License-Identifier: MIT */
/*
 * train.h - what `descent train`'s files share: its options and the
 * network options' parsers (train_options.c), used again to compare a
 * resumed run's command line with its checkpoint (resume.c).
 */
#ifndef DESCENT_CLI_TRAIN_H
#define DESCENT_CLI_TRAIN_H

#include "cli.h"

/* Everything `descent train` reads from its command line */
typedef struct {
    option_table table;
    data_opts data;
    descent_train_config cfg;
    const char *layers, *acts, *out, *metrics, *resume, *init_model;
    int hidden, output, cost, schedule, optimizer, quiet, stats, restore_best, standardize;
    long long epochs, batch, seed, sync_check, keep, patience, overlap_piece;
    double val_fraction;
    long log_steps;      /* --log-every N: a progress line every N steps...   */
    double log_seconds;  /* ... or Ns: every N seconds (0 and 0: the default) */
    const char *float_because; /* the option that chose float sums for the    */
                               /* default exact ones, or NULL (the banner)    */
} train_opts;

/* The command line into o (exits with a usage error on a bad one), with the
 * checks between options */
void parse_train_options(train_opts *o, int argc, char **argv);
/* No output of the run is one of its inputs or another output, and each
 * can be written (exits otherwise) */
void check_train_files(const train_opts *o);

#define MAX_LAYERS 1024
/* --layers "784,256,10" into widths; returns the number of weight layers */
int parse_widths(const char *s, int *sizes, int max);
/* --activations "relu,relu,softmax": exactly one per layer */
void parse_activation_list(const char *list, descent_act *acts, int L);
/* The activations the options give an L-layer network */
void activations_of(const train_opts *o, descent_act *acts, int L);

/* The checkpoint named by --resume, its network and state; the options
 * given are checked against it (resume.c). */
descent_net *load_resume(train_opts *o, descent_checkpoint **ck);
/* The network and weights of --init-model (a model or a checkpoint); the
 * network options given are checked against it (resume.c). */
descent_net *load_init_model(const train_opts *o);

#endif
