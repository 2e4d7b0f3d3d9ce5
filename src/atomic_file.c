/* SPDX-License-Identifier: MIT */
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

/* What may stand at an output's name: nothing or a regular file. A device,
 * FIFO, socket or directory would be replaced by the rename (or, for a
 * directory, refuse it only at the end). */
static int replaceable(const char *path, const char *shown, descent_error *err) {
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISREG(st.st_mode)) return DESCENT_OK;
    return set_error(err, DESCENT_E_IO, S_ISDIR(st.st_mode) ? "%s: is a directory, not a file"
                     : "%s: not a regular file (descent writes a new file and renames it over "
                       "the name, which would replace it)", shown);
}

/* The name the rename replaces: path, or the file a symbolic link at path
 * leads to (so the link stays and its target gets the new contents);
 * malloc'ed */
static char *final_name(const char *path) {
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char *target = realpath(path, NULL);
        if (target) return target;
    }
    return strdup(path);
}

/* The temporary, created anew with nothing else at its name */
static FILE *create_temp(const char *tmp) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) /* this process's own, left by a crash */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) close(fd);
    return f;
}

int pending_write(pending_file *p, const char *path, int (*writer)(FILE *f, void *ctx),
                  void *ctx, descent_error *err) {
    p->tmp = NULL;
    p->path = final_name(path);
    if (p->path) p->tmp = temp_name(p->path);
    if (!p->path || !p->tmp) {
        pending_discard(p);
        return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
    }
    const int rc = replaceable(p->path, path, err);
    FILE *f = rc ? NULL : create_temp(p->tmp);
    if (!f) {
        const int e = errno;
        free(p->tmp); /* not ours to remove: creating it failed */
        p->tmp = NULL;
        pending_discard(p);
        return rc ? rc : set_error(err, DESCENT_E_IO, "%s: cannot create: %s", path, strerror(e));
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
    const int rc = replaceable(p->path, p->path, err); /* something may have appeared since */
    if (rc) return rc;
    if (rename(p->tmp, p->path) != 0)
        return set_error(err, DESCENT_E_IO, "%s: cannot rename into place: %s", p->path,
                         strerror(errno));
    free(p->tmp);
    p->tmp = NULL;
    fsync_dir_of(p->path); /* make the rename itself durable */
    return DESCENT_OK;
}

/* FINAL.old.HOST.PID: where a file being replaced is kept until the whole
 * set is in place (malloc'ed) */
static char *backup_name(const char *path) {
    char host[256];
    host_tag(host, sizeof host);
    const size_t len = strlen(path) + strlen(host) + 48;
    char *b = malloc(len);
    if (b) snprintf(b, len, "%s.old.%s.%ld", path, host, (long)getpid());
    return b;
}

/* How the file a set replaces is kept until the set is in place */
enum { KEPT_NONE, KEPT_LINKED, KEPT_MOVED, KEPT_FAILED = -1 };

/* Keep the regular file at path under backup: a second link to it, or,
 * where the file system has none, the file itself moved there. KEPT_NONE
 * when there is nothing to keep (no file, or something its commit refuses). */
static int keep_earlier(const char *path, const char *backup) {
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) return KEPT_NONE;
    unlink(backup);
    if (link(path, backup) == 0) return KEPT_LINKED;
    return rename(path, backup) == 0 ? KEPT_MOVED : KEPT_FAILED;
}

/* After the set's renames (the first `done` of them made; failed: one did
 * not): put the earlier file back or drop the kept copy */
static void settle(const pending_file *file, const char *backup, int kept, int replaced,
                   int failed) {
    const int put_back = failed && (kept == KEPT_MOVED || (kept == KEPT_LINKED && replaced));
    if (put_back) rename(backup, file->path);
    else if (kept == KEPT_LINKED || kept == KEPT_MOVED) unlink(backup);
    else if (failed && replaced) unlink(file->path); /* the set had no earlier file here */
}

int pending_commit_all(pending_file *files, int n, descent_error *err) {
    char **backup = calloc((size_t)n, sizeof *backup);
    int *kept = calloc((size_t)n, sizeof *kept);
    int rc = backup && kept ? DESCENT_OK : set_error(err, DESCENT_E_NOMEM, "out of memory");
    int done = 0;
    for (int i = 0; !rc && i < n; i++) {
        backup[i] = backup_name(files[i].path);
        if (!backup[i]) rc = set_error(err, DESCENT_E_NOMEM, "out of memory");
        else if ((kept[i] = keep_earlier(files[i].path, backup[i])) == KEPT_FAILED)
            rc = set_error(err, DESCENT_E_IO, "%s: cannot keep the earlier file while replacing "
                           "it: %s", files[i].path, strerror(errno));
    }
    while (!rc && done < n && !(rc = pending_commit(&files[done], err))) done++;
    for (int i = 0; backup && kept && i < n; i++) {
        if (backup[i]) settle(&files[i], backup[i], kept[i], i < done, rc != DESCENT_OK);
        free(backup[i]);
    }
    free(backup);
    free(kept);
    return rc;
}

void pending_discard(pending_file *p) {
    if (p->tmp) unlink(p->tmp);
    free(p->tmp);
    free(p->path);
    p->tmp = p->path = NULL;
}

int descent_write_file(const char *path, int (*writer)(FILE *f, void *ctx), void *ctx,
                       descent_error *err) {
    REQUIRE_ARG(err, path);
    REQUIRE_ARG(err, writer);
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
            char path[PATH_CAP];
            if (path_join(path, dir, e->d_name) == 0) unlink(path);
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
    if (!path || !*path)
        return set_error(err, DESCENT_E_USAGE, "an output needs a name (got %s)",
                         path ? "an empty one" : "NULL");
    if (kind != DESCENT_OUTPUT_FILE && kind != DESCENT_OUTPUT_DIR && kind != DESCENT_OUTPUT_NEW_DIR)
        return set_error(err, DESCENT_E_USAGE, "%s: unknown output kind %d", path, (int)kind);
    struct stat st;
    const int exists = stat(path, &st) == 0;
    if (kind == DESCENT_OUTPUT_FILE && exists && !S_ISREG(st.st_mode))
        return replaceable(path, path, err) ? DESCENT_E_IO
               : set_error(err, DESCENT_E_IO, "%s: not a regular file", path);
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
