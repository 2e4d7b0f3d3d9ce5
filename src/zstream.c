/* SPDX-License-Identifier: MIT */
/*
 * zstream.c - plain or gzip input through zlib's inflate. A gzip file may
 * hold several members (what `cat a.gz b.gz` and parallel compressors
 * give): they are read one after the other. inflate checks each member's
 * trailer (CRC-32 and length of the data) when it reaches it, so a member
 * is complete only when inflate says so; a file that ends before that is
 * truncated. Anything after the last member must be another member.
 */
#define _POSIX_C_SOURCE 200809L
#include "zstream.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Deflate cannot expand data by more than about 1032:1. */
#define GZ_MAX_RATIO 1100u

int zs_open(zstream *s, const char *path, descent_error *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->f = descent_open_input(path, err);
    if (!s->f) return DESCENT_E_IO;
    struct stat st;
    if (fstat(fileno(s->f), &st) != 0) {
        zs_close(s);
        return set_error(err, DESCENT_E_IO, "%s: cannot read: %s", path, strerror(errno));
    }
    s->size = (uint64_t)st.st_size;
    unsigned char magic[2] = {0, 0};
    const size_t m = fread(magic, 1, 2, s->f);
    s->gz = m == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    rewind(s->f);
    if (!s->gz) return DESCENT_OK;
    if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        zs_close(s);
        return set_error(err, DESCENT_E_NOMEM, "%s: out of memory for gzip", path);
    }
    s->z_ready = 1;
    s->member = 1;
    return DESCENT_OK;
}

uint64_t zs_bound(const zstream *s) { return s->gz ? s->size * GZ_MAX_RATIO : s->size; }

void zs_close(zstream *s) {
    if (s->z_ready) inflateEnd(&s->z);
    if (s->f) fclose(s->f);
    s->z_ready = 0;
    s->f = NULL;
}

/* More compressed input when inflate has used all it had. */
static int refill(zstream *s, descent_error *err) {
    if (s->z.avail_in > 0 || s->eof) return DESCENT_OK;
    const size_t n = fread(s->in, 1, sizeof s->in, s->f);
    if (n == 0 && ferror(s->f))
        return set_error(err, DESCENT_E_IO, "%s: read error: %s", s->path, strerror(errno));
    if (n < sizeof s->in) s->eof = 1;
    s->z.next_in = s->in;
    s->z.avail_in = (uInt)n;
    s->consumed += n;
    return DESCENT_OK;
}

/* The file byte inflate is looking at */
static uint64_t at_byte(const zstream *s) { return s->consumed - s->z.avail_in; }

/* A member just ended (its trailer checked): the end of the file, or the
 * next member. */
static int next_member(zstream *s, descent_error *err) {
    int rc = refill(s, err);
    if (rc) return rc;
    if (s->z.avail_in == 0) { s->done = 1; return DESCENT_OK; }
    const uint64_t where = at_byte(s);
    /* the next member's magic may straddle a refill */
    unsigned char first = s->z.next_in[0], second = 0;
    if (s->z.avail_in > 1) second = s->z.next_in[1];
    else if (!s->eof) {
        int c = fgetc(s->f);
        if (c != EOF) { ungetc(c, s->f); second = (unsigned char)c; }
    }
    if (first != 0x1f || second != 0x8b)
        return set_error(err, DESCENT_E_FORMAT, "%s: byte %llu: data after gzip member %d is not "
                         "another gzip member", s->path, (unsigned long long)where, s->member);
    inflateReset(&s->z);
    s->member++;
    return DESCENT_OK;
}

static int gz_read(zstream *s, unsigned char *buf, size_t n, size_t *got, descent_error *err) {
    *got = 0;
    while (*got < n && !s->done) {
        int rc = refill(s, err);
        if (rc) return rc;
        const size_t want = n - *got > (1u << 30) ? (1u << 30) : n - *got;
        s->z.next_out = buf + *got;
        s->z.avail_out = (uInt)want;
        const int ret = inflate(&s->z, Z_NO_FLUSH);
        *got += want - s->z.avail_out;
        if (ret == Z_STREAM_END) {
            if ((rc = next_member(s, err))) return rc;
        } else if (ret == Z_DATA_ERROR) {
            return set_error(err, DESCENT_E_FORMAT, "%s: gzip member %d, byte %llu: corrupt "
                             "data (%s)", s->path, s->member, (unsigned long long)at_byte(s),
                             s->z.msg ? s->z.msg : "invalid deflate stream");
        } else if (ret == Z_MEM_ERROR) {
            return set_error(err, DESCENT_E_NOMEM, "%s: out of memory for gzip", s->path);
        } else if (ret == Z_BUF_ERROR && s->z.avail_in == 0 && s->eof) {
            return set_error(err, DESCENT_E_FORMAT, "%s: truncated gzip file: member %d ends at "
                             "byte %llu before its trailer (CRC-32 and length)", s->path,
                             s->member, (unsigned long long)s->size);
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            return set_error(err, DESCENT_E_FORMAT, "%s: gzip member %d, byte %llu: cannot "
                             "decompress (zlib status %d)", s->path, s->member,
                             (unsigned long long)at_byte(s), ret);
        }
    }
    return DESCENT_OK;
}

void zs_blame_gzip(zstream *s, descent_error *err) {
    if (!s->gz || !s->f) return;
    unsigned char sink[4096];
    size_t got = 0;
    descent_error why = {0};
    while (!s->done)
        if (gz_read(s, sink, sizeof sink, &got, &why) != DESCENT_OK) {
            if (err) *err = why;
            return;
        }
}

int zs_read(zstream *s, void *buf, size_t n, size_t *got, descent_error *err) {
    if (s->gz) return gz_read(s, buf, n, got, err);
    *got = fread(buf, 1, n, s->f);
    if (*got < n && ferror(s->f))
        return set_error(err, DESCENT_E_IO, "%s: read error: %s", s->path, strerror(errno));
    return DESCENT_OK;
}

int zs_check_size(const zstream *f, uint64_t need, uint64_t hdr, uint64_t most,
                  descent_error *err) {
    if (need > most)
        return set_error(err, DESCENT_E_NOMEM, "%s: header declares %llu bytes of data, more than "
                         "the %llu this reader accepts", f->path, (unsigned long long)need,
                         (unsigned long long)most);
    const uint64_t avail = zs_bound(f);
    if (need + hdr > avail)
        return set_error(err, DESCENT_E_FORMAT, "%s: header declares %llu bytes of data but the "
                         "file %s only %llu", f->path, (unsigned long long)need,
                         f->gz ? "can hold" : "holds",
                         (unsigned long long)(avail > hdr ? avail - hdr : 0));
    return DESCENT_OK;
}

int zs_expect_end(zstream *f, const char *after, descent_error *err) {
    unsigned char extra[256];
    size_t got = 0, total = 0;
    do {
        int rc = zs_read(f, extra, sizeof extra, &got, err);
        if (rc) return rc;
        total += got;
    } while (got == sizeof extra && total < (1u << 20));
    if (total)
        return set_error(err, DESCENT_E_FORMAT, "%s: %s%zu bytes after %s", f->path,
                         total >= (1u << 20) ? "more than " : "", total, after);
    return DESCENT_OK;
}
