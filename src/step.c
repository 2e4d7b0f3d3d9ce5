/* SPDX-License-Identifier: MIT */
/*
 * step.c - one step of mini-batch gradient descent up to the update: global
 * batch k is positions [first, first + mk) of the epoch's permutation; this
 * rank takes its contiguous slice -> forward -> cost -> backward, the
 * per-sample gradients summed into ONE buffer; one sum-reduction of
 * [gradients | loss | count | correct | non-finite | range | stop] across
 * ranks. The reduced count is the global m of the 1/m rule (mean_of in
 * base.h), which the optimizer applies as it updates. With cfg->overlap
 * that one reduction is started in pieces (comm_pipe in comm.h) while the
 * last block's backward pass computes the rest: the same sums.
 *
 * Two ways to sum a step's gradients:
 *  - float: each rank sums its samples' gradients in float, and the ranks'
 *    floats are summed: through the host's shared memory when a host has
 *    several ranks (comm_sum_shared), by MPI otherwise, or as bfloat16 with
 *    --comm-precision bf16. Same mathematics for any layout, but the rounding
 *    depends on how the batch was split.
 *  - reproducible: the global batch is cut into fixed chunks of
 *    repro_chunk(m) consecutive positions (kernels.h: 32 or 64, from the
 *    configured global batch m alone); a rank's slice is whole chunks.
 *    Each chunk's sum (a fixed float computation) is converted to 32-bit
 *    fixed point with a per-tensor power-of-two scale that every rank
 *    derives from the previous step's reduced sums, and the integers are
 *    summed (through the host's shared memory as the floats are): exact, so
 *    threads, ranks and the reduction's order cannot change a bit. A value
 *    out of the fixed-point range is counted in the reduction; then every
 *    rank lowers that tensor's scale as far as its largest such value needs
 *    and redoes the step (rare, and the same on every layout). The loss is
 *    summed exactly with no scale (exact_sum.h). The reduced integers
 *    become floats as the optimizer reads them (stepper_update), and one
 *    rank whose batch is one block has
 *    nothing to add to its integer sums: the kernels turn them back into
 *    floats as each tile is done, and no gradient of integers is stored
 *    (with one or two chunks not even formed: kernels_fx.c's float pairs).
 *    Where one host holds every rank and each rank's slice is at most one
 *    chunk (2 ranks at batch 64), a rank's sums ARE its chunk's floats:
 *    they meet in the host's buffers as floats, and each rank turns its
 *    part of every rank's into fixed point, adds, and back into floats
 *    (k_fx_combine, fx_host_sum): the same integers, with the float
 *    kernels; the totals and each tensor's largest sum
 *    then reach every rank in one small all-gather.
 */
#include "step.h"

#include "base.h"
#include "bf16.h"
#include "comm.h"
#include "data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The reduced buffer's tail after the gradients: the loss as a float (float
 * sums) or as the exact sum's digits in 16-bit halves (fixed point: every
 * value of the int32 sums stays within 31 bits for any number of ranks up
 * to 2^15; exact_sum.h) at T_LOSS */
enum { T_COUNT, T_CORRECT, T_NONFINITE, T_RANGE, T_STOP, T_LOSS, T_LEN = T_LOSS + EXACT_HALVES };
/* Overlap: the first layer's weight gradient is reduced in pieces of about
 * this many values (cfg->overlap_piece; whole row tiles of the kernel for
 * each thread). One piece hides nothing (it is final when the pass ends),
 * and many small pieces make the step slower (each all-reduce has its fixed
 * costs): a few pieces of this size hid most of the reduction of
 * 784-256-128-10 between emulated hosts (docs/cluster.md). */
#define PIECE_VALUES 65536

/* Output rows of the first layer per piece: whole row tiles of the weight
 * gradient kernel, of the largest tile any rank's kernel set has, since
 * every rank must cut the same pieces (collective) */
