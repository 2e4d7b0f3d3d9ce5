/* SPDX-License-Identifier: MIT */
/*
 * dropout.c - inverted dropout masks from a counter-based hash (see
 * dropout.h): no generator state, so any rank or thread computes any
 * sample's mask by itself.
 */
#include "dropout.h"

#include "base.h"

#include <stdlib.h>

/* splitmix64's finaliser: a bijection that mixes every input bit */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The hash of (seed, epoch, sample) that every unit's draw starts from */
static uint64_t sample_key(const dropout *d, uint32_t sample) {
    return mix64(mix64(mix64(d->seed ^ 0x6a09e667f3bcc909ULL) + d->epoch) + sample);
}

static int keeps(const dropout *d, uint64_t key, int layer, int unit) {
    const uint64_t h = mix64(key + ((uint64_t)(uint32_t)layer << 32 | (uint32_t)unit));
    return (double)(h >> 11) * 0x1p-53 >= d->p; /* uniform in [0,1) with 53 bits */
}

int dropout_keeps(const dropout *d, uint32_t sample, int layer, int unit) {
    return keeps(d, sample_key(d, sample), layer, unit);
}

int dropout_init(dropout *d, int L, const int *ld, int bcap, double p, uint64_t seed) {
    *d = (dropout){.p = p, .scale = (float)(1.0 / (1.0 - p)), .seed = seed, .L = L};
    d->masked = calloc((size_t)L + 1, sizeof(float *));
    d->keep = calloc((size_t)L + 1, sizeof(float *));
    int ok = d->masked && d->keep;
    for (int l = 1; ok && l < L; l++) {
        d->masked[l] = aligned_calloc((size_t)bcap * (size_t)ld[l], sizeof(float));
        d->keep[l] = aligned_calloc((size_t)bcap * (size_t)ld[l], sizeof(float));
        ok = d->masked[l] && d->keep[l];
    }
    if (ok) return 0;
    dropout_free(d);
    return -1;
}

void dropout_free(dropout *d) {
    for (int l = 1; l < d->L; l++) {
        if (d->masked) aligned_free(d->masked[l]);
        if (d->keep) aligned_free(d->keep[l]);
    }
    free(d->masked);
    free(d->keep);
    d->masked = d->keep = NULL;
}

void dropout_forward(dropout *d, int l, int B, int n, const float *act, int ld) {
#pragma omp parallel for schedule(static) if (B * n >= PARALLEL_MIN_BLOCK_VALUES)
    for (int s = 0; s < B; s++) {
        const uint64_t key = sample_key(d, d->sample[s]);
        float *out = d->masked[l] + (size_t)s * ld, *f = d->keep[l] + (size_t)s * ld;
        const float *in = act + (size_t)s * ld;
        for (int j = 0; j < n; j++) {
            f[j] = keeps(d, key, l, j) ? d->scale : 0.0f;
            out[j] = in[j] * f[j];
        }
    }
}

void dropout_backward(const dropout *d, int l, int B, int n, int ld, float *delta, int ldd) {
#pragma omp parallel for schedule(static) if (B * n >= PARALLEL_MIN_BLOCK_VALUES)
    for (int s = 0; s < B; s++) {
        const float *f = d->keep[l] + (size_t)s * ld;
        float *e = delta + (size_t)s * ldd;
        for (int j = 0; j < n; j++) e[j] *= f[j];
    }
}
