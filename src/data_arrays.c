/* SPDX-License-Identifier: MIT */
/*
 * data_arrays.c - a data set from typed arrays in memory: the caller's
 * (descent_data_from_arrays) or a NumPy file's (data_npy.c). Every value is
 * checked and copied; the one rule for types: uint8 features are pixels
 * scaled by 1/255, integer labels are class indices, float labels are
 * regression targets.
 */
#define _POSIX_C_SOURCE 200809L
#include "base.h"
#include "data.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Where values came from, for messages: "x.npy: features[3][1] = nan ..." */
typedef struct {
    const char *name;  /* a file, or the name the caller gave               */
    const char *what;  /* "features", "labels", "targets"                   */
} data_source;

/* Class counts above this are a mistake, not a data set (as for CSV). */
#define MAX_CLASSES (1 << 16)

size_t dtype_size(descent_dtype t) {
    switch (t) {
    case DESCENT_U8: return 1;
    case DESCENT_I32: case DESCENT_F32: return 4;
    case DESCENT_I64: case DESCENT_F64: return 8;
    default: return 0;
    }
}

const char *dtype_name(descent_dtype t) {
    static const char *const names[] = {"uint8", "int32", "int64", "float32", "float64"};
    return (unsigned)t < DESCENT_DTYPE_COUNT ? names[t] : "unknown type";
}

static int is_integer_type(descent_dtype t) {
    return t == DESCENT_U8 || t == DESCENT_I32 || t == DESCENT_I64;
}

static double element(const descent_array *a, size_t i) {
    const char *p = (const char *)a->data + i * dtype_size(a->dtype);
    switch (a->dtype) {
    case DESCENT_U8: return *(const uint8_t *)p;
    case DESCENT_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case DESCENT_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case DESCENT_F32: { float v; memcpy(&v, p, 4); return v; }
    default: { double v; memcpy(&v, p, 8); return v; }
    }
}

/* a's values as finite float32s into dst (rows x cols) */
static int copy_floats(const data_source *src, const descent_array *a, float *dst,
                       descent_error *err) {
    const size_t n = a->rows * a->cols;
    for (size_t i = 0; i < n; i++) {
        const double v = element(a, i);
        if (!isfinite(v) || fabs(v) > FLT_MAX)
            return set_error(err, DESCENT_E_FORMAT, "%s: %s[%zu][%zu] = %g is not a finite "
                             "float32", src->name, src->what, i / a->cols, i % a->cols, v);
        dst[i] = (float)v;
    }
    return DESCENT_OK;
}

/* class indices into d->labels; d->n_out = n_classes, or the largest + 1 */
static int copy_labels(const data_source *src, const descent_array *a, int n_classes,
                       descent_data *d, descent_error *err) {
    const double limit = n_classes > 0 ? n_classes : MAX_CLASSES;
    int largest = 0;
    for (size_t i = 0; i < a->rows; i++) {
        const double v = element(a, i);
        if (!(v >= 0 && v < limit))
            return set_error(err, DESCENT_E_FORMAT, "%s: %s[%zu] = %.0f is not a class in 0..%d",
                             src->name, src->what, i, v, (int)limit - 1);
        d->labels[i] = (int32_t)v;
        if (d->labels[i] > largest) largest = d->labels[i];
    }
    d->n_out = n_classes > 0 ? n_classes : largest + 1 < 2 ? 2 : largest + 1;
    return DESCENT_OK;
}

static int check_shapes(const data_source *fsrc, const descent_array *x,
                        const data_source *lsrc, const descent_array *y, descent_error *err) {
    if ((unsigned)x->dtype >= DESCENT_DTYPE_COUNT || (is_integer_type(x->dtype) && x->dtype != DESCENT_U8))
        return set_error(err, DESCENT_E_FORMAT, "%s: %s of type %s: features must be uint8, "
                         "float32 or float64", fsrc->name, fsrc->what, dtype_name(x->dtype));
    if (x->rows == 0 || x->cols == 0)
        return set_error(err, DESCENT_E_FORMAT, "%s: %s hold no %s (%zu x %zu)", fsrc->name,
                         fsrc->what, x->rows ? "features" : "samples", x->rows, x->cols);
    if (x->cols > INT32_MAX)
        return set_error(err, DESCENT_E_NOMEM, "%s: %zu features per sample is absurd",
                         fsrc->name, x->cols);
    if (!y) return DESCENT_OK;
    if ((unsigned)y->dtype >= DESCENT_DTYPE_COUNT)
        return set_error(err, DESCENT_E_FORMAT, "%s: %s: unknown type", lsrc->name, lsrc->what);
    if (y->rows != x->rows)
        return set_error(err, DESCENT_E_FORMAT, "%s: %zu %s for %zu samples in %s", lsrc->name,
                         y->rows, lsrc->what, x->rows, fsrc->name);
    if (is_integer_type(y->dtype) && y->cols != 1)
        return set_error(err, DESCENT_E_FORMAT, "%s: %s of type %s are class indices: one per "
                         "sample, not %zu", lsrc->name, lsrc->what, dtype_name(y->dtype), y->cols);
    if (y->cols == 0 || y->cols > (1u << 20))
        return set_error(err, DESCENT_E_FORMAT, "%s: %zu targets per sample", lsrc->name, y->cols);
    return DESCENT_OK;
}

int data_from_typed(descent_data **out, const char *fname, const descent_array *x,
                    const char *lname, const descent_array *y, int n_classes,
                    descent_error *err) {
    *out = NULL;
    const data_source fsource = {fname, "features"};
    const data_source lsource = {lname, y && !is_integer_type(y->dtype) ? "targets" : "labels"};
    const data_source *fsrc = &fsource, *lsrc = &lsource;
    int rc = check_shapes(fsrc, x, lsrc, y, err);
    if (rc) return rc;
    if (n_classes < 0 || n_classes > MAX_CLASSES)
        return set_error(err, DESCENT_E_USAGE, "%s: %d classes", lsrc->name, n_classes);
    const int classification = y && is_integer_type(y->dtype);
    const int n_out = !y ? 0 : classification ? 1 : (int)y->cols;
    descent_data *d = data_alloc(fsrc->name, x->rows, (int)x->cols, n_out, classification,
                                 x->dtype == DESCENT_U8 ? 1 : 4);
    if (!d) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory for %zu x %zu features",
                             fsrc->name, x->rows, x->cols);
    if (x->dtype == DESCENT_U8) memcpy(d->x8, x->data, x->rows * x->cols);
    else rc = copy_floats(fsrc, x, d->xf, err);
    if (!rc && y && classification) rc = copy_labels(lsrc, y, n_classes, d, err);
    if (!rc && y && !classification) rc = copy_floats(lsrc, y, d->targets, err);
    if (!rc && y && strcmp(lsrc->name, fsrc->name) != 0)
        rc = data_set_label_source(d, lsrc->name, err);
    if (rc) {
        descent_data_free(d);
        return rc;
    }
    *out = d;
    return DESCENT_OK;
}

int descent_data_from_arrays(descent_data **out, const char *name, const descent_array *features,
                             const descent_array *labels, int n_classes, descent_error *err) {
    if (out) *out = NULL;
    if (!out || !features || !features->data || (labels && !labels->data))
        return set_error(err, DESCENT_E_USAGE, "descent_data_from_arrays: %s is NULL",
                         !out ? "out" : !features || !features->data ? "features" : "labels");
    const char *set = name ? name : "arrays";
    return data_from_typed(out, set, features, set, labels, n_classes, err);
}
