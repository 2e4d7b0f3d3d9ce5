/* SPDX-License-Identifier: MIT */
/*
 * model.c - model files and NumPy export. The model format
 * (docs/file-formats.md) is little-endian:
 *   "DSCNTMDL" | u32 version | u32 L | u32 sizes[L+1] | u32 acts[L] |
 *   u32 cost | u64 n_params | f32 params[n_params] |
 *   (version 2:) u32 sections (bit 0: standardised inputs, bit 1: provenance) |
 *     f32 mean[sizes[0]] | f32 std[sizes[0]] (if bit 0) |
 *     u32 n | char record[n] | u32 n | char parent[n] (if bit 1) |
 *   u32 crc32(all before)
 * A model with neither section is written as version 1, byte for byte what
 * earlier versions wrote; both versions are read.
 * The same model section opens every checkpoint (checkpoint.c). Readers work
 * on the whole file in memory through a bounds-checked cursor: every size is
 * checked against what the file really holds before anything is allocated,
 * then the checksum. Writes are atomic (binio.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "atomic_file.h"
#include "binio.h"
#include "net.h"
#include "provenance.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "model files are written with the host's float layout: little-endian hosts only"
#endif

static const char MODEL_MAGIC[8] = {'D', 'S', 'C', 'N', 'T', 'M', 'D', 'L'};
#define MODEL_VERSION 1u          /* the network and its parameters           */
#define MODEL_VERSION_SECTIONS 2u /* ... and optional sections after them      */
#define SECTION_STANDARDIZE 1u
#define SECTION_PROVENANCE 2u
#define PROVENANCE_MAX (1u << 20) /* bytes of a record or of a parent         */
#define MODEL_MAX_LAYERS 1024u
#define MODEL_MAX_WIDTH (1u << 24)

static void put_text(crc_writer *w, const char *s) {
    const size_t n = s ? strlen(s) : 0;
    cw_u32(w, (uint32_t)n);
    cw_put(w, s, n);
}

void model_put(crc_writer *w, const descent_net *net) {
    const int standardized = net->in_mean != NULL, has_provenance = net->prov_record != NULL;
    const uint32_t sections = (standardized ? SECTION_STANDARDIZE : 0) |
                              (has_provenance ? SECTION_PROVENANCE : 0);
    cw_put(w, MODEL_MAGIC, 8);
    cw_u32(w, sections ? MODEL_VERSION_SECTIONS : MODEL_VERSION);
    cw_u32(w, (uint32_t)net->L);
    for (int i = 0; i <= net->L; i++) cw_u32(w, (uint32_t)net->sizes[i]);
    for (int i = 0; i < net->L; i++) cw_u32(w, (uint32_t)net->acts[i]);
    cw_u32(w, (uint32_t)net->cost);
    cw_u64(w, net->n_params);
    cw_put(w, net->params, net->n_params * sizeof(float));
    if (!sections) return;
    cw_u32(w, sections);
    if (standardized) {
        cw_put(w, net->in_mean, sizeof(float) * (size_t)net->sizes[0]);
        cw_put(w, net->in_std, sizeof(float) * (size_t)net->sizes[0]);
    }
    if (has_provenance) {
        put_text(w, net->prov_record);
        put_text(w, net->prov_parent);
    }
}

static int write_model(FILE *f, void *ctx) {
    crc_writer w = {f, 0, 0};
    model_put(&w, ctx);
    return cw_finish(&w);
}

int descent_model_save(const descent_net *net, const char *path, descent_error *err) {
    REQUIRE_ARG(err, net);
    REQUIRE_ARG(err, path);
    return descent_write_file(path, write_model, (void *)net, err);
}

/* A model whose parameters hold a NaN or an Inf computes nothing useful:
 * refuse it, naming the first such parameter. */
static int check_finite_params(const descent_net *net, const char *path, descent_error *err) {
    for (int l = 0; l < net->L; l++) {
        const size_t nw = net->b_off[l] - net->w_off[l], nb = (size_t)net->sizes[l + 1];
        const float *w = net->params + net->w_off[l], *b = net->params + net->b_off[l];
        for (size_t i = 0; i < nw + nb; i++) {
            const float v = i < nw ? w[i] : b[i - nw];
            if (isfinite(v)) continue;
            const size_t in = (size_t)net->sizes[l];
            if (i < nw)
                return set_error(err, DESCENT_E_FORMAT, "%s: layer %d weight [%zu][%zu] is %s: "
                                 "the model holds non-finite parameters", path, l + 1, i / in,
                                 i % in, isnan(v) ? "NaN" : "Inf");
            return set_error(err, DESCENT_E_FORMAT, "%s: layer %d bias [%zu] is %s: the model "
                             "holds non-finite parameters", path, l + 1, i - nw,
                             isnan(v) ? "NaN" : "Inf");
        }
    }
    return DESCENT_OK;
}

