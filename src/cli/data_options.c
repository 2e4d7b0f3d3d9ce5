/* SPDX-License-Identifier: MIT */
/*
 * data_options.c - the data options shared by train and eval (IDX files or
 * a directory of them, CSV files and their layout, NumPy .npy files,
 * limits), their help
 * text, and loading the set they name.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define HELP_HEAD                                                                  \
    "Data (IDX and .npy files may be gzip-compressed; CSV: one sample per line):\n"   \
    "  --data DIR            IDX directory with train-/t10k-images-idx3-ubyte[.gz]\n"  \
    "                        and -labels-idx1-ubyte[.gz] (default " DEFAULT_DATA_DIR ")\n"
#define HELP_CSV_FORMAT                                                            \
    "  --csv-header          the first line is a header\n"                           \
    "  --csv-label first|last  label column for classification (default first)\n"    \
    "  --csv-targets K       regression: the last K columns are targets\n"
#define HELP_NPY_FORMAT                                                            \
    "                        (n, d1, d2, ...) as uint8 (scaled to [0,1]), float32 or\n" \
    "                        float64; labels (n,): integer types are classes, float\n" \
    "                        types (n,) or (n, t) regression targets\n"
#define HELP_CLASSES                                                               \
    "  --classes N           number of classes (default: largest label + 1; CSV and\n" \
    "                        .npy; also --csv-classes)\n"
#define HELP_TEST_LIMIT "  --test-limit N        use only the first N test samples\n"

const char *const DATA_HELP =
    HELP_HEAD
    "  --train-images F --train-labels F   IDX training set\n"
    "  --test-images F  --test-labels F    IDX test set (also --images/--labels)\n"
    "  --train-csv F --test-csv F          CSV sets (also --csv)\n"
    HELP_CSV_FORMAT
    "  --train-npy F --train-npy-labels F  NumPy training set: features (n, k) or\n"
    HELP_NPY_FORMAT
    "  --test-npy F --test-npy-labels F    NumPy test set (also --npy/--npy-labels)\n"
    HELP_CLASSES
    "  --limit N             use only the first N training samples\n"
    HELP_TEST_LIMIT;

const char *const TEST_DATA_HELP =
    HELP_HEAD
    "  --test-images F  --test-labels F    IDX set (also --images/--labels)\n"
    "  --test-csv F          CSV set (also --csv)\n"
    HELP_CSV_FORMAT
    "  --test-npy F --test-npy-labels F    NumPy set (also --npy/--npy-labels):\n"
    "                        features (n, k) or\n"
    HELP_NPY_FORMAT
    HELP_CLASSES
    HELP_TEST_LIMIT;

static int label_column(const char *s) {
    return strcmp(s, "first") == 0 ? 0 : strcmp(s, "last") == 0 ? 1 : -1;
}

/* The training set's options (train only) */
static void train_data_options_add(option_table *t, data_opts *d) {
    opt_add(t, (option_spec){.name = "--train-images", .kind = OPT_INPUT, .dst = &d->train_images});
    opt_add(t, (option_spec){.name = "--train-labels", .kind = OPT_INPUT, .dst = &d->train_labels});
    opt_add(t, (option_spec){.name = "--train-csv", .kind = OPT_INPUT, .dst = &d->train_csv});
    opt_add(t, (option_spec){.name = "--train-npy", .kind = OPT_INPUT, .dst = &d->train_npy});
    opt_add(t, (option_spec){.name = "--train-npy-labels", .kind = OPT_INPUT,
                             .dst = &d->train_npy_labels});
    opt_add(t, (option_spec){.name = "--limit", .kind = OPT_INT, .dst = &d->limit, .lo = 1,
                             .hi = INT64_MAX});
}

void data_options_add(option_table *t, data_opts *d, data_scope scope) {
    memset(d, 0, sizeof *d);
    d->limit = d->test_limit = -1;
    opt_add(t, (option_spec){.name = "--data", .kind = OPT_INPUT, .dst = &d->dir});
    if (scope == DATA_TRAIN_AND_TEST) train_data_options_add(t, d);
    opt_add(t, (option_spec){.name = "--test-images", .alias = "--images", .kind = OPT_INPUT,
                             .dst = &d->test_images});
    opt_add(t, (option_spec){.name = "--test-labels", .alias = "--labels", .kind = OPT_INPUT,
                             .dst = &d->test_labels});
    opt_add(t, (option_spec){.name = "--test-csv", .alias = "--csv", .kind = OPT_INPUT,
                             .dst = &d->test_csv});
    opt_add(t, (option_spec){.name = "--csv-header", .kind = OPT_FLAG, .dst = &d->csv_header,
                             .lo = 1});
    opt_add(t, (option_spec){.name = "--csv-label", .kind = OPT_CHOICE, .dst = &d->csv_label_last,
                             .lookup = label_column, .what = "label column",
                             .choices = "first, last"});
    opt_add(t, (option_spec){.name = "--csv-targets", .kind = OPT_INT, .dst = &d->csv_targets,
                             .lo = 1, .hi = 1 << 20});
    opt_add(t, (option_spec){.name = "--test-npy", .alias = "--npy", .kind = OPT_INPUT,
                             .dst = &d->test_npy});
    opt_add(t, (option_spec){.name = "--test-npy-labels", .alias = "--npy-labels",
                             .kind = OPT_INPUT, .dst = &d->test_npy_labels});
    opt_add(t, (option_spec){.name = "--classes", .alias = "--csv-classes", .kind = OPT_INT, .dst = &d->classes,
                             .lo = 2, .hi = 1 << 16});
    opt_add(t, (option_spec){.name = "--test-limit", .kind = OPT_INT, .dst = &d->test_limit,
                             .lo = 1, .hi = INT64_MAX});
}

