/*
 * internal.h - what the library's source files share and the public header
 * does not show: the structs behind the opaque handles, the kernels, the
 * communication layer (implemented in comm_mpi.c, the only file that sees
 * MPI), the random generator, checksums and error helpers.
 */
#ifndef DESCENT_INTERNAL_H
#define DESCENT_INTERNAL_H

#include "descent/descent.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

/* Widths of activation rows are padded to this many floats (64 bytes) so
 * that every row of every activation buffer starts 64-byte aligned. */
#define DESCENT_ALIGN_FLOATS 16
#define DESCENT_ALIGN_BYTES 64

static inline int round_up_int(int x, int to) { return (x + to - 1) / to * to; }

/* ---- errors ---- */
/* Fill err (may be NULL) with code and a printf-style message; returns code. */
int set_error(descent_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* After comm_agree: when another rank failed, say so in err (the failing
 * rank keeps its own message); returns code. */
int remote_error(descent_error *err, int code, int rank);

/* ---- memory: 64-byte aligned, zeroed; NULL on failure or overflow ---- */
void *aligned_calloc(size_t count, size_t size);
void aligned_free(void *p);
/* a*b without overflow: returns 0 and stores the product, or -1. */
static inline int mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

/* ---- the network ---- */
struct descent_net {
    int L;                 /* weight layers                                */
    int *sizes;            /* L+1 widths                                   */
    descent_act *acts;     /* L activations                                */
    descent_cost cost;
    size_t n_params;
    size_t *w_off, *b_off; /* offsets of W_l and b_l in params             */
    float *params;         /* ONE buffer, 64-byte aligned                  */
};

/* ---- data ---- */
struct descent_data {
    size_t n;              /* samples                                      */
    int n_in;              /* features per sample                          */
    int n_out;             /* classes (one-hot) or regression targets      */
    int classification;    /* 1: labels[] holds class indices              */
    uint8_t *x8;           /* n x n_in pixels (IDX), or NULL               */
    float *xf;             /* n x n_in features (CSV), or NULL             */
    int32_t *labels;       /* n class indices (classification)             */
    float *targets;        /* n x n_out targets (regression)               */
    char *path;            /* where it came from, for messages             */
};

/* A new empty set with the given shape; NULL on overflow or no memory. */
descent_data *data_alloc(const char *path, size_t n, int n_in, int n_out, int classification,
                         int bytes);

/* Gather samples idx[0..B) (or first..first+B when idx is NULL) into x
 * (B x n_in, row stride ldx) scaled to floats and y (B x nout, row stride
 * ldy): one-hot rows of width nout, or the regression targets. */
void data_gather(const descent_data *d, const uint32_t *idx, size_t first, int B, float *x,
                 int ldx, float *y, int ldy, int nout);

/* ---- kernels (kernels.c): sample-major blocks, row strides ld* --------- */
/* out (B x OUT) = act(inp (B x IN) @ W^T + b), W is OUT x IN row-major.
 * Softmax is NOT applied here (it needs the whole row; see cost kernels). */
void k_dense_forward(float *out, int ldo, const float *inp, int ldi,
                     const float *w, const float *b, int B, int IN, int OUT,
                     descent_act act);
/* dw (OUT x IN) = dout^T @ inp ; db (OUT) = sum_s dout[s], added to what
 * dw and db hold when add is 1, overwriting them when add is 0. Adds 1 to
 * *nonfinite (when not NULL) for each thread that stored a NaN or Inf. */
void k_dense_backward_weights(float *dw, float *db, const float *dout,
                              int ldd, const float *inp, int ldi, int B,
                              int IN, int OUT, int add, long *nonfinite);
/* Reproducible variant: the block's sums are computed in float as above
 * (starting from zero), then each is scaled by 2^sw (2^sb for biases),
 * rounded to an integer and ADDED to dw/db. Values whose magnitude reaches
 * limit (<= 2^51) are skipped and counted in *range, NaN/Inf in *nonfinite. */
void k_dense_backward_weights_fx(int64_t *dw, int64_t *db, int sw, int sb,
                                 double limit, const float *dout, int ldd,
                                 const float *inp, int ldi, int B, int IN,
                                 int OUT, long *nonfinite, long *range);
/* out[i] = (float)(g[i] * 2^-e) / m; returns max |g[i]| */
uint64_t k_fx_to_float(float *out, const int64_t *g, size_t n, int e, float m);
/* writes: dinp (B x IN) = (dout (B x OUT) @ W) (.) act'(a), where a is the
 * activation that was the layer's input (B x IN, stride lda). */
void k_dense_backward_input(float *dinp, int ldo, const float *dout, int ldd,
                            const float *w, const float *a, int lda, int B,
                            int IN, int OUT, descent_act act);
/* Row-wise softmax in place (B x n). */
void k_softmax(float *z, int ld, int B, int n);
/* Given the output layer's pre-softmax values (softmax layer) or activations
 * (other layers) in a (B x n), targets y: turns a into activations (softmax),
 * writes delta = dC0/dz (B x n, may alias nothing), and returns per block the
 * loss sum, correct count (classification) and non-finite count. */
typedef struct {
    double loss;      /* sum of per-sample costs                            */
    int64_t loss_fx;  /* the same sum in fixed point, 2^-LOSS_FX_BITS units  */
    double correct;
    double nonfinite;
    double range;     /* costs too large for the fixed-point sum            */
} block_stats;
#define LOSS_FX_BITS 32
void k_cost(float *a, int lda, const float *y, int ldy, float *delta, int ldd,
            int B, int n, descent_act act, descent_cost cost,
            int classification, block_stats *st);
/* CPUs available to this process at start-up (0 if unknown). */
int omp_procs(void);
/* Argmax of each row (first maximum). */
int k_argmax(const float *row, int n);

/* ---- forward/backward over a block (net.c) ---- */
typedef struct {
    int bcap;              /* samples per block                             */
    int L;
    int *ld;               /* row stride of act[l]                          */
    float **act;           /* act[0] input block, act[l] layer l output     */
    float *delta[2];       /* ping-pong error terms, bcap x ldmax           */
    int ldmax;
    float *y;              /* targets, bcap x ld[L]                         */
    int ldy;
} workspace;

int workspace_init(workspace *ws, const descent_net *net, int bcap);
void workspace_free(workspace *ws);
/* Reproducible gradients: per-layer fixed-point exponents and the sums. */
typedef struct {
    int64_t *g;            /* the parameters' layout, fixed point           */
    const int *sw, *sb;    /* value * 2^sw[l] for W_l, 2^sb[l] for b_l       */
    int chunk;             /* samples per fixed chunk (block offsets are     */
                           /* multiples of it)                               */
    double limit;          /* largest |chunk sum| * 2^s accepted             */
    long nonfinite, range; /* counts from the conversion                     */
} fx_grad;

/* Forward the block in ws->act[0] (B samples). If grad != NULL also
 * backpropagates and writes the summed per-sample gradients into grad
 * (added to its contents when add is 1, overwriting them when 0; a NaN or
 * Inf stored there counts in st->nonfinite); if fx
 * != NULL instead adds each chunk's sums, in fixed point, into fx->g. The
 * output layer's activations end in ws->act[L] either way. */
void net_block(const descent_net *net, workspace *ws, int B, float *grad, int add,
               fx_grad *fx, int classification, block_stats *st);
/* Offsets of layer views, computed from sizes. */
size_t net_layout(int L, const int *sizes, size_t *w_off, size_t *b_off);

/* ---- optimizer (optim.c) ---- */
typedef struct {
    descent_optimizer kind;
    size_t n;
    float *m, *v;          /* state buffers with the parameters' layout     */
    long t;                /* steps taken                                   */
} optimizer;
int optimizer_init(optimizer *o, const descent_train_config *cfg, size_t n);
void optimizer_free(optimizer *o);
/* One update from the gradient sum over the global batch, divided by m
 * here (m = 1 when grad is already the mean). Weight decay applies to the
 * weights of net (not to biases). OpenMP-parallel, elementwise. */
void optimizer_step(optimizer *o, const descent_train_config *cfg, double lr,
                    descent_net *net, const float *grad, float m);

/* ---- checkpoints (checkpoint.c) ---- */
struct descent_checkpoint {
    uint64_t step;           /* steps done                                   */
    uint32_t epoch, k;       /* epoch in progress (1-based), steps done in it */
    double epoch_loss, epoch_correct; /* its accumulators so far             */
    descent_train_config cfg;
    uint64_t opt_t;          /* optimizer steps                              */
    size_t n;                /* parameters                                   */
    float *m, *v;            /* optimizer state, NULL when unused            */
    int L;
    int32_t *sw, *sb;        /* fixed-point exponents (reproducible mode)    */
};
/* Write DIR/ckpt-<step>.dsc atomically and delete all but the newest keep.
 * ck's pointers refer to the caller's live buffers. path gets the name. */
int checkpoint_save(const char *dir, int keep, const descent_net *net,
                    const descent_checkpoint *ck, char *path, size_t pathlen,
                    descent_error *err);

/* ---- random numbers (rng.c): splitmix64-seeded xoshiro256** ---- */
typedef struct { uint64_t s[4]; } rng_t;
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(rng_t *r);
double rng_uniform(rng_t *r);              /* [0,1) with 53 bits */
uint64_t rng_below(rng_t *r, uint64_t n);  /* unbiased [0,n) */
/* perm[0..n) = permutation of 0..n-1 determined by (seed, epoch) only */
void permutation(uint32_t *perm, size_t n, uint64_t seed, uint64_t epoch);

/* ---- checksums ---- */
uint32_t crc32_buf(uint32_t crc, const void *p, size_t n);

/* ---- binary files (model.c): a writer that keeps a running crc32, and a
 * bounds-checked reader over a file held in memory ---- */
typedef struct {
    FILE *f;
    uint32_t crc;
    int bad;
} crc_writer;
void cw_put(crc_writer *w, const void *p, size_t n);
void cw_u32(crc_writer *w, uint32_t v);
void cw_u64(crc_writer *w, uint64_t v);
void cw_f64(crc_writer *w, double v);
int cw_finish(crc_writer *w); /* append the crc; 0 or -1 */
typedef struct {
    const unsigned char *buf;
    size_t size, pos;
    const char *path;
} reader;
int rd_bytes(reader *r, void *out, size_t n, const char *what, descent_error *err);
int rd_u32(reader *r, uint32_t *v, const char *what, descent_error *err);
int rd_u64(reader *r, uint64_t *v, const char *what, descent_error *err);
int rd_f64(reader *r, double *v, const char *what, descent_error *err);
/* Read a whole regular file of at most max bytes. */
int file_slurp(const char *path, uint64_t max, unsigned char **buf, size_t *size,
               descent_error *err);
/* The last 4 bytes must be the crc32 of the rest. */
int check_crc(const unsigned char *buf, size_t size, const char *path, descent_error *err);
/* The model section: magic through parameters. */
void model_put(crc_writer *w, const descent_net *net);
int model_parse(reader *r, descent_net **out, descent_error *err);

/* ---- communication (comm_mpi.c, the only file that includes mpi.h) ---- */
int comm_rank(void);
int comm_size(void);
int comm_sum_float(float *buf, size_t n);
int comm_sum_double(double *buf, size_t n);
int comm_sum_i64(int64_t *buf, size_t n);
/* min and max of v over ranks */
int comm_minmax_u32(uint32_t v, uint32_t *mn, uint32_t *mx);
int comm_agree(int status, int *failed_rank);
double comm_wtime(void);

#endif
