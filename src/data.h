/* SPDX-License-Identifier: MIT */
/*
 * data.h - the data set behind the opaque descent_data (data.c), filled by
 * the readers (data_idx.c, data_csv.c) and read a block at a time by the
 * step and the evaluation.
 */
#ifndef DESCENT_DATA_H
#define DESCENT_DATA_H

#include "descent/descent.h"

#include <stdint.h>

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
    char *label_path;      /* where the labels came from (NULL: path)      */
    size_t first_record;   /* record number of sample 0, minus 1 (a split) */
    void *shared;          /* the arrays live in this host segment          */
                           /* (data_share.c), freed collectively            */
};

/* A new empty set with the given shape (bytes: 1 for uint8 features, 4 for
 * floats); NULL on overflow or no memory. */
/* What a data set is, in a few numbers: ranks compare it before training,
 * and a checkpoint keeps it so that a resume on other data is refused. */
enum { FP_COUNT, FP_FEATURES, FP_OUTPUTS, FP_KIND, FP_X_CRC, FP_Y_CRC, FP_LEN };
void data_identity(const descent_data *d, uint64_t fp[FP_LEN]);
/* "24 samples of 5 features, checksum 1a2b3c4d/00ff00ff" */
void data_identity_text(char *buf, size_t len, const uint64_t fp[FP_LEN]);

descent_data *data_alloc(const char *path, size_t n, int n_in, int n_out, int classification,
                         int bytes);

/* The labels came from another file than the features (IDX): messages
 * about labels name it. */
int data_set_label_source(descent_data *d, const char *label_path, descent_error *err);

/* Gather samples idx[0..B) (or first..first+B when idx is NULL) into x
 * (B x n_in, row stride ldx) scaled to floats and y (B x nout, row stride
 * ldy): one-hot rows of width nout, or the regression targets. */
void data_gather(const descent_data *d, const uint32_t *idx, size_t first, int B, float *x,
                 int ldx, float *y, int ldy, int nout);

/* ---- typed arrays (data_arrays.c), shared by descent_data_from_arrays and
 * the .npy reader ---- */
size_t dtype_size(descent_dtype t);     /* bytes per element; 0: unknown    */
const char *dtype_name(descent_dtype t); /* "uint8", "float32", ...          */

/* A new set from features x and labels or targets y (may be NULL), every
 * value checked and copied (see descent_data_from_arrays for the rules);
 * fname and lname are where they came from, for messages. */
int data_from_typed(descent_data **out, const char *fname, const descent_array *x,
                    const char *lname, const descent_array *y, int n_classes,
                    descent_error *err);

#endif
