/* SPDX-License-Identifier: MIT */
/* Data sets from arrays in memory and from NumPy .npy files: the values
 * arrive as documented (uint8 scaled by 1/255, integer labels are classes,
 * float labels are targets), the caller's arrays are copied, and every bad
 * value, shape or file is refused with its position and file named. */
#include <descent/descent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char dir[64];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/descent_arrays_%d", (int)getpid());
    CHECK(mkdir(dir, 0700) == 0 || access(dir, W_OK) == 0, "cannot create %s", dir);
}

/* Write a .npy file: version 1.0, the given dict fields, then the bytes. */
static const char *write_npy(const char *name, const char *descr, const char *fortran,
                             const char *shape, const void *data, size_t bytes, size_t extra) {
    static char path[4][256];
    static int next;
    char *p = path[next++ & 3];
    snprintf(p, 256, "%s/%s", dir, name);
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                     descr, fortran, shape);
    while ((10 + n + 1) % 64) dict[n++] = ' ';
    dict[n++] = '\n';
    FILE *f = fopen(p, "wb");
    const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)n, 0};
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, (size_t)n, f);
    if (bytes) fwrite(data, 1, bytes, f);
    for (size_t i = 0; i < extra; i++) fputc(0, f);
    fclose(f);
    return p;
}

static void expect_refused(int rc, const descent_error *err, const char *what, const char *needle) {
    CHECK(rc != 0, "%s: accepted", what);
    CHECK(strstr(err->msg, needle) != NULL, "%s: message lacks '%s': %s", what, needle, err->msg);
}

static void floats_with_class_labels(void) {
    const float x[3][2] = {{0.5f, -1}, {2, 3}, {4, 5}};
    int64_t labels[3] = {2, 0, 1};
    descent_array fx = {x, DESCENT_F32, 3, 2}, fy = {labels, DESCENT_I64, 3, 1};
    descent_data *d = NULL;
    descent_error err = {0};
    CHECK(descent_data_from_arrays(&d, "mine", &fx, &fy, 0, &err) == 0, "%s", err.msg);
    if (!d) return;
    labels[0] = 1; /* the set holds a copy */
    CHECK(descent_data_count(d) == 3 && descent_data_features(d) == 2, "shape");
    CHECK(descent_data_is_classification(d) && descent_data_outputs(d) == 3,
          "integer labels are classes: outputs %d", descent_data_outputs(d));
    float xs[2], ys[3];
    descent_data_sample(d, 0, xs, ys);
    CHECK(xs[0] == 0.5f && xs[1] == -1.0f, "features %g %g", xs[0], xs[1]);
    CHECK(ys[0] == 0 && ys[1] == 0 && ys[2] == 1, "one-hot of the label 2 as given");
    descent_data_free(d);
}

static void bytes_scaled_and_float_targets(void) {
    const uint8_t x[2][3] = {{0, 255, 51}, {1, 2, 3}};
    const double t[2][2] = {{1.5, -2}, {0, 1e-3}};
    descent_array fx = {x, DESCENT_U8, 2, 3}, fy = {t, DESCENT_F64, 2, 2};
    descent_data *d = NULL;
    descent_error err = {0};
    CHECK(descent_data_from_arrays(&d, NULL, &fx, &fy, 0, &err) == 0, "%s", err.msg);
    if (!d) return;
    CHECK(!descent_data_is_classification(d) && descent_data_outputs(d) == 2,
          "float labels are targets");
    float xs[3], ys[2];
    descent_data_sample(d, 0, xs, ys);
    CHECK(xs[0] == 0.0f && xs[1] == 1.0f && xs[2] == 51.0f / 255.0f, "uint8 scaled by 1/255");
    CHECK(ys[0] == 1.5f && ys[1] == -2.0f, "targets %g %g", ys[0], ys[1]);
    descent_data_free(d);
}

