/* SPDX-License-Identifier: MIT */
/*
 * descent.h - the public C API of descent, a trainer for fully connected
 * neural networks (classic backpropagation, data parallel over MPI ranks,
 * OpenMP threads inside the layer kernels).
 *
 * This header is the whole public surface. It pulls in neither <mpi.h> nor
 * <omp.h>. Every function that can fail returns a descent_status (0 = OK) and,
 * where a descent_error is passed, fills it with one human-readable line that
 * names the file, record and problem. The library never prints, never exits
 * and never sets the OpenMP thread count: those decisions belong to the caller.
 *
 * Pointers: an argument may be NULL only where its comment says so (the
 * descent_error *err of every function may always be NULL). A function that
 * returns a status returns DESCENT_E_USAGE, naming itself and the argument,
 * for a NULL that is not allowed, and for an enum value outside its list.
 * The accessors that return a value (descent_net_layers, descent_data_count,
 * ...) take a valid handle; the *_free functions accept NULL.
 */
#ifndef DESCENT_DESCENT_H
#define DESCENT_DESCENT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DESCENT_VERSION_STRING "0.1.0"

/* ---- status codes ---------------------------------------------------------
 * X(name, text): every status and the text descent_strerror gives for it. */
#define DESCENT_STATUSES(X)                                                      \
    X(DESCENT_OK, "success")                                                     \
    /* an argument or option makes no sense */                                   \
    X(DESCENT_E_USAGE, "invalid argument")                                       \
    /* a file could not be opened, read or written */                            \
    X(DESCENT_E_IO, "input/output error")                                        \
    /* a file's contents are malformed or truncated */                           \
    X(DESCENT_E_FORMAT, "malformed or truncated data")                           \
    /* an allocation failed or a size is absurd */                               \
    X(DESCENT_E_NOMEM, "out of memory or absurd size")                           \
    /* a loss or gradient became NaN or Inf */                                   \
    X(DESCENT_E_NONFINITE, "non-finite loss or gradient")                        \
    /* shapes of data and network disagree */                                    \
    X(DESCENT_E_MISMATCH, "data and network do not fit")                         \
    /* ranks hold different parameters */                                        \
    X(DESCENT_E_DESYNC, "ranks hold different parameters")                       \
    /* another MPI rank failed */                                                \
    X(DESCENT_E_REMOTE, "another rank failed")                                   \
    /* stopped by a signal after a clean checkpoint */                           \
    X(DESCENT_E_INTERRUPTED, "interrupted")                                      \
    /* an MPI collective failed: ranks cannot agree any more; abort the job */   \
    X(DESCENT_E_COMM, "MPI communication failed")                                \
    /* this CPU lacks instructions the library was compiled to use */            \
    X(DESCENT_E_CPU, "this CPU cannot run this build")

typedef enum {
#define DESCENT_STATUS_ENUM(name, text) name,
    DESCENT_STATUSES(DESCENT_STATUS_ENUM)
#undef DESCENT_STATUS_ENUM
    DESCENT_E_COUNT
} descent_status;

/* Text for a status code (static storage, never NULL). */
const char *descent_strerror(int status);

/* src as one printable line in dst (cap bytes, always terminated): control
 * bytes and bytes that are not UTF-8 become \xNN. Every message the library
 * puts in a descent_error has been through it. */
void descent_printable(char *dst, size_t cap, const char *src);

/* One line describing the last failure: "file: record 12: problem". */
typedef struct {
    int code;       /* the status                                          */
    int rank;       /* MPI rank where it happened (0 without MPI)           */
    char msg[512];  /* the message, from that rank                          */
} descent_error;

/* ---- network -------------------------------------------------------------- */
typedef enum {
    DESCENT_ACT_SIGMOID = 0, /* the derivation's; the default                 */
    DESCENT_ACT_TANH,
    DESCENT_ACT_RELU,
    DESCENT_ACT_IDENTITY,
    DESCENT_ACT_SOFTMAX,     /* output layer only                             */
    DESCENT_ACT_COUNT
} descent_act;

typedef enum {
    DESCENT_COST_MSE = 0,    /* C0 = sum_j (a_j - y_j)^2, no 1/2 (derivation) */
    DESCENT_COST_XENT,       /* softmax cross-entropy: -sum_j y_j log a_j     */
    DESCENT_COST_COUNT
} descent_cost;

