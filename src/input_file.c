/* SPDX-License-Identifier: MIT */
/*
 * input_file.c - descent_open_input: the files descent reads are regular
 * files. A FIFO opened for reading blocks until a writer appears (and a
 * device may never answer), so the file is opened with O_NONBLOCK, refused
 * unless it is a regular file, and only then switched back to blocking
 * reads.
 */
#define _POSIX_C_SOURCE 200809L
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *descent_open_input(const char *path, descent_error *err) {
    if (!path) {
        set_error(err, DESCENT_E_USAGE, "descent_open_input: path is NULL");
        return NULL;
    }
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        set_error(err, DESCENT_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    memset(&st, 0, sizeof st);
    const int flags = fcntl(fd, F_GETFL);
    FILE *f = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        set_error(err, DESCENT_E_IO, S_ISDIR(st.st_mode) ? "%s: is a directory, not a file"
                                                         : "%s: not a regular file", path);
    else if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || !(f = fdopen(fd, "rb")))
        set_error(err, DESCENT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!f) close(fd);
    return f;
}