/* Every byte value becomes exactly (float)b / 255.0f */
static void every_byte_scaled_exactly(void) {
    uint8_t x[256];
    for (int b = 0; b < 256; b++) x[b] = (uint8_t)b;
    const int32_t labels[256] = {0};
    descent_array fx = {x, DESCENT_U8, 1, 256}, fy = {labels, DESCENT_I32, 1, 1};
    descent_data *d = NULL;
    descent_error err = {0};
    CHECK(descent_data_from_arrays(&d, NULL, &fx, &fy, 2, &err) == 0, "%s", err.msg);
    if (!d) return;
    float xs[256], ys[2];
    descent_data_sample(d, 0, xs, ys);
    int wrong = 0;
    for (int b = 0; b < 256; b++) {
        volatile float want = (float)b / 255.0f; /* one float division, as the derivation reads */
        wrong += xs[b] != want;
    }
    CHECK(wrong == 0, "%d of 256 byte values not scaled to (float)b / 255.0f", wrong);
    descent_data_free(d);
}

static void bad_arrays_refused(void) {
    descent_error err = {0};
    descent_data *d = NULL;
    const float x[2][2] = {{0, 1}, {NAN, 3}};
    const int32_t lab[2] = {0, 5};
    const descent_array fx = {x, DESCENT_F32, 2, 2}, fy = {lab, DESCENT_I32, 2, 1};
    expect_refused(descent_data_from_arrays(&d, "set", &fx, NULL, 0, &err), &err, "nan",
                   "set: features[1][0] = nan is not a finite float32");
    const float ok[2][2] = {{0, 1}, {2, 3}};
    const descent_array gx = {ok, DESCENT_F32, 2, 2};
    expect_refused(descent_data_from_arrays(&d, "set", &gx, &fy, 3, &err), &err, "label range",
                   "set: labels[1] = 5 is not a class in 0..2");
    const descent_array short_y = {lab, DESCENT_I32, 1, 1};
    expect_refused(descent_data_from_arrays(&d, "set", &gx, &short_y, 0, &err), &err, "rows",
                   "1 labels for 2 samples");
    const descent_array int_x = {lab, DESCENT_I32, 2, 1};
    expect_refused(descent_data_from_arrays(&d, "set", &int_x, NULL, 0, &err), &err,
                   "int features", "features must be uint8, float32 or float64");
    const double huge[1] = {1e300};
    const descent_array hx = {huge, DESCENT_F64, 1, 1};
    expect_refused(descent_data_from_arrays(&d, "set", &hx, NULL, 0, &err), &err, "overflow",
                   "is not a finite float32");
    CHECK(d == NULL, "a refused set is not handed out");
}

static void npy_same_as_arrays(void) {
    make_dir();
    const float x[3][2][2] = {{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}, {{9, 10}, {11, 12}}};
    const uint8_t lab[3] = {1, 0, 3};
    const char *fx = write_npy("x.npy", "<f4", "False", "(3, 2, 2)", x, sizeof x, 0);
    const char *fy = write_npy("y.npy", "|u1", "False", "(3,)", lab, sizeof lab, 0);
    descent_data *d = NULL;
    descent_error err = {0};
    CHECK(descent_data_load_npy(&d, fx, fy, 0, &err) == 0, "%s", err.msg);
    if (!d) return;
    CHECK(descent_data_count(d) == 3 && descent_data_features(d) == 4,
          "(3, 2, 2) is 3 samples of 4 features: %zu x %d", descent_data_count(d),
          descent_data_features(d));
    CHECK(descent_data_outputs(d) == 4, "largest label 3 + 1 classes");
    float xs[4], ys[4];
    descent_data_sample(d, 2, xs, ys);
    CHECK(xs[0] == 9 && xs[3] == 12 && ys[3] == 1 && ys[0] == 0, "sample 2: label 3");
    descent_data_sample(d, 0, xs, ys);
    CHECK(ys[1] == 1, "label of sample 0");
    descent_data_free(d);
}