static int read_standardization(reader *r, descent_net *net, descent_error *err) {
    const size_t n = (size_t)net->sizes[0];
    float *mean = malloc(sizeof(float) * n), *std = malloc(sizeof(float) * n);
    int rc = !mean || !std ? set_error(err, DESCENT_E_NOMEM, "%s: out of memory", r->path) : 0;
    if (!rc) rc = rd_bytes(r, mean, sizeof(float) * n, "standardization means", err);
    if (!rc) rc = rd_bytes(r, std, sizeof(float) * n, "standardization deviations", err);
    descent_error why = {0};
    if (!rc && descent_net_set_standardization(net, mean, std, &why))
        rc = set_error(err, DESCENT_E_FORMAT, "%s: %s", r->path, why.msg);
    free(mean);
    free(std);
    return rc;
}

/* One text of the provenance section, malloc'd into *out (NULL: empty) */
static int read_text(reader *r, const char *what, char **out, descent_error *err) {
    *out = NULL;
    uint32_t n = 0;
    int rc = rd_u32(r, &n, what, err);
    if (!rc && (n > PROVENANCE_MAX || n > r->size - r->pos))
        return set_error(err, DESCENT_E_FORMAT, "%s: byte %zu: %s of %u bytes %s", r->path,
                         r->pos - 4, what, n, n > PROVENANCE_MAX ? "is too long" : "is truncated");
    if (rc || n == 0) return rc;
    if (!(*out = malloc((size_t)n + 1)))
        return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", r->path);
    rd_bytes(r, *out, n, what, err);
    (*out)[n] = '\0';
    if (memchr(*out, '\0', n))
        return set_error(err, DESCENT_E_FORMAT, "%s: byte %zu: %s holds a NUL byte", r->path,
                         r->pos - n, what);
    return DESCENT_OK;
}

static int read_provenance(reader *r, descent_net *net, descent_error *err) {
    char *record = NULL, *parent = NULL;
    int rc = read_text(r, "provenance record", &record, err);
    if (!rc) rc = read_text(r, "provenance parent", &parent, err);
    if (!rc && !record)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: byte %zu: empty provenance record", r->path,
                       r->pos);
    if (!rc && net_set_provenance(net, record, parent))
        rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory", r->path);
    free(record);
    free(parent);
    return rc;
}

/* A version 2 model's sections after its parameters */
static int read_sections(reader *r, descent_net *net, descent_error *err) {
    uint32_t sections = 0;
    int rc = rd_u32(r, &sections, "sections", err);
    if (!rc && sections & ~(SECTION_STANDARDIZE | SECTION_PROVENANCE))
        return set_error(err, DESCENT_E_FORMAT, "%s: byte %zu: unknown model sections 0x%x",
                         r->path, r->pos - 4, sections);
    if (!rc && sections & SECTION_STANDARDIZE) rc = read_standardization(r, net, err);
    if (!rc && sections & SECTION_PROVENANCE) rc = read_provenance(r, net, err);
    return rc;
}

