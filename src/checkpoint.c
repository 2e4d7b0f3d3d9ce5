/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.c - full training state files. Layout (little-endian):
 *   "DSCNTCKP" | u32 version (3) | model section (model.c: a model file
 *   without its crc32) |
 *   u64 step | u32 epoch | u32 k | f64 epoch_loss | f64 epoch_correct |
 *   the hyper-parameters stored with version 1 (config_fields.h: u32
 *   epochs | u64 batch | f64 lr | u32 schedule | u32 optimizer |
 *   f64 momentum, beta1, beta2, eps, weight_decay | u64 seed |
 *   u32 reproducible) | u64 optimizer steps | u32 has_m | u32 has_v |
 *   f32 m[n] if has_m | f32 v[n] if has_v | u32 L | i32 w_exp[L] | i32 b_exp[L] |
 *   (version 2:) those stored with version 2 (f64 dropout | u64 warm-up
 *   steps | u32 warm-up epochs) |
 *   f64 best validation loss | u32 its epoch |
 *   (version 3:) u32 has_data | u64 training set identity[6] | u64
 *   validation set identity[6] (data_identity; zeros: none) if has_data |
 *   u32 crc32 of everything before it.
 * Version 1 files (no dropout, no best model so far) and version 2 files
 * (no data identity: a resume from one does not check the data) are still
 * read.
 * Written atomically (tmp, fsync, rename, fsync of the directory), so a
 * process killed at any moment leaves the previous checkpoint intact.
 */
#define _POSIX_C_SOURCE 200809L
#include "checkpoint.h"

#include "atomic_file.h"
#include "binio.h"
#include "config_fields.h"
#include "net.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char CKPT_MAGIC[8] = {'D', 'S', 'C', 'N', 'T', 'C', 'K', 'P'};
#define CKPT_VERSION 3u
#define CKPT_PREFIX "ckpt-"
#define CKPT_SUFFIX ".dsc"

typedef struct {
    const descent_net *net;
    const descent_checkpoint *ck;
} ckpt_ctx;

/* The hyper-parameters of config_fields.h that checkpoint version `version`
 * added, in the table's order */
#define PUT_CK_NONE(field)
#define PUT_CK_U32(field) cw_u32(w, (uint32_t)g->field);
#define PUT_CK_U64(field) cw_u64(w, (uint64_t)g->field);
#define PUT_CK_F64(field) cw_f64(w, g->field);
static void put_config(crc_writer *w, const descent_train_config *g, int version) {
#define PUT_OF(field, kind, def, role, ver, wire, valid, rule, opt) \
    if ((ver) == version) { PUT_##wire(field) }
    DESCENT_CONFIG_FIELDS(PUT_OF)
#undef PUT_OF
}

#define GET_CK_NONE(field)
#define GET_CK_U32(field) { uint32_t x = 0; rc = rd_u32(r, &x, #field, err); g->field = x; }
#define GET_CK_U64(field) { uint64_t x = 0; rc = rd_u64(r, &x, #field, err); g->field = x; }
#define GET_CK_F64(field) { rc = rd_f64(r, &g->field, #field, err); }
static int get_config(reader *r, descent_train_config *g, int version, descent_error *err) {
    int rc = DESCENT_OK;
#define GET_OF(field, kind, def, role, ver, wire, valid, rule, opt) \
    if ((ver) == version && !rc) { GET_##wire(field) }
    DESCENT_CONFIG_FIELDS(GET_OF)
#undef GET_OF
    return rc;
}

static int write_ckpt(FILE *f, void *vctx) {
    const ckpt_ctx *c = vctx;
    const descent_checkpoint *k = c->ck;
    const descent_train_config *g = &k->cfg;
    crc_writer w = {f, 0, 0};
    cw_put(&w, CKPT_MAGIC, 8);
    cw_u32(&w, CKPT_VERSION);
    model_put(&w, c->net);
    cw_u64(&w, k->step);
    cw_u32(&w, k->epoch);
    cw_u32(&w, k->k);
    cw_f64(&w, k->epoch_loss);
    cw_f64(&w, k->epoch_correct);
    put_config(&w, g, 1);
    cw_u64(&w, k->opt_t);
    cw_u32(&w, k->m != NULL);
    cw_u32(&w, k->v != NULL);
    if (k->m) cw_put(&w, k->m, k->n * sizeof(float));
    if (k->v) cw_put(&w, k->v, k->n * sizeof(float));
    cw_u32(&w, (uint32_t)(k->w_exp ? k->L : 0));
    if (k->w_exp) {
        cw_put(&w, k->w_exp, sizeof(int32_t) * (size_t)k->L);
        cw_put(&w, k->b_exp, sizeof(int32_t) * (size_t)k->L);
    }
    put_config(&w, g, 2);
    cw_f64(&w, k->best_val_loss);
    cw_u32(&w, k->best_epoch);
    cw_u32(&w, (uint32_t)k->has_data);
    for (int i = 0; k->has_data && i < FP_LEN; i++) cw_u64(&w, k->train_id[i]);
    for (int i = 0; k->has_data && i < FP_LEN; i++) cw_u64(&w, k->val_id[i]);
    return cw_finish(&w);
}

static int is_ckpt_name(const char *name) {
    const size_t n = strlen(name), p = strlen(CKPT_PREFIX), s = strlen(CKPT_SUFFIX);
    if (n <= p + s || strncmp(name, CKPT_PREFIX, p) != 0 || strcmp(name + n - s, CKPT_SUFFIX) != 0)
        return 0;
    for (size_t i = p; i < n - s; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return 1;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checkpoint names in dir, sorted oldest first (names sort by step). */
static int list_ckpts(const char *dir, char ***names, size_t *count) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_ckpt_name(e->d_name)) continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(*names, cap * sizeof(char *));
            if (!p) break;
            *names = p;
        }
        (*names)[(*count)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*count) qsort(*names, *count, sizeof(char *), cmp_names);
    return 0;
}

static void free_names(char **names, size_t count) {
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names);
}

