/* SPDX-License-Identifier: MIT */
/* Model files: round trip bit for bit (parameters, shapes and the file
 * itself), and refusal of truncated, bit-flipped, foreign and padded files,
 * each with a message naming the file. */
#include <descent/descent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "base.h"
#include "testutil.h"

#include <sys/stat.h>

static long slurp(const char *path, unsigned char *buf, long cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    long n = (long)fread(buf, 1, (size_t)cap, f);
    fclose(f);
    return n;
}

static void spit(const char *path, const unsigned char *buf, long n) {
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, (size_t)n, f);
    fclose(f);
}

static void expect_refused(const char *path, const char *what, const char *needle) {
    descent_net *net = NULL;
    descent_error err = {0};
    const int rc = descent_model_load(&net, path, &err);
    CHECK(rc != 0 && net == NULL, "%s: loaded anyway", what);
    CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
    CHECK(strstr(err.msg, needle) != NULL, "%s: message lacks '%s': %s", what, needle, err.msg);
}

/* A saved 7-5-4-3 model, its bytes, and a scratch directory */
static const int SIZES[4] = {7, 5, 4, 3};
static const descent_act ACTS[3] = {DESCENT_ACT_RELU, DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX};
typedef struct {
    descent_net *net;
    char dir[32], path[256], bad[256];
    unsigned char bytes[4096];
    long size;
} saved_model;

