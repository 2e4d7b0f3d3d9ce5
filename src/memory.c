/* SPDX-License-Identifier: MIT */
/*
 * memory.c - 64-byte aligned, zeroed allocations: every parameter,
 * gradient and activation buffer starts on a cache line, so the kernels'
 * vector loads of a row never straddle one at its start.
 */
#define _POSIX_C_SOURCE 200809L
#include "base.h"

#include <stdlib.h>
#include <string.h>

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
