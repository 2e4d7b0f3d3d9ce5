/* SPDX-License-Identifier: MIT */
/* bfloat16 conversion (src/bf16.h, what --comm-precision bf16 sends):
 * round to nearest, ties to even, exact on representable values, NaN kept
 * a NaN, infinities and signed zeros kept. */
#include <math.h>
#include <stdint.h>

#include "bf16.h"
#include "testutil.h"

static float f(uint32_t bits) {
    float x;
    memcpy(&x, &bits, 4);
    return x;
}

static void rounds_to_nearest_even(void) {
    static const struct { uint32_t in; uint16_t out; const char *what; } cases[] = {
        {0x3f800000u, 0x3f80, "1 is exact"},
        {0x3f808000u, 0x3f80, "halfway above 1: ties to the even 1"},
        {0x3f818000u, 0x3f82, "halfway above 1 + 2^-7: ties to the even 1 + 2^-6"},
        {0x3f808001u, 0x3f81, "just above halfway: up"},
        {0x3f807fffu, 0x3f80, "just below halfway: down"},
        {0xbf808001u, 0xbf81, "negative values round by magnitude"},
        {0x7f7fffffu, 0x7f80, "the largest float rounds to infinity"},
        {0x7f800000u, 0x7f80, "infinity stays"},
        {0x80000000u, 0x8000, "negative zero stays"},
        {0x00000001u, 0x0000, "the smallest subnormal rounds to zero"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint16_t got = f32_to_bf16(f(cases[i].in));
        CHECK(got == cases[i].out, "%s: 0x%08x -> 0x%04x, expected 0x%04x", cases[i].what,
              cases[i].in, got, cases[i].out);
    }
    CHECK(isnan(bf16_to_f32(f32_to_bf16(f(0x7fc00001u)))), "a NaN became a number");
    CHECK(isnan(bf16_to_f32(f32_to_bf16(f(0x7f800001u)))), "a signalling NaN became infinity");
    for (int e = -20; e <= 20; e++) /* representable values come back exactly */
        CHECK(bf16_to_f32(f32_to_bf16(ldexpf(1.5f, e))) == ldexpf(1.5f, e), "1.5 * 2^%d", e);
}

int main(int argc, char **argv) {
    static const scenario all[] = {SCENARIO(rounds_to_nearest_even)};
    return RUN_SCENARIOS(argc, argv, all);
}
