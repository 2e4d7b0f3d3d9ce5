/* SPDX-License-Identifier: MIT */
/*
 * fixed_point.h - the reproducible mode's policy (fixed_point.c): each
 * tensor's scale, the rule that sets the next step's scale from this
 * step's largest sum, the redo rule for a value out of range, the range a
 * chunk's sum may take, and the host's combine of the ranks' float chunk
 * sums. The kernels that apply a scale are kernels_fx.c; why the sums are
 * exact, with the preconditions, is docs/reproducibility.md.
 */
#ifndef DESCENT_FIXED_POINT_H
#define DESCENT_FIXED_POINT_H

#include "base.h"
#include "net.h"

/* A redo lowers each scale so far that the step's values fit (so one is
 * enough); more than this many would be a defect */
#define FX_MAX_REDO 2

/* The scales of one network's gradient sums: W_l's are value * 2^w_exp[l],
 * b_l's value * 2^b_exp[l]; max holds the step's largest |integer sum| of
 * W_l at 2l, of b_l at 2l + 1 (what the next scales are taken from), and
 * target where the next scale puts it: 2^target */
typedef struct {
    int L;
    int *w_exp, *b_exp;
    uint64_t *max;
    int target;
} fx_scales;

/* Every scale at its starting exponent, for batches of nc chunks (the
 * configured batch: the scale rule's target); DESCENT_E_NOMEM */
int fx_scales_init(fx_scales *s, int L, size_t nc);
void fx_scales_free(fx_scales *s);
/* The scales a checkpoint recorded (an exponent per layer; a checkpoint
 * records w_exp and b_exp as they are) */
void fx_scales_restore(fx_scales *s, const int32_t *w_exp, const int32_t *b_exp);

/* The largest |chunk sum * 2^e| accepted for a batch of nc chunks: every
 * sum of nc of them fits in 31 bits and a sign, so the sums are int32 in
 * memory and on the wire */
double fx_chunk_limit(size_t nc);
/* How many bits a tensor's scale must go down for its values out of range
 * (range: this rank's) to fit under limit; 0 where none was out */
uint32_t fx_redo_shift(const k_range *range, double limit);
/* Values were out of range: each tensor's scale lowered by its shift
 * (2L: W_l at 2l, b_l at 2l + 1), the largest any rank found, so the same
 * on every rank */
void fx_lower_for_redo(fx_scales *s, const uint32_t *shift);
/* The next step's scales: each tensor's largest sum (rounded to float as
 * the kernels that never store integers see it, k_fx_round_max) placed at
 * a fixed exponent; identical on every rank, as the reduced sums are */
void fx_next_scales(fx_scales *s);

/* The reduced integer sums as the update reads them (optim.h's
 * grad_converter): fx_read_sums turns a tile back into floats with its
 * tensor's scale (k_fx_value) and raises that tensor's max; fx_reader_start
 * zeroes max for the step */
typedef struct {
    const int32_t *sums;
    fx_scales *scales;
} fx_reader;
void fx_reader_start(fx_reader *r, const int32_t *sums, fx_scales *scales);
void fx_read_sums(void *ctx, int tensor, size_t off, size_t len, float *out);

/* The host's combine (comm_sum_combine's function): a rank's part [lo, hi)
 * of the host's result, tensor by tensor with its scale: the ranks' float
 * chunk sums in fixed point, added, back to floats (k_fx_combine); each
 * tensor's largest |integer sum| in this part into max (0 where the part
 * has none of it) and each tensor's values out of range into range (2L) */
typedef struct {
    const descent_net *net;
    const fx_scales *scales;
    double limit;
    k_range *range;           /* 2L: W_l at 2l, b_l at 2l + 1                */
    int32_t *max;             /* 2L, as range                                */
    const float **src;        /* room for the host's buffers as floats       */
} fx_host_part;
void fx_combine_part(void *ctx, size_t lo, size_t hi, const char *const *src, int nsrc,
                     char *dst);

#endif