const char *descent_act_name(descent_act a);
const char *descent_cost_name(descent_cost c);
/* Parse "sigmoid", "relu", ...; returns -1 for an unknown name. */
int descent_act_parse(const char *name);
int descent_cost_parse(const char *name);

typedef struct descent_net descent_net;

/*
 * Create a network with n_layers weight layers. sizes has n_layers+1 entries
 * (input width first), acts has n_layers entries (activation of each layer's
 * output). Parameters are zero until descent_net_init. Returns DESCENT_E_USAGE
 * (with err filled) for combinations that make no sense: softmax on a hidden
 * layer, cross-entropy without a softmax output, a zero width.
 */
int descent_net_create(descent_net **out, int n_layers, const int *sizes,
                       const descent_act *acts, descent_cost cost,
                       descent_error *err);
void descent_net_free(descent_net *net);

/* Xavier/Glorot (sigmoid, tanh, identity, softmax) or He (relu) uniform
 * initialisation from the library's own seeded generator; biases zero. */
void descent_net_init(descent_net *net, uint64_t seed);

int descent_net_layers(const descent_net *net);
int descent_net_size(const descent_net *net, int i);     /* i in 0..layers */
descent_act descent_net_act(const descent_net *net, int layer); /* 0-based */
descent_cost descent_net_cost(const descent_net *net);
size_t descent_net_num_params(const descent_net *net);

/* The one contiguous parameter buffer. Layout, layer after layer:
 * W_l (sizes[l+1] x sizes[l], row-major: W[j][k] is w_jk of the derivation),
 * then b_l (sizes[l+1]). */
float *descent_net_params(descent_net *net);
const float *descent_net_params_const(const descent_net *net);
/* Views into that buffer for layer l (0-based). */
float *descent_net_weights(descent_net *net, int layer);
float *descent_net_biases(descent_net *net, int layer);

/* Standardised inputs: every forward pass (training, evaluation,
 * prediction) first maps input k to (x_k - mean[k]) / std[k], in float.
 * mean and std hold sizes[0] finite values, std > 0; both are copied. NULL
 * and NULL: raw inputs again. Saved in model files and checkpoints. */
int descent_net_set_standardization(descent_net *net, const float *mean, const float *std,
                                    descent_error *err);
/* 1 and the two arrays (owned by net) when net standardises its inputs;
 * 0 and NULLs otherwise (mean and std may be NULL). */
int descent_net_standardization(const descent_net *net, const float **mean, const float **std);

/* How the network was made, as lines of text ("key: value"), or NULL when
 * descent_train never trained it: the descent version, the configuration
 * that decides the result (optimizer, learning rate and schedule, batch,
 * epochs, seed, sums, regularisation), the training and validation data's
 * sizes and checksums, and the best validation loss so far. A network
 * trained further from a model keeps that model's provenance under
 * "fine-tuned from:". Set by descent_train; saved in model files and
 * checkpoints; owned by net. */
const char *descent_net_provenance(const descent_net *net);

/*
 * Forward pass on n samples (x: n x sizes[0] row-major floats) writing the
 * output activations to out (n x sizes[L]). Allocates its own scratch.
 */
int descent_net_predict(const descent_net *net, const float *x, size_t n,
                        float *out, descent_error *err);

/*
 * Loss and gradient of one batch, the derivation's way: per-sample gradients
 * are summed, then divided by m once (1/m rule). grad has the parameter
 * buffer's layout; *loss receives the mean cost C = (1/m) sum_i C_i.
 * y holds the targets (n x sizes[L]). Mostly for tests and tools.
 */
int descent_net_gradient(const descent_net *net, const float *x,
                         const float *y, size_t n, float *grad, double *loss,
                         descent_error *err);

/* ---- model files ----------------------------------------------------------
 * Little-endian binary (docs/file-formats.md): magic "DSCNTMDL",
 * u32 version, u32 layers, u32 sizes[layers+1], u32 acts[layers], u32 cost,
 * u64 parameter count, f32 parameters, u32 crc32 of everything before it.
 * The write is atomic: a temporary file is fsynced and renamed into place. */
int descent_model_save(const descent_net *net, const char *path,
                       descent_error *err);