static int piece_rows(const descent_net *net, size_t piece_values, int *rows_out) {
    uint32_t fewest, most;
    if (comm_minmax_u32((uint32_t)k_dw_rows(), &fewest, &most)) return DESCENT_E_COMM;
    const size_t in = (size_t)net->sizes[0], out = (size_t)net->sizes[1];
    const size_t pv = piece_values ? piece_values : PIECE_VALUES;
    const size_t pieces = (in * out + pv - 1) / pv;
    const size_t tile = 2 * (size_t)most, rows = (out + pieces - 1) / pieces;
    *rows_out = (int)((rows + tile - 1) / tile * tile);
    return DESCENT_OK;
}

static void pipe_progress(void *pipe) { comm_pipe_progress(pipe); }

/* A part of the gradient is final (net_block's grad_ready): start its sum.
 * Layers 2..L are one range (they follow b_1 in the parameters' layout);
 * b_1 goes with the tail (finish_sum). */
static void start_final_part(void *ctx, int l, int r0, int r1) {
    stepper *sp = ctx;
    const descent_net *net = sp->net;
    const double t0 = comm_wtime();
    const size_t in = (size_t)net->sizes[0];
    if (l == 1) comm_pipe_start(sp->pipe, net->w_off[1], net->n_params);
    if (l == 0)
        comm_pipe_start(sp->pipe, net->w_off[0] + (size_t)r0 * in, net->w_off[0] + (size_t)r1 * in);
    comm_pipe_progress(sp->pipe); /* and from inside the next kernels (ready.progress) */
    sp->comm_s += comm_wtime() - t0;
}

/* A rank without samples starts the same parts in the same order */
static void start_all_parts(stepper *sp) {
    const descent_net *net = sp->net;
    for (int l = net->L - 1; l >= 1; l--) start_final_part(sp, l, 0, net->sizes[l + 1]);
    for (int r0 = 0; r0 < net->sizes[1]; r0 += sp->ready.rows)
        start_final_part(sp, 0, r0, net->sizes[1] - r0 < sp->ready.rows ? net->sizes[1]
                                                                          : r0 + sp->ready.rows);
}

/* The last parts (b_1 and the tail, [n_params, n_params + T_LEN)), then
 * wait for the whole sum */
static int finish_sum(stepper *sp) {
    const descent_net *net = sp->net;
    comm_pipe_start(sp->pipe, net->b_off[0], net->b_off[0] + (size_t)net->sizes[1]);
    comm_pipe_start(sp->pipe, net->n_params, net->n_params + T_LEN);
    return comm_pipe_finish(sp->pipe);
}

/* A rank's largest slice of a global batch of m: one share, or
 * (reproducible) whole chunks. */
static size_t largest_slice(size_t m, int P, int reproducible) {
    if (!reproducible) return (m + (size_t)P - 1) / (size_t)P;
    const size_t C = (size_t)repro_chunk(m), nc = (m + C - 1) / C;
    return (nc + (size_t)P - 1) / (size_t)P * C;
}

/* The path of every step (step.h) for this configuration and layout:
 * the same on every rank */
static step_path path_of(const descent_train_config *cfg, size_t slice, int chunk) {
    const int P = comm_size(), bf16 = cfg->comm_bf16 && P > 1, overlap = cfg->overlap && P > 1;
    if (!cfg->reproducible)
        return overlap ? STEP_FLOAT_PIPE
               : bf16  ? STEP_FLOAT_BF16
               : comm_hosts_share() ? STEP_FLOAT_HOST : STEP_FLOAT_MPI;
    if (P == 1) return STEP_FIXED_ONE_RANK;
    if (overlap) return STEP_FIXED_PIPE;
    /* one chunk per rank on one host: each rank's sums are one chunk's
     * floats, which become fixed point as the host adds them (the same
     * bits, with the float kernels) */
    if (comm_local_size() == P && P <= COMM_MAX_LOCAL && slice <= (size_t)chunk)
        return STEP_FIXED_COMBINE;
    return comm_hosts_share() ? STEP_FIXED_HOST : STEP_FIXED_MPI;
}

