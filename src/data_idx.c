/* SPDX-License-Identifier: MIT */
/*
 * data_idx.c - IDX files (the MNIST / Fashion-MNIST layout), plain or gzip
 * (zstream.c: every member, each verified to its trailer). Every size in a
 * header is checked against what the file can deliver before anything is
 * allocated, and the file must end where its header says. Knows nothing of
 * MPI.
 */
#define _POSIX_C_SOURCE 200809L
#include "base.h"
#include "data.h"
#include "zstream.h"

#include <stdlib.h>
#include <string.h>

/* No IDX data set of ours needs more than this many bytes of payload. */
#define IDX_MAX_BYTES ((uint64_t)1 << 34)

/* After the declared records the file must end (for gzip: every member
 * read to its trailer). */
static int idx_expect_end(zstream *f, uint32_t records, descent_error *err) {
    char what[64];
    snprintf(what, sizeof what, "the %u records its header declares", records);
    return zs_expect_end(f, what, err);
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Read exactly n bytes holding records of rec bytes, the first of them
 * record number first (1-based); a short read names the record it hit. */
static int idx_read(zstream *f, void *buf, size_t n, const char *what, size_t first, size_t rec,
                    descent_error *err) {
    size_t got = 0;
    int rc = zs_read(f, buf, n, &got, err);
    if (rc) return rc;
    if (got < n)
        return set_error(err, DESCENT_E_FORMAT, "%s: truncated: %s %zu is incomplete", f->path,
                         what, first + got / rec);
    return DESCENT_OK;
}

/* Read the header: magic 0x0000 0x08 ndims, then ndims big-endian u32. */
static int idx_header(zstream *f, int want_dims, uint32_t *dims, descent_error *err) {
    unsigned char h[4];
    size_t got = 0;
    int rc = zs_read(f, h, 4, &got, err);
    if (rc) return rc;
    if (got < 4)
        return set_error(err, DESCENT_E_FORMAT, "%s: %zu bytes is too short for an IDX header",
                         f->path, got);
    if (h[0] != 0 || h[1] != 0 || h[2] != 0x08 || h[3] != want_dims)
        return set_error(err, DESCENT_E_FORMAT,
                         "%s: bad IDX magic %02x%02x%02x%02x (expected 000008%02x: unsigned bytes, "
                         "%d dimensions)", f->path, h[0], h[1], h[2], h[3], want_dims, want_dims);
    for (int i = 0; i < want_dims; i++) {
        if ((rc = zs_read(f, h, 4, &got, err))) return rc;
        if (got < 4) return set_error(err, DESCENT_E_FORMAT, "%s: truncated IDX header", f->path);
        dims[i] = be32(h);
    }
    return DESCENT_OK;
}

/* The images file's header; *n images of nin pixels */
static int images_header(zstream *fi, uint32_t *n, int *nin, descent_error *err) {
    uint32_t d[3] = {0, 0, 0};
    int rc = idx_header(fi, 3, d, err);
    if (!rc && (d[1] == 0 || d[2] == 0))
        rc = set_error(err, DESCENT_E_FORMAT, "%s: image size %ux%u is empty", fi->path, d[1],
                       d[2]);
    if (!rc && (uint64_t)d[1] * d[2] > (1u << 24))
        rc = set_error(err, DESCENT_E_NOMEM, "%s: image size %ux%u is absurd", fi->path, d[1],
                       d[2]);
    if (!rc) rc = zs_check_size(fi, (uint64_t)d[0] * d[1] * d[2], 16, IDX_MAX_BYTES, err);
    if (!rc && d[0] == 0) rc = set_error(err, DESCENT_E_FORMAT, "%s: no images", fi->path);
    *n = d[0];
    *nin = (int)(d[1] * d[2]);
    return rc;
}

/* The labels file, read whole into d (n labels, as many as images) */
static int read_labels(const char *labels, descent_data *d, uint32_t n, descent_error *err) {
    zstream fl;
    uint32_t count = 0;
    int rc = zs_open(&fl, labels, err);
    if (rc) return rc;
    rc = idx_header(&fl, 1, &count, err);
    if (!rc) rc = zs_check_size(&fl, count, 8, IDX_MAX_BYTES, err);
    if (!rc && count != n)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: %u labels but %s holds %u images", labels,
                       count, d->path, n);
    unsigned char *lab = rc ? NULL : malloc(n);
    if (!rc && !lab) rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory", labels);
    if (!rc) rc = idx_read(&fl, lab, n, "label", 1, 1, err);
    if (!rc) rc = idx_expect_end(&fl, n, err);
    if (rc == DESCENT_E_FORMAT) zs_blame_gzip(&fl, err);
    if (!rc) {
        int maxl = 0;
        for (size_t i = 0; i < n; i++) {
            d->labels[i] = lab[i];
            if (lab[i] > maxl) maxl = lab[i];
        }
        d->n_out = maxl + 1 < 2 ? 2 : maxl + 1;
    }
    free(lab);
    zs_close(&fl);
    return rc;
}

int descent_data_load_idx(descent_data **out, const char *images, const char *labels,
                          descent_error *err) {
    REQUIRE_ARG(err, out);
    REQUIRE_ARG(err, images);
    *out = NULL;
    zstream fi;
    uint32_t n = 0;
    int nin = 0;
    int rc = zs_open(&fi, images, err);
    if (rc) return rc;
    rc = images_header(&fi, &n, &nin, err);
    descent_data *d = NULL;
    if (!rc) {
        d = data_alloc(images, n, nin, labels ? 1 : 0, labels ? 1 : 0, 1);
        if (!d) rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory for %u images", images, n);
    }
    if (!rc) rc = idx_read(&fi, d->x8, (size_t)n * (size_t)nin, "image", 1, (size_t)nin, err);
    if (!rc) rc = idx_expect_end(&fi, n, err);
    if (rc == DESCENT_E_FORMAT || rc == DESCENT_E_NOMEM) zs_blame_gzip(&fi, err);
    zs_close(&fi);
    if (!rc && labels) rc = read_labels(labels, d, n, err);
    if (!rc && labels) rc = data_set_label_source(d, labels, err);
    if (rc) { descent_data_free(d); return rc; }
    *out = d;
    return DESCENT_OK;
}
