/* SPDX-License-Identifier: MIT */
/*
 * data_csv.c - comma-separated text: one sample per line, an optional header
 * line, either a class label column plus feature columns (classification) or
 * feature columns followed by n_targets target columns (regression). Every
 * field must be a finite number; every row must have the first row's length.
 * Numbers are read in the C locale whatever the host program's locale (a
 * decimal comma would split fields). Knows nothing of MPI.
 */
#define _POSIX_C_SOURCE 200809L
#include "base.h"
#include "data.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CSV_MAX_COLUMNS (1 << 24)
#define CSV_MAX_CLASSES 65536
#define CSV_FIRST_VALUES 4096 /* the first allocation of a growing array */

typedef struct {
    float *v;
    size_t n, cap;
} fvec;

static int fvec_push(fvec *a, float x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : CSV_FIRST_VALUES;
        if (cap > SIZE_MAX / sizeof(float)) return -1;
        float *p = realloc(a->v, cap * sizeof(float));
        if (!p) return -1;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* Split line (modified in place) into numbers; returns the column count or
 * -1 with err filled. */
static long parse_row(char *line, const char *path, size_t lineno, fvec *out,
                      descent_error *err) {
    long col = 0;
    char *p = line;
    for (;;) {
        char *end;
        while (*p == ' ' || *p == '\t') p++;
        errno = 0;
        const double x = strtod(p, &end);
        const char *digits = p + (*p == '-' || *p == '+');
        if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) end = p; /* decimal only */
        char *q = end;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (end == p || (*q != ',' && *q != '\0' && *q != '\n')) {
            size_t flen = strcspn(p, ",\r\n");
            set_error(err, DESCENT_E_FORMAT, "%s: line %zu, column %ld: not a number: \"%.*s\"",
                      path, lineno, col + 1, (int)(flen > 40 ? 40 : flen), p);
            return -1;
        }
        if (!isfinite(x) || fabs(x) > FLT_MAX) {
            set_error(err, DESCENT_E_FORMAT, "%s: line %zu, column %ld: value %.*s is not a finite "
                      "float", path, lineno, col + 1, (int)(end - p), p);
            return -1;
        }
        if (fvec_push(out, (float)x)) {
            set_error(err, DESCENT_E_NOMEM, "%s: line %zu: out of memory", path, lineno);
            return -1;
        }
        col++;
        if (col > CSV_MAX_COLUMNS) {
            set_error(err, DESCENT_E_FORMAT, "%s: line %zu: more than %d columns", path, lineno,
                      CSV_MAX_COLUMNS);
            return -1;
        }
        if (*q != ',') break;
        p = q + 1;
    }
    return col;
}

/* Control bytes are refused wherever they are: a tab is a space, a line may
 * end in \n or \r\n, anything else below 0x20 (NUL included) or 0x7f is
 * an error naming the line and column. */
static int check_control_bytes(const char *line, size_t len, const char *path, size_t lineno,
                               descent_error *err) {
    long col = 1;
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)line[i];
        if (c == ',') col++;
        if ((c >= 0x20 && c != 0x7f) || c == '\t') continue;
        if (c == '\n' && i + 1 == len) continue;
        if (c == '\r' && (i + 1 == len || (i + 2 == len && line[i + 1] == '\n'))) continue;
        return set_error(err, DESCENT_E_FORMAT, "%s: line %zu, column %ld: control byte 0x%02x "
                         "(byte %zu of the line)", path, lineno, col, c, i + 1);
    }
    return DESCENT_OK;
}

