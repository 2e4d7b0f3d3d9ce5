/* Model files: round trip bit for bit (parameters, shapes and the file
 * itself), and refusal of truncated, bit-flipped, foreign and padded files,
 * each with a message naming the file. */
#include <descent/descent.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

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

int main(void) {
    const int sizes[4] = {7, 5, 4, 3};
    const descent_act acts[3] = {DESCENT_ACT_RELU, DESCENT_ACT_TANH, DESCENT_ACT_SOFTMAX};
    descent_net *net, *back;
    descent_error err;
    CHECK(descent_net_create(&net, 3, sizes, acts, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    descent_net_init(net, 42);
    char dir[] = "/tmp/descent_model_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char a[256], b[256], bad[256];
    snprintf(a, sizeof a, "%s/a.dsc", dir);
    snprintf(b, sizeof b, "%s/b.dsc", dir);
    snprintf(bad, sizeof bad, "%s/bad.dsc", dir);
    CHECK(descent_model_save(net, a, &err) == 0, "save: %s", err.msg);
    CHECK(descent_model_load(&back, a, &err) == 0, "load: %s", err.msg);
    CHECK(descent_net_layers(back) == 3, "layers");
    for (int i = 0; i <= 3; i++) CHECK(descent_net_size(back, i) == sizes[i], "size %d", i);
    for (int i = 0; i < 3; i++) CHECK(descent_net_act(back, i) == acts[i], "act %d", i);
    CHECK(descent_net_cost(back) == DESCENT_COST_XENT, "cost");
    const size_t np = descent_net_num_params(net);
    CHECK(np == descent_net_num_params(back) &&
              memcmp(descent_net_params(net), descent_net_params(back), np * 4) == 0,
          "parameters differ after the round trip");
    CHECK(descent_model_save(back, b, &err) == 0, "save again: %s", err.msg);
    unsigned char fa[4096], fb[4096], tmp[4096];
    const long na = slurp(a, fa, sizeof fa), nb = slurp(b, fb, sizeof fb);
    CHECK(na > 0 && na == nb && memcmp(fa, fb, (size_t)na) == 0, "files differ after a round trip");
    CHECK(na == 16 + 4 * 4 + 4 * 3 + 4 + 8 + 4 * (long)np + 4, "file size %ld", na);

    /* every single-bit flip anywhere in the file is refused */
    int accepted = 0;
    for (long i = 0; i < na; i++) {
        memcpy(tmp, fa, (size_t)na);
        tmp[i] ^= (unsigned char)(1u << (i % 8));
        spit(bad, tmp, na);
        descent_net *x = NULL;
        if (descent_model_load(&x, bad, &err) == 0) { accepted++; descent_net_free(x); }
    }
    CHECK(accepted == 0, "%d bit flips were accepted", accepted);
    memcpy(tmp, fa, (size_t)na);
    tmp[na / 2] ^= 0x10;
    spit(bad, tmp, na);
    expect_refused(bad, "bit flip in the parameters", "checksum");
    for (long cut = 0; cut < na; cut += 7) {
        spit(bad, fa, cut);
        descent_net *x = NULL;
        CHECK(descent_model_load(&x, bad, &err) != 0, "truncated to %ld bytes was accepted", cut);
    }
    spit(bad, fa, na - 3);
    expect_refused(bad, "truncated", "truncated");
    memcpy(tmp, fa, (size_t)na);
    tmp[na] = 0;
    spit(bad, tmp, na + 1);
    expect_refused(bad, "trailing byte", "trailing");
    spit(bad, (const unsigned char *)"GIF89a not a model at all, sorry", 32);
    expect_refused(bad, "foreign file", "magic");
    /* an absurd layer count is refused before any allocation */
    memcpy(tmp, fa, (size_t)na);
    tmp[12] = 0xff; tmp[13] = 0xff; tmp[14] = 0xff; tmp[15] = 0x7f;
    spit(bad, tmp, na);
    expect_refused(bad, "absurd layer count", "layer count");
    expect_refused("/nonexistent/model.dsc", "missing file", "cannot open");

    /* export: the npy files exist with the right sizes */
    CHECK(descent_model_export_npy(net, dir, &err) == 0, "export: %s", err.msg);
    char p[300];
    snprintf(p, sizeof p, "%s/W1.npy", dir);
    unsigned char npy[4096];
    const long nn = slurp(p, npy, sizeof npy);
    CHECK(nn == 128 + 5 * 7 * 4, "W1.npy has %ld bytes", nn);
    CHECK(nn > 10 && memcmp(npy, "\x93NUMPY", 6) == 0, "npy magic");
    CHECK(nn > 128 && memcmp(npy + 128, descent_net_weights(net, 0), 35 * 4) == 0, "W1 data");

    descent_net_free(net);
    descent_net_free(back);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    TEST_EXIT();
}