int checkpoint_save(const char *dir, int keep, const descent_net *net,
                    const descent_checkpoint *ck, char path[PATH_CAP], descent_error *err) {
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            return set_error(err, DESCENT_E_IO, "%s: cannot create the checkpoint directory: %s",
                             dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return set_error(err, DESCENT_E_IO, "%s: not a directory", dir);
    }
    remove_stale_temps(dir, CKPT_PREFIX);
    char name[64];
    snprintf(name, sizeof name, CKPT_PREFIX "%012llu" CKPT_SUFFIX, (unsigned long long)ck->step);
    if (path_join(path, dir, name))
        return set_error(err, DESCENT_E_IO, "%s: the checkpoint directory's name is too long", dir);
    ckpt_ctx c = {net, ck};
    int rc = descent_write_file(path, write_ckpt, &c, err);
    if (rc) return rc;
    char **names;
    size_t count;
    if (keep > 0 && list_ckpts(dir, &names, &count) == 0) {
        for (size_t i = 0; i + (size_t)keep < count; i++) {
            char old[PATH_CAP];
            if (path_join(old, dir, names[i]) == 0) unlink(old);
        }
        free_names(names, count);
    }
    return DESCENT_OK;
}

void descent_checkpoint_free(descent_checkpoint *ck) {
    if (!ck) return;
    aligned_free(ck->m);
    aligned_free(ck->v);
    free(ck->w_exp);
    free(ck->b_exp);
    free(ck);
}

long descent_checkpoint_step(const descent_checkpoint *ck) { return (long)ck->step; }
int descent_checkpoint_epoch(const descent_checkpoint *ck) { return (int)ck->epoch; }

/* dropout, the warm-up, and the best validation loss so far with its epoch */
static int parse_v2_fields(reader *r, descent_checkpoint *k, descent_error *err) {
    int rc = get_config(r, &k->cfg, 2, err);
    descent_error why = {0};
    if (!rc && descent_train_config_check(&k->cfg, &why))
        return set_error(err, DESCENT_E_FORMAT, "%s: bad hyper-parameters: %s", r->path, why.msg);
    if (!rc) rc = rd_f64(r, &k->best_val_loss, "best validation loss", err);
    if (!rc) rc = rd_u32(r, &k->best_epoch, "best epoch", err);
    if (rc) return rc;
    if (isnan(k->best_val_loss) || k->best_epoch >= k->epoch ||
        (k->best_epoch == 0) != (k->best_val_loss == INFINITY))
        return set_error(err, DESCENT_E_FORMAT, "%s: bad best validation result (epoch %u)",
                         r->path, k->best_epoch);
    return DESCENT_OK;
}

