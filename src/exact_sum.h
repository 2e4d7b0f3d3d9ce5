/* SPDX-License-Identifier: MIT */
/*
 * exact_sum.h - the exact sum of any floats in any order, with no scale to
 * choose: every finite float is an integer (24 bits at most) times a power
 * of two from 2^-149 to 2^104, so it is placed, unrounded, in one long
 * fixed-point number whose unit is 2^-149 (float's smallest step), held as
 * EXACT_DIGITS base-2^32 digits in 64-bit integers (the spare bits of each
 * take the carries). Normalised, the digits of a value are unique, so sums
 * of any split of the values, added as integers (threads, ranks, the
 * reduction's order), give the same digits and the same double. What
 * reproducible mode sums the loss with (k_cost, the step's tail,
 * evaluation).
 */
#ifndef DESCENT_EXACT_SUM_H
#define DESCENT_EXACT_SUM_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Digits of 32 bits from 2^-149: a float's bits reach position 253 + 24,
 * digit 8; two more hold the sum of 2^40 floats of the largest magnitude. */
#define EXACT_DIGITS 10
#define EXACT_DIGIT_BITS 32
/* additions (each below 2^56 in one digit) between normalisations, so no
 * digit passes 2^63 */
#define EXACT_PENDING_MAX 64

typedef struct {
    int64_t d[EXACT_DIGITS]; /* value = sum of d[k] 2^(32k - 149)          */
    int pending;             /* additions since the digits were normalised */
} exact_sum;

/* Every digit but the last into [0, 2^32), its carry into the next: the
 * same value, and the one form a value has. d[k] - low is a multiple of
 * 2^32, so the division is exact for negative digits too. */
static inline void exact_normalise(int64_t d[EXACT_DIGITS]) {
    for (int k = 0; k + 1 < EXACT_DIGITS; k++) {
        const int64_t low = (int64_t)((uint64_t)d[k] & 0xffffffffu);
        d[k + 1] += (d[k] - low) / ((int64_t)1 << EXACT_DIGIT_BITS);
        d[k] = low;
    }
}

/* s += x, exactly; x must be finite */
static inline void exact_add(exact_sum *s, float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    const uint32_t biased = (bits >> 23) & 0xffu, frac = bits & 0x7fffffu;
    /* x = m 2^(p - 149): a subnormal's fraction at p = 0, else with the
     * implicit bit, one position below its biased exponent */
    const int64_t m = biased ? (int64_t)(frac | 0x800000u) : (int64_t)frac;
    const int p = biased ? (int)biased - 1 : 0;
    const int64_t placed = m << (p % EXACT_DIGIT_BITS); /* < 2^56 */
    s->d[p / EXACT_DIGIT_BITS] += bits >> 31 ? -placed : placed;
    if (++s->pending == EXACT_PENDING_MAX) {
        exact_normalise(s->d);
        s->pending = 0;
    }
}

/* Normalised digits as twice as many 16-bit halves (the last signed):
 * halves of up to 2^15 sums add within an int32 */
#define EXACT_HALVES (2 * EXACT_DIGITS)
static inline void exact_to_halves(const int64_t d[EXACT_DIGITS], int32_t h[EXACT_HALVES]) {
    int64_t n[EXACT_DIGITS];
    memcpy(n, d, sizeof n);
    exact_normalise(n);
    for (int k = 0; k < EXACT_DIGITS; k++) {
        const int64_t low = (int64_t)((uint64_t)n[k] & 0xffffu);
        h[2 * k] = (int32_t)low;
        h[2 * k + 1] = (int32_t)((n[k] - low) / 65536);
    }
}
/* Halves (added or not) back into normalised digits */
static inline void exact_from_halves(const int32_t h[EXACT_HALVES], int64_t d[EXACT_DIGITS]) {
    for (int k = 0; k < EXACT_DIGITS; k++) d[k] = (int64_t)h[2 * k] + (int64_t)h[2 * k + 1] * 65536;
    exact_normalise(d);
}

/* The value of normalised digits as a double: the digits added from the
 * most significant down, a fixed computation on the unique digits */
static inline double exact_value(const int64_t d[EXACT_DIGITS]) {
    double v = 0.0;
    for (int k = EXACT_DIGITS - 1; k >= 0; k--)
        v += ldexp((double)d[k], EXACT_DIGIT_BITS * k - 149);
    return v;
}

#endif