int stepper_init(stepper *sp, const descent_net *net, const descent_data *train,
                 const descent_train_config *cfg, descent_error *err) {
    memset(sp, 0, sizeof *sp);
    const size_t np = net->n_params, m = cfg->batch < train->n ? cfg->batch : train->n;
    const size_t slice = largest_slice(m, comm_size(), cfg->reproducible);
    sp->train = train;
    sp->reproducible = cfg->reproducible;
    sp->chunk = repro_chunk(m);
    sp->path = path_of(cfg, slice, sp->chunk);
    sp->nout = net->sizes[net->L];
    sp->bcap = slice < BLOCK_CAP ? (int)(slice ? slice : 1) : BLOCK_CAP;
    const int combine = sp->path == STEP_FIXED_COMBINE;
    const int bf16 = cfg->comm_bf16 && comm_size() > 1;
    const int overlap = sp->path == STEP_FLOAT_PIPE || sp->path == STEP_FIXED_PIPE;
    const int float_sums = !cfg->reproducible || combine;
    const comm_type type = float_sums ? COMM_FLOAT : COMM_INT32;
    int rows = 0; /* of a piece with overlap: every rank (the same path) agrees here */
    if (overlap && piece_rows(net, cfg->overlap_piece, &rows))
        return set_error(err, DESCENT_E_COMM, "the ranks could not agree on the overlap's pieces");
    /* the sums of several ranks on a host meet in shared memory: the
     * fixed-point sums in reproducible mode, else the float sums (unless
     * they travel as bfloat16) */
    if (!bf16 && comm_sum_open(&sp->host, np + T_LEN, type))
        return set_error(err, DESCENT_E_NOMEM, "cannot share the gradient buffers of this host");
    void *shared = comm_sum_buffer(sp->host);
    sp->net = net;
    sp->grad = shared && float_sums ? shared : aligned_calloc(np + T_LEN, sizeof(float));
    int ok = sp->grad && workspace_init(&sp->ws, net, sp->bcap) == DESCENT_OK;
    if (ok && combine) {
        const size_t rec = T_LEN + 2 * (size_t)net->L;
        sp->rec = calloc(rec, sizeof(int32_t));
        sp->recs = calloc(rec * (size_t)comm_local_size(), sizeof(int32_t));
        sp->hsrc = calloc((size_t)comm_local_size(), sizeof *sp->hsrc);
        ok = sp->rec && sp->recs && sp->hsrc;
    }
    if (ok && cfg->reproducible) {
        if (!combine) /* the integer sums, which the host's combine never stores */
            sp->gfx = shared ? shared : aligned_calloc(np + T_LEN, sizeof(int32_t));
        sp->range = calloc(2 * (size_t)net->L, sizeof *sp->range);
        sp->shift = calloc(2 * (size_t)net->L, sizeof *sp->shift);
        ok = (sp->gfx || combine) && sp->range && sp->shift &&
             fx_scales_init(&sp->fx, net->L, (m + sp->chunk - 1) / sp->chunk) == DESCENT_OK;
    }
    if (ok && overlap) {
        void *buf = cfg->reproducible ? (void *)sp->gfx : (void *)sp->grad;
        ok = comm_pipe_open(&sp->pipe, buf, np + T_LEN, type, np, bf16, sp->host) == DESCENT_OK;
        sp->ready = (grad_ready){start_final_part, sp, rows, {pipe_progress, sp->pipe}};
    }
    if (ok && sp->path == STEP_FLOAT_BF16) ok = (sp->g16 = aligned_calloc(np, 2)) != NULL;
    if (ok && cfg->dropout > 0) {
        ok = dropout_init(&sp->drop, net->L, sp->ws.ld, sp->bcap, cfg->dropout, cfg->seed) == 0;
        sp->ws.drop = ok ? &sp->drop : NULL;
    }
    if (ok) return DESCENT_OK;
    return set_error(err, DESCENT_E_NOMEM, "out of memory for training buffers");
}

