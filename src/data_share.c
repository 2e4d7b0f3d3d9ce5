/* SPDX-License-Identifier: MIT */
/*
 * data_share.c - one copy of a data set per host: one rank of each host
 * reads and decompresses the files, the set's arrays move into a segment
 * of shared memory (comm_host_alloc: an MPI-3 shared window) and every rank
 * of the host reads them there. The rest of the library sees an ordinary
 * descent_data.
 */
#define _DEFAULT_SOURCE /* madvise */
#include "base.h"
#include "comm.h"
#include "data.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* What the loading rank tells the others about the set */
typedef struct {
    uint64_t n, first_record;
    int32_t n_in, n_out, classification, bytes; /* bytes: 1 uint8 features, 4 floats */
    char path[1024], label_path[1024];           /* label_path "" : none             */
} set_shape;

static size_t up64(size_t x) { return (x + 63) / 64 * 64; }

/* the sizes of the set's two arrays, rounded up to 64 bytes */
static void array_bytes(const set_shape *s, size_t *xb, size_t *yb) {
    *xb = up64((size_t)s->n * (size_t)s->n_in * (size_t)s->bytes);
    *yb = up64(s->classification ? (size_t)s->n * sizeof(int32_t)
                                 : (size_t)s->n * (size_t)s->n_out * sizeof(float));
}

static void describe(const descent_data *d, set_shape *s) {
    memset(s, 0, sizeof *s);
    s->n = d->n;
    s->first_record = d->first_record;
    s->n_in = d->n_in;
    s->n_out = d->n_out;
    s->classification = d->classification;
    s->bytes = d->x8 ? 1 : 4;
    snprintf(s->path, sizeof s->path, "%s", d->path);
    if (d->label_path) snprintf(s->label_path, sizeof s->label_path, "%s", d->label_path);
}

/* d's arrays as views into the segment at base */
static void point_into(descent_data *d, const set_shape *s, char *base) {
    size_t xb, yb;
    array_bytes(s, &xb, &yb);
    if (s->bytes == 1) d->x8 = (uint8_t *)base;
    else d->xf = (float *)base;
    if (s->classification) d->labels = (int32_t *)(base + xb);
    else d->targets = (float *)(base + xb);
}

/* The loader's set moved into the segment (on the loading rank), or a new
 * set viewing it (on the others) */
static descent_data *into_segment(descent_data *mine, const set_shape *s, char *base,
                                  void *handle) {
    descent_data *d = mine;
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d) return NULL;
        d->path = strdup(s->path);
        d->label_path = s->label_path[0] ? strdup(s->label_path) : NULL;
        d->n = s->n;
        d->first_record = s->first_record;
        d->n_in = s->n_in;
        d->n_out = s->n_out;
        d->classification = s->classification;
    } else { /* the private arrays were copied into the segment: free them */
        aligned_free(d->x8);
        aligned_free(d->xf);
        aligned_free(d->labels);
        aligned_free(d->targets);
        d->x8 = NULL;
        d->xf = d->targets = NULL;
        d->labels = NULL;
    }
    point_into(d, s, base);
    d->shared = handle;
    return d;
}

/* FNV-1a of the text */
static uint64_t text_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Do all ranks of this host ask for the same data (the same key)? */
static int host_agrees_on(const char *key, int *agree) {
    uint64_t all[COMM_MAX_LOCAL];
    const uint64_t mine = text_hash(key);
    int lr = 0, ln = 1;
    *agree = 1;
    if (comm_local_size() > COMM_MAX_LOCAL) { *agree = 0; return DESCENT_OK; }
    const int rc = comm_local_allgather(&mine, sizeof mine, all, &lr, &ln);
    for (int i = 0; !rc && i < ln; i++) *agree &= all[i] == mine;
    return rc;
}

/* memcpy of an array that is freed right after: piece by piece, and the
 * source's pages already copied are handed back to the system at once, so
 * that the loading rank never holds the whole set twice (its peak RSS stays
 * near the other ranks'). */
static void copy_then_release(void *dst, const void *src, size_t bytes) {
    const size_t piece = (size_t)8 << 20;
    const long page = sysconf(_SC_PAGESIZE);
    const uintptr_t pg = page > 0 ? (uintptr_t)page : 4096; /* the usual page, if unknown */
    uintptr_t released = ((uintptr_t)src + pg - 1) / pg * pg; /* first whole page */
    for (size_t off = 0; off < bytes; off += piece) {
        const size_t len = bytes - off < piece ? bytes - off : piece;
        memcpy((char *)dst + off, (const char *)src + off, len);
        /* the whole pages copied since the last release */
        const uintptr_t hi = ((uintptr_t)src + off + len) / pg * pg;
        if (hi > released) {
            madvise((void *)released, hi - released, MADV_DONTNEED); /* advice: may fail */
            released = hi;
        }
    }
}

/* The loader's set (on local rank 0; NULL on the others) into a segment
 * shared by the host's ranks: *out on every rank of the host. Collective on
 * the host only. */
static int share_on_host(descent_data *mine, descent_data **out, descent_error *err) {
    const int loader = comm_local_rank() == 0;
    set_shape s;
    if (loader) describe(mine, &s);
    size_t xb = 0, yb = 0;
    void *base = NULL, *handle = NULL;
    int rc = comm_local_bcast(&s, sizeof s);
    if (!rc) {
        array_bytes(&s, &xb, &yb);
        rc = comm_host_alloc(xb + yb, &base, &handle);
    }
    if (!rc && loader) {
        copy_then_release(base, s.bytes == 1 ? (void *)mine->x8 : (void *)mine->xf,
                          (size_t)s.n * (size_t)s.n_in * (size_t)s.bytes);
        memcpy((char *)base + xb, s.classification ? (void *)mine->labels : (void *)mine->targets,
               s.classification ? (size_t)s.n * sizeof(int32_t)
                                : (size_t)s.n * (size_t)s.n_out * sizeof(float));
    }
    if (!rc) rc = comm_local_barrier(); /* the copy is complete before anyone reads */
    if (rc) return set_error(err, rc, "cannot share the data set on this host");
    *out = into_segment(mine, &s, base, handle);
    return *out ? DESCENT_OK : set_error(err, DESCENT_E_NOMEM, "out of memory");
}

int descent_data_load_shared(descent_data **out, const char *key, descent_loader load, void *ctx,
                             descent_error *err) {
    REQUIRE_ARG(err, out);
    REQUIRE_ARG(err, key);
    REQUIRE_ARG(err, load);
    *out = NULL;
    int same = 1;
    int rc = comm_local_size() > 1 ? host_agrees_on(key, &same) : DESCENT_OK;
    /* a host whose ranks name different data: each reads its own (the ranks'
     * data are compared before training) */
    const int hosts_share = comm_local_size() > 1 && same;
    const int loader = !hosts_share || comm_local_rank() == 0;
    descent_data *mine = NULL, *d = NULL;
    if (!rc && loader) rc = load(&mine, ctx, err);
    int who = -1;
    rc = comm_agree(rc, &who);
    rc = remote_error(err, rc, who);
    if (rc) {
        descent_data_free(mine);
        return rc;
    }
    if (hosts_share) rc = share_on_host(mine, &d, err); /* the host's ranks only */
    else d = mine;
    /* every rank, on every host, takes part in the same global agreements */
    rc = comm_agree(rc, &who);
    rc = remote_error(err, rc, who);
    if (rc) {
        descent_data_free(d ? d : mine);
        return rc;
    }
    *out = d;
    return DESCENT_OK;
}