/* 1 when path starts like a checkpoint file (its magic), 0 otherwise (a
 * model file, another file, one that cannot be read, NULL). */
int descent_file_is_checkpoint(const char *path);
/* Load a model file, or a checkpoint file (its network and weights; the
 * training state is left out). */
int descent_model_load(descent_net **out, const char *path,
                       descent_error *err);

/* Write a file atomically (temporary file, fsync, rename, fsync of the
 * directory): writer streams the content and returns 0, or -1 on failure
 * (ctx, passed to it, may be NULL). Only a regular file, or nothing, is
 * replaced at path; a symbolic link keeps pointing at the file it names,
 * which gets the new contents. */
int descent_write_file(const char *path, int (*writer)(FILE *f, void *ctx),
                       void *ctx, descent_error *err);

/* Open path for reading ("rb") if it is a regular file, without waiting on
 * a FIFO or device; NULL with err filled ("cannot open: ...", "is a
 * directory, not a file", "not a regular file") otherwise. */
FILE *descent_open_input(const char *path, descent_error *err);

/* What an output path must be: a file (created or replaced in an existing
 * directory), an existing directory, or a directory that exists or can be
 * created. */
typedef enum {
    DESCENT_OUTPUT_FILE = 0,
    DESCENT_OUTPUT_DIR,
    DESCENT_OUTPUT_NEW_DIR
} descent_output;

/* Check, before any work, that path can be written as kind: by creating and
 * removing a file there. DESCENT_E_IO names the path and the reason. */
int descent_check_output(const char *path, descent_output kind, descent_error *err);

/* Write W_l and b_l of every layer as NumPy .npy files in dir
 * (dir/W1.npy, dir/b1.npy, ...; float32, W_l is out x in) and
 * dir/manifest.json (format "descent-npy", version 1, the widths, the
 * activations, the cost and each layer's file names): all of them or, on
 * failure, none. */
int descent_model_export_npy(const descent_net *net, const char *dir,
                             descent_error *err);

/* ---- data ----------------------------------------------------------------- */
typedef struct descent_data descent_data;

/* IDX image + label files (MNIST layout), plain or .gz. Pixels stay uint8 in
 * memory and are scaled to [0,1] per batch; labels become one-hot targets.
 * labels may be NULL: an unlabelled set (for prediction). */
int descent_data_load_idx(descent_data **out, const char *images,
                          const char *labels, descent_error *err);

typedef struct {
    int header;       /* 1: skip the first line                            */
    int n_targets;    /* 0: classification, the label is column label_col; */
                      /* >0: regression, the last n_targets columns         */
    int label_col;    /* classification: 0 = first column, -1 = last        */
    int n_classes;    /* classification: 0 = max label + 1                  */
    int unlabeled;    /* 1: every column is a feature (for prediction)      */
} descent_csv_options;

/* opt may be NULL: classification, label in the first column, no header. */
int descent_data_load_csv(descent_data **out, const char *path,
                          const descent_csv_options *opt, descent_error *err);
/* Free a data set. One loaded by descent_data_load_shared must be freed by
 * every rank (collective on each host). */
void descent_data_free(descent_data *d);

/* One copy per host: on each host one rank calls load (which fills *set
 * with any descent_data_load_... or descent_data_from_arrays); the set's
 * arrays move into shared memory (an MPI-3 shared window) that every rank
 * of the host reads. key names what load reads (file names and options):
 * when the ranks of a host do not all give the same key, each of them loads
 * its own (their data are compared before training). Collective over all
 * ranks; a failure of any loader is
 * every rank's failure. Without MPI, or one rank per host, it is just load. */
typedef int (*descent_loader)(descent_data **set, void *ctx, descent_error *err);
int descent_data_load_shared(descent_data **out, const char *key, descent_loader load,
                             void *ctx, descent_error *err);

/* ---- data from arrays and NumPy files -------------------------------------
 * One rule for both: a uint8 feature array is scaled to [0,1] (x / 255, like
 * IDX pixels), float32 and float64 features are taken as they are; labels of
 * an integer type (uint8, int32, int64) are class indices, labels of a float
 * type are regression targets. Every value is checked: a feature or target
 * that is not a finite float32, a label outside 0..n_classes-1, is refused
 * with its position ("features[12][3] is nan"). */