void stepper_free(stepper *sp) {
    /* the buffer in the host's segment goes with the segment */
    comm_pipe_close(sp->pipe); /* nothing in flight over the buffers below */
    const void *shared = comm_sum_buffer(sp->host);
    if ((void *)sp->grad != shared) aligned_free(sp->grad);
    if ((void *)sp->gfx != shared) aligned_free(sp->gfx);
    if (sp->host) comm_sum_close(sp->host); /* collective on the host */
    aligned_free(sp->g16);
    fx_scales_free(&sp->fx);
    free(sp->rec);
    free(sp->recs);
    free(sp->hsrc);
    free(sp->range);
    free(sp->shift);
    workspace_free(&sp->ws);
    dropout_free(&sp->drop);
    memset(sp, 0, sizeof *sp);
}

void stepper_start_epoch(stepper *sp, int epoch) { sp->drop.epoch = (uint64_t)epoch; }

/* This rank's positions [lo, hi) of the batch starting at `first` of perm,
 * block by block through the network: the gradient sums go into sp->grad
 * (the first block overwrites, later ones add), or with fx into its fixed
 * point sums. Returns the blocks' loss, correct and non-finite counts. */
static block_stats sum_slice(stepper *sp, const descent_net *net, const uint32_t *perm,
                             size_t first, size_t lo, size_t hi, fx_grad *fx) {
    block_stats st = {0};
    for (size_t b0 = lo; b0 < hi; b0 += (size_t)sp->bcap) {
        const int B = hi - b0 < (size_t)sp->bcap ? (int)(hi - b0) : sp->bcap;
        data_gather(sp->train, perm + first + b0, 0, B, sp->ws.act[0], sp->ws.ld[0], sp->ws.y,
                    sp->ws.ldy, sp->nout);
        sp->drop.sample = perm + first + b0; /* dropout's masks follow the samples */
        /* with overlap, the last block's parts start their sums as they are final */
        const grad_ready *ready = sp->pipe && b0 + (size_t)B == hi ? &sp->ready : NULL;
        net_block(net, &sp->ws, B, fx ? NULL : sp->grad, b0 > lo, fx,
                  sp->train->classification, ready, &st);
    }
    if (sp->pipe && hi == lo) start_all_parts(sp); /* zeros, in the same pieces */
    return st;
}

/* What every rank adds to the reduction besides its gradient sums: its
 * slice's loss, samples, correct and non-finite counts, the fixed-point
 * values out of range (reproducible mode), and whether it was asked to stop */
typedef struct {
    double loss;
    exact_sum loss_exact;
    int64_t count, correct, nonfinite, range, stop;
} step_tail;

static step_tail tail_of(const block_stats *st, size_t count, long nonfinite, long range,
                         int stop) {
    return (step_tail){st->loss, st->loss_exact, (int64_t)count, (int64_t)st->correct,
                       (int64_t)st->nonfinite + nonfinite, range, stop};
}

/* The tail as the float sums carry it (no fixed-point range there) */
static void put_tail_float(float *t, const step_tail *x) {
    memset(t, 0, T_LEN * sizeof *t);
    t[T_LOSS] = (float)x->loss;
    t[T_COUNT] = (float)x->count;
    t[T_CORRECT] = (float)x->correct;
    t[T_NONFINITE] = (float)x->nonfinite;
    t[T_STOP] = (float)x->stop;
}

/* A count of values as a rank adds it to the int32 tail: at most 2^16 - 1,
 * so the sum over up to 2^15 ranks is exact, and non-zero where it is */
static int32_t count_for_sum(int64_t n) { return n < 0xffff ? (int32_t)n : 0xffff; }

/* The tail as the integer sums carry it: the loss's digits normalised and
 * in halves, so the ranks' halves add without overflow */
static void put_tail_fixed(int32_t *t, const step_tail *x) {
    exact_to_halves(x->loss_exact.d, t + T_LOSS);
    t[T_COUNT] = (int32_t)x->count; /* the sum is the global batch */
    t[T_CORRECT] = (int32_t)x->correct;
    t[T_NONFINITE] = count_for_sum(x->nonfinite);
    t[T_RANGE] = count_for_sum(x->range);
    t[T_STOP] = (int32_t)x->stop;
}