/* Which training and validation sets the run had */
static int parse_data_identity(reader *r, descent_checkpoint *k, descent_error *err) {
    uint32_t has = 0;
    int rc = rd_u32(r, &has, "data flag", err);
    if (!rc && has > 1)
        return set_error(err, DESCENT_E_FORMAT, "%s: bad data flag %u", r->path, has);
    k->has_data = (int)has;
    for (int i = 0; !rc && has && i < FP_LEN; i++) rc = rd_u64(r, &k->train_id[i], "data identity", err);
    for (int i = 0; !rc && has && i < FP_LEN; i++) rc = rd_u64(r, &k->val_id[i], "data identity", err);
    return rc;
}

static int parse_ckpt(reader *r, descent_net **net, descent_checkpoint *k, descent_error *err) {
    char magic[8];
    uint32_t ver = 0, has_m = 0, has_v = 0, L = 0;
    descent_train_config *g = &k->cfg;
    descent_train_config_default(g);
    int rc = rd_bytes(r, magic, 8, "magic", err);
    if (!rc && memcmp(magic, CKPT_MAGIC, 8) != 0)
        return set_error(err, DESCENT_E_FORMAT, "%s: not a descent checkpoint (bad magic)",
                         r->path);
    if (!rc) rc = rd_u32(r, &ver, "version", err);
    if (!rc && (ver < 1 || ver > CKPT_VERSION))
        return set_error(err, DESCENT_E_FORMAT, "%s: unsupported checkpoint version %u", r->path,
                         ver);
    if (!rc) rc = model_parse(r, net, err);
    if (!rc) rc = rd_u64(r, &k->step, "step", err);
    if (!rc) rc = rd_u32(r, &k->epoch, "epoch", err);
    if (!rc) rc = rd_u32(r, &k->k, "step in epoch", err);
    if (!rc) rc = rd_f64(r, &k->epoch_loss, "epoch loss", err);
    if (!rc) rc = rd_f64(r, &k->epoch_correct, "epoch correct", err);
    if (!rc) rc = get_config(r, g, 1, err);
    if (!rc) rc = rd_u64(r, &k->opt_t, "optimizer steps", err);
    if (!rc) rc = rd_u32(r, &has_m, "state flags", err);
    if (!rc) rc = rd_u32(r, &has_v, "state flags", err);
    if (rc) return rc;
    descent_error why = {0};
    if (descent_train_config_check(g, &why))
        return set_error(err, DESCENT_E_FORMAT, "%s: bad hyper-parameters: %s", r->path, why.msg);
    if (k->epoch < 1 || k->step > ((uint64_t)1 << 48) || k->opt_t > k->step)
        return set_error(err, DESCENT_E_FORMAT, "%s: bad training position (epoch %u, step %llu)",
                         r->path, k->epoch, (unsigned long long)k->step);
    k->n = (*net)->n_params;
    const int need_m = g->optimizer != DESCENT_OPT_GD, need_v = g->optimizer == DESCENT_OPT_ADAM;
    if ((int)(has_m != 0) != need_m || (int)(has_v != 0) != need_v)
        return set_error(err, DESCENT_E_FORMAT, "%s: optimizer state does not match optimizer %s",
                         r->path, descent_optimizer_name(g->optimizer));
    for (int t = 0; t < need_m + need_v; t++) {
        if (k->n > (r->size - r->pos) / 4)
            return set_error(err, DESCENT_E_FORMAT, "%s: truncated: optimizer state", r->path);
        float **dst = t == 0 ? &k->m : &k->v;
        *dst = aligned_calloc(k->n, sizeof(float));
        if (!*dst) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", r->path);
        rd_bytes(r, *dst, k->n * sizeof(float), "optimizer state", err);
        for (size_t i = 0; i < k->n; i++)
            if (!isfinite((*dst)[i]))
                return set_error(err, DESCENT_E_FORMAT, "%s: optimizer state %s[%zu] is not "
                                 "finite", r->path, t == 0 ? "m" : "v", i);
    }
    rc = rd_u32(r, &L, "scale count", err);
    if (rc) return rc;
    if (L != 0 && L != (uint32_t)(*net)->L)
        return set_error(err, DESCENT_E_FORMAT, "%s: %u fixed-point scales for %d layers", r->path,
                         L, (*net)->L);
    if ((L != 0) != (g->reproducible != 0))
        return set_error(err, DESCENT_E_FORMAT, "%s: fixed-point scales do not match the mode",
                         r->path);
    k->L = (*net)->L;
    if (L) {
        k->w_exp = malloc(sizeof(int32_t) * L);
        k->b_exp = malloc(sizeof(int32_t) * L);
        if (!k->w_exp || !k->b_exp) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", r->path);
        rc = rd_bytes(r, k->w_exp, sizeof(int32_t) * L, "scales", err);
        if (!rc) rc = rd_bytes(r, k->b_exp, sizeof(int32_t) * L, "scales", err);
        if (rc) return rc;
    }
    k->best_val_loss = INFINITY;
    k->best_epoch = 0;
    if (ver >= 2) rc = parse_v2_fields(r, k, err);
    if (!rc && ver >= 3) rc = parse_data_identity(r, k, err);
    if (!rc && r->pos != r->size)
        return set_error(err, DESCENT_E_FORMAT, "%s: trailing data: %zu bytes", r->path,
                         r->size - r->pos);
    return rc;
}