typedef enum {
    DESCENT_U8 = 0, DESCENT_I32, DESCENT_I64, DESCENT_F32, DESCENT_F64, DESCENT_DTYPE_COUNT
} descent_dtype;

typedef struct {
    const void *data;     /* rows x cols elements of dtype, row-major        */
    descent_dtype dtype;
    size_t rows;          /* samples                                          */
    size_t cols;          /* features, targets; 1 for class labels            */
} descent_array;

/* A data set COPIED from the caller's arrays: the caller keeps ownership of
 * them and may free or reuse them as soon as this returns; free the set
 * with descent_data_free. labels may be NULL (an unlabelled set, for
 * prediction); n_classes (classification only) 0 means the largest label
 * + 1. name (may be NULL: "arrays") stands for the set in messages. */
int descent_data_from_arrays(descent_data **out, const char *name,
                             const descent_array *features,
                             const descent_array *labels, int n_classes,
                             descent_error *err);

/* NumPy .npy files (format 1.0-3.0, little-endian, C order; plain or .gz):
 * features of shape (n, k) or (n, d1, d2, ...) (flattened per sample) in
 * uint8, float32 or float64; labels (may be NULL) of shape (n,) or (n, 1)
 * with an integer type (class indices), or (n,) / (n, t) float32 or float64
 * (regression targets). n_classes as for descent_data_from_arrays. */
int descent_data_load_npy(descent_data **out, const char *features,
                          const char *labels, int n_classes, descent_error *err);

size_t descent_data_count(const descent_data *d);
int descent_data_features(const descent_data *d);
int descent_data_outputs(const descent_data *d);   /* classes or targets */
int descent_data_is_classification(const descent_data *d);
/* Keep only the first n samples (n <= count). */
void descent_data_truncate(descent_data *d, size_t n);
/* Move the last `fraction` of d into a new set *val (0 < fraction < 1). */
int descent_data_split(descent_data *d, double fraction, descent_data **val,
                       descent_error *err);
/* Check that d fits net: feature count, and labels inside the output layer
 * (classification) or the target count (regression). */
int descent_data_check(const descent_data *d, const descent_net *net,
                       descent_error *err);
/* Copy sample i as floats: x gets features, y (may be NULL) the targets. */
void descent_data_sample(const descent_data *d, size_t i, float *x, float *y);
/* Per-feature mean and standard deviation (population, 1/n) of a data set's
 * features as the network sees them (8-bit data scaled to [0,1]), summed in
 * double in sample order, so the same for any ranks and threads; a feature
 * that never varies gets std 1. mean and std hold descent_data_features(d)
 * values each. */
int descent_data_feature_stats(const descent_data *d, float *mean, float *std,
                               descent_error *err);

/* ---- training ------------------------------------------------------------- */
typedef enum {
    DESCENT_OPT_GD = 0,       /* theta <- theta - lr grad C (the derivation) */
    DESCENT_OPT_MOMENTUM,
    DESCENT_OPT_ADAM,
    DESCENT_OPT_COUNT
} descent_optimizer;

const char *descent_optimizer_name(descent_optimizer o);
int descent_optimizer_parse(const char *name);     /* -1: unknown name */

typedef enum {
    DESCENT_LR_CONSTANT = 0, /* alpha throughout (the derivation)              */
    DESCENT_LR_COSINE,       /* alpha (1 + cos(pi t / T)) / 2 over the T steps  */
    DESCENT_LR_COUNT
} descent_lr_schedule;

const char *descent_lr_schedule_name(descent_lr_schedule s);
int descent_lr_schedule_parse(const char *name);   /* -1: unknown name */