/* The gradient sums reduced as bfloat16 (half the bytes), the tail in float */
static int sum_as_bf16(stepper *sp, float *g, size_t np) {
    uint16_t *h = sp->g16;
#pragma omp parallel for schedule(static) if (np >= PARALLEL_MIN_ELEMENTS)
    for (size_t i = 0; i < np; i++) h[i] = f32_to_bf16(g[i]);
    const int rc = comm_sum_bf16(h, np, g + np, T_LEN);
#pragma omp parallel for schedule(static) if (np >= PARALLEL_MIN_ELEMENTS)
    for (size_t i = 0; i < np; i++) g[i] = bf16_to_f32(h[i]);
    return rc;
}

/* A step with NaN or Inf values, as both sums say it (count: how many the
 * ranks found; 0 where only the float loss sum overflowed) */
static int nonfinite_error(descent_error *err, long long count) {
    if (count == 0)
        return set_error(err, DESCENT_E_NONFINITE, "non-finite loss or gradient (the loss sum "
                         "overflowed)");
    return set_error(err, DESCENT_E_NONFINITE, "non-finite loss or gradient (%lld values)", count);
}

static int step_float(stepper *sp, const descent_net *net, const uint32_t *perm, size_t first,
                      size_t mk, int stop, step_result *out, descent_error *err) {
    const size_t np = net->n_params;
    float *g = sp->grad;
    size_t lo, hi;
    share_of(mk, comm_rank(), comm_size(), &lo, &hi);
    /* an empty slice contributes zeros */
    if (hi == lo) memset(g, 0, sizeof(float) * np);
    const block_stats st = sum_slice(sp, net, perm, first, lo, hi, NULL);
    /* non-finite losses and gradient sums were counted as they were stored */
    const step_tail tail = tail_of(&st, hi - lo, 0, 0, stop);
    put_tail_float(g + np, &tail);
    const double t0 = comm_wtime();
    int rc;
    switch (sp->path) {
    case STEP_FLOAT_PIPE: rc = finish_sum(sp); break;
    case STEP_FLOAT_BF16: rc = sum_as_bf16(sp, g, np); break;
    case STEP_FLOAT_HOST: rc = comm_sum_shared(sp->host); break;
    default: rc = comm_sum_float(g, np + T_LEN); break;
    }
    if (rc) return set_error(err, DESCENT_E_COMM, "MPI reduction failed");
    sp->comm_s += comm_wtime() - t0;
    if (g[np + T_NONFINITE] != 0.0f || !isfinite(g[np + T_LOSS]))
        return nonfinite_error(err, (long long)g[np + T_NONFINITE]);
    out->loss = g[np + T_LOSS];
    out->correct = g[np + T_CORRECT];
    out->m = g[np + T_COUNT];
    out->stop = g[np + T_STOP] != 0.0f;
    return DESCENT_OK;
}

/* This rank's values out of range in the last attempt, all tensors */
static long range_count(const stepper *sp) {
    long n = 0;
    for (int t = 0; t < 2 * sp->net->L; t++) n += sp->range[t].count;
    return n;
}

/* Reproducible mode: this rank's chunks of the batch summed in fixed point
 * into sp->gfx, with the tail filled in; with final (one rank, one block:
 * nothing else is added to the sums) the gradient sums go straight back to
 * floats in sp->grad and their largest magnitudes into sp->fx.max. */
static void fx_accumulate(stepper *sp, const descent_net *net, const uint32_t *perm,
                          size_t first, size_t lo, size_t hi, double limit, int stop,
                          int final) {
    const size_t np = net->n_params;
    int32_t *g = sp->gfx;
    /* an empty slice contributes zeros; else the first block overwrites */
    if (hi == lo) memset(g, 0, sizeof(int32_t) * np);
    if (final) memset(sp->fx.max, 0, 2 * (size_t)net->L * sizeof(uint64_t));
    memset(sp->range, 0, 2 * (size_t)net->L * sizeof *sp->range);
    fx_grad fx = {g, sp->fx.w_exp, sp->fx.b_exp, sp->chunk, limit, 0, sp->range,
                  final ? sp->grad : NULL, sp->fx.max};
    const block_stats st = sum_slice(sp, net, perm, first, lo, hi, &fx);
    const step_tail tail = tail_of(&st, hi - lo, fx.nonfinite, range_count(sp), stop);
    put_tail_fixed(g + np, &tail);
}

