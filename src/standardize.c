/* SPDX-License-Identifier: MIT */
/*
 * standardize.c - inputs standardised before the first layer: the
 * per-feature statistics of a training set, the network's copy of them, and
 * applying them to a block of samples. Every forward pass goes through
 * net_standardize_block, so training, evaluation and prediction see the
 * same inputs; model.c stores the statistics with the model.
 */
#include "base.h"
#include "data.h"
#include "net.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int descent_net_set_standardization(descent_net *net, const float *mean, const float *std,
                                    descent_error *err) {
    REQUIRE_ARG(err, net);
    if (!mean != !std)
        return set_error(err, DESCENT_E_USAGE, "standardization: give both mean and std, or neither");
    const int n = net->sizes[0];
    for (int k = 0; mean && k < n; k++)
        if (!isfinite(mean[k]) || !isfinite(std[k]) || !(std[k] > 0))
            return set_error(err, DESCENT_E_USAGE, "standardization of input %d: mean %g, std %g "
                             "(finite, std > 0)", k, mean[k], std[k]);
    float *m = NULL, *s = NULL;
    if (mean) {
        m = malloc(sizeof(float) * (size_t)n);
        s = malloc(sizeof(float) * (size_t)n);
        if (!m || !s) {
            free(m);
            free(s);
            return set_error(err, DESCENT_E_NOMEM, "out of memory for the standardization");
        }
        memcpy(m, mean, sizeof(float) * (size_t)n);
        memcpy(s, std, sizeof(float) * (size_t)n);
    }
    free(net->in_mean);
    free(net->in_std);
    net->in_mean = m;
    net->in_std = s;
    return DESCENT_OK;
}

int descent_net_standardization(const descent_net *net, const float **mean, const float **std) {
    if (mean) *mean = net ? net->in_mean : NULL;
    if (std) *std = net ? net->in_std : NULL;
    return net && net->in_mean != NULL;
}

void net_standardize_block(const descent_net *net, float *x, int ld, int B) {
    if (!net->in_mean) return;
    const int n = net->sizes[0];
    const float *mean = net->in_mean, *std = net->in_std;
    for (int s = 0; s < B; s++) {
        float *row = x + (size_t)s * (size_t)ld;
        for (int k = 0; k < n; k++) row[k] = (row[k] - mean[k]) / std[k];
    }
}

int descent_data_feature_stats(const descent_data *d, float *mean, float *std,
                               descent_error *err) {
    REQUIRE_ARG(err, d);
    REQUIRE_ARG(err, mean);
    REQUIRE_ARG(err, std);
    const size_t n = d->n;
    const int k = d->n_in;
    if (n == 0) return set_error(err, DESCENT_E_USAGE, "%s: no samples to standardise by", d->path);
    double *sum = calloc((size_t)k, sizeof(double)), *sq = calloc((size_t)k, sizeof(double));
    float *x = malloc(sizeof(float) * (size_t)k);
    if (!sum || !sq || !x) {
        free(sum);
        free(sq);
        free(x);
        return set_error(err, DESCENT_E_NOMEM, "out of memory for the feature statistics");
    }
    for (size_t i = 0; i < n; i++) {
        descent_data_sample(d, i, x, NULL);
        for (int j = 0; j < k; j++) sum[j] += x[j];
    }
    for (int j = 0; j < k; j++) mean[j] = (float)(sum[j] / (double)n);
    for (size_t i = 0; i < n; i++) { /* deviations from the float mean that is applied */
        descent_data_sample(d, i, x, NULL);
        for (int j = 0; j < k; j++) {
            const double dev = (double)x[j] - (double)mean[j];
            sq[j] += dev * dev;
        }
    }
    for (int j = 0; j < k; j++) {
        const float s = (float)sqrt(sq[j] / (double)n);
        std[j] = s > 0 && isfinite(s) ? s : 1.0f;
    }
    free(sum);
    free(sq);
    free(x);
    return DESCENT_OK;
}
