/* SPDX-License-Identifier: MIT */
/*
 * binio.c - binary files: a writer that keeps a running crc32 (zlib's), a
 * bounds-checked reader over a file held in memory (every read names the
 * file, the byte and what was expected) and whole-file reads. Writing a
 * file atomically is atomic_file.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "binio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* ---- checksums ------------------------------------------------------------ */
uint32_t crc32_buf(uint32_t crc, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) { /* zlib takes uInt lengths */
        const uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return crc;
}

int path_join(char buf[PATH_CAP], const char *dir, const char *name) {
    const int n = snprintf(buf, PATH_CAP, "%s/%s", dir, name);
    if (n >= 0 && n < PATH_CAP) return 0;
    buf[0] = '\0';
    return -1;
}

/* ---- writing -------------------------------------------------------------- */
void cw_put(crc_writer *w, const void *p, size_t n) {
    if (w->bad || n == 0) return;
    if (fwrite(p, 1, n, w->f) != n) w->bad = 1;
    w->crc = crc32_buf(w->crc, p, n);
}
void cw_u32(crc_writer *w, uint32_t v) { cw_put(w, &v, 4); }
void cw_u64(crc_writer *w, uint64_t v) { cw_put(w, &v, 8); }
void cw_f64(crc_writer *w, double v) { cw_put(w, &v, 8); }
int cw_finish(crc_writer *w) {
    const uint32_t crc = w->crc;
    cw_put(w, &crc, 4);
    return w->bad ? -1 : 0;
}

/* ---- reading -------------------------------------------------------------- */
int file_slurp(const char *path, uint64_t max, unsigned char **buf, size_t *size,
               descent_error *err) {
    *buf = NULL;
    *size = 0;
    FILE *f = descent_open_input(path, err);
    if (!f) return DESCENT_E_IO;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return set_error(err, DESCENT_E_IO, "%s: cannot read: %s", path, strerror(errno));
    }
    const uint64_t n = (uint64_t)st.st_size;
    if (n > max) {
        fclose(f);
        return set_error(err, DESCENT_E_FORMAT, "%s: %llu bytes is larger than any valid file "
                         "(%llu)", path, (unsigned long long)n, (unsigned long long)max);
    }
    unsigned char *b = malloc(n ? n : 1);
    if (!b) {
        fclose(f);
        return set_error(err, DESCENT_E_NOMEM, "%s: out of memory for %llu bytes", path,
                         (unsigned long long)n);
    }
    const size_t got = fread(b, 1, n, f);
    fclose(f);
    if (got != n) {
        free(b);
        return set_error(err, DESCENT_E_IO, "%s: read error", path);
    }
    *buf = b;
    *size = n;
    return DESCENT_OK;
}

int rd_bytes(reader *r, void *out, size_t n, const char *what, descent_error *err) {
    if (n > r->size - r->pos)
        return set_error(err, DESCENT_E_FORMAT, "%s: truncated: %s at byte %zu needs %zu bytes, "
                         "%zu left", r->path, what, r->pos, n, r->size - r->pos);
    memcpy(out, r->buf + r->pos, n);
    r->pos += n;
    return DESCENT_OK;
}
int rd_u32(reader *r, uint32_t *v, const char *what, descent_error *err) {
    return rd_bytes(r, v, 4, what, err);
}
int rd_u64(reader *r, uint64_t *v, const char *what, descent_error *err) {
    return rd_bytes(r, v, 8, what, err);
}
int rd_f64(reader *r, double *v, const char *what, descent_error *err) {
    return rd_bytes(r, v, 8, what, err);
}

int check_crc(const unsigned char *buf, size_t size, const char *path, descent_error *err) {
    if (size < 4) return set_error(err, DESCENT_E_FORMAT, "%s: truncated: no checksum", path);
    uint32_t stored;
    memcpy(&stored, buf + size - 4, 4);
    const uint32_t crc = crc32_buf(0, buf, size - 4);
    if (crc != stored)
        return set_error(err, DESCENT_E_FORMAT, "%s: checksum mismatch (stored %08x, computed "
                         "%08x): the file is corrupt or truncated", path, stored, crc);
    return DESCENT_OK;
}