typedef struct {
    size_t size;             /* sizeof this struct as the caller was built:   */
                             /* set by descent_train_config_default, so that  */
                             /* a later library that adds fields at the end   */
                             /* gives an older caller's missing ones their    */
                             /* defaults. Fill every config with it first.   */
    int epochs;              /* > 0                                           */
    size_t batch;            /* global mini-batch m; >= training set = full GD */
    double lr;               /* > 0                                           */
    descent_lr_schedule schedule;
    long warmup_steps;       /* linear warm-up: step t <= W uses lr t / W,   */
    int warmup_epochs;       /* then the schedule over the remaining steps;  */
                             /* W = warmup_steps, or warmup_epochs epochs    */
                             /* (0 and 0: none)                              */
    descent_optimizer optimizer;
    double momentum;         /* momentum: mu (default 0.9)                    */
    double beta1, beta2, eps;/* adam (0.9, 0.999, 1e-8)                       */
    double weight_decay;     /* L2 on weights: adds wd * W to the gradient    */
    uint64_t seed;           /* data order of epoch e = f(seed, e)            */
    int sync_check;          /* compare parameter checksums every N steps     */
    int comm_bf16;           /* 1: send the gradient between ranks as         */
                             /* bfloat16 (half the bytes), summed in float32; */
                             /* needs reproducible = 0                        */
    int reproducible;        /* 1 (default): bit-identical results for any   */
                             /* ranks x threads x kernel set (exact 32-bit   */
                             /* fixed-point gradient sums; rank slices are   */
                             /* whole chunks of 32 or 64 samples); 0: float  */
                             /* sums                                         */
    const char *checkpoint_dir; /* NULL: no checkpoints                      */
    long checkpoint_steps;   /* write one every N steps (0: not by steps)     */
    int checkpoint_epochs;   /* write one every N epochs (0: not by epochs)   */
    int checkpoint_keep;     /* keep the newest K files (default 3)           */
    /* The following need a validation set (descent_train's val): */
    int patience;            /* stop when the validation loss has not gone    */
                             /* below its best for this many epochs (0: off)  */
    const char *best_model;  /* after each epoch whose validation loss is the */
                             /* lowest so far, rank 0 writes the model here   */
                             /* (atomically); NULL: off                       */
    double dropout;          /* inverted dropout on hidden layers while       */
                             /* training: each hidden unit's output is 0 with */
                             /* probability p, else divided by 1 - p; the     */
                             /* masks depend only on (seed, epoch, sample's   */
                             /* global index, layer, unit). 0 (default): off  */
    int overlap;             /* 1: with several ranks, start the reduction of */
                             /* a step's gradient piece by piece while the    */
                             /* backward pass computes the rest (same sums,   */
                             /* same update); 0 (default): after the pass     */
    size_t overlap_piece;    /* values of the first layer's weight gradient  */
                             /* per piece (whole rows; 0, default: 65536)     */
} descent_train_config;

/* Fill cfg with the defaults above (epochs 10, batch 64, lr 0.1, gd) and
 * its size. */
void descent_train_config_default(descent_train_config *cfg);
/* Check a config; fills err with the first problem. */
int descent_train_config_check(const descent_train_config *cfg,
                               descent_error *err);

typedef struct {
    double loss, accuracy;   /* mean loss, fraction correct (classification) */
    size_t count;
} descent_eval_result;

typedef struct {
    int epoch;               /* 1-based                                     */
    double train_loss, train_accuracy;
    int has_val;
    descent_eval_result val;
    double seconds, samples_per_sec;
    double comm_seconds;     /* time inside the step's reduction            */
    double compute_seconds;  /* the rest of the step                        */
    long steps;              /* steps so far                                */
    double lr;               /* learning rate of the epoch's last step      */
    int best_epoch;          /* with a validation set: the epoch of the     */
    double best_val_loss;    /* lowest validation loss so far, and that loss */
    int early_stop;          /* 1: training stops after this epoch (patience) */
} descent_epoch_stats;

/* What the per-step callback is told: where training is and how the step
 * went. */
typedef struct {
    int epoch;              /* 1-based                                       */
    long step_in_epoch;     /* 1-based, of steps_per_epoch                  */
    long steps_per_epoch;
    long step;              /* steps since training began, this one included */
    double batch_loss;      /* the global batch's mean loss                  */
    size_t samples;         /* in the global batch (the last may be smaller) */
} descent_step_info;

typedef struct {
    /* Called on every rank after each epoch, before the epoch's checkpoint
     * is written (so a record it keeps of the epoch is never behind the
     * checkpoints); return non-zero to stop: when any rank does, every rank
     * stops after this epoch (descent_train then returns DESCENT_OK). */
    int (*on_epoch)(const descent_epoch_stats *st, void *user);
    /* Called on every rank after every step (may be NULL). */
    void (*on_step)(const descent_step_info *step, void *user);
    /* Called on every rank every few steps for a progress display. */
    void (*on_progress)(int epoch, long step, long steps_per_epoch, void *user);
    /* Polled on every rank every step (may be NULL): non-zero asks to stop.
     * The request travels in the step's reduction, so all ranks stop after
     * the same step, write a checkpoint (if checkpoint_dir is set) and
     * return DESCENT_E_INTERRUPTED. */
    int (*should_stop)(void *user);
    void *user;
} descent_callbacks;

