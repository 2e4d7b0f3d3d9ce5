/* SPDX-License-Identifier: MIT */
/*
 * binio.h - binary files (binio.c): a writer that keeps a running crc32,
 * a bounds-checked reader over a file held in memory, and whole-file reads.
 * Model and checkpoint files are built from these (model.c, checkpoint.c).
 */
#ifndef DESCENT_BINIO_H
#define DESCENT_BINIO_H

#include "base.h"

typedef struct {
    FILE *f;
    uint32_t crc;
    int bad;               /* a write failed                               */
} crc_writer;
void cw_put(crc_writer *w, const void *p, size_t n);
void cw_u32(crc_writer *w, uint32_t v);
void cw_u64(crc_writer *w, uint64_t v);
void cw_f64(crc_writer *w, double v);
int cw_finish(crc_writer *w); /* append the crc; 0 or -1 */

typedef struct {
    const unsigned char *buf;
    size_t size, pos;
    const char *path;      /* for messages                                 */
} reader;
int rd_bytes(reader *r, void *out, size_t n, const char *what, descent_error *err);
int rd_u32(reader *r, uint32_t *v, const char *what, descent_error *err);
int rd_u64(reader *r, uint64_t *v, const char *what, descent_error *err);
int rd_f64(reader *r, double *v, const char *what, descent_error *err);
/* Read a whole regular file of at most max bytes. */
int file_slurp(const char *path, uint64_t max, unsigned char **buf, size_t *size,
               descent_error *err);
/* The last 4 bytes must be the crc32 of the rest. */
int check_crc(const unsigned char *buf, size_t size, const char *path, descent_error *err);

/* The model section of model and checkpoint files: magic through parameters
 * (model.c). */
void model_put(crc_writer *w, const descent_net *net);
int model_parse(reader *r, descent_net **out, descent_error *err);
/* A model file (model.c); descent_model_load (model_load.c) also takes
 * checkpoints. */
int model_load_file(descent_net **out, const char *path, descent_error *err);

#endif
