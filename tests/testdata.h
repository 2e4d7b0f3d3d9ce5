/* SPDX-License-Identifier: MIT */
/* testdata.h - data sets for the tests that go through the public API: a
 * CSV text written to a temporary file, loaded, and the file removed. */
#ifndef DESCENT_TESTDATA_H
#define DESCENT_TESTDATA_H
#include <descent/descent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* text as a CSV data set: class label first, or with n_targets > 0 the last
 * n_targets columns as regression targets; NULL (and a message) on failure */
static inline descent_data *load_csv_text(const char *text, int n_targets) {
    char path[] = "/tmp/descent_test_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    descent_csv_options o = {0, n_targets, 0, 0, 0};
    descent_data *d = NULL;
    descent_error err;
    if (descent_data_load_csv(&d, path, &o, &err)) fprintf(stderr, "%s\n", err.msg);
    unlink(path);
    return d;
}
#endif