/* STEP_FIXED_COMBINE: this rank's chunk summed in float into its buffer of the host
 * (grad), the host's sums formed in fixed point and back (see above), then
 * every rank's totals and maxima gathered: the reduced tail into tail, the
 * tensors' largest |sum| into sp->fx.max. */
static int fx_host_sum(stepper *sp, const descent_net *net, const uint32_t *perm, size_t first,
                       size_t lo, size_t hi, double limit, int stop, int32_t *tail) {
    const size_t np = net->n_params, nrec = T_LEN + 2 * (size_t)net->L;
    if (hi == lo) memset(sp->grad, 0, sizeof(float) * np); /* an empty slice adds zeros */
    const block_stats st = sum_slice(sp, net, perm, first, lo, hi, NULL);
    const double t0 = comm_wtime();
    int32_t *rec = sp->rec;
    memset(sp->range, 0, 2 * (size_t)net->L * sizeof *sp->range);
    fx_host_part part = {net, &sp->fx, limit, sp->range, rec + T_LEN, sp->hsrc};
    int rc = comm_sum_combine(sp->host, fx_combine_part, &part);
    const step_tail own = tail_of(&st, hi - lo, 0, range_count(sp), stop);
    put_tail_fixed(rec, &own);
    int nloc = 0, me;
    if (!rc) rc = comm_local_allgather(rec, nrec * sizeof(int32_t), sp->recs, &me, &nloc);
    memset(tail, 0, T_LEN * sizeof(int32_t));
    memset(sp->fx.max, 0, 2 * (size_t)net->L * sizeof(uint64_t));
    for (int r = 0; !rc && r < nloc; r++) {
        const int32_t *x = sp->recs + (size_t)r * nrec;
        for (int t = 0; t < T_LEN; t++) tail[t] += x[t];
        for (int t = 0; t < 2 * net->L; t++)
            if ((uint64_t)x[T_LEN + t] > sp->fx.max[t]) sp->fx.max[t] = (uint64_t)x[T_LEN + t];
    }
    sp->comm_s += comm_wtime() - t0;
    return rc;
}

static int step_repro(stepper *sp, const descent_net *net, const uint32_t *perm, size_t first,
                      size_t mk, int stop, step_result *out, descent_error *err) {
    const size_t np = net->n_params;
    const size_t C = (size_t)sp->chunk, nc = (mk + C - 1) / C;
    /* whole chunks per rank: chunk boundaries do not depend on P */
    size_t c0, c1;
    share_of(nc, comm_rank(), comm_size(), &c0, &c1);
    const size_t lo = c0 * C, hi = c1 * C < mk ? c1 * C : mk;
    const double limit = fx_chunk_limit(nc);
    int32_t *g = sp->gfx;
    /* one rank whose slice is one block: the kernels' sums are the final ones */
    const int final = sp->path == STEP_FIXED_ONE_RANK && hi - lo <= (size_t)sp->bcap;
    int32_t tail[T_LEN];
    for (int attempt = 0;; attempt++) {
        int rc;
        if (sp->path == STEP_FIXED_COMBINE) {
            rc = fx_host_sum(sp, net, perm, first, lo, hi, limit, stop, tail);
        } else {
            fx_accumulate(sp, net, perm, first, lo, hi, limit, stop, final);
            const double t0 = comm_wtime();
            switch (sp->path) {
            case STEP_FIXED_PIPE: rc = finish_sum(sp); break;
            case STEP_FIXED_HOST: rc = comm_sum_shared(sp->host); break;
            default: rc = comm_sum_i32(g, np + T_LEN); break; /* one rank: nothing to add */
            }
            sp->comm_s += comm_wtime() - t0;
            memcpy(tail, g + np, sizeof tail);
        }
        if (rc) return set_error(err, DESCENT_E_COMM, "MPI reduction failed");
        if (tail[T_NONFINITE] != 0) return nonfinite_error(err, (long long)tail[T_NONFINITE]);
        if (tail[T_RANGE] == 0) break;
        /* unreachable: the first redo's scales fit every finite value */
        if (attempt == FX_MAX_REDO)
            return set_error(err, DESCENT_E_NONFINITE, "gradient beyond the fixed-point range "
                             "after %d rescalings (%lld values)", FX_MAX_REDO,
                             (long long)tail[T_RANGE]);
        /* each tensor's scale as far down as the largest value any rank
         * found out of range needs */
        for (int t = 0; t < 2 * net->L; t++) sp->shift[t] = fx_redo_shift(&sp->range[t], limit);
        if (comm_max_u32(sp->shift, 2 * (size_t)net->L))
            return set_error(err, DESCENT_E_COMM, "MPI reduction failed");
        fx_lower_for_redo(&sp->fx, sp->shift);
    }
    /* the floats: made by the kernels or the host's sum, or by the update
     * (stepper_update) */
    sp->floats_ready = final || sp->path == STEP_FIXED_COMBINE;
    int64_t loss[EXACT_DIGITS];
    exact_from_halves(tail + T_LOSS, loss);
    out->loss = exact_value(loss);
    out->correct = (double)tail[T_CORRECT];
    out->m = (float)tail[T_COUNT];
    out->stop = tail[T_STOP] != 0;
    return DESCENT_OK;
}

