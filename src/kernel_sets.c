/* SPDX-License-Identifier: MIT */
/*
 * kernel_sets.c - the layer kernels' entry points (kernels.h), each calling
 * the kernel set in use. A portable build holds a set per instruction set
 * (kernels.c, kernels_fx.c and kernels_update.c compiled for the x86-64
 * baseline, for x86-64-v3: AVX2 and FMA, and for x86-64-v4: AVX-512); the
 * first call takes the best one this CPU runs, or the one DESCENT_ISA
 * names. A build for one CPU (DESCENT_NATIVE, DESCENT_ARCH) holds one set,
 * "native". Compiled objects per set, rather than the compiler's function
 * multiversioning: the kernels choose their vector width and register
 * tiles with the preprocessor (kernels_simd.h), which a per-function
 * target attribute cannot change.
 */
#include "base.h"
#include "cpu_features.h"
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

/* The functions of one compiled set, with the extensions it was built for */
typedef struct {
    const char *name;
    const char *const *built_with;
    __typeof__(k_dense_forward) *dense_forward;
    __typeof__(k_dense_backward_weights) *dense_backward_weights;
    __typeof__(k_dense_backward_weights_fx) *dense_backward_weights_fx;
    __typeof__(k_dense_backward_weights_fx_final) *dense_backward_weights_fx_final;
    __typeof__(k_fx_combine) *fx_combine;
    __typeof__(k_fx_to_float) *fx_to_float;
    __typeof__(k_dense_backward_input) *dense_backward_input;
    __typeof__(k_softmax) *softmax;
    __typeof__(k_cost) *cost;
    __typeof__(k_argmax) *argmax;
    __typeof__(k_update) *update;
    const int *dw_rows;
} kernel_set;

#define DECLARE_SET(set)                                                         \
    extern const char *const cpu_built_with_##set[];                            \
    __typeof__(k_dense_forward) k_dense_forward_##set;                          \
    __typeof__(k_dense_backward_weights) k_dense_backward_weights_##set;        \
    __typeof__(k_dense_backward_weights_fx) k_dense_backward_weights_fx_##set;  \
    __typeof__(k_dense_backward_weights_fx_final) k_dense_backward_weights_fx_final_##set; \
    __typeof__(k_fx_combine) k_fx_combine_##set;                                \
    __typeof__(k_fx_to_float) k_fx_to_float_##set;                              \
    __typeof__(k_dense_backward_input) k_dense_backward_input_##set;            \
    __typeof__(k_softmax) k_softmax_##set;                                      \
    __typeof__(k_cost) k_cost_##set;                                            \
    __typeof__(k_argmax) k_argmax_##set;                                        \
    __typeof__(k_update) k_update_##set;                                        \
    extern const int k_dw_tile_rows_##set;
