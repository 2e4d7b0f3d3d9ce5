/*
 * model.c - model files and NumPy export. The model format (README "Model
 * file format") is little-endian:
 *   "DSCNTMDL" | u32 version=1 | u32 L | u32 sizes[L+1] | u32 acts[L] |
 *   u32 cost | u64 n_params | f32 params[n_params] | u32 crc32(all before)
 * Readers check every size against the file's real length before any
 * allocation, then the checksum. Writes are atomic (tmp, fsync, rename).
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "model files are written with the host's float layout: little-endian hosts only"
#endif

static const char MODEL_MAGIC[8] = {'D', 'S', 'C', 'N', 'T', 'M', 'D', 'L'};
#define MODEL_VERSION 1u
#define MODEL_MAX_LAYERS 1024u

typedef struct {
    FILE *f;
    uint32_t crc;
    int bad;
} crc_writer;

static void cw_put(crc_writer *w, const void *p, size_t n) {
    if (w->bad) return;
    if (fwrite(p, 1, n, w->f) != n) w->bad = 1;
    w->crc = crc32_buf(w->crc, p, n);
}
static void cw_u32(crc_writer *w, uint32_t v) { cw_put(w, &v, 4); }

static int write_model(FILE *f, void *ctx) {
    const descent_net *net = ctx;
    crc_writer w = {f, 0, 0};
    cw_put(&w, MODEL_MAGIC, 8);
    cw_u32(&w, MODEL_VERSION);
    cw_u32(&w, (uint32_t)net->L);
    for (int i = 0; i <= net->L; i++) cw_u32(&w, (uint32_t)net->sizes[i]);
    for (int i = 0; i < net->L; i++) cw_u32(&w, (uint32_t)net->acts[i]);
    cw_u32(&w, (uint32_t)net->cost);
    const uint64_t np = net->n_params;
    cw_put(&w, &np, 8);
    cw_put(&w, net->params, net->n_params * sizeof(float));
    const uint32_t crc = w.crc;
    cw_put(&w, &crc, 4);
    return w.bad ? -1 : 0;
}

int descent_model_save(const descent_net *net, const char *path, descent_error *err) {
    return descent_write_file(path, write_model, (void *)net, err);
}

int descent_model_load(descent_net **out, const char *path, descent_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return set_error(err, DESCENT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return set_error(err, DESCENT_E_IO, "%s: not a regular file", path);
    }
    const uint64_t size = (uint64_t)st.st_size;
    unsigned char head[16];
    int rc = DESCENT_OK;
    uint32_t L = 0;
    if (size < 16 || fread(head, 1, 16, f) != 16)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: truncated: %llu bytes is too short for a model "
                       "header", path, (unsigned long long)size);
    else if (memcmp(head, MODEL_MAGIC, 8) != 0)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: not a descent model (bad magic)", path);
    else {
        uint32_t ver;
        memcpy(&ver, head + 8, 4);
        memcpy(&L, head + 12, 4);
        if (ver != MODEL_VERSION)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: unsupported model version %u", path, ver);
        else if (L < 1 || L > MODEL_MAX_LAYERS)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: byte 12: layer count %u is out of range "
                           "1..%u", path, L, MODEL_MAX_LAYERS);
    }
    /* header length is now bounded; the total must match the file exactly */
    const uint64_t hdr = 16 + 4ull * (L + 1) + 4ull * L + 4 + 8;
    if (!rc && size < hdr + 4)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: truncated: %llu bytes, the header alone needs "
                       "%llu", path, (unsigned long long)size, (unsigned long long)(hdr + 4));
    unsigned char *buf = NULL;
    if (!rc) {
        buf = malloc(size);
        if (!buf) rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
        else if (fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, size, f) != size)
            rc = set_error(err, DESCENT_E_IO, "%s: read error", path);
    }
    fclose(f);
    int *sizes = NULL;
    descent_act *acts = NULL;
    if (!rc) {
        sizes = malloc(sizeof(int) * (L + 1));
        acts = malloc(sizeof(descent_act) * L);
        if (!sizes || !acts) rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
    }
    uint64_t np = 0;
    uint32_t cost = 0;
    for (uint32_t i = 0; !rc && i <= L; i++) {
        uint32_t v;
        memcpy(&v, buf + 16 + 4 * i, 4);
        if (v < 1 || v > (1u << 24))
            rc = set_error(err, DESCENT_E_FORMAT, "%s: byte %u: layer width %u is out of range",
                           path, 16 + 4 * i, v);
        else sizes[i] = (int)v;
    }
    for (uint32_t i = 0; !rc && i < L; i++) {
        uint32_t v;
        memcpy(&v, buf + 16 + 4 * (L + 1) + 4 * i, 4);
        if (v >= DESCENT_ACT_COUNT)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: layer %u: unknown activation code %u", path,
                           i + 1, v);
        else acts[i] = (descent_act)v;
    }
    if (!rc) {
        memcpy(&cost, buf + hdr - 12, 4);
        memcpy(&np, buf + hdr - 8, 8);
        const uint64_t want = net_layout((int)L, sizes, NULL, NULL);
        if (cost >= DESCENT_COST_COUNT)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: unknown cost code %u", path, cost);
        else if (np != want)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: parameter count %llu does not match the "
                           "layer sizes (%llu)", path, (unsigned long long)np,
                           (unsigned long long)want);
        else if (size != hdr + 4 * np + 4)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: %s: %llu bytes, expected %llu", path,
                           size < hdr + 4 * np + 4 ? "truncated" : "trailing data",
                           (unsigned long long)size, (unsigned long long)(hdr + 4 * np + 4));
    }
    if (!rc) {
        uint32_t stored;
        memcpy(&stored, buf + size - 4, 4);
        const uint32_t crc = crc32_buf(0, buf, size - 4);
        if (crc != stored)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: checksum mismatch (stored %08x, computed "
                           "%08x): the file is corrupt", path, stored, crc);
    }
    descent_net *net = NULL;
    if (!rc) rc = descent_net_create(&net, (int)L, sizes, acts, (descent_cost)cost, err);
    if (!rc) memcpy(net->params, buf + hdr, 4 * np);
    free(buf);
    free(sizes);
    free(acts);
    if (rc) return rc;
    *out = net;
    return DESCENT_OK;
}

