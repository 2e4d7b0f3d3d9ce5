/* SPDX-License-Identifier: MIT */
/*
 * config.c - the training configuration: its defaults, its checks, and the
 * name of every value of the library's enums (activations from the table in
 * activation.h; costs, optimizers, learning-rate schedules here), used by
 * the command line, the model and checkpoint readers, and messages.
 */
#include "activation.h"
#include "base.h"
#include "config_fields.h"

#include <math.h>
#include <string.h>

/* ---- names ---------------------------------------------------------------- */
#define ACT_NAME_ROW(id, name, f, df, init) [id] = name,
static const char *const act_names[DESCENT_ACT_COUNT] = {DESCENT_ACTIVATIONS(ACT_NAME_ROW)};
#undef ACT_NAME_ROW
static const char *const cost_names[DESCENT_COST_COUNT] = {
    [DESCENT_COST_MSE] = "mse", [DESCENT_COST_XENT] = "xent"};
static const char *const opt_names[DESCENT_OPT_COUNT] = {
    [DESCENT_OPT_GD] = "gd", [DESCENT_OPT_MOMENTUM] = "momentum", [DESCENT_OPT_ADAM] = "adam"};
static const char *const schedule_names[DESCENT_LR_COUNT] = {
    [DESCENT_LR_CONSTANT] = "constant", [DESCENT_LR_COSINE] = "cosine"};

/* Other accepted spellings */
typedef struct {
    const char *alias;
    int value;
} alias;
static const alias cost_aliases[] = {{"cross-entropy", DESCENT_COST_XENT}, {NULL, 0}};
static const alias opt_aliases[] = {{"sgd", DESCENT_OPT_GD}, {NULL, 0}};

static const char *name_of(const char *const *names, int count, int value) {
    return value >= 0 && value < count ? names[value] : "?";
}

static int parse_name(const char *const *names, int count, const alias *aliases,
                      const char *name) {
    if (!name) return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(name, names[i]) == 0) return i;
    for (const alias *a = aliases; a && a->alias; a++)
        if (strcmp(name, a->alias) == 0) return a->value;
    return -1;
}

const char *descent_act_name(descent_act a) {
    return name_of(act_names, DESCENT_ACT_COUNT, (int)a);
}
const char *descent_cost_name(descent_cost c) {
    return name_of(cost_names, DESCENT_COST_COUNT, (int)c);
}
const char *descent_optimizer_name(descent_optimizer o) {
    return name_of(opt_names, DESCENT_OPT_COUNT, (int)o);
}
const char *descent_lr_schedule_name(descent_lr_schedule s) {
    return name_of(schedule_names, DESCENT_LR_COUNT, (int)s);
}
int descent_act_parse(const char *name) {
    return parse_name(act_names, DESCENT_ACT_COUNT, NULL, name);
}
int descent_cost_parse(const char *name) {
    return parse_name(cost_names, DESCENT_COST_COUNT, cost_aliases, name);
}
int descent_optimizer_parse(const char *name) {
    return parse_name(opt_names, DESCENT_OPT_COUNT, opt_aliases, name);
}
int descent_lr_schedule_parse(const char *name) {
    return parse_name(schedule_names, DESCENT_LR_COUNT, NULL, name);
}

/* ---- defaults and checks (the table of config_fields.h) ------------------ */
void descent_train_config_default(descent_train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
#define DEFAULT_OF(field, kind, def, role, ver, wire, valid, rule, opt) cfg->field = def;
    DESCENT_CONFIG_FIELDS(DEFAULT_OF)
#undef DEFAULT_OF
}

int config_size_check(const descent_train_config *c, descent_error *err) {
    if (c->size >= CONFIG_FIRST_SIZE && c->size <= sizeof *c) return DESCENT_OK;
    return set_error(err, DESCENT_E_USAGE, "descent_train_config: size %zu is not one this "
                     "library knows (%zu): fill the configuration with "
                     "descent_train_config_default first", c->size, sizeof *c);
}

int config_of_caller(const descent_train_config *in, descent_train_config *out,
                     descent_error *err) {
    descent_train_config_default(out);
    const int rc = config_size_check(in, err);
    if (!rc) memcpy((char *)out + sizeof out->size, (const char *)in + sizeof in->size,
                    in->size - sizeof in->size);
    return rc;
}

int descent_train_config_check(const descent_train_config *cfg, descent_error *err) {
    REQUIRE_ARG(err, cfg);
    descent_train_config full;
    const descent_train_config *c = &full;
    const int rc = config_of_caller(cfg, &full, err);
    if (rc) return rc;
#define CHECK_OF(field, kind, def, role, ver, wire, valid, rule, opt)                            \
    {                                                                                        \
        const double v = cf_number(c->field);                                                \
        if (!(valid))                                                                        \
            return set_error(err, DESCENT_E_USAGE, (kind) == CF_REAL ? "%s (got %g)"         \
                                                                     : "%s (got %.0f)",      \
                             rule, v);                                                       \
    }
    DESCENT_CONFIG_FIELDS(CHECK_OF)
#undef CHECK_OF
    if (c->warmup_steps && c->warmup_epochs)
        return set_error(err, DESCENT_E_USAGE, "warm-up: give steps or epochs, not both");
    if (c->comm_bf16 && c->reproducible)
        return set_error(err, DESCENT_E_USAGE, "bfloat16 communication and reproducible mode "
                         "exclude each other (rounding to bfloat16 depends on the layout; "
                         "bf16 needs float sums)");
    return DESCENT_OK;
}
