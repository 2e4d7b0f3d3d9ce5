/* SPDX-License-Identifier: MIT */
/*
 * data_npy.c - NumPy .npy files (format versions 1.0, 2.0 and 3.0), plain
 * or gzip (zstream.c). The header is a Python dict literal, read strictly:
 * 'descr' (little-endian uint8, int32, int64, float32 or float64),
 * 'fortran_order' (False only) and 'shape'. The declared size is checked
 * against what the file can deliver before anything is allocated, the file
 * must end with the last element, and the values go through the same checks
 * as arrays from memory (data_arrays.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "base.h"
#include "data.h"
#include "zstream.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_BYTES ((uint64_t)1 << 36)
#define NPY_MAX_HEADER (1u << 20)
#define NPY_MAX_DIMS 8

typedef struct {
    descent_dtype dtype;
    int fortran;
    int ndim;
    uint64_t shape[NPY_MAX_DIMS];
} npy_header;

/* ---- the header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } ---- */

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Position after "'key':" in the dict, or NULL */
static const char *find_key(const char *dict, const char *key) {
    char quoted[32];
    for (int q = 0; q < 2; q++) {
        snprintf(quoted, sizeof quoted, q ? "\"%s\"" : "'%s'", key);
        const char *p = strstr(dict, quoted);
        if (!p) continue;
        p = skip_space(p + strlen(quoted));
        if (*p == ':') return skip_space(p + 1);
    }
    return NULL;
}

static int parse_descr(const char *p, descent_dtype *t) {
    static const struct { const char *code; descent_dtype t; } known[] = {
        {"|u1", DESCENT_U8}, {"<u1", DESCENT_U8}, {"<i4", DESCENT_I32},
        {"<i8", DESCENT_I64}, {"<f4", DESCENT_F32}, {"<f8", DESCENT_F64}};
    if (*p != '\'' && *p != '"') return -1;
    const char quote = *p++;
    const char *end = strchr(p, quote);
    if (!end || end - p != 3) return -1;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strncmp(p, known[i].code, 3) == 0) {
            *t = known[i].t;
            return 0;
        }
    return -1;
}

/* (d0, d1, ...) with at most NPY_MAX_DIMS whole numbers */
static int parse_shape(const char *p, npy_header *h) {
    if (*p++ != '(') return -1;
    h->ndim = 0;
    for (;;) {
        p = skip_space(p);
        if (*p == ')') return 0;
        if (!isdigit((unsigned char)*p) || h->ndim == NPY_MAX_DIMS) return -1;
        uint64_t v = 0;
        while (isdigit((unsigned char)*p)) {
            if (v > (UINT64_MAX - 9) / 10) return -1;
            v = v * 10 + (uint64_t)(*p++ - '0');
        }
        h->shape[h->ndim++] = v;
        p = skip_space(p);
        if (*p == ',') p++;
        else if (*p != ')') return -1;
    }
}

static int parse_dict(const char *path, const char *dict, npy_header *h, descent_error *err) {
    const char *descr = find_key(dict, "descr"), *fortran = find_key(dict, "fortran_order");
    const char *shape = find_key(dict, "shape");
    if (!descr || !fortran || !shape)
        return set_error(err, DESCENT_E_FORMAT, "%s: .npy header lacks '%s'", path,
                         !descr ? "descr" : !fortran ? "fortran_order" : "shape");
    if (parse_descr(descr, &h->dtype)) {
        char shown[16];
        size_t n = strcspn(descr, ",}");
        snprintf(shown, sizeof shown, "%.*s", (int)(n < 12 ? n : 12), descr);
        return set_error(err, DESCENT_E_FORMAT, "%s: element type %s is not one of '|u1' "
                         "(uint8), '<i4', '<i8', '<f4', '<f8' (little-endian)", path, shown);
    }
    if (strncmp(fortran, "True", 4) == 0)
        return set_error(err, DESCENT_E_FORMAT, "%s: the array is in Fortran order; save it in C "
                         "order (np.ascontiguousarray)", path);
    if (strncmp(fortran, "False", 5) != 0)
        return set_error(err, DESCENT_E_FORMAT, "%s: bad 'fortran_order' in the .npy header", path);
    if (parse_shape(shape, h))
        return set_error(err, DESCENT_E_FORMAT, "%s: bad 'shape' in the .npy header (at most %d "
                         "dimensions)", path, NPY_MAX_DIMS);
    return DESCENT_OK;
}