/*
 * Train net on train (and evaluate val after each epoch when non-NULL; val
 * and cb may be NULL; cfg may be NULL: the defaults of
 * descent_train_config_default). Under MPI (descent_mpi_init called, more than one
 * rank) every rank must call it with the same configuration and data (both
 * are compared before the first step: a difference is DESCENT_E_MISMATCH on
 * every rank, naming the field or set and the values); each processes its slice of
 * every global batch, and all ranks end with identical parameters. Errors
 * on any rank are agreed: every rank returns non-zero (DESCENT_E_REMOTE on
 * the ranks that did not fail themselves).
 */
int descent_train(descent_net *net, const descent_data *train,
                  const descent_data *val, const descent_train_config *cfg,
                  const descent_callbacks *cb, descent_error *err);

/* ---- checkpoints ----------------------------------------------------------
 * Full training state: the model, optimizer state (momentum, Adam moments,
 * step count), the position (epoch, step), the data-order seed, every
 * hyper-parameter, the reproducible mode's scales, and a crc32. Written by
 * rank 0 atomically as DIR/ckpt-<step>.dsc; the newest `keep` are kept. */
typedef struct descent_checkpoint descent_checkpoint;

/* Load a checkpoint file, or the newest ckpt-*.dsc in a directory. Gives a
 * new network, the configuration it was trained with (checkpoint_dir NULL;
 * cfg must hold its size: fill it with descent_train_config_default first)
 * and the state to pass to descent_train_resume. The file actually read is
 * copied to resolved (may be NULL; then resolved_len is ignored). */
int descent_checkpoint_load(const char *path, descent_net **net,
                            descent_train_config *cfg, descent_checkpoint **ck,
                            char *resolved, size_t resolved_len,
                            descent_error *err);
void descent_checkpoint_free(descent_checkpoint *ck);
long descent_checkpoint_step(const descent_checkpoint *ck);
int descent_checkpoint_epoch(const descent_checkpoint *ck);

/* descent_train continuing from a checkpoint (from may be NULL: a fresh
 * start; cfg, val and cb as for descent_train). The batch, seed, optimizer and mode must be the checkpoint's;
 * epochs may be larger; the number of ranks may differ. */
int descent_train_resume(descent_net *net, const descent_data *train,
                         const descent_data *val, const descent_train_config *cfg,
                         const descent_checkpoint *from,
                         const descent_callbacks *cb, descent_error *err);

/* Loss, accuracy and (if confusion, which may be NULL, is given: classes x classes, row = true
 * class) the confusion matrix over d. Split across ranks under MPI. */
int descent_evaluate(const descent_net *net, const descent_data *d,
                     descent_eval_result *res, uint64_t *confusion,
                     descent_error *err);

/* ---- the CPU --------------------------------------------------------------
 * A build for a particular CPU (CMake DESCENT_NATIVE or DESCENT_ARCH) uses
 * instruction set extensions that other CPUs lack, and would die there with
 * an illegal instruction. These two are compiled for the x86-64 baseline: a
 * program that may start on other CPUs than the build's calls
 * descent_cpu_check before any other descent function. */
/* DESCENT_OK when this CPU (and its operating system) runs everything the
 * library was compiled to use; else DESCENT_E_CPU, with the extensions it
 * lacks in missing (len bytes, space separated; may be NULL). */
int descent_cpu_check(char *missing, size_t len);
/* The extensions the library was compiled to use, space separated into
 * out (len bytes); "" for the x86-64 baseline. */
void descent_cpu_built(char *out, size_t len);

/* The layer kernels: a portable build holds one set per instruction set,
 * "avx512" (x86-64-v4), "avx2" (x86-64-v3: AVX2 and FMA) and "baseline"
 * (any x86-64), and uses the best this CPU runs, or the one the environment
 * variable DESCENT_ISA names when this CPU runs it; a build for one CPU
 * (DESCENT_NATIVE, DESCENT_ARCH) holds one set, "native". The name of the
 * set in use (static storage): */