static int save_model(saved_model *m) {
    descent_error err;
    memset(m, 0, sizeof *m);
    snprintf(m->dir, sizeof m->dir, "/tmp/descent_model_XXXXXX");
    CHECK(mkdtemp(m->dir) != NULL, "mkdtemp");
    snprintf(m->path, sizeof m->path, "%s/a.dsc", m->dir);
    snprintf(m->bad, sizeof m->bad, "%s/bad.dsc", m->dir);
    CHECK(descent_net_create(&m->net, 3, SIZES, ACTS, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    if (!m->net) return -1;
    descent_net_init(m->net, 42);
    CHECK(descent_model_save(m->net, m->path, &err) == 0, "save: %s", err.msg);
    m->size = slurp(m->path, m->bytes, sizeof m->bytes);
    CHECK(m->size > 0, "the saved file cannot be read");
    return m->size > 0 ? 0 : -1;
}

static void remove_model(saved_model *m) {
    descent_net_free(m->net);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", m->dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* shapes, parameters and the file itself survive a save and load */
static void round_trip_is_bit_exact(void) {
    saved_model m;
    if (save_model(&m)) return;
    descent_net *back = NULL;
    descent_error err;
    char b[300];
    snprintf(b, sizeof b, "%s/b.dsc", m.dir);
    CHECK(descent_model_load(&back, m.path, &err) == 0, "load: %s", err.msg);
    if (back) {
        CHECK(descent_net_layers(back) == 3, "layers");
        for (int i = 0; i <= 3; i++) CHECK(descent_net_size(back, i) == SIZES[i], "size %d", i);
        for (int i = 0; i < 3; i++) CHECK(descent_net_act(back, i) == ACTS[i], "act %d", i);
        CHECK(descent_net_cost(back) == DESCENT_COST_XENT, "cost");
        const size_t np = descent_net_num_params(m.net);
        CHECK(np == descent_net_num_params(back) &&
                  memcmp(descent_net_params(m.net), descent_net_params(back), np * 4) == 0,
              "parameters differ after the round trip");
        CHECK(descent_model_save(back, b, &err) == 0, "save again: %s", err.msg);
        unsigned char fb[4096];
        const long nb = slurp(b, fb, sizeof fb);
        CHECK(m.size == nb && memcmp(m.bytes, fb, (size_t)nb) == 0, "files differ after a round trip");
        CHECK(m.size == 16 + 4 * 4 + 4 * 3 + 4 + 8 + 4 * (long)np + 4, "file size %ld", m.size);
    }
    descent_net_free(back);
    remove_model(&m);
}

/* every single-bit flip anywhere in the file is refused */
static void every_bit_flip_refused(void) {
    saved_model m;
    if (save_model(&m)) return;
    unsigned char tmp[4096];
    descent_error err;
    int accepted = 0;
    for (long i = 0; i < m.size; i++) {
        memcpy(tmp, m.bytes, (size_t)m.size);
        tmp[i] ^= (unsigned char)(1u << (i % 8));
        spit(m.bad, tmp, m.size);
        descent_net *x = NULL;
        if (descent_model_load(&x, m.bad, &err) == 0) { accepted++; descent_net_free(x); }
    }
    CHECK(accepted == 0, "%d bit flips were accepted", accepted);
    memcpy(tmp, m.bytes, (size_t)m.size);
    tmp[m.size / 2] ^= 0x10;
    spit(m.bad, tmp, m.size);
    expect_refused(m.bad, "bit flip in the parameters", "checksum");
    remove_model(&m);
}

/* truncated, padded, foreign, absurd and missing files: refused, named */
static void malformed_files_refused(void) {
    saved_model m;
    if (save_model(&m)) return;
    unsigned char tmp[4096];
    descent_error err;
    for (long cut = 0; cut < m.size; cut += 7) {
        spit(m.bad, m.bytes, cut);
        descent_net *x = NULL;
        CHECK(descent_model_load(&x, m.bad, &err) != 0, "truncated to %ld bytes was accepted", cut);
    }
    spit(m.bad, m.bytes, m.size - 3);
    expect_refused(m.bad, "truncated", "truncated");
    memcpy(tmp, m.bytes, (size_t)m.size);
    tmp[m.size] = 0;
    spit(m.bad, tmp, m.size + 1);
    expect_refused(m.bad, "trailing byte", "trailing");
    spit(m.bad, (const unsigned char *)"GIF89a not a model at all, sorry", 32);
    expect_refused(m.bad, "foreign file", "magic");
    /* an absurd layer count is refused before any allocation */
    memcpy(tmp, m.bytes, (size_t)m.size);
    tmp[12] = 0xff; tmp[13] = 0xff; tmp[14] = 0xff; tmp[15] = 0x7f;
    spit(m.bad, tmp, m.size);
    expect_refused(m.bad, "absurd layer count", "layer count");
    expect_refused("/nonexistent/model.dsc", "missing file", "cannot open");
    remove_model(&m);
}

/* export: the npy files exist with the right sizes and bytes */
static int write_text(FILE *f, void *text) { return fputs(text, f) < 0 ? -1 : 0; }

static int file_is(const char *path, const char *text) {
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

/* Three files replaced as one set; the second one's rename fails (a
 * directory took its name after it was written): the first, already in
 * place, gets its earlier contents back, the third stays as it was, and
 * no temporary or kept copy is left behind */
static void a_set_whose_rename_fails_leaves_the_earlier_set(void) {
    char dir[] = "/tmp/descent_set.XXXXXX", a[64], b[64], c[64];
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp"); return; }
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    descent_error err = {0};
    CHECK(descent_write_file(a, write_text, "old a", &err) == 0, "%s", err.msg);
    CHECK(descent_write_file(c, write_text, "old c", &err) == 0, "%s", err.msg);
    pending_file set[3];
    const char *paths[3] = {a, b, c}, *texts[3] = {"new a", "new b", "new c"};
    for (int i = 0; i < 3; i++)
        CHECK(pending_write(&set[i], paths[i], write_text, (void *)texts[i], &err) == 0, "%s", err.msg);
    CHECK(mkdir(b, 0700) == 0, "mkdir %s", b);
    CHECK(pending_commit_all(set, 3, &err) != 0, "the set was committed over a directory");
    CHECK(strstr(err.msg, "is a directory") != NULL, "message: %s", err.msg);
    for (int i = 0; i < 3; i++) pending_discard(&set[i]);
    CHECK(file_is(a, "old a"), "the first file lost its earlier contents");
    CHECK(file_is(c, "old c"), "the third file changed");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 3", dir);
    CHECK(system(cmd) == 0, "after the failure: temporaries or kept copies left in %s", dir);
    rmdir(b);
    CHECK(pending_write(&set[0], a, write_text, "new a", &err) == 0, "%s", err.msg);
    CHECK(pending_write(&set[1], c, write_text, "new c", &err) == 0, "%s", err.msg);
    CHECK(pending_commit_all(set, 2, &err) == 0, "%s", err.msg);
    for (int i = 0; i < 2; i++) pending_discard(&set[i]);
    CHECK(file_is(a, "new a") && file_is(c, "new c"), "the set was not committed");
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 2", dir);
    CHECK(system(cmd) == 0, "temporaries or kept copies left in %s", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

static void export_writes_npy(void) {
    saved_model m;
    if (save_model(&m)) return;
    descent_error err;
    CHECK(descent_model_export_npy(m.net, m.dir, &err) == 0, "export: %s", err.msg);
    char p[300];
    snprintf(p, sizeof p, "%s/W1.npy", m.dir);
    unsigned char npy[4096];
    const long nn = slurp(p, npy, sizeof npy);
    CHECK(nn == 128 + 5 * 7 * 4, "W1.npy has %ld bytes", nn);
    CHECK(nn > 10 && memcmp(npy, "\x93NUMPY", 6) == 0, "npy magic");
    CHECK(nn > 128 && memcmp(npy + 128, descent_net_weights(m.net, 0), 35 * 4) == 0, "W1 data");
    remove_model(&m);
}

/* A model with standardised inputs: version 2, the statistics back bit for
 * bit, every bit flip refused, a deviation of 0 refused, and the forward
 * pass applying (x - mean) / std before the first layer */
static void standardized_model_round_trip(void) {
    saved_model m;
    if (save_model(&m)) return;
    const float mean[7] = {1, -2, 3.5f, 1000, 0, 0.25f, -7}, std[7] = {2, 0.5f, 1, 250, 1, 3, 9};
    descent_error err;
    CHECK(descent_net_set_standardization(m.net, mean, std, &err) == 0, "set: %s", err.msg);
    CHECK(descent_model_save(m.net, m.path, &err) == 0, "save: %s", err.msg);
    unsigned char b[4096], tmp[4096];
    const long n = slurp(m.path, b, sizeof b);
    CHECK(n == m.size + 4 + 2 * 7 * 4, "file size %ld, expected %ld", n, m.size + 60);
    CHECK(n > 12 && b[8] == 2, "version %d, expected 2", n > 12 ? b[8] : -1);
    descent_net *back = NULL;
    const float *bm = NULL, *bs = NULL;
    CHECK(descent_model_load(&back, m.path, &err) == 0, "load: %s", err.msg);
    CHECK(back && descent_net_standardization(back, &bm, &bs) && memcmp(bm, mean, sizeof mean) == 0 &&
          memcmp(bs, std, sizeof std) == 0, "the statistics did not come back");
    /* the same outputs as the raw network on inputs standardised by hand */
    float x[7] = {3, -1, 4.5f, 1500, 2, 1, 2}, xs[7], out[3], want[3];
    for (int k = 0; k < 7; k++) xs[k] = (x[k] - mean[k]) / std[k];
    descent_net *raw = NULL;
    CHECK(descent_net_create(&raw, 3, SIZES, ACTS, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    if (back && raw) {
        memcpy(descent_net_params(raw), descent_net_params(back), 4 * descent_net_num_params(raw));
        CHECK(descent_net_predict(back, x, 1, out, &err) == 0 && descent_net_predict(raw, xs, 1, want, &err) == 0,
              "predict: %s", err.msg);
        CHECK(memcmp(out, want, sizeof out) == 0, "the forward pass does not standardise: %g vs %g",
              out[0], want[0]);
        /* evaluation (the training step's forward pass) standardises too */
        const int32_t label = 1;
        descent_array ax = {x, DESCENT_F32, 1, 7}, ay = {&label, DESCENT_I32, 1, 1};
        descent_data *d = NULL;
        descent_eval_result res;
        CHECK(descent_data_from_arrays(&d, NULL, &ax, &ay, 3, &err) == 0 &&
              descent_evaluate(back, d, &res, NULL, &err) == 0, "evaluate: %s", err.msg);
        CHECK(fabs(res.loss + log(out[1])) < 1e-5 * (1 + fabs(res.loss)),
              "evaluation's loss %.9g is not -log of the standardised output %.9g", res.loss, out[1]);
        descent_data_free(d);
    }
    int accepted = 0;
    for (long i = 0; i < n; i++) {
        memcpy(tmp, b, (size_t)n);
        tmp[i] ^= (unsigned char)(1u << (i % 8));
        spit(m.bad, tmp, n);
        descent_net *x2 = NULL;
        if (descent_model_load(&x2, m.bad, &err) == 0) { accepted++; descent_net_free(x2); }
    }
    CHECK(accepted == 0, "%d bit flips were accepted", accepted);
    const float zero[7] = {1, 1, 1, 0, 1, 1, 1};
    CHECK(descent_net_set_standardization(m.net, mean, zero, &err) == DESCENT_E_USAGE &&
          strstr(err.msg, "input 3") != NULL, "a deviation of 0 was accepted: %s", err.msg);
    CHECK(descent_net_set_standardization(m.net, NULL, NULL, &err) == 0 &&
          !descent_net_standardization(m.net, NULL, NULL), "cannot go back to raw inputs");
    descent_net_free(raw);
    descent_net_free(back);
    remove_model(&m);
}

/* Train the saved model for one epoch on 16 samples of its shape, half of
 * them for validation (so the record has a best validation loss) */
static int train_briefly(descent_net *net, double lr) {
    float x[16 * 7];
    int32_t y[16];
    for (int i = 0; i < 16 * 7; i++) x[i] = (float)((i * 37) % 11) / 11.0f;
    for (int i = 0; i < 16; i++) y[i] = i % 3;
    descent_array ax = {x, DESCENT_F32, 8, 7}, ay = {y, DESCENT_I32, 8, 1};
    descent_array vx = {x + 8 * 7, DESCENT_F32, 8, 7}, vy = {y + 8, DESCENT_I32, 8, 1};
    descent_data *train = NULL, *val = NULL;
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 1;
    cfg.lr = lr;
    descent_error err = {0};
    int rc = descent_data_from_arrays(&train, "train", &ax, &ay, 3, &err);
    if (!rc) rc = descent_data_from_arrays(&val, "val", &vx, &vy, 3, &err);
    if (!rc) rc = descent_train(net, train, val, &cfg, NULL, &err);
    CHECK(rc == 0, "train: %s", err.msg);
    descent_data_free(train);
    descent_data_free(val);
    return rc;
}

/* Rewrite bytes [at, at + n) of a model image and its checksum, into m->bad */
static void spit_patched(const saved_model *m, const unsigned char *b, long size, long at,
                         const void *with, size_t n) {
    unsigned char tmp[8192];
    memcpy(tmp, b, (size_t)size);
    memcpy(tmp + at, with, n);
    const uint32_t crc = crc32_buf(0, tmp, (size_t)size - 4);
    memcpy(tmp + size - 4, &crc, 4);
    spit(m->bad, tmp, size);
}

/* Provenance: none for a net never trained; descent_train writes a record
 * that comes back from the file as it was, and training further keeps it
 * as the parent. A record's length beyond the file, or a NUL in it, is
 * refused. */
static void provenance_round_trip(void) {
    saved_model m;
    if (save_model(&m)) return;
    CHECK(descent_net_provenance(m.net) == NULL, "an untrained net has a provenance");
    if (train_briefly(m.net, 0.1)) return;
    const char *text = descent_net_provenance(m.net);
    static const char first_line[] = "trained by descent " DESCENT_VERSION_STRING "\n";
    CHECK(text && strncmp(text, first_line, sizeof first_line - 1) == 0 &&
          strstr(text, "\ntraining data: 8 samples of 7 features, checksum ") &&
          strstr(text, "\nvalidation data: 8 samples of 7 features") &&
          strstr(text, "\nbest validation loss: ") && strstr(text, " in epoch 1\n"),
          "the record: %s", text ? text : "(none)");
    descent_error err;
    CHECK(descent_model_save(m.net, m.path, &err) == 0, "save: %s", err.msg);
    unsigned char b[8192];
    const long n = slurp(m.path, b, sizeof b);
    descent_net *back = NULL;
    CHECK(descent_model_load(&back, m.path, &err) == 0, "load: %s", err.msg);
    const char *again = back ? descent_net_provenance(back) : NULL;
    CHECK(again && text && strcmp(again, text) == 0, "the provenance did not come back: %s",
          again ? again : "(none)");
    if (back && train_briefly(back, 0.05) == 0) {
        const char *tuned = descent_net_provenance(back);
        const char *from = tuned ? strstr(tuned, "fine-tuned from:\n  trained by descent ") : NULL;
        CHECK(from && strstr(tuned, "learning rate: 0.05,") < from &&
              strstr(from, "  learning rate: 0.1,"), "fine-tuned: %s", tuned ? tuned : "(none)");
    }
    descent_net_free(back);
    /* the record's length: after the parameters and the sections word */
    const long at = 16 + 4 * (2 * 3 + 1) + 12 + 4 * (long)descent_net_num_params(m.net) + 4;
    const uint32_t len = text ? (uint32_t)strlen(text) : 0, huge = (uint32_t)n;
    CHECK(at + 4 < n && memcmp(b + at, &len, 4) == 0, "the record's length is not at byte %ld", at);
    spit_patched(&m, b, n, at, &huge, 4);
    expect_refused(m.bad, "a record longer than the file", "provenance record of");
    spit_patched(&m, b, n, at + 10, "", 1);
    expect_refused(m.bad, "a NUL in the record", "holds a NUL byte");
    remove_model(&m);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {
        SCENARIO(standardized_model_round_trip),
        SCENARIO(provenance_round_trip),
        SCENARIO(round_trip_is_bit_exact),
        SCENARIO(every_bit_flip_refused),
        SCENARIO(malformed_files_refused),
        SCENARIO(export_writes_npy),
        SCENARIO(a_set_whose_rename_fails_leaves_the_earlier_set),
    };
    return RUN_SCENARIOS(argc, argv, scenarios);
}