/* magic, version, header length, the dict; *hdr_bytes = all of it */
static int read_header(zstream *f, npy_header *h, uint64_t *hdr_bytes, descent_error *err) {
    unsigned char pre[12];
    size_t got = 0;
    int rc = zs_read(f, pre, 10, &got, err);
    if (rc) return rc;
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return set_error(err, DESCENT_E_FORMAT, "%s: not a NumPy .npy file (bad magic)", f->path);
    const int major = pre[6];
    if (major < 1 || major > 3)
        return set_error(err, DESCENT_E_FORMAT, "%s: .npy format version %d.%d is not 1, 2 or 3",
                         f->path, major, pre[7]);
    uint32_t len = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    size_t fixed = 10;
    if (major >= 2) {
        if ((rc = zs_read(f, pre + 10, 2, &got, err))) return rc;
        if (got < 2) return set_error(err, DESCENT_E_FORMAT, "%s: truncated .npy header", f->path);
        len |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
        fixed = 12;
    }
    if (len == 0 || len > NPY_MAX_HEADER)
        return set_error(err, DESCENT_E_FORMAT, "%s: .npy header length %u", f->path, len);
    char *dict = malloc((size_t)len + 1);
    if (!dict) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", f->path);
    rc = zs_read(f, dict, len, &got, err);
    if (!rc && got < len) rc = set_error(err, DESCENT_E_FORMAT, "%s: truncated .npy header", f->path);
    if (!rc && memchr(dict, '\0', len))
        rc = set_error(err, DESCENT_E_FORMAT, "%s: a NUL byte in the .npy header", f->path);
    if (!rc) {
        dict[len] = '\0';
        rc = parse_dict(f->path, dict, h, err);
    }
    free(dict);
    *hdr_bytes = fixed + len;
    return rc;
}

/* The array in path as rows x cols (every dimension after the first
 * flattened), in *buf (malloc'ed). want: "features" (2 or more dims) or
 * "labels" (1 or 2 dims). */
static int read_array(const char *path, const char *want, descent_array *a, void **buf,
                      descent_error *err) {
    zstream f;
    npy_header h = {0};
    uint64_t hdr = 0;
    *buf = NULL;
    int rc = zs_open(&f, path, err);
    if (rc) return rc;
    rc = read_header(&f, &h, &hdr, err);
    const int labels = strcmp(want, "features") != 0;
    if (!rc && (h.ndim < 1 || (labels ? h.ndim > 2 : h.ndim < 2)))
        rc = set_error(err, DESCENT_E_FORMAT, "%s: %s need %s dimensions, the array has %d",
                       path, want, labels ? "1 or 2" : "2 or more", h.ndim);
    uint64_t cols = 1, bytes = 0;
    for (int i = 1; !rc && i < h.ndim; i++) {
        if (h.shape[i] && cols > NPY_MAX_BYTES / h.shape[i]) rc = DESCENT_E_NOMEM;
        cols *= h.shape[i];
    }
    if (!rc && (h.shape[0] && cols > NPY_MAX_BYTES / h.shape[0] / dtype_size(h.dtype)))
        rc = set_error(err, DESCENT_E_NOMEM, "%s: shape too large", path);
    else if (rc == DESCENT_E_NOMEM) rc = set_error(err, rc, "%s: shape too large", path);
    if (!rc) {
        bytes = h.shape[0] * cols * dtype_size(h.dtype);
        rc = zs_check_size(&f, bytes, hdr, NPY_MAX_BYTES, err);
    }
    if (!rc && !(*buf = malloc(bytes ? bytes : 1)))
        rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory for %llu bytes", path,
                       (unsigned long long)bytes);
    size_t got = 0;
    if (!rc) rc = zs_read(&f, *buf, bytes, &got, err);
    if (!rc && got < bytes)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: truncated: row %llu is incomplete", path,
                       (unsigned long long)(got / (cols * dtype_size(h.dtype))));
    if (!rc) rc = zs_expect_end(&f, "the array its header declares", err);
    if (rc == DESCENT_E_FORMAT || rc == DESCENT_E_NOMEM) zs_blame_gzip(&f, err);
    zs_close(&f);
    *a = (descent_array){*buf, h.dtype, h.shape[0], cols};
    return rc;
}

int descent_data_load_npy(descent_data **out, const char *features, const char *labels,
                          int n_classes, descent_error *err) {
    REQUIRE_ARG(err, out);
    REQUIRE_ARG(err, features);
    *out = NULL;
    descent_array x, y;
    void *xbuf = NULL, *ybuf = NULL;
    int rc = read_array(features, "features", &x, &xbuf, err);
    if (!rc && labels) rc = read_array(labels, "labels", &y, &ybuf, err);
    if (!rc)
        rc = data_from_typed(out, features, &x, labels ? labels : features, labels ? &y : NULL,
                             n_classes, err);
    free(xbuf);
    free(ybuf);
    return rc;
}