static void npy_refusals(void) {
    make_dir();
    const float x[2][2] = {{0, 1}, {2, 3}};
    const int64_t lab[3] = {0, 1, 1};
    descent_data *d = NULL;
    descent_error err = {0};
    const char *p = write_npy("f.npy", "<f4", "True", "(2, 2)", x, sizeof x, 0);
    expect_refused(descent_data_load_npy(&d, p, NULL, 0, &err), &err, "fortran", "Fortran order");
    p = write_npy("b.npy", ">f4", "False", "(2, 2)", x, sizeof x, 0);
    expect_refused(descent_data_load_npy(&d, p, NULL, 0, &err), &err, "big-endian",
                   "element type '>f4' is not one of");
    p = write_npy("t.npy", "<f4", "False", "(2, 2)", x, sizeof x - 4, 0);
    expect_refused(descent_data_load_npy(&d, p, NULL, 0, &err), &err, "truncated",
                   "file holds only 12");
    p = write_npy("e.npy", "<f4", "False", "(2, 2)", x, sizeof x, 3);
    expect_refused(descent_data_load_npy(&d, p, NULL, 0, &err), &err, "trailing",
                   "3 bytes after the array its header declares");
    p = write_npy("v.npy", "<f4", "False", "(4,)", x, sizeof x, 0);
    expect_refused(descent_data_load_npy(&d, p, NULL, 0, &err), &err, "1-D features",
                   "features need 2 or more dimensions");
    p = write_npy("s.npy", "<f4", "False", "(2, 2", x, sizeof x, 0);
    expect_refused(descent_data_load_npy(&d, p, NULL, 0, &err), &err, "shape", "bad 'shape'");
    p = write_npy("x.npy", "<f4", "False", "(2, 2)", x, sizeof x, 0);
    const char *l = write_npy("l.npy", "<i8", "False", "(3,)", lab, sizeof lab, 0);
    expect_refused(descent_data_load_npy(&d, p, l, 0, &err), &err, "count", "l.npy: 3 labels for 2 samples");
    CHECK(strstr(err.msg, "x.npy") != NULL, "names the features file too: %s", err.msg);
    FILE *f = fopen(p, "r+b");
    fputc('X', f);
    fclose(f);
    expect_refused(descent_data_load_npy(&d, p, NULL, 0, &err), &err, "magic", "not a NumPy .npy file");
    CHECK(d == NULL, "a refused file gives no set");
}

/* The statistics --standardize uses: per-feature mean and population
 * deviation, 8-bit features as the network sees them (b / 255), and a
 * constant feature's deviation 1 */
static void feature_stats(void) {
    const float x[4 * 3] = {1, 10, -2, 3, 10, 0, 5, 10, 2, 7, 10, 4};
    const int32_t y[4] = {0, 1, 0, 1};
    descent_array fx = {x, DESCENT_F32, 4, 3}, fy = {y, DESCENT_I32, 4, 1};
    descent_data *d = NULL;
    descent_error err;
    CHECK(descent_data_from_arrays(&d, NULL, &fx, &fy, 0, &err) == 0, "%s", err.msg);
    float mean[3], std[3];
    CHECK(d && descent_data_feature_stats(d, mean, std, &err) == 0, "stats: %s", err.msg);
    CHECK(mean[0] == 4.0f && mean[1] == 10.0f && mean[2] == 1.0f, "mean %g %g %g", mean[0], mean[1], mean[2]);
    CHECK(std[0] == (float)sqrt(5.0) && std[1] == 1.0f && std[2] == (float)sqrt(5.0),
          "std %.9g %.9g %.9g", std[0], std[1], std[2]);
    descent_data_free(d);
    const uint8_t b[2] = {0, 255};
    descent_array bx = {b, DESCENT_U8, 2, 1}, by = {y, DESCENT_I32, 2, 1};
    CHECK(descent_data_from_arrays(&d, NULL, &bx, &by, 2, &err) == 0, "%s", err.msg);
    CHECK(d && descent_data_feature_stats(d, mean, std, &err) == 0 && mean[0] == 0.5f && std[0] == 0.5f,
          "8-bit: mean %g std %g (expected 0.5 and 0.5)", mean[0], std[0]);
    descent_data_free(d);
}

int main(int argc, char **argv) {
    static const scenario all[] = {
        SCENARIO(feature_stats), SCENARIO(floats_with_class_labels), SCENARIO(bytes_scaled_and_float_targets),
        SCENARIO(every_byte_scaled_exactly), SCENARIO(bad_arrays_refused),
        SCENARIO(npy_same_as_arrays), SCENARIO(npy_refusals)};
    const int rc = RUN_SCENARIOS(argc, argv, all);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (dir[0] && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
