/* SPDX-License-Identifier: MIT */
/*
 * atomic_file.h - files that appear whole or not at all (atomic_file.c): a
 * temporary file beside the final one, written, flushed and fsynced, then
 * renamed over the final name (and the directory fsynced), so a process
 * killed at any moment leaves the old file or the new one, never a torn
 * one. Temporaries are named FINAL.tmp.HOST.PID, so a later run can tell
 * which ones were left by a writer that is gone.
 */
#ifndef DESCENT_ATOMIC_FILE_H
#define DESCENT_ATOMIC_FILE_H

#include "base.h"

/* A file written to its temporary name and not yet renamed into place */
typedef struct {
    char *path, *tmp;
} pending_file;

/* Write path's temporary with writer (which returns 0, or -1 on failure);
 * on failure nothing is left and err names path. */
int pending_write(pending_file *p, const char *path, int (*writer)(FILE *f, void *ctx),
                  void *ctx, descent_error *err);
/* Rename the temporary into place (then fsync the directory). */
int pending_commit(pending_file *p, descent_error *err);
/* Rename n written files into place as one set: the files they replace
 * are kept aside until all are in place, and put back if any rename fails,
 * so the names hold the whole new set or the whole earlier one. */
int pending_commit_all(pending_file *files, int n, descent_error *err);
/* Remove the temporary (or nothing, after a commit) and free p. */
void pending_discard(pending_file *p);

/* Remove the temporaries in dir whose names start with prefix, that were
 * written on this host by a process that no longer runs. */
void remove_stale_temps(const char *dir, const char *prefix);

#endif
