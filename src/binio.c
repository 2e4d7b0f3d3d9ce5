/*
 * binio.c - binary files: a writer that keeps a running crc32 (zlib's), a
 * bounds-checked reader over a file held in memory (every read names the
 * file, the byte and what was expected), whole-file reads, and atomic
 * writes: a temporary file, fsync, rename over the final name, fsync of the
 * directory, so a process killed at any moment leaves the old file or the
 * new one, never a torn one.
 */
#define _POSIX_C_SOURCE 200809L
#include "binio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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
    FILE *f = fopen(path, "rb");
    if (!f) return set_error(err, DESCENT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return set_error(err, DESCENT_E_IO, "%s: not a regular file", path);
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

/* ---- atomic writes -------------------------------------------------------- */
int descent_write_file(const char *path, int (*writer)(FILE *f, void *ctx), void *ctx,
                       descent_error *err) {
    const size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
    snprintf(tmp, len + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        set_error(err, DESCENT_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return DESCENT_E_IO;
    }
    int bad = writer(f, ctx) != 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    const int saved = errno;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        const int e = bad ? saved : errno;
        unlink(tmp);
        set_error(err, DESCENT_E_IO, "%s: cannot write: %s", path, strerror(e));
        free(tmp);
        return DESCENT_E_IO;
    }
    /* make the rename itself durable */
    char *dircopy = strdup(path);
    if (dircopy) {
        int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) { fsync(dfd); close(dfd); }
        free(dircopy);
    }
    free(tmp);
    return DESCENT_OK;
}
