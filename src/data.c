/* SPDX-License-Identifier: MIT */
/*
 * data.c - the in-memory data set shared by the readers: allocation,
 * truncation, the validation split, fit checks and per-batch gathering
 * (8-bit pixels are converted to floats here, a block at a time). Knows
 * nothing of MPI.
 */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include "base.h"
#include "comm.h"
#include "net.h"

#include <stdlib.h>
#include <string.h>

descent_data *data_alloc(const char *path, size_t n, int n_in, int n_out, int classification,
                         int bytes) {
    size_t nx, ny;
    if (mul_size(n, (size_t)n_in, &nx) || mul_size(n, (size_t)n_out, &ny)) return NULL;
    descent_data *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->n = n;
    d->n_in = n_in;
    d->n_out = n_out;
    d->classification = classification;
    d->path = strdup(path ? path : "");
    int ok = d->path != NULL;
    if (bytes == 1) ok = ok && (d->x8 = aligned_calloc(nx ? nx : 1, 1)) != NULL;
    else ok = ok && (d->xf = aligned_calloc(nx ? nx : 1, sizeof(float))) != NULL;
    if (classification) ok = ok && (d->labels = aligned_calloc(n ? n : 1, sizeof(int32_t))) != NULL;
    else ok = ok && (d->targets = aligned_calloc(ny ? ny : 1, sizeof(float))) != NULL;
    if (!ok) {
        descent_data_free(d);
        return NULL;
    }
    return d;
}

int data_set_label_source(descent_data *d, const char *label_path, descent_error *err) {
    free(d->label_path);
    d->label_path = strdup(label_path);
    return d->label_path ? DESCENT_OK
                         : set_error(err, DESCENT_E_NOMEM, "%s: out of memory", label_path);
}

void descent_data_free(descent_data *d) {
    if (!d) return;
    free(d->label_path);
    if (d->shared) {
        comm_host_free(d->shared);
    } else {
        aligned_free(d->x8);
        aligned_free(d->xf);
        aligned_free(d->labels);
        aligned_free(d->targets);
    }
    free(d->path);
    free(d);
}

size_t descent_data_count(const descent_data *d) { return d->n; }
int descent_data_features(const descent_data *d) { return d->n_in; }
int descent_data_outputs(const descent_data *d) { return d->n_out; }
int descent_data_is_classification(const descent_data *d) { return d->classification; }

void descent_data_truncate(descent_data *d, size_t n) {
    if (n < d->n) d->n = n;
}

int descent_data_split(descent_data *d, double fraction, descent_data **val, descent_error *err) {
    REQUIRE_ARG(err, d);
    REQUIRE_ARG(err, val);
    *val = NULL;
    if (!(fraction > 0.0 && fraction < 1.0))
        return set_error(err, DESCENT_E_USAGE, "validation fraction must be in (0,1) (got %g)",
                         fraction);
    const size_t nv = (size_t)((double)d->n * fraction);
    if (nv == 0 || nv >= d->n)
        return set_error(err, DESCENT_E_USAGE,
                         "%s: a validation fraction of %g leaves %zu of %zu samples for validation",
                         d->path, fraction, nv, d->n);
    const size_t first = d->n - nv;
    descent_data *v = data_alloc(d->path, nv, d->n_in, d->n_out, d->classification,
                                 d->x8 ? 1 : 4);
    if (!v || (d->label_path && data_set_label_source(v, d->label_path, err))) {
        descent_data_free(v);
        return set_error(err, DESCENT_E_NOMEM, "%s: out of memory for the split", d->path);
    }
    v->first_record = d->first_record + first;
    const size_t nin = (size_t)d->n_in;
    if (d->x8) memcpy(v->x8, d->x8 + first * nin, nv * nin);
    else memcpy(v->xf, d->xf + first * nin, nv * nin * sizeof(float));
    if (d->labels) memcpy(v->labels, d->labels + first, nv * sizeof(int32_t));
    else memcpy(v->targets, d->targets + first * (size_t)d->n_out, nv * (size_t)d->n_out * sizeof(float));
    d->n = first;
    *val = v;
    return DESCENT_OK;
}