/* DIR/name, or DIR/name.gz when only that exists (a missing file is
 * reported by the loader, with the .gz name) */
static const char *idx_in_dir(char *buf, size_t len, const char *dir, const char *name) {
    struct stat st;
    snprintf(buf, len, "%s/%s", dir, name);
    if (stat(buf, &st) == 0) return buf;
    snprintf(buf, len, "%s/%s.gz", dir, name);
    return buf;
}

/* The files of one set, for load_files */
typedef struct {
    const char *csv, *npy, *npy_labels, *img, *lab;
    descent_csv_options csv_opt;
} set_files;

#define PATH_TEXT 4096

/* Which kind of data the options name for one set: at most one kind */
static void one_kind_of_data(const char *img, const char *lab, const char *csv, const char *npy,
                             const char *npy_labels) {
    const int kinds = (img || lab) + (csv != NULL) + (npy || npy_labels);
    if (kinds > 1)
        usage_error("give one kind of data for a set: IDX images and labels, a CSV file, or "
                    ".npy files");
    if (!npy != !npy_labels)
        usage_error("NumPy data needs both a features and a labels file (--train-npy and "
                    "--train-npy-labels, --test-npy and --test-npy-labels)");
    if ((img || lab) && (!img || !lab))
        usage_error("IDX data needs both an images and a labels file (%s given)",
                    img ? "only images" : "only labels");
}


static int load_files(descent_data **set, void *ctx, descent_error *err) {
    const set_files *f = ctx;
    return f->csv ? descent_data_load_csv(set, f->csv, &f->csv_opt, err)
           : f->npy ? descent_data_load_npy(set, f->npy, f->npy_labels, f->csv_opt.n_classes, err)
                    : descent_data_load_idx(set, f->img, f->lab, err);
}

/* The files of the training (test = 0) or test set the options name, the
 * IDX files of the data directory (img_path, lab_path: room for the names)
 * when none is named and there is one or the set is required */
static set_files files_of_set(const data_opts *d, int test, int required,
                              char img_path[PATH_TEXT], char lab_path[PATH_TEXT]) {
    set_files f = {test ? d->test_csv : d->train_csv,
                   test ? d->test_npy : d->train_npy,
                   test ? d->test_npy_labels : d->train_npy_labels,
                   test ? d->test_images : d->train_images,
                   test ? d->test_labels : d->train_labels,
                   {d->csv_header, (int)d->csv_targets, d->csv_label_last ? -1 : 0,
                    (int)d->classes, 0}};
    if (!f.img && !f.lab && !f.csv && !f.npy && !f.npy_labels && (d->dir || required)) {
        const char *dir = d->dir ? d->dir : DEFAULT_DATA_DIR;
        f.img = idx_in_dir(img_path, PATH_TEXT, dir,
                           test ? "t10k-images-idx3-ubyte" : "train-images-idx3-ubyte");
        f.lab = idx_in_dir(lab_path, PATH_TEXT, dir,
                           test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte");
    }
    one_kind_of_data(f.img, f.lab, f.csv, f.npy, f.npy_labels);
    return f;
}

void data_inputs(const data_opts *d, int test, int required, path_list *l) {
    static char names[2][2][PATH_TEXT]; /* the data directory's files, for the command's life */
    const set_files f = files_of_set(d, test, required, names[test][0], names[test][1]);
    const char *set = test ? "the test set" : "the training set";
    paths_add(l, set, f.csv, 0);
    paths_add(l, set, f.npy, 0);
    paths_add(l, set, f.npy_labels, 0);
    paths_add(l, set, f.img, 0);
    paths_add(l, set, f.lab, 0);
}

descent_data *load_set(const data_opts *d, int test, int required) {
    char img_path[PATH_TEXT], lab_path[PATH_TEXT];
    const set_files f = files_of_set(d, test, required, img_path, lab_path);
    const char *csv = f.csv, *npy = f.npy, *npy_labels = f.npy_labels, *img = f.img, *lab = f.lab;
    if (!csv && !img && !npy) return NULL;
    char key[3 * 4096 + 64];
    snprintf(key, sizeof key, "%s|%s|%s|%s|%s|%d,%d,%d,%d", csv ? csv : "", npy ? npy : "",
             npy_labels ? npy_labels : "", img ? img : "", lab ? lab : "", f.csv_opt.header,
             f.csv_opt.n_targets, f.csv_opt.label_col, f.csv_opt.n_classes);
    descent_data *out = NULL;
    descent_error err = {0};
    /* one rank per host reads the files; the host's ranks share its copy */
    check_agreed(descent_data_load_shared(&out, key, load_files, (void *)&f, &err), &err);
    const long long lim = test ? d->test_limit : d->limit;
    if (lim > 0) descent_data_truncate(out, (size_t)lim);
    return out;
}