int descent_checkpoint_load(const char *path, descent_net **net, descent_train_config *cfg,
                            descent_checkpoint **out, char *resolved, size_t resolved_len,
                            descent_error *err) {
    REQUIRE_ARG(err, path);
    REQUIRE_ARG(err, net);
    REQUIRE_ARG(err, cfg);
    REQUIRE_ARG(err, out);
    *net = NULL;
    *out = NULL;
    if (config_size_check(cfg, err)) return DESCENT_E_USAGE;
    char newest[PATH_CAP];
    const char *file = path; /* a file, or a directory's newest checkpoint */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        char **names;
        size_t count;
        if (list_ckpts(path, &names, &count) != 0)
            return set_error(err, DESCENT_E_IO, "%s: cannot read the directory: %s", path,
                             strerror(errno));
        if (count == 0) {
            free_names(names, count);
            return set_error(err, DESCENT_E_IO, "%s: no checkpoint (" CKPT_PREFIX "*" CKPT_SUFFIX
                             ") in this directory", path);
        }
        const int too_long = path_join(newest, path, names[count - 1]);
        free_names(names, count);
        if (too_long) return set_error(err, DESCENT_E_IO, "%s: the directory's name is too long", path);
        file = newest;
    }
    if (resolved) snprintf(resolved, resolved_len, "%s", file);
    unsigned char *buf;
    size_t size;
    int rc = file_slurp(file, (uint64_t)1 << 42, &buf, &size, err);
    if (rc) return rc;
    /* a file of another kind is named as such; then the checksum: a torn or
     * bit-flipped checkpoint is refused as a whole */
    if (size >= sizeof CKPT_MAGIC && memcmp(buf, CKPT_MAGIC, sizeof CKPT_MAGIC) != 0)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: not a descent checkpoint (bad magic)", file);
    else
        rc = check_crc(buf, size, file, err);
    descent_checkpoint *k = calloc(1, sizeof *k);
    if (!rc && !k) rc = set_error(err, DESCENT_E_NOMEM, "out of memory");
    if (!rc) {
        reader r = {buf, size - 4, 0, file};
        rc = parse_ckpt(&r, net, k, err);
    }
    free(buf);
    if (rc) {
        descent_net_free(*net);
        *net = NULL;
        descent_checkpoint_free(k);
        return rc;
    }
    /* as much of the configuration as the caller's struct holds */
    memcpy((char *)cfg + sizeof cfg->size, (const char *)&k->cfg + sizeof cfg->size,
           cfg->size - sizeof cfg->size);
    *out = k;
    return DESCENT_OK;
}
