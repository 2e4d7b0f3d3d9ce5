/* SPDX-License-Identifier: MIT */
/*
 * config_fields.h - every field of descent_train_config in one table, read
 * by its defaults and checks (config.c), the check that all ranks were
 * given the same (consistency.c), checkpoints (checkpoint.c), the resume
 * rules of the library (train.c) and of the command line (src/cli/resume.c,
 * which includes this file and nothing else of the library's inside).
 *
 * A new hyper-parameter is a field in the public struct, one row here, the
 * option that sets it (src/cli/train_options.c, with its help line) and
 * its use.
 *
 * X(field, kind, default, role, stored, valid, rule, option):
 *   kind     CF_INT, CF_REAL, CF_ENUM (a name table), CF_PATH (NULL: none)
 *   role     CF_FIXED: must be the checkpoint's to resume (it shapes the
 *              data order, the optimizer state or the sums);
 *            CF_MATH: decides the parameters; a resumed run keeps the
 *              checkpoint's, and a different value given is refused;
 *            CF_GOAL: how far to train; the checkpoint's unless given;
 *            CF_RUN: this run's choice, never taken from a checkpoint
 *   stored   in checkpoints: 0 not stored, 1 with the first version's
 *              hyper-parameters, 2 with those version 2 added (in the
 *              table's order within each), as CK_U32, CK_U64 or CK_F64
 *   valid    an expression in v, the field's value as a double (0 for a
 *              path; see cf_number), that must hold
 *   rule     what valid says, for the message when it does not
 *   option   the command line's option, or NULL
 */
#ifndef DESCENT_CONFIG_FIELDS_H
#define DESCENT_CONFIG_FIELDS_H

#include "descent/descent.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef enum { CF_INT, CF_REAL, CF_ENUM, CF_PATH } cf_kind;
typedef enum { CF_FIXED, CF_MATH, CF_GOAL, CF_RUN } cf_role;
typedef enum { CK_NONE, CK_U32, CK_U64, CK_F64 } ck_wire;

#define CF_MAX_EPOCHS 1000000
#define CF_MAX_BATCH ((size_t)1 << 24)
#define CF_MAX_WARMUP_STEPS (1L << 48)

/* The sizes of descent_train_config that this library reads: the first
 * struct with a size field, up to this one (config.c) */
#define CONFIG_FIRST_SIZE sizeof(descent_train_config)
/* A config's size is one of them (DESCENT_E_USAGE otherwise) */
int config_size_check(const descent_train_config *c, descent_error *err);
/* The caller's config as this library's struct: its fields, and the
 * defaults for those an older caller's struct lacks */
int config_of_caller(const descent_train_config *in, descent_train_config *out,
                     descent_error *err);

/* A field's value as the valid expressions see it */
static inline double cf_real(double x) { return x; }
static inline double cf_path(const char *p) { (void)p; return 0.0; }
#define cf_number(x) _Generic((x), const char *: cf_path, default: cf_real)(x)

/* A field as 64 bits that are equal exactly when two values are: a real's
 * own bits, an integer's value, whether a path is given */
static inline uint64_t cf_real_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline uint64_t cf_int_bits(unsigned long long x) { return (uint64_t)x; }
static inline uint64_t cf_path_bits(const char *p) { return p != NULL; }
#define cf_bits(x) \
    _Generic((x), double: cf_real_bits, const char *: cf_path_bits, default: cf_int_bits)(x)