int model_parse(reader *r, descent_net **out, descent_error *err) {
    *out = NULL;
    char magic[8];
    uint32_t ver = 0, L = 0, cost = 0;
    uint64_t np = 0;
    const size_t at = r->pos;
    int rc = rd_bytes(r, magic, 8, "magic", err);
    if (!rc && memcmp(magic, MODEL_MAGIC, 8) != 0)
        return set_error(err, DESCENT_E_FORMAT, "%s: byte %zu: not a descent model (bad magic)",
                         r->path, at);
    if (!rc) rc = rd_u32(r, &ver, "version", err);
    if (!rc && ver != MODEL_VERSION && ver != MODEL_VERSION_SECTIONS)
        return set_error(err, DESCENT_E_FORMAT, "%s: unsupported model version %u", r->path, ver);
    if (!rc) rc = rd_u32(r, &L, "layer count", err);
    if (!rc && (L < 1 || L > MODEL_MAX_LAYERS))
        return set_error(err, DESCENT_E_FORMAT, "%s: byte %zu: layer count %u is out of range "
                         "1..%u", r->path, r->pos - 4, L, MODEL_MAX_LAYERS);
    if (rc) return rc;
    int sizes[MODEL_MAX_LAYERS + 1];
    descent_act acts[MODEL_MAX_LAYERS];
    for (uint32_t i = 0; !rc && i <= L; i++) {
        uint32_t v = 0;
        rc = rd_u32(r, &v, "layer width", err);
        if (!rc && (v < 1 || v > MODEL_MAX_WIDTH))
            rc = set_error(err, DESCENT_E_FORMAT, "%s: byte %zu: layer width %u is out of range",
                           r->path, r->pos - 4, v);
        sizes[i] = (int)v;
    }
    for (uint32_t i = 0; !rc && i < L; i++) {
        uint32_t v = 0;
        rc = rd_u32(r, &v, "activation", err);
        if (!rc && v >= DESCENT_ACT_COUNT)
            rc = set_error(err, DESCENT_E_FORMAT, "%s: layer %u: unknown activation code %u",
                           r->path, i + 1, v);
        acts[i] = (descent_act)v;
    }
    if (!rc) rc = rd_u32(r, &cost, "cost", err);
    if (!rc && cost >= DESCENT_COST_COUNT)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: unknown cost code %u", r->path, cost);
    if (!rc) rc = rd_u64(r, &np, "parameter count", err);
    if (rc) return rc;
    const uint64_t want = net_layout((int)L, sizes, NULL, NULL);
    if (np != want)
        return set_error(err, DESCENT_E_FORMAT, "%s: parameter count %llu does not match the "
                         "layer sizes (%llu)", r->path, (unsigned long long)np,
                         (unsigned long long)want);
    if (np > (r->size - r->pos) / 4) /* before any allocation */
        return set_error(err, DESCENT_E_FORMAT, "%s: truncated: %llu parameters need %llu bytes, "
                         "%zu left", r->path, (unsigned long long)np,
                         (unsigned long long)(4 * np), r->size - r->pos);
    descent_net *net = NULL;
    descent_error why = {0};
    rc = descent_net_create(&net, (int)L, sizes, acts, (descent_cost)cost, &why);
    if (rc) return set_error(err, DESCENT_E_FORMAT, "%s: %s", r->path, why.msg);
    rd_bytes(r, net->params, 4 * np, "parameters", err);
    rc = check_finite_params(net, r->path, err);
    if (!rc && ver == MODEL_VERSION_SECTIONS) rc = read_sections(r, net, err);
    if (rc) {
        descent_net_free(net);
        return rc;
    }
    *out = net;
    return DESCENT_OK;
}

int model_load_file(descent_net **out, const char *path, descent_error *err) {
    *out = NULL;
    unsigned char *buf;
    size_t size;
    int rc = file_slurp(path, (uint64_t)1 << 40, &buf, &size, err);
    if (rc) return rc;
    reader r = {buf, size >= 4 ? size - 4 : 0, 0, path};
    descent_net *net = NULL;
    rc = model_parse(&r, &net, err);
    if (!rc && r.pos != r.size)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: trailing data: %zu bytes after the parameters",
                       path, r.size - r.pos);
    if (!rc) rc = check_crc(buf, size, path, err);
    if (rc && size < 4 && strstr(err ? err->msg : "", "magic") == NULL)
        set_error(err, DESCENT_E_FORMAT, "%s: truncated: %zu bytes is too short for a model",
                  path, size);
    free(buf);
    if (rc) { descent_net_free(net); return rc; }
    *out = net;
    return DESCENT_OK;
}

/* ---- NumPy .npy export (format version 1.0) and its manifest ---------------- */
#define EXPORT_VERSION 1
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

/* s as a JSON string: quotes, backslashes and control characters escaped */
static int put_json_string(FILE *f, const char *s) {
    if (fputc('"', f) == EOF) return -1;
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        const int rc = c == '"' || c == '\\' ? fprintf(f, "\\%c", c)
                       : c == '\n'            ? fputs("\\n", f)
                       : c < 0x20             ? fprintf(f, "\\u%04x", c)
                                              : fputc(c, f);
        if (rc < 0) return -1;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}

/* DIR/manifest.json: what the .npy files are (widths, activations, cost,
 * the standardization, the provenance) and the export format's version, for readers such as scripts/read_model.py */
