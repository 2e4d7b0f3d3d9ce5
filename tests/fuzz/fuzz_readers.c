/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the file readers: IDX (images + labels, plain or
 * gzip), CSV (every option combination), model/checkpoint files and NumPy
 * .npy (features + labels, plain or gzip). The
 * first input byte picks the reader and its options; the rest becomes the
 * file(s). Built once per reader with -DFUZZ_TARGET=1..4 (see
 * tests/fuzz/CMakeLists.txt). Any crash, sanitizer report or leak is a
 * finding. */
#include <descent/descent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static const char *put(const char *name, const uint8_t *data, size_t n) {
    static char path[4][128];
    static int next;
    char *p = path[next++ & 3];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
    return p;
}

/* The scratch files and their directory go when the process ends */
static void remove_scratch(void) {
    static const char *const names[] = {"i", "i.gz", "l", "d.csv", "m.dsc", "x.npy", "x.npy.gz", "y.npy", NULL};
    char p[128];
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    snprintf(dir, sizeof dir, "/tmp/descent_fuzz_%d", (int)getpid());
    if (mkdir(dir, 0700) != 0) { /* may exist from a reused pid */ }
    atexit(remove_scratch);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t opt = data[0];
    data++;
    size--;
    descent_error err;
#if FUZZ_TARGET == 1 /* IDX: two bytes give the images file's length, the rest is labels */
    if (size < 2) return 0;
    size_t ni = (size_t)data[0] | (size_t)data[1] << 8;
    if (ni > size - 2) ni = size - 2;
    const char *img = put(opt & 1 ? "i.gz" : "i", data + 2, ni);
    const char *lab = put("l", data + 2 + ni, size - 2 - ni);
    descent_data *d = NULL;
    if (descent_data_load_idx(&d, img, (opt & 2) ? NULL : lab, &err) == 0) {
        float x[4096], y[256];
        if (descent_data_count(d) > 0 && descent_data_features(d) <= 4096 &&
            descent_data_outputs(d) <= 256)
            descent_data_sample(d, descent_data_count(d) - 1, x, (opt & 2) ? NULL : y);
        descent_data_free(d);
    }
#elif FUZZ_TARGET == 2 /* CSV */
    descent_csv_options o = {opt & 1, (opt >> 1) & 3, (opt & 8) ? -1 : 0, (opt & 16) ? 3 : 0,
                             (opt >> 5) & 1};
    const char *p = put("d.csv", data, size);
    descent_data *d = NULL;
    if (descent_data_load_csv(&d, p, &o, &err) == 0) {
        descent_data *val = NULL;
        if (descent_data_count(d) >= 2 && descent_data_split(d, 0.5, &val, &err) == 0)
            descent_data_free(val);
        descent_data_free(d);
    }
#elif FUZZ_TARGET == 4 /* .npy: two bytes give the features file's length, the rest is labels */
    if (size < 2) return 0;
    size_t nx = (size_t)data[0] | (size_t)data[1] << 8;
    if (nx > size - 2) nx = size - 2;
    const char *xp = put(opt & 1 ? "x.npy.gz" : "x.npy", data + 2, nx);
    const char *yp = put("y.npy", data + 2 + nx, size - 2 - nx);
    descent_data *d = NULL;
    if (descent_data_load_npy(&d, xp, (opt & 2) ? NULL : yp, (opt & 4) ? 3 : 0, &err) == 0) {
        float x[4096], y[256];
        if (descent_data_features(d) <= 4096 && descent_data_outputs(d) <= 256)
            descent_data_sample(d, descent_data_count(d) - 1, x, (opt & 2) ? NULL : y);
        descent_data_free(d);
    }
#else /* model or checkpoint */
    const char *p = put("m.dsc", data, size);
    descent_net *net = NULL;
    if (opt & 1) {
        descent_train_config cfg;
        descent_train_config_default(&cfg);
        descent_checkpoint *ck = NULL;
        if (descent_checkpoint_load(p, &net, &cfg, &ck, NULL, 0, &err) == 0)
            descent_checkpoint_free(ck);
    } else if (descent_model_load(&net, p, &err) == 0) {
        float x[64] = {0}, out[64];
        if (descent_net_size(net, 0) <= 64 && descent_net_size(net, descent_net_layers(net)) <= 64)
            descent_net_predict(net, x, 1, out, &err);
    }
    descent_net_free(net);
#endif
    return 0;
}
