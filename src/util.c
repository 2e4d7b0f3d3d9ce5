/*
 * util.c - small shared pieces: the status table and its strerror, error
 * filling, aligned allocation, the seeded generator and the data order,
 * crc32 (zlib's) and atomic file writes. No MPI, no OpenMP here.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char *const status_text[DESCENT_E_COUNT] = {
    [DESCENT_OK] = "success",
    [DESCENT_E_USAGE] = "invalid argument",
    [DESCENT_E_IO] = "input/output error",
    [DESCENT_E_FORMAT] = "malformed or truncated data",
    [DESCENT_E_NOMEM] = "out of memory or absurd size",
    [DESCENT_E_NONFINITE] = "non-finite loss or gradient",
    [DESCENT_E_MISMATCH] = "data and network do not fit",
    [DESCENT_E_DESYNC] = "ranks hold different parameters",
    [DESCENT_E_REMOTE] = "another rank failed",
    [DESCENT_E_INTERRUPTED] = "interrupted",
    [DESCENT_E_COMM] = "MPI communication failed",
};

const char *descent_strerror(int status) {
    if (status < 0 || status >= DESCENT_E_COUNT) return "unknown error";
    return status_text[status];
}

int set_error(descent_error *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        err->rank = comm_rank();
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int remote_error(descent_error *err, int code, int rank) {
    if (err && code != DESCENT_OK && rank != comm_rank()) {
        err->code = code;
        err->rank = rank;
        snprintf(err->msg, sizeof err->msg, "rank %d failed: %s", rank, descent_strerror(code));
    }
    return code;
}

void *aligned_calloc(size_t count, size_t size) {
    size_t bytes;
    if (mul_size(count, size, &bytes) || bytes > SIZE_MAX - DESCENT_ALIGN_BYTES) return NULL;
    bytes = (bytes + DESCENT_ALIGN_BYTES - 1) / DESCENT_ALIGN_BYTES * DESCENT_ALIGN_BYTES;
    if (bytes == 0) bytes = DESCENT_ALIGN_BYTES;
    void *p = NULL;
    if (posix_memalign(&p, DESCENT_ALIGN_BYTES, bytes)) return NULL;
    memset(p, 0, bytes);
    return p;
}

void aligned_free(void *p) { free(p); }

/* ---- random numbers ------------------------------------------------------- */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rng_seed(rng_t *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(rng_t *r) { /* xoshiro256** */
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t rng_below(rng_t *r, uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do x = rng_next(r); while (x >= limit);
    return x % n;
}

void permutation(uint32_t *perm, size_t n, uint64_t seed, uint64_t epoch) {
    rng_t r;
    rng_seed(&r, seed, 0x5EED0000ull + epoch);
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        const size_t j = (size_t)rng_below(&r, i);
        const uint32_t t = perm[i - 1]; perm[i - 1] = perm[j]; perm[j] = t;
    }
}

/* ---- checksums ------------------------------------------------------------ */
uint32_t crc32_buf(uint32_t crc, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) { /* zlib takes uInt lengths */
        const uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return crc;
}

/* ---- atomic writes -------------------------------------------------------- */
int descent_write_file(const char *path, int (*writer)(FILE *f, void *ctx), void *ctx,
                       descent_error *err) {
    const size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp) return set_error(err, DESCENT_E_NOMEM, "%s: out of memory", path);
    snprintf(tmp, len + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        set_error(err, DESCENT_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return DESCENT_E_IO;
    }
    int bad = writer(f, ctx) != 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    const int saved = errno;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        const int e = bad ? saved : errno;
        unlink(tmp);
        set_error(err, DESCENT_E_IO, "%s: cannot write: %s", path, strerror(e));
        free(tmp);
        return DESCENT_E_IO;
    }
    /* make the rename itself durable */
    char *dircopy = strdup(path);
    if (dircopy) {
        int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) { fsync(dfd); close(dfd); }
        free(dircopy);
    }
    free(tmp);
    return DESCENT_OK;
}