static int write_manifest(FILE *f, void *ctx) {
    const descent_net *net = ctx;
    if (fprintf(f, "{\n  \"format\": \"descent-npy\",\n  \"version\": %d,\n  \"widths\": [",
                EXPORT_VERSION) < 0)
        return -1;
    for (int l = 0; l <= net->L; l++)
        if (fprintf(f, "%s%d", l ? ", " : "", net->sizes[l]) < 0) return -1;
    if (fputs("],\n  \"activations\": [", f) == EOF) return -1;
    for (int l = 0; l < net->L; l++)
        if (fprintf(f, "%s\"%s\"", l ? ", " : "", descent_act_name(net->acts[l])) < 0) return -1;
    if (fprintf(f, "],\n  \"cost\": \"%s\",\n  \"layers\": [", descent_cost_name(net->cost)) < 0)
        return -1;
    for (int l = 0; l < net->L; l++)
        if (fprintf(f, "%s{\"weights\": \"W%d.npy\", \"biases\": \"b%d.npy\"}", l ? ", " : "",
                    l + 1, l + 1) < 0)
            return -1;
    if (fputs("]", f) == EOF) return -1;
    /* standardised inputs: x <- (x - mean) / std before the first layer */
    if (net->in_mean &&
        fputs(",\n  \"standardize\": {\"mean\": \"mean.npy\", \"std\": \"std.npy\"}", f) == EOF)
        return -1;
    if (net->prov_text &&
        (fputs(",\n  \"provenance\": ", f) == EOF || put_json_string(f, net->prov_text)))
        return -1;
    return fputs("\n}\n", f) == EOF ? -1 : 0;
}

/* All of W1.npy, b1.npy, ..., manifest.json or none: every file is written
 * to its temporary first; only when all are complete are they renamed into
 * place. */
/* The files of an earlier export of a deeper network: Wl.npy and bl.npy for
 * l past the new one's layers (the new manifest no longer names them) */
static void remove_layers_after(const char *dir, int L) {
    for (int l = L + 1;; l++) {
        char name[32], w[PATH_CAP], b[PATH_CAP];
        snprintf(name, sizeof name, "W%d.npy", l);
        const int had = path_join(w, dir, name) == 0 && unlink(w) == 0;
        snprintf(name, sizeof name, "b%d.npy", l);
        if ((path_join(b, dir, name) != 0 || unlink(b) != 0) && !had) break;
    }
}

/* An earlier export's standardization is not that of a raw model */
static void remove_standardization(const char *dir) {
    char path[PATH_CAP];
    if (path_join(path, dir, "mean.npy") == 0) unlink(path);
    if (path_join(path, dir, "std.npy") == 0) unlink(path);
}

/* dir/name for an export's file, or the error */
static int export_path(char path[PATH_CAP], const char *dir, const char *name, descent_error *err) {
    return path_join(path, dir, name) ? set_error(err, DESCENT_E_IO, "%s: the directory's name "
                                                  "is too long", dir)
                                      : DESCENT_OK;
}

int descent_model_export_npy(const descent_net *net, const char *dir, descent_error *err) {
    REQUIRE_ARG(err, net);
    REQUIRE_ARG(err, dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return set_error(err, DESCENT_E_IO, "%s: not a directory", dir);
    const int nstd = net->in_mean ? 2 : 0; /* mean.npy, std.npy */
    const int nfiles = 2 * net->L + nstd + 1;
    pending_file *files = calloc((size_t)nfiles, sizeof *files);
    if (!files) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", dir);
    int rc = DESCENT_OK;
    char path[PATH_CAP];
    for (int i = 0; !rc && i < nstd; i++) {
        npy_ctx c = {i ? net->in_std : net->in_mean, net->sizes[0], 0};
        rc = export_path(path, dir, i ? "std.npy" : "mean.npy", err);
        if (!rc) rc = pending_write(&files[2 * net->L + i], path, write_npy, &c, err);
    }
    for (int i = 0; !rc && i < 2 * net->L; i++) {
        const int l = i / 2, is_bias = i % 2;
        npy_ctx c = {net->params + (is_bias ? net->b_off[l] : net->w_off[l]), net->sizes[l + 1],
                     is_bias ? 0 : net->sizes[l]};
        char name[32];
        snprintf(name, sizeof name, "%c%d.npy", is_bias ? 'b' : 'W', l + 1);
        rc = export_path(path, dir, name, err);
        if (!rc) rc = pending_write(&files[i], path, write_npy, &c, err);
    }
    if (!rc) rc = export_path(path, dir, "manifest.json", err);
    if (!rc) rc = pending_write(&files[nfiles - 1], path, write_manifest, (void *)net, err);
    if (!rc) rc = pending_commit_all(files, nfiles, err); /* all or none */
    for (int i = 0; i < nfiles; i++) pending_discard(&files[i]);
    if (!rc) remove_layers_after(dir, net->L);
    if (!rc && !net->in_mean) remove_standardization(dir);
    free(files);
    return rc;
}
