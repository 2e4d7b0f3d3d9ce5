/*
 * data_idx.c - IDX files (the MNIST / Fashion-MNIST layout), plain or gzip,
 * read through zlib. Every size in a header is checked against the file's
 * real size (for .gz: the trailer's length and the deflate ratio limit)
 * before anything is allocated. Knows nothing of MPI.
 */
#define _POSIX_C_SOURCE 200809L
#include "base.h"
#include "data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* Deflate cannot expand data by more than about 1032:1. */
#define GZ_MAX_RATIO 1100u
/* No IDX data set of ours needs more than this many bytes of payload. */
#define IDX_MAX_BYTES ((uint64_t)1 << 34)

typedef struct {
    gzFile gz;
    const char *path;
    uint64_t avail;   /* bytes the file can really deliver (upper bound) */
} idx_file;

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Open path and learn how many bytes it will deliver once decompressed. */
static int idx_open(idx_file *f, const char *path, descent_error *err) {
    memset(f, 0, sizeof *f);
    f->path = path;
    FILE *raw = fopen(path, "rb");
    if (!raw) return set_error(err, DESCENT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    unsigned char head[2] = {0, 0}, tail[4];
    if (fstat(fileno(raw), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(raw);
        return set_error(err, DESCENT_E_IO, "%s: not a regular file", path);
    }
    const uint64_t size = (uint64_t)st.st_size;
    const int gz = size >= 18 && fread(head, 1, 2, raw) == 2 && head[0] == 0x1f && head[1] == 0x8b;
    if (gz) {
        /* ISIZE: uncompressed length mod 2^32 from the trailer */
        if (fseek(raw, -4, SEEK_END) != 0 || fread(tail, 1, 4, raw) != 4) {
            fclose(raw);
            return set_error(err, DESCENT_E_FORMAT, "%s: truncated gzip file", path);
        }
        const uint32_t isize = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 |
                               (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
        f->avail = size * GZ_MAX_RATIO;
        if (f->avail < 4294967296ull) { f->avail = isize; }
    } else {
        f->avail = size;
    }
    fclose(raw);
    f->gz = gzopen(path, "rb");
    if (!f->gz) return set_error(err, DESCENT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(f->gz, 1 << 17);
    return DESCENT_OK;
}

/* Read exactly n bytes holding records of rec bytes, the first of them
 * record number first (1-based); a short read names the record it hit. */
static int idx_read(idx_file *f, void *buf, size_t n, const char *what, size_t first, size_t rec,
                    descent_error *err) {
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        const unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        const int got = gzread(f->gz, p + done, chunk);
        if (got <= 0) {
            int zerr = 0;
            const char *zmsg = gzerror(f->gz, &zerr);
            const size_t at = first + done / rec;
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return set_error(err, DESCENT_E_FORMAT, "%s: %s %zu: corrupt data (%s)", f->path,
                                 what, at, zmsg);
            return set_error(err, DESCENT_E_FORMAT, "%s: truncated: %s %zu is incomplete", f->path,
                             what, at);
        }
        done += (size_t)got;
    }
    return DESCENT_OK;
}

/* Read the header: magic 0x0000 0x08 ndims, then ndims big-endian u32. */
static int idx_header(idx_file *f, int want_dims, uint32_t *dims, descent_error *err) {
    unsigned char h[4];
    int rc = idx_read(f, h, 4, "header byte", 1, 1, err);
    if (rc) return set_error(err, DESCENT_E_FORMAT, "%s: too short for an IDX header", f->path);
    if (h[0] != 0 || h[1] != 0 || h[2] != 0x08 || h[3] != want_dims)
        return set_error(err, DESCENT_E_FORMAT,
                         "%s: bad IDX magic %02x%02x%02x%02x (expected 000008%02x: unsigned bytes, "
                         "%d dimensions)", f->path, h[0], h[1], h[2], h[3], want_dims, want_dims);
    for (int i = 0; i < want_dims; i++) {
        if (idx_read(f, h, 4, "header byte", 1, 1, err))
            return set_error(err, DESCENT_E_FORMAT, "%s: truncated IDX header", f->path);
        dims[i] = be32(h);
    }
    return DESCENT_OK;
}

/* Payload of `need` bytes after a header of `hdr` bytes: does the file hold it? */
static int idx_check_size(const idx_file *f, uint64_t need, uint64_t hdr, descent_error *err) {
    if (need > IDX_MAX_BYTES)
        return set_error(err, DESCENT_E_NOMEM, "%s: header declares %llu bytes of data, more than "
                         "the %llu this reader accepts", f->path, (unsigned long long)need,
                         (unsigned long long)IDX_MAX_BYTES);
    const uint64_t total = need + hdr;
    if (total > f->avail)
        return set_error(err, DESCENT_E_FORMAT, "%s: header declares %llu bytes of data but the "
                         "file holds only %llu", f->path, (unsigned long long)need,
                         (unsigned long long)(f->avail > hdr ? f->avail - hdr : 0));
    return DESCENT_OK;
}

int descent_data_load_idx(descent_data **out, const char *images, const char *labels,
                          descent_error *err) {
    *out = NULL;
    idx_file fi, fl;
    uint32_t idims[3] = {0, 0, 0}, ldims[1] = {0};
    int rc = idx_open(&fi, images, err);
    if (rc) return rc;
    rc = idx_header(&fi, 3, idims, err);
    if (!rc && (idims[1] == 0 || idims[2] == 0))
        rc = set_error(err, DESCENT_E_FORMAT, "%s: image size %ux%u is empty", images, idims[1],
                       idims[2]);
    if (!rc && (uint64_t)idims[1] * idims[2] > (1u << 24))
        rc = set_error(err, DESCENT_E_NOMEM, "%s: image size %ux%u is absurd", images, idims[1],
                       idims[2]);
    if (!rc) rc = idx_check_size(&fi, (uint64_t)idims[0] * idims[1] * idims[2], 16, err);
    if (rc) { gzclose(fi.gz); return rc; }
    memset(&fl, 0, sizeof fl);
    if (labels) {
        rc = idx_open(&fl, labels, err);
        if (rc) { gzclose(fi.gz); return rc; }
        rc = idx_header(&fl, 1, ldims, err);
        if (!rc) rc = idx_check_size(&fl, ldims[0], 8, err);
    } else {
        ldims[0] = idims[0];
    }
    if (!rc && ldims[0] != idims[0])
        rc = set_error(err, DESCENT_E_FORMAT, "%s: %u labels but %s holds %u images", labels,
                       ldims[0], images, idims[0]);
    if (!rc && idims[0] == 0) rc = set_error(err, DESCENT_E_FORMAT, "%s: no images", images);
    descent_data *d = NULL;
    const int nin = (int)(idims[1] * idims[2]);
    if (!rc) {
        d = data_alloc(images, idims[0], nin, labels ? 1 : 0, labels ? 1 : 0, 1);
        if (!d) rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory for %u images", images,
                               idims[0]);
    }
    if (!rc) rc = idx_read(&fi, d->x8, (size_t)idims[0] * (size_t)nin, "image", 1, (size_t)nin, err);
    unsigned char *lab = NULL;
    if (!rc && labels) {
        lab = malloc(idims[0]);
        if (!lab) rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory", labels);
    }
    if (!rc && labels) rc = idx_read(&fl, lab, idims[0], "label", 1, 1, err);
    if (!rc && labels) {
        int maxl = 0;
        for (size_t i = 0; i < idims[0]; i++) {
            d->labels[i] = lab[i];
            if (lab[i] > maxl) maxl = lab[i];
        }
        d->n_out = maxl + 1 < 2 ? 2 : maxl + 1;
    }
    free(lab);
    gzclose(fi.gz);
    if (fl.gz) gzclose(fl.gz);
    if (rc) { descent_data_free(d); return rc; }
    *out = d;
    return DESCENT_OK;
}
