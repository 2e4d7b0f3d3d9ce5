/* SPDX-License-Identifier: MIT */
/*
 * bf16.h - bfloat16, the upper 16 bits of a float32 (8 exponent bits, 7
 * mantissa bits): what --comm-precision bf16 sends between ranks.
 * Conversion from float rounds to nearest, ties to even; NaN stays NaN.
 */
#ifndef DESCENT_BF16_H
#define DESCENT_BF16_H

#include <stdint.h>
#include <string.h>

static inline float bf16_to_f32(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

#endif
