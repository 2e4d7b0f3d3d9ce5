/* SPDX-License-Identifier: MIT */
/*
 * zstream.h - reading a file that may be gzip-compressed (zstream.c):
 * plain bytes, or every member of a gzip file in turn, each verified to its
 * trailer (CRC-32 and length). Errors name the file, the gzip member and
 * the compressed byte where the problem was found.
 */
#ifndef DESCENT_ZSTREAM_H
#define DESCENT_ZSTREAM_H

#include "base.h"

#include <zlib.h>

typedef struct {
    FILE *f;
    const char *path;
    int gz;                /* 1: gzip members, 0: plain bytes               */
    uint64_t size;         /* bytes in the file                             */
    z_stream z;
    int z_ready;           /* z initialised                                 */
    int member;            /* gzip member being read (1-based)              */
    int eof;               /* no more input in the file                     */
    int done;              /* every member ended cleanly: no more output    */
    uint64_t consumed;     /* file bytes handed to inflate so far           */
    unsigned char in[1 << 16];
} zstream;

/* Open path; a gzip file is recognised by its magic bytes. */
int zs_open(zstream *s, const char *path, descent_error *err);
/* An upper bound of the bytes zs_read can deliver (the file's size, or for
 * gzip the size times deflate's largest expansion): checks a declared size
 * before anything is allocated. */
uint64_t zs_bound(const zstream *s);
/* Up to n bytes into buf; *got is how many (fewer than n only at the end of
 * the data). A gzip error (corrupt data, a missing trailer, garbage after a
 * member) fills err and returns DESCENT_E_FORMAT. */
int zs_read(zstream *s, void *buf, size_t n, size_t *got, descent_error *err);
/* After a problem found in the data: when the rest of a gzip file does not
 * decompress cleanly, that is the real cause, and it replaces err. */
void zs_blame_gzip(zstream *s, descent_error *err);
void zs_close(zstream *s);
/* A header declared `need` bytes of data after its `hdr` bytes: refused when
 * more than `most`, or more than the file can deliver (before anything is
 * allocated). */
int zs_check_size(const zstream *f, uint64_t need, uint64_t hdr, uint64_t most,
                  descent_error *err);
/* The data must end here (for gzip: every member read to its trailer);
 * otherwise "PATH: N bytes after <after>". */
int zs_expect_end(zstream *f, const char *after, descent_error *err);

#endif