/* ---- NumPy .npy export (format version 1.0) -------------------------------- */
typedef struct {
    const float *data;
    int rows, cols; /* cols == 0: a vector */
} npy_ctx;

static int write_npy(FILE *f, void *ctx) {
    const npy_ctx *c = ctx;
    char dict[128];
    int dl = c->cols ? snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, "
                                "'shape': (%d, %d), }", c->rows, c->cols)
                     : snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, "
                                "'shape': (%d,), }", c->rows);
    /* magic(6) + version(2) + len(2) + dict + padding + '\n' is a multiple of 64 */
    const int total = (10 + dl + 1 + 63) / 64 * 64;
    const int hl = total - 10;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff),
                             (unsigned char)(hl >> 8)};
    if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)dl, f) != (size_t)dl) return -1;
    for (int i = 10 + dl; i < total - 1; i++)
        if (fputc(' ', f) == EOF) return -1;
    if (fputc('\n', f) == EOF) return -1;
    const size_t n = (size_t)c->rows * (size_t)(c->cols ? c->cols : 1);
    return fwrite(c->data, sizeof(float), n, f) == n ? 0 : -1;
}

int descent_model_export_npy(const descent_net *net, const char *dir, descent_error *err) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return set_error(err, DESCENT_E_IO, "%s: not a directory", dir);
    char path[4096];
    for (int l = 0; l < net->L; l++) {
        npy_ctx w = {net->params + net->w_off[l], net->sizes[l + 1], net->sizes[l]};
        npy_ctx b = {net->params + net->b_off[l], net->sizes[l + 1], 0};
        snprintf(path, sizeof path, "%s/W%d.npy", dir, l + 1);
        int rc = descent_write_file(path, write_npy, &w, err);
        if (rc) return rc;
        snprintf(path, sizeof path, "%s/b%d.npy", dir, l + 1);
        rc = descent_write_file(path, write_npy, &b, err);
        if (rc) return rc;
    }
    return DESCENT_OK;
}
