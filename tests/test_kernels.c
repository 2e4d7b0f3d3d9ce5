/* The blocked, vectorised kernels against naive double-precision loops, over
 * shapes that exercise every full tile and every edge path (weight gradients
 * both added to and overwriting what the buffer held, and a NaN/Inf in them
 * counted); and the
 * position-independence that reproducibility rests on: a sample's outputs do
 * not depend on where in the block it sits. */
#include <math.h>
#include <string.h>

#include "base.h"
#include "kernels.h"
#include "testutil.h"

static unsigned rs = 99;
static float frand(void) {
    rs = rs * 1664525u + 1013904223u;
    return (float)((rs >> 9) & 0xffff) / 32768.0f - 1.0f;
}

int main(void) {
    const int Bs[] = {1, 2, 3, 5, 6, 7, 13, 40};
    const int INs[] = {1, 3, 8, 17, 33, 70};
    const int OUTs[] = {1, 2, 3, 6, 7, 10, 19};
    const descent_act acts[] = {DESCENT_ACT_IDENTITY, DESCENT_ACT_SIGMOID, DESCENT_ACT_RELU,
                                DESCENT_ACT_TANH};
    int cases = 0;
    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
        for (size_t ii = 0; ii < sizeof INs / sizeof *INs; ii++)
            for (size_t oi = 0; oi < sizeof OUTs / sizeof *OUTs; oi++) {
                const int B = Bs[bi], IN = INs[ii], OUT = OUTs[oi];
                const descent_act act = acts[cases % 4];
                const int ldi = round_up_int(IN, 16), ldo = round_up_int(OUT, 16);
                float *inp = aligned_calloc((size_t)B * ldi, 4), *w = aligned_calloc((size_t)OUT * IN, 4);
                float *b = aligned_calloc(OUT, 4), *out = aligned_calloc((size_t)B * ldo, 4);
                float *dout = aligned_calloc((size_t)B * ldo, 4), *dw = aligned_calloc((size_t)OUT * IN, 4);
                float *db = aligned_calloc(OUT, 4), *dinp = aligned_calloc((size_t)B * ldi, 4);
                for (int s = 0; s < B; s++)
                    for (int k = 0; k < IN; k++) inp[s * ldi + k] = frand();
                for (int i = 0; i < OUT * IN; i++) { w[i] = frand(); dw[i] = frand(); }
                for (int j = 0; j < OUT; j++) { b[j] = frand(); db[j] = frand(); }
                for (int s = 0; s < B; s++)
                    for (int j = 0; j < OUT; j++) dout[s * ldo + j] = frand();
                float *dw0 = malloc(sizeof(float) * OUT * IN), *db0 = malloc(sizeof(float) * OUT);
                memcpy(dw0, dw, sizeof(float) * OUT * IN);
                memcpy(db0, db, sizeof(float) * OUT);

                k_dense_forward(out, ldo, inp, ldi, w, b, B, IN, OUT, act);
                const int add = cases % 2;
                long nonfinite = 0;
                k_dense_backward_weights(dw, db, dout, ldo, inp, ldi, B, IN, OUT, add, &nonfinite);
                CHECK(nonfinite == 0, "finite weight gradients counted as non-finite (%ld)", nonfinite);
                const descent_act dact = acts[(cases + 1) % 4]; /* sigma' of the input layer */
                k_dense_backward_input(dinp, ldi, dout, ldo, w, inp, ldi, B, IN, OUT, dact);
                double worst = 0;
                for (int s = 0; s < B; s++)
                    for (int j = 0; j < OUT; j++) {
                        double z = b[j];
                        for (int k = 0; k < IN; k++) z += (double)inp[s * ldi + k] * w[j * IN + k];
                        double a = act == DESCENT_ACT_SIGMOID ? 1 / (1 + exp(-z))
                                   : act == DESCENT_ACT_RELU  ? (z > 0 ? z : 0)
                                   : act == DESCENT_ACT_TANH  ? tanh(z)
                                                              : z;
                        worst = fmax(worst, rel_diff(out[s * ldo + j], a, 1.0));
                    }
                CHECK(worst < 1e-5, "forward B=%d IN=%d OUT=%d: error %g", B, IN, OUT, worst);
                worst = 0;
                for (int j = 0; j < OUT; j++) {
                    double sb = add ? db0[j] : 0.0;
                    for (int s = 0; s < B; s++) sb += dout[s * ldo + j];
                    worst = fmax(worst, rel_diff(db[j], sb, 1.0));
                    for (int k = 0; k < IN; k++) {
                        double sw = add ? dw0[j * IN + k] : 0.0;
                        for (int s = 0; s < B; s++) sw += (double)dout[s * ldo + j] * inp[s * ldi + k];
                        worst = fmax(worst, rel_diff(dw[j * IN + k], sw, 1.0));
                    }
                }
                CHECK(worst < 1e-5, "backward weights (add %d) B=%d IN=%d OUT=%d: error %g", add, B,
                      IN, OUT, worst);
                worst = 0;
                for (int s = 0; s < B; s++)
                    for (int k = 0; k < IN; k++) {
                        double h = 0;
                        for (int j = 0; j < OUT; j++) h += (double)dout[s * ldo + j] * w[j * IN + k];
                        const double a = inp[s * ldi + k];
                        const double dz = dact == DESCENT_ACT_SIGMOID ? a * (1 - a)
                                          : dact == DESCENT_ACT_TANH  ? 1 - a * a
                                          : dact == DESCENT_ACT_RELU  ? (a > 0 ? 1 : 0)
                                                                      : 1;
                        worst = fmax(worst, rel_diff(dinp[s * ldi + k], h * dz, 1.0));
                    }
                CHECK(worst < 1e-5, "backward input B=%d IN=%d OUT=%d: error %g", B, IN, OUT, worst);

                /* position independence: sample s computed alone gives the same bits */
                for (int s = 0; s < B; s++) {
                    float one[128], done[128];
                    memset(one, 0, sizeof one);
                    k_dense_forward(one, ldo, inp + s * ldi, ldi, w, b, 1, IN, OUT, act);
                    CHECK(memcmp(one, out + s * ldo, sizeof(float) * OUT) == 0,
                          "forward of sample %d alone differs (B=%d IN=%d OUT=%d)", s, B, IN, OUT);
                    k_dense_backward_input(done, ldi, dout + s * ldo, ldo, w, inp + s * ldi, ldi, 1,
                                           IN, OUT, dact);
                    CHECK(memcmp(done, dinp + s * ldi, sizeof(float) * IN) == 0,
                          "backward input of sample %d alone differs (B=%d IN=%d OUT=%d)", s, B, IN,
                          OUT);
                }
                /* an Inf among the inputs makes a gradient non-finite: counted */
                inp[(B - 1) * ldi + IN - 1] = INFINITY;
                nonfinite = 0;
                k_dense_backward_weights(dw, db, dout, ldo, inp, ldi, B, IN, OUT, add, &nonfinite);
                CHECK(nonfinite > 0, "an Inf gradient was not counted (B=%d IN=%d OUT=%d)", B, IN, OUT);
                aligned_free(inp); aligned_free(w); aligned_free(b); aligned_free(out);
                aligned_free(dout); aligned_free(dw); aligned_free(db); aligned_free(dinp);
                free(dw0); free(db0);
                cases++;
            }
    printf("kernels: %d shapes\n", cases);
    TEST_EXIT();
}