/* A UTF-8 byte-order mark may open the file (some editors write one) */
static size_t bom_length(const char *line, size_t len) {
    return len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* A class label must be a whole number in 0..max-1: checked as its line is
 * read, so the message can name the line */
static int check_label(float lab, int max, const char *path, size_t lineno, long col,
                       descent_error *err) {
    if (lab == floorf(lab) && lab >= 0 && lab < (float)max) return DESCENT_OK;
    return set_error(err, DESCENT_E_FORMAT, "%s: line %zu, column %ld: label %g is not a class "
                     "index in 0..%d", path, lineno, col, lab, max - 1);
}

static int blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

static int load_csv(descent_data **out, const char *path, const descent_csv_options *opt,
                    descent_error *err) {
    if (opt->n_targets < 0 || (opt->n_targets == 0 && opt->label_col != 0 && opt->label_col != -1))
        return set_error(err, DESCENT_E_USAGE, "%s: label column must be first (0) or last (-1)",
                         path);
    FILE *f = descent_open_input(path, err); /* a device or FIFO could stream forever */
    if (!f) return DESCENT_E_IO;
    char *line = NULL;
    size_t linecap = 0, lineno = 0, rows = 0;
    long ncol = -1;
    fvec all = {0};
    int rc = DESCENT_OK;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        const size_t skip = lineno == 1 ? bom_length(line, (size_t)len) : 0;
        char *text = line + skip;
        if ((rc = check_control_bytes(text, (size_t)len - skip, path, lineno, err))) break;
        if (lineno == 1 && opt->header) continue;
        if (blank(text)) continue;
        const long c = parse_row(text, path, lineno, &all, err);
        if (c < 0) { rc = err ? err->code : DESCENT_E_FORMAT; break; }
        if (ncol < 0) ncol = c;
        if (c != ncol) {
            rc = set_error(err, DESCENT_E_FORMAT, "%s: line %zu: %ld columns, expected %ld like the "
                           "first row", path, lineno, c, ncol);
            break;
        }
        if (opt->n_targets == 0 && !opt->unlabeled) { /* classification */
            const long lc = opt->label_col == 0 ? 1 : c;
            rc = check_label(all.v[all.n - (size_t)c + (size_t)lc - 1],
                             opt->n_classes ? opt->n_classes : CSV_MAX_CLASSES, path, lineno, lc,
                             err);
            if (rc) break;
        }
        rows++;
    }
    if (!rc && ferror(f)) rc = set_error(err, DESCENT_E_IO, "%s: read error", path);
    free(line);
    fclose(f);
    const int nt = opt->n_targets;
    if (!rc && rows == 0) rc = set_error(err, DESCENT_E_FORMAT, "%s: no data rows", path);
    if (!rc && !opt->unlabeled && ncol < (nt > 0 ? nt : 1) + 1)
        rc = set_error(err, DESCENT_E_FORMAT, "%s: %ld columns leave no feature columns", path,
                       ncol);
    descent_data *d = NULL;
    if (!rc) {
        const int classification = nt == 0 && !opt->unlabeled;
        const int nin = (int)(opt->unlabeled ? ncol : ncol - (classification ? 1 : nt));
        int nout = opt->unlabeled ? 0 : classification ? opt->n_classes : nt;
        if (classification && nout == 0) { /* max label + 1 */
            for (size_t r = 0; r < rows; r++) {
                const float lab = all.v[r * ncol + (opt->label_col == 0 ? 0 : ncol - 1)];
                if (lab >= 0 && lab < CSV_MAX_CLASSES && lab + 1 > nout) nout = (int)lab + 1;
            }
            if (nout < 2) nout = 2;
        }
        d = data_alloc(path, rows, nin, nout, classification, 4);
        if (!d) rc = set_error(err, DESCENT_E_NOMEM, "%s: out of memory for %zu rows", path, rows);
        for (size_t r = 0; !rc && r < rows; r++) {
            const float *row = all.v + r * (size_t)ncol;
            float *x = d->xf + r * (size_t)nin;
            if (opt->unlabeled) {
                memcpy(x, row, sizeof(float) * (size_t)nin);
            } else if (classification) {
                const long lc = opt->label_col == 0 ? 0 : ncol - 1;
                d->labels[r] = (int32_t)row[lc]; /* checked as the line was read */
                memcpy(x, row + (lc == 0 ? 1 : 0), sizeof(float) * (size_t)nin);
            } else {
                memcpy(x, row, sizeof(float) * (size_t)nin);
                memcpy(d->targets + r * (size_t)nt, row + nin, sizeof(float) * (size_t)nt);
            }
        }
    }
    free(all.v);
    if (rc) { descent_data_free(d); return rc; }
    *out = d;
    return DESCENT_OK;
}

int descent_data_load_csv(descent_data **out, const char *path, const descent_csv_options *opt,
                          descent_error *err) {
    REQUIRE_ARG(err, out);
    REQUIRE_ARG(err, path);
    static const descent_csv_options defaults; /* classification, label first, no header */
    *out = NULL;
    /* this thread reads (and writes its messages) in the C locale while it
     * loads; the host's locale is back when the call returns */
    const locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0)
        return set_error(err, DESCENT_E_NOMEM, "%s: cannot make the C locale", path);
    const locale_t host = uselocale(c_locale);
    const int rc = load_csv(out, path, opt ? opt : &defaults, err);
    uselocale(host);
    freelocale(c_locale);
    return rc;
}
