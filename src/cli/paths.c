/* SPDX-License-Identifier: MIT */
/*
 * paths.c - the files a command names, checked before any data is read: no
 * output may be an input or another output (writing it would destroy the
 * other), and every rank of a job was given the same options.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void paths_add(path_list *l, const char *option, const char *path, int output) {
    if (!path) return;
    if (l->n == PATHS_MAX) abort(); /* a programming error: raise PATHS_MAX */
    l->p[l->n++] = (named_path){option, path, output};
}

void paths_from_table(path_list *l, const option_table *t) {
    for (int i = 0; i < t->n; i++) {
        const option_spec *o = &t->spec[i];
        if (o->given && (o->kind == OPT_INPUT || o->kind == OPT_OUTPUT))
            paths_add(l, o->name, *(const char **)o->dst, o->kind == OPT_OUTPUT);
    }
}

/* Which file a name means: its device and inode where it exists, else its
 * directory's and its last component (what it will be once created), else
 * the name as written */
typedef struct {
    dev_t dev;
    ino_t ino;
    int exists;
    char name[4096];
} file_id;

static file_id identify(const char *path) {
    file_id id;
    memset(&id, 0, sizeof id);
    struct stat st;
    if (stat(path, &st) == 0) {
        id.dev = st.st_dev;
        id.ino = st.st_ino;
        id.exists = 1;
        return id;
    }
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", path);
    snprintf(b, sizeof b, "%s", path);
    const char *dir = dirname(a), *base = basename(b);
    if (stat(dir, &st) == 0) {
        id.dev = st.st_dev;
        id.ino = st.st_ino;
        snprintf(id.name, sizeof id.name, "%s", base);
    } else {
        snprintf(id.name, sizeof id.name, "%s", path);
    }
    return id;
}

static int same_file(const file_id *a, const file_id *b) {
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           strcmp(a->name, b->name) == 0;
}

void check_paths(const path_list *l, int (*allowed)(const named_path *a, const named_path *b)) {
    file_id *ids = malloc(sizeof *ids * (size_t)(l->n ? l->n : 1));
    if (!ids) usage_error("out of memory checking the file names");
    for (int i = 0; i < l->n; i++) ids[i] = identify(l->p[i].path);
    for (int i = 0; i < l->n; i++)
        for (int j = 0; j < l->n; j++) {
            const named_path *out = &l->p[i], *other = &l->p[j];
            if (i == j || !out->output || (other->output && j < i)) continue;
            if (!same_file(&ids[i], &ids[j]) || (allowed && allowed(out, other))) continue;
            free(ids);
            usage_error("%s %s and %s %s are the same file: writing %s would %s", out->option,
                        out->path, other->option, other->path, out->option,
                        other->output ? "overwrite the other output" : "destroy the input");
        }
    free(ids);
}

/* ---- the same options on every rank ---- */
#define AGREED_VALUE 160 /* longer values are compared by a hash of the rest */
#define AGREED_TEXT (OPTIONS_MAX * (AGREED_VALUE + 64))

/* FNV-1a, for the part of a long value past what is shown */
static unsigned long long text_hash(const char *s) {
    unsigned long long h = 14695981039346656037ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* What must agree of one option: its value, or for a file name whether it
 * was given (ranks may read the same data from copies of their own, and
 * only rank 0 writes); a flag, whether it was given. */
static void agreed_value(const option_spec *o, char *buf, size_t len) {
    const char *v = o->given ? o->value : NULL;
    if (o->kind == OPT_FLAG || o->kind == OPT_HELP) snprintf(buf, len, "%s", o->given ? "on" : "off");
    else if (!v) snprintf(buf, len, "nothing");
    else if (o->kind == OPT_INPUT || o->kind == OPT_OUTPUT) snprintf(buf, len, "a file name");
    else if (strlen(v) <= AGREED_VALUE) snprintf(buf, len, "'%s'", v);
    else snprintf(buf, len, "'%.*s...' (#%016llx)", AGREED_VALUE, v, text_hash(v + AGREED_VALUE));
}

/* One line per option, "--name\tvalue\n", into buf */
static void options_text(const option_table *t, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->n && used < len; i++) {
        char v[AGREED_VALUE + 40];
        agreed_value(&t->spec[i], v, sizeof v);
        used += (size_t)snprintf(buf + used, len - used, "%s\t%s\n", t->spec[i].name, v);
    }
    if (used < len)
        snprintf(buf + used, len - used, "an argument\t'%.*s'\n", AGREED_VALUE,
                 t->stray ? t->stray : "");
}

/* The first line where rank 0's text and this rank's differ, as a message */
static void first_difference(const char *rank0, const char *mine, char *msg, size_t len) {
    while (*rank0 && *mine) {
        const int n0 = (int)strcspn(rank0, "\n"), n1 = (int)strcspn(mine, "\n");
        if (n0 != n1 || memcmp(rank0, mine, (size_t)n0) != 0) {
            const int name = (int)strcspn(rank0, "\t");
            snprintf(msg, len, "%s%.*s: rank 0 was given %.*s, rank %d %.*s",
                     *rank0 == '-' ? "option " : "", name, rank0,
                     n0 - name - 1, rank0 + name + 1, g_rank, n1 - name - 1, mine + name + 1);
            return;
        }
        rank0 += n0 + 1;
        mine += n1 + 1;
    }
    snprintf(msg, len, "the ranks were given different options");
}

void check_ranks_agree(const option_table *t) {
    if (g_size == 1) return;
    static char mine[AGREED_TEXT], rank0[AGREED_TEXT];
    options_text(t, mine, sizeof mine);
    memcpy(rank0, mine, sizeof rank0);
    descent_error err = {0};
    int rc = descent_mpi_broadcast(rank0, sizeof rank0);
    if (rc) rc = cli_error(&err, rc, "MPI communication failed comparing the options");
    else if (strcmp(mine, rank0) != 0) {
        char msg[1024];
        first_difference(rank0, mine, msg, sizeof msg);
        rc = cli_error(&err, DESCENT_E_USAGE, "%s (every rank must be given the same options)", msg);
    }
    check(rc, &err);
}
