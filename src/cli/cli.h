/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the command-line tool's files share. The tool uses only the
 * public API (descent/descent.h). It parses options (options.c), loads data
 * (data_options.c), prints on rank 0 only, writes output files on rank 0
 * only, and chooses exit codes (exits.c):
 *   0 success, 2 bad usage or bad data, 1 any other failure,
 *   3 stopped by SIGTERM/SIGINT/SIGUSR1 after writing a checkpoint.
 * Under MPI every failure is agreed between ranks before anyone exits, and
 * exactly one rank (the lowest that failed) prints the message.
 */
#ifndef DESCENT_CLI_H
#define DESCENT_CLI_H

#include <descent/descent.h>

#ifndef DEFAULT_DATA_DIR
#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#endif

/* ---- the process (main.c) ---- */
extern const char *g_cmd;  /* "descent train": the prefix of every message */
extern int g_rank, g_size;

/* ---- exits (exits.c) ---- */
/* Finalise MPI and exit with code. */
void leave(int code) __attribute__((noreturn));
/* A usage error found identically on every rank (same argv): rank 0 prints
 * "descent CMD: message (see 'descent CMD --help')", exit 2. */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Agree on rc across ranks; if any failed, the lowest failing rank prints
 * its message and every rank exits with the same code. */
void check(int rc, const descent_error *err);
/* For a status the library already agreed on (descent_train, descent_evaluate):
 * err->rank says who prints. */
void check_agreed(int rc, const descent_error *err);
/* An output the command will write (path may be NULL: none) can be written
 * as kind: checked before any work, by rank 0, which writes the outputs;
 * every rank learns the verdict, and a failure ends the command. */
void require_output(const char *path, descent_output kind);
/* Test builds (DESCENT_FAULT_POINTS) end the process with SIGKILL at the
 * point named by DESCENT_FAULT=NAME[@N] (its Nth passage; default the
 * first), to test what a kill at that moment leaves; other builds have no
 * fault points. */
#ifdef DESCENT_FAULT_POINTS
void fault_point(const char *name);
#else
static inline void fault_point(const char *name) { (void)name; }
#endif
/* Fill err with a CLI-made failure on this rank; returns code. */
int cli_error(descent_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- options (options.c): one table per command, one parser ---- */
typedef enum {
    OPT_FLAG,    /* no value: *(int *)dst = flag_value                          */
    OPT_STRING,  /* *(const char **)dst = the value                             */
    OPT_INPUT,   /* a file or directory the command reads: like OPT_STRING,     */
    OPT_OUTPUT,  /* or one it writes; never empty, and checked against the      */
                 /* others by check_paths                                       */
    OPT_INT,     /* *(long long *)dst = a whole number in [lo, hi]              */
    OPT_NUMBER,  /* *(double *)dst = a finite number                            */
    OPT_CHOICE,  /* *(int *)dst = lookup(value), which returns < 0 if unknown:  */
                 /* "unknown <what> 'value' (<choices>)"                        */
    OPT_CUSTOM,  /* custom(name, value, dst), which calls usage_error if bad    */
    OPT_HELP     /* print help on rank 0, exit 0                                */
} opt_kind;

typedef struct {
    const char *name;  /* "--epochs"                                          */
    const char *alias; /* another accepted spelling, or NULL                   */
    opt_kind kind;
    void *dst;
    long long lo, hi;  /* OPT_INT range; OPT_FLAG: lo is the value stored     */
    int (*lookup)(const char *value);
    const char *what, *choices; /* OPT_CHOICE: "optimizer", "gd, momentum, adam" */
    void (*custom)(const char *name, const char *value, void *dst);
    int given;         /* set by the parser: the option was on the line        */
    const char *value; /* set by the parser: the last value given (or NULL)    */
} option_spec;

#define OPTIONS_MAX 64
typedef struct {
    option_spec spec[OPTIONS_MAX];
    int n;
    void (*help)(void);
    option_spec *positional; /* the option a bare argument gives (info a.model), or NULL */
    const char *stray; /* set by the parser: the first argument no option takes */
} option_table;

/* Add one option to t (returns it, so the caller can keep a pointer). */
option_spec *opt_add(option_table *t, option_spec spec);
/* Parse argv[2..argc) against t: every argument must be one of its options
 * (--name VALUE or --name=VALUE), or, once, a bare value of t->positional;
 * values are checked and stored in order, later ones win. An unknown
 * option is refused naming the closest known one when one is close. Any mistake is a usage error. Under MPI the ranks first
 * compare what they were given (check_ranks_agree), so that no rank ends
 * alone on a mistake the others do not see. Collective. */
void parse_options(option_table *t, int argc, char **argv);
/* Was the option with this name given? */
int opt_given(const option_table *t, const char *name);
/* "a, b, c": the names of values 0..count-1 of an enum, skipping `skip`
 * (-1: none), into buf; returns buf. */
const char *join_names(char *buf, size_t len, int count, const char *(*name)(int), int skip);
/* A whole number from an option's value, or a usage error. */
long long opt_whole(const char *opt, const char *s, long long lo, long long hi);

/* ---- the files a command names (paths.c) ---- */
typedef struct {
    const char *option; /* "--out", or a description: "--metrics (FILE.partial)" */
    const char *path;
    int output;
} named_path;
#define PATHS_MAX 48
typedef struct {
    named_path p[PATHS_MAX];
    int n;
} path_list;
/* Add one (path NULL: nothing); the option text and path must outlive l. */
void paths_add(path_list *l, const char *option, const char *path, int output);
/* The OPT_INPUT and OPT_OUTPUT options given in t */
void paths_from_table(path_list *l, const option_table *t);
/* No output may be the same file as an input or another output (the same
 * device and inode where it exists, the same directory and name where it
 * does not yet): a usage error naming both options. Pairs for which
 * allowed(a, b) is non-zero are left alone (allowed may be NULL). */
void check_paths(const path_list *l, int (*allowed)(const named_path *a, const named_path *b));
/* Every rank was given the same options as rank 0 (as parse_options found
 * them before checking: the values of all but the file names, of which
 * only which were given, and any stray argument): a usage error naming the
 * option and both values otherwise, on every rank. Collective. */
void check_ranks_agree(const option_table *t);

/* ---- data options shared by train and eval (data_options.c) ---- */
typedef struct {
    const char *dir;                 /* IDX directory                       */
    const char *train_images, *train_labels, *test_images, *test_labels;
    const char *train_csv, *test_csv;
    const char *train_npy, *train_npy_labels, *test_npy, *test_npy_labels;
    int csv_header, csv_label_last;
    long long csv_targets, classes;
    long long limit, test_limit;     /* -1: all                             */
} data_opts;
extern const char *const DATA_HELP, *const TEST_DATA_HELP; /* train's, eval's */
/* Which sets a command reads: eval refuses the training set's options (it
 * would ignore them) */
typedef enum { DATA_TRAIN_AND_TEST, DATA_TEST_ONLY } data_scope;
void data_options_add(option_table *t, data_opts *d, data_scope scope);
/* The training (test = 0) or test (test = 1) set named by the options; the
 * default data directory's when none is named and required is set; NULL
 * when none is named and not required. Failures end the command. */
descent_data *load_set(const data_opts *d, int test, int required);
/* The files load_set would read for the same arguments, as inputs */
void data_inputs(const data_opts *d, int test, int required, path_list *l);

/* ---- commands: each returns the exit code ---- */
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_commbench(int argc, char **argv);

/* A model file, or the end of the command with its error. */
descent_net *load_model(const char *path);

#endif