const char *descent_kernel_set(void);
/* Use the set named name from now on: DESCENT_OK, DESCENT_E_USAGE when this
 * build has no such set, DESCENT_E_CPU when this CPU cannot run it. */
int descent_kernel_set_use(const char *name, descent_error *err);

/* ---- parallel runtime ----------------------------------------------------- */
/* 1 when the library was built with MPI (CMake DESCENT_WITH_MPI=ON), 0 for a
 * serial build, where every descent_mpi_* function acts as one process. */
int descent_mpi_available(void);
/* Initialise MPI (MPI_THREAD_FUNNELED) unless the host program already did,
 * and run over all its ranks (MPI_COMM_WORLD). Without it the library runs
 * as one process. When this host's ranks x threads fill its cores and the user has
 * not set OMPI_MCA_mpi_yield_when_idle, it asks Open MPI to yield while it
 * waits (busy polling would starve the kernel's network processing). Returns DESCENT_OK or DESCENT_E_IO; a serial build returns
 * DESCENT_OK, or DESCENT_E_USAGE when the environment shows that it was
 * launched as several ranks (each would train alone). */
int descent_mpi_init(int *argc, char ***argv);
/* For a host program that initialised MPI itself: run over the ranks of
 * the communicator whose Fortran handle is given, MPI_Comm_c2f(comm) (the
 * header stays free of <mpi.h>). Collective over comm; descent works on its
 * own duplicate of it. DESCENT_E_USAGE when MPI is not initialised (or
 * already finalised), descent is already initialised, or the library was
 * built without MPI. */
int descent_mpi_init_comm(int64_t fortran_comm);
/* Release descent's communicator; finalise MPI only when descent_mpi_init
 * initialised it (a host program's MPI stays up for the host to finalise).
 * While the host's MPI is up, descent_mpi_init_comm may then be called
 * again, for another communicator. */
void descent_mpi_finalize(void);
int descent_mpi_rank(void);
int descent_mpi_size(void);
/* Every rank passes its local status; returns the first non-OK status of the
 * lowest failing rank (or DESCENT_OK) and that rank in *failed_rank. */
int descent_mpi_agree(int status, int *failed_rank);
void descent_mpi_abort(int code);
/* Collective: bytes of buf from rank 0 to every rank (buf may be NULL only
 * when bytes is 0). */
int descent_mpi_broadcast(void *buf, size_t bytes);
/* Threads per rank as OpenMP will use them (1 without OpenMP). */
int descent_threads(void);
/* Host name of every rank, comma separated, collected on all ranks. */
int descent_mpi_hosts(char *buf, size_t len);
/* Time MPI_Allreduce(SUM) of n floats: reps timed runs after warm-up, each
 * the slowest rank's time; gives the median and minimum (collective). */
int descent_mpi_time_allreduce(size_t n, int reps, double *median_s, double *min_s);
/* How the step's gradient values travel between ranks: float32 (float
 * sums), bfloat16 (--comm-precision bf16, the float tail alongside), or
 * int32 (the default exact sums) */
typedef enum { DESCENT_WIRE_FP32, DESCENT_WIRE_BF16, DESCENT_WIRE_INT32 } descent_wire;
/* The same for the step's reduction as training does it: n gradient values
 * on the wire `wire` (a descent_wire), each run after busy_s seconds of
 * computation on every rank (a step's compute). */
int descent_mpi_time_reduction(size_t n, int reps, double busy_s, int wire, double *median_s,
                               double *min_s);
/* Collective: do the ranks on each host run their OpenMP threads on CPUs
 * of their own? When they were all pinned to the same CPUs (OMP_PROC_BIND
 * without a binding per rank: mpirun --bind-to none, SLURM's task/none), each
 * rank's threads are pinned to cores of their own if the host has enough;
 * msg (one line, on one rank per host; empty when all was well) says what
 * was found and done, or the fix when it could not be done. */
int descent_place_threads(char *msg, size_t len);
/* The smallest number of CPUs any rank's affinity mask allows (collective). */
int descent_mpi_min_affinity(void);

#ifdef __cplusplus
}
#endif
#endif