/* clang-format off */
#define DESCENT_CONFIG_FIELDS(X)                                                              \
    X(epochs,       CF_INT,  10,   CF_GOAL,  1, CK_U32, v >= 1 && v <= CF_MAX_EPOCHS,          \
      "epochs must be 1..1000000", "--epochs")                                                \
    X(batch,        CF_INT,  64,   CF_FIXED, 1, CK_U64, v >= 1 && v <= CF_MAX_BATCH,           \
      "batch must be 1..16777216", "--batch")                                                 \
    X(lr,           CF_REAL, 0.1,  CF_MATH,  1, CK_F64, v > 0 && isfinite(v),                  \
      "learning rate must be a positive number", "--lr")                                      \
    X(schedule,     CF_ENUM, DESCENT_LR_CONSTANT, CF_MATH, 1, CK_U32,                          \
      v >= 0 && v < DESCENT_LR_COUNT, "unknown learning-rate schedule", "--lr-schedule")      \
    X(optimizer,    CF_ENUM, DESCENT_OPT_GD, CF_FIXED, 1, CK_U32,                              \
      v >= 0 && v < DESCENT_OPT_COUNT, "unknown optimizer", "--optimizer")                    \
    X(momentum,     CF_REAL, 0.9,  CF_MATH,  1, CK_F64, v >= 0 && v < 1,                       \
      "momentum must be in [0,1)", "--momentum")                                              \
    X(beta1,        CF_REAL, 0.9,  CF_MATH,  1, CK_F64, v >= 0 && v < 1,                       \
      "adam betas must be in [0,1)", "--beta1")                                               \
    X(beta2,        CF_REAL, 0.999, CF_MATH, 1, CK_F64, v >= 0 && v < 1,                       \
      "adam betas must be in [0,1)", "--beta2")                                               \
    X(eps,          CF_REAL, 1e-8, CF_MATH,  1, CK_F64, v > 0 && isfinite(v),                  \
      "adam eps must be positive", "--adam-eps")                                              \
    X(weight_decay, CF_REAL, 0.0,  CF_MATH,  1, CK_F64, v >= 0 && isfinite(v),                 \
      "weight decay must be >= 0", "--weight-decay")                                          \
    X(seed,         CF_INT,  1,    CF_FIXED, 1, CK_U64, 1, "", "--seed")                      \
    X(reproducible, CF_INT,  1,    CF_FIXED, 1, CK_U32, v == 0 || v == 1,                      \
      "reproducible must be 0 or 1", "--reproducible")                                        \
    X(dropout,      CF_REAL, 0.0,  CF_MATH,  2, CK_F64, v >= 0 && v < 1,                       \
      "dropout must be in [0,1)", "--dropout")                                                \
    X(warmup_steps, CF_INT,  0,    CF_MATH,  2, CK_U64, v >= 0 && v <= CF_MAX_WARMUP_STEPS,    \
      "warm-up steps must be 0..2^48", "--warmup")                                            \
    X(warmup_epochs, CF_INT, 0,    CF_MATH,  2, CK_U32, v >= 0 && v <= CF_MAX_EPOCHS,          \
      "warm-up epochs must be 0..1000000", "--warmup")                                        \
    X(sync_check,   CF_INT,  0,    CF_RUN,   0, CK_NONE, v >= 0,                               \
      "sync-check must be >= 0", "--sync-check")                                              \
    X(comm_bf16,    CF_INT,  0,    CF_RUN,   0, CK_NONE, v == 0 || v == 1,                     \
      "comm_bf16 must be 0 or 1", "--comm-precision")                                         \
    X(checkpoint_dir, CF_PATH, NULL, CF_RUN, 0, CK_NONE, 1, "", "--checkpoint-dir")           \
    X(checkpoint_steps, CF_INT, 0, CF_RUN,   0, CK_NONE, v >= 0,                               \
      "checkpoint interval must be >= 0", "--checkpoint-every")                               \
    X(checkpoint_epochs, CF_INT, 0, CF_RUN,  0, CK_NONE, v >= 0,                               \
      "checkpoint interval must be >= 0", "--checkpoint-every")                               \
    X(checkpoint_keep, CF_INT, 3,  CF_RUN,   0, CK_NONE, v >= 1,                               \
      "checkpoints kept must be >= 1", "--keep-checkpoints")                                  \
    X(patience,     CF_INT,  0,    CF_RUN,   0, CK_NONE, v >= 0,                               \
      "patience must be >= 0", "--patience")                                                  \
    X(best_model,   CF_PATH, NULL, CF_RUN,   0, CK_NONE, 1, "", "--keep-best")                \
    X(overlap,      CF_INT,  0,    CF_RUN,   0, CK_NONE, v == 0 || v == 1,                     \
      "overlap must be 0 or 1", "--overlap")                                                  \
    X(overlap_piece, CF_INT, 0,    CF_RUN,   0, CK_NONE, 1, "", "--overlap-piece")
/* clang-format on */

#endif