#define SET(set)                                                                 \
    {#set, cpu_built_with_##set, k_dense_forward_##set, k_dense_backward_weights_##set, \
     k_dense_backward_weights_fx_##set, k_dense_backward_weights_fx_final_##set,   \
     k_fx_combine_##set, k_fx_to_float_##set, k_dense_backward_input_##set,        \
     k_softmax_##set, k_cost_##set, k_argmax_##set, k_update_##set, &k_dw_tile_rows_##set}

#ifdef DESCENT_PORTABLE_KERNELS
DECLARE_SET(avx512)
DECLARE_SET(avx2)
DECLARE_SET(baseline)
static const kernel_set sets[] = {SET(avx512), SET(avx2), SET(baseline)}; /* best first */
#else
DECLARE_SET(native)
static const kernel_set sets[] = {SET(native)};
#endif
#define N_SETS (int)(sizeof sets / sizeof sets[0])

static const kernel_set *g_set; /* the set in use; NULL until the first call */

static const kernel_set *set_named(const char *name) {
    for (int i = 0; i < N_SETS; i++)
        if (strcmp(sets[i].name, name) == 0) return &sets[i];
    return NULL;
}

/* DESCENT_ISA's set when it names one this CPU runs, else the best it runs
 * (the baseline set, or the native one, when none is known to run) */
static const kernel_set *default_set(void) {
    const char *asked = getenv("DESCENT_ISA");
    const kernel_set *s = asked && *asked ? set_named(asked) : NULL;
    if (s && cpu_runs(s->built_with, NULL, 0)) return s;
    for (int i = 0; i < N_SETS; i++)
        if (cpu_runs(sets[i].built_with, NULL, 0)) return &sets[i];
    return &sets[N_SETS - 1];
}

/* Any thread may make the first call: each would choose the same set */
static const kernel_set *in_use(void) {
    const kernel_set *s = __atomic_load_n(&g_set, __ATOMIC_ACQUIRE);
    if (!s) {
        s = default_set();
        __atomic_store_n(&g_set, s, __ATOMIC_RELEASE);
    }
    return s;
}

/* This build's sets, best first, space separated into out */
static void sets_list(char *out, size_t len) {
    if (!out || !len) return;
    out[0] = '\0';
    for (int i = 0; i < N_SETS; i++) {
        const size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", i ? " " : "", sets[i].name);
    }
}

const char *descent_kernel_set(void) { return in_use()->name; }

int descent_kernel_set_use(const char *name, descent_error *err) {
    char have[64], missing[256];
    sets_list(have, sizeof have);
    const kernel_set *s = name ? set_named(name) : NULL;
    if (!s)
        return set_error(err, DESCENT_E_USAGE, "no kernel set '%s' in this build (it has: %s)",
                         name ? name : "(null)", have);
    if (!cpu_runs(s->built_with, missing, sizeof missing))
        return set_error(err, DESCENT_E_CPU, "this CPU lacks %s, which kernel set %s needs",
                         missing, name);
    __atomic_store_n(&g_set, s, __ATOMIC_RELEASE);
    return DESCENT_OK;
}

/* ---- kernels.h's entry points ---- */
void k_dense_forward(float *out, int ldo, const float *inp, int ldi, const float *w,
                     const float *b, int B, int IN, int OUT, descent_act act) {
    in_use()->dense_forward(out, ldo, inp, ldi, w, b, B, IN, OUT, act);
}

void k_dense_backward_weights(float *dw, float *db, const float *dout, int ldd, const float *inp,
                              int ldi, int B, int IN, int OUT, int add, long *nonfinite,
                              const k_progress *progress) {
    in_use()->dense_backward_weights(dw, db, dout, ldd, inp, ldi, B, IN, OUT, add, nonfinite,
                                     progress);
}

void k_dense_backward_weights_fx(int32_t *dw, int32_t *db, int w_exp, int b_exp, double limit,
                                 const float *dout, int ldd, const float *inp, int ldi, int B,
                                 int chunk, int IN, int OUT, int add, long *nonfinite,
                                 k_range range[2], const k_progress *progress) {
    in_use()->dense_backward_weights_fx(dw, db, w_exp, b_exp, limit, dout, ldd, inp, ldi, B,
                                        chunk, IN, OUT, add, nonfinite, range, progress);
}

void k_dense_backward_weights_fx_final(float *fw, float *fb, int w_exp, int b_exp, double limit,
                                       const float *dout, int ldd, const float *inp, int ldi,
                                       int B, int chunk, int IN, int OUT, uint64_t max[2],
                                       long *nonfinite, k_range range[2]) {
    in_use()->dense_backward_weights_fx_final(fw, fb, w_exp, b_exp, limit, dout, ldd, inp, ldi,
                                              B, chunk, IN, OUT, max, nonfinite, range);
}

void k_fx_combine(float *out, const float *const *src, int nsrc, size_t at, size_t n, int e,
                  double limit, k_range *range, int64_t *lo, int64_t *hi) {
    in_use()->fx_combine(out, src, nsrc, at, n, e, limit, range, lo, hi);
}

uint64_t k_fx_to_float(float *out, const int32_t *g, size_t n, int e) {
    return in_use()->fx_to_float(out, g, n, e);
}

void k_dense_backward_input(float *dinp, int ldo, const float *dout, int ldd, const float *w,
                            const float *a, int lda, int B, int IN, int OUT, descent_act act) {
    in_use()->dense_backward_input(dinp, ldo, dout, ldd, w, a, lda, B, IN, OUT, act);
}

void k_softmax(float *z, int ld, int B, int n) { in_use()->softmax(z, ld, B, n); }

void k_cost(float *a, int lda, const float *y, int ldy, float *delta, int ldd, int B, int n,
            descent_act act, descent_cost cost, int classification, block_stats *st) {
    in_use()->cost(a, lda, y, ldy, delta, ldd, B, n, act, cost, classification, st);
}

int k_argmax(const float *row, int n) { return in_use()->argmax(row, n); }

void k_update(const k_rule *r, float *p, const float *g, float *m, float *v, size_t len) {
    in_use()->update(r, p, g, m, v, len);
}

int k_dw_rows(void) { return *in_use()->dw_rows; }