void stepper_update(stepper *sp, optimizer *o, const descent_train_config *cfg, double lr,
                    descent_net *net, float m) {
    if (!sp->reproducible || sp->floats_ready) {
        optimizer_step(o, cfg, lr, net, sp->grad, m);
    } else { /* the reduced integers, turned into floats as they are read */
        fx_reader reader;
        fx_reader_start(&reader, sp->gfx, &sp->fx);
        const grad_converter conv = {fx_read_sums, &reader};
        optimizer_step_converted(o, cfg, lr, net, &conv, m);
    }
    if (sp->reproducible) fx_next_scales(&sp->fx);
}

int step_run(stepper *sp, const descent_net *net, const uint32_t *perm, size_t first,
             size_t mk, int stop, step_result *out, descent_error *err) {
    return sp->reproducible ? step_repro(sp, net, perm, first, mk, stop, out, err)
                            : step_float(sp, net, perm, first, mk, stop, out, err);
}

/* ---- the same for one batch in the caller's arrays, one process --------- */
int descent_net_gradient(const descent_net *net, const float *x, const float *y, size_t count,
                         float *grad, double *loss, descent_error *err) {
    REQUIRE_ARG(err, net);
    REQUIRE_ARG(err, x);
    REQUIRE_ARG(err, y);
    REQUIRE_ARG(err, grad);
    REQUIRE_ARG(err, loss);
    if (count == 0) return set_error(err, DESCENT_E_USAGE, "gradient of an empty batch");
    workspace ws;
    if (workspace_init(&ws, net, BLOCK_CAP))
        return set_error(err, DESCENT_E_NOMEM, "out of memory for the backward pass");
    const int nin = net->sizes[0], nout = net->sizes[net->L];
    block_stats st = {0};
    for (size_t s0 = 0; s0 < count; s0 += BLOCK_CAP) {
        const int B = count - s0 < BLOCK_CAP ? (int)(count - s0) : BLOCK_CAP;
        for (int s = 0; s < B; s++) {
            memcpy(ws.act[0] + (size_t)s * ws.ld[0], x + (s0 + s) * nin, sizeof(float) * nin);
            memcpy(ws.y + (size_t)s * ws.ldy, y + (s0 + s) * nout, sizeof(float) * nout);
        }
        net_block(net, &ws, B, grad, s0 > 0, NULL, 0, NULL, &st);
    }
    const float m = (float)count;
    for (size_t i = 0; i < net->n_params; i++) grad[i] = mean_of(grad[i], m);
    *loss = st.loss / (double)count;
    workspace_free(&ws);
    return st.nonfinite > 0
               ? set_error(err, DESCENT_E_NONFINITE, "non-finite loss or gradient")
               : DESCENT_OK;
}
