/*
 * atomic_file.c - atomic file writes, checks that an output can be
 * created before any work is done, and the removal of temporaries whose
 * writer died (kill -9, a node crash) before it could rename them.
 */
#define _GNU_SOURCE
#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_TAG ".tmp."

/* This host's name as it goes into temporary names (no '/') */
static void host_tag(char *buf, size_t len) {
    if (gethostname(buf, len - 1) != 0) snprintf(buf, len, "localhost");
    buf[len - 1] = '\0';
    for (char *c = buf; *c; c++)
        if (*c == '/') *c = '_';
}

/* FINAL.tmp.HOST.PID, malloc'ed */
static char *temp_name(const char *path) {
    char host[256];
    host_tag(host, sizeof host);
    const size_t len = strlen(path) + strlen(host) + 48;
    char *tmp = malloc(len);
    if (tmp) snprintf(tmp, len, "%s" TMP_TAG "%s.%ld", path, host, (long)getpid());
    return tmp;
}

/* The directory holding path (malloc'ed) */
static char *parent_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return NULL;
    char *dir = strdup(dirname(copy));
    free(copy);
    return dir;
}

static void fsync_dir_of(const char *path) {
    char *dir = parent_of(path);
    if (!dir) return;
    const int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
}

int pending_write(pending_file *p, const char *path, int (*writer)(FILE *f, void *ctx),
                  void *ctx, descent_error *err) {
    p->path = strdup(path);
    p->tmp = temp_name(path);
    if (!p->path || !p->tmp) {
        pending_discard(p);
        return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
    }
    FILE *f = fopen(p->tmp, "wb");
    if (!f) {
        const int e = errno;
        pending_discard(p);
        return set_error(err, DESCENT_E_IO, "%s: cannot create: %s", path, strerror(e));
    }
    int e = 0;
    if (writer(f, ctx) != 0 || ferror(f)) e = errno ? errno : EIO;
    if (!e && fflush(f) != 0) e = errno;
    if (!e && fsync(fileno(f)) != 0) e = errno;
    if (fclose(f) != 0 && !e) e = errno;
    if (e) {
        pending_discard(p);
        return set_error(err, DESCENT_E_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return DESCENT_OK;
}

int pending_commit(pending_file *p, descent_error *err) {
    if (rename(p->tmp, p->path) != 0)
        return set_error(err, DESCENT_E_IO, "%s: cannot rename into place: %s", p->path,
                         strerror(errno));
    free(p->tmp);
    p->tmp = NULL;
    fsync_dir_of(p->path); /* make the rename itself durable */
    return DESCENT_OK;
}

void pending_discard(pending_file *p) {
    if (p->tmp) unlink(p->tmp);
    free(p->tmp);
    free(p->path);
    p->tmp = p->path = NULL;
}

int descent_write_file(const char *path, int (*writer)(FILE *f, void *ctx), void *ctx,
                       descent_error *err) {
    pending_file p;
    int rc = pending_write(&p, path, writer, ctx, err);
    if (!rc) rc = pending_commit(&p, err);
    pending_discard(&p);
    return rc;
}

/* ---- stale temporaries ---------------------------------------------------- */
/* name = PREFIX...TMP_TAG HOST.PID with HOST this host and PID not running */
static int is_stale_temp(const char *name, const char *prefix, const char *host) {
    if (strncmp(name, prefix, strlen(prefix)) != 0) return 0;
    const char *tag = strstr(name, TMP_TAG);
    if (!tag) return 0;
    const char *h = tag + strlen(TMP_TAG), *dot = strrchr(h, '.');
    if (!dot || (size_t)(dot - h) != strlen(host) || strncmp(h, host, strlen(host)) != 0) return 0;
    char *end;
    const long pid = strtol(dot + 1, &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void remove_stale_temps(const char *dir, const char *prefix) {
    char host[256];
    host_tag(host, sizeof host);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (is_stale_temp(e->d_name, prefix, host)) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

/* ---- outputs checked before the work ------------------------------------- */
/* Can a file be created as probe? (created and removed at once) */
static int probe(const char *probe_path, const char *shown, descent_error *err) {
    const int fd = open(probe_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return set_error(err, DESCENT_E_IO, "%s: cannot be written: %s", shown, strerror(errno));
    close(fd);
    unlink(probe_path);
    return DESCENT_OK;
}

int descent_check_output(const char *path, descent_output kind, descent_error *err) {
    struct stat st;
    const int exists = stat(path, &st) == 0;
    if (kind == DESCENT_OUTPUT_FILE && exists && S_ISDIR(st.st_mode))
        return set_error(err, DESCENT_E_IO, "%s: is a directory, not a file", path);
    if (kind != DESCENT_OUTPUT_FILE && exists && !S_ISDIR(st.st_mode))
        return set_error(err, DESCENT_E_IO, "%s: not a directory", path);
    if (kind == DESCENT_OUTPUT_DIR && !exists)
        return set_error(err, DESCENT_E_IO, "%s: no such directory", path);
    if (kind == DESCENT_OUTPUT_FILE || !exists) { /* created beside it */
        char *dir = parent_of(path);
        if (!dir) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
        const int found = stat(dir, &st) == 0, is_dir = found && S_ISDIR(st.st_mode);
        if (!is_dir)
            set_error(err, DESCENT_E_IO, found ? "%s: %s is not a directory"
                                               : "%s: the directory %s does not exist", path, dir);
        free(dir);
        if (!is_dir) return DESCENT_E_IO;
    }
    char *inside = NULL;
    if (exists && kind != DESCENT_OUTPUT_FILE) {
        const size_t len = strlen(path) + 16;
        inside = malloc(len);
        if (inside) snprintf(inside, len, "%s/.descent", path);
    }
    char *tmp = temp_name(inside ? inside : path);
    free(inside);
    if (!tmp) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
    const int rc = probe(tmp, path, err);
    free(tmp);
    return rc;
}