int descent_data_check(const descent_data *d, const descent_net *net, descent_error *err) {
    REQUIRE_ARG(err, d);
    REQUIRE_ARG(err, net);
    const int nin = net->sizes[0], nout = net->sizes[net->L];
    if (d->n_in != nin)
        return set_error(err, DESCENT_E_MISMATCH,
                         "%s: samples have %d features but the network's input layer has %d",
                         d->path, d->n_in, nin);
    if (d->classification) {
        if (nout < 2)
            return set_error(err, DESCENT_E_MISMATCH,
                             "%s: classification needs an output layer of at least 2 units "
                             "(the network has %d)", d->path, nout);
        for (size_t i = 0; i < d->n; i++)
            if (d->labels[i] < 0 || d->labels[i] >= nout)
                return set_error(err, DESCENT_E_MISMATCH,
                                 "%s: record %zu: label %d is out of range 0..%d for a %d-unit "
                                 "output layer", d->label_path ? d->label_path : d->path,
                                 d->first_record + i + 1, (int)d->labels[i], nout - 1, nout);
    } else if (d->n_out != nout) {
        return set_error(err, DESCENT_E_MISMATCH,
                         "%s: samples have %d targets but the network has %d outputs", d->path,
                         d->n_out, nout);
    }
    return DESCENT_OK;
}

void data_gather(const descent_data *d, const uint32_t *idx, size_t first, int B, float *x,
                 int ldx, float *y, int ldy, int nout) {
    const size_t nin = (size_t)d->n_in;
    /* samples are independent: split across the step's threads (the other
     * threads would otherwise wait for this serial loop) */
#pragma omp parallel for schedule(static) if (B * nin >= PARALLEL_MIN_BLOCK_VALUES)
    for (int s = 0; s < B; s++) {
        const size_t i = idx ? idx[s] : first + (size_t)s;
        float *xs = x + (size_t)s * ldx;
        if (d->x8) {
            const uint8_t *src = d->x8 + i * nin;
            if (idx && s + 2 < B) { /* a shuffled batch: fetch a later sample's bytes early */
                const uint8_t *later = d->x8 + (size_t)idx[s + 2] * nin;
                for (size_t o = 0; o < nin; o += 64) __builtin_prefetch(later + o);
            }
            for (size_t k = 0; k < nin; k++) xs[k] = (float)src[k] / 255.0f;
        } else {
            memcpy(xs, d->xf + i * nin, nin * sizeof(float));
        }
        if (!y) continue;
        float *ys = y + (size_t)s * ldy;
        if (d->classification) {
            memset(ys, 0, sizeof(float) * (size_t)nout);
            ys[d->labels[i]] = 1.0f;
        } else {
            memcpy(ys, d->targets + i * (size_t)d->n_out, sizeof(float) * (size_t)d->n_out);
        }
    }
}

void descent_data_sample(const descent_data *d, size_t i, float *x, float *y) {
    data_gather(d, NULL, i, 1, x, d->n_in, y, d->n_out, d->n_out);
}

void data_identity(const descent_data *d, uint64_t fp[FP_LEN]) {
    const size_t nx = d->n * (size_t)d->n_in;
    fp[FP_COUNT] = d->n;
    fp[FP_FEATURES] = (uint64_t)d->n_in;
    fp[FP_OUTPUTS] = (uint64_t)d->n_out;
    fp[FP_KIND] = (uint64_t)d->classification << 1 | (d->x8 != NULL);
    fp[FP_X_CRC] = d->x8 ? crc32_buf(0, d->x8, nx) : crc32_buf(0, d->xf, nx * sizeof(float));
    fp[FP_Y_CRC] = d->classification
                       ? crc32_buf(0, d->labels, d->n * sizeof(int32_t))
                       : crc32_buf(0, d->targets, d->n * (size_t)d->n_out * sizeof(float));
}

void data_identity_text(char *buf, size_t len, const uint64_t fp[FP_LEN]) {
    snprintf(buf, len, "%llu samples of %llu features, checksum %08llx/%08llx",
             (unsigned long long)fp[FP_COUNT], (unsigned long long)fp[FP_FEATURES],
             (unsigned long long)fp[FP_X_CRC], (unsigned long long)fp[FP_Y_CRC]);
}
