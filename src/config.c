/* SPDX-License-Identifier: MIT */
/*
 * config.c - the training configuration: its defaults, its checks, and the
 * name of every value of the library's enums (activations from the table in
 * activation.h; costs, optimizers, learning-rate schedules here), used by
 * the command line, the model and checkpoint readers, and messages.
 */
#include "activation.h"
#include "base.h"

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

/* ---- defaults and checks -------------------------------------------------- */
void descent_train_config_default(descent_train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 10;
    cfg->batch = 64;
    cfg->lr = 0.1;
    cfg->schedule = DESCENT_LR_CONSTANT;
    cfg->optimizer = DESCENT_OPT_GD;
    cfg->momentum = 0.9;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = 0.0;
    cfg->seed = 1;
    cfg->sync_check = 0;
    cfg->reproducible = 0;
    cfg->comm_bf16 = 0;
    cfg->checkpoint_dir = NULL;
    cfg->checkpoint_steps = 0;
    cfg->checkpoint_epochs = 0;
    cfg->checkpoint_keep = 3;
    cfg->patience = 0;
    cfg->warmup_steps = 0;
    cfg->warmup_epochs = 0;
    cfg->best_model = NULL;
    cfg->dropout = 0.0;
    cfg->overlap = 0;
    cfg->overlap_piece = 0;
}

int descent_train_config_check(const descent_train_config *c, descent_error *err) {
    REQUIRE_ARG(err, c);
    if (c->epochs < 1 || c->epochs > 1000000)
        return set_error(err, DESCENT_E_USAGE, "epochs must be 1..1000000 (got %d)", c->epochs);
    if (c->batch < 1 || c->batch > ((size_t)1 << 24))
        return set_error(err, DESCENT_E_USAGE, "batch must be 1..16777216 (got %zu)", c->batch);
    if (!(c->lr > 0.0) || !isfinite(c->lr))
        return set_error(err, DESCENT_E_USAGE, "learning rate must be a positive number (got %g)",
                         c->lr);
    if ((unsigned)c->schedule >= DESCENT_LR_COUNT)
        return set_error(err, DESCENT_E_USAGE, "unknown learning-rate schedule");
    if ((unsigned)c->optimizer >= DESCENT_OPT_COUNT)
        return set_error(err, DESCENT_E_USAGE, "unknown optimizer");
    if (!(c->momentum >= 0.0 && c->momentum < 1.0))
        return set_error(err, DESCENT_E_USAGE, "momentum must be in [0,1) (got %g)", c->momentum);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0) || !(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return set_error(err, DESCENT_E_USAGE, "adam betas must be in [0,1)");
    if (!(c->eps > 0.0) || !isfinite(c->eps))
        return set_error(err, DESCENT_E_USAGE, "adam eps must be positive (got %g)", c->eps);
    if (!(c->weight_decay >= 0.0) || !isfinite(c->weight_decay))
        return set_error(err, DESCENT_E_USAGE, "weight decay must be >= 0 (got %g)",
                         c->weight_decay);
    if (c->sync_check < 0)
        return set_error(err, DESCENT_E_USAGE, "sync-check must be >= 0 (got %d)", c->sync_check);
    if (c->checkpoint_steps < 0 || c->checkpoint_epochs < 0 || c->checkpoint_keep < 1)
        return set_error(err, DESCENT_E_USAGE, "checkpoint interval must be >= 0 and keep >= 1");
    if (c->warmup_steps < 0 || c->warmup_epochs < 0 || (c->warmup_steps && c->warmup_epochs))
        return set_error(err, DESCENT_E_USAGE, "warm-up: give steps or epochs, >= 0");
    if ((c->comm_bf16 != 0 && c->comm_bf16 != 1) || (c->reproducible != 0 && c->reproducible != 1))
        return set_error(err, DESCENT_E_USAGE, "comm_bf16 and reproducible must be 0 or 1");
    if (c->comm_bf16 && c->reproducible)
        return set_error(err, DESCENT_E_USAGE, "bfloat16 communication and reproducible mode "
                         "exclude each other (rounding to bfloat16 depends on the layout)");
    if (c->patience < 0)
        return set_error(err, DESCENT_E_USAGE, "patience must be >= 0 (got %d)", c->patience);
    if (c->overlap != 0 && c->overlap != 1)
        return set_error(err, DESCENT_E_USAGE, "overlap must be 0 or 1 (got %d)", c->overlap);
    if (!(c->dropout >= 0.0 && c->dropout < 1.0))
        return set_error(err, DESCENT_E_USAGE, "dropout must be in [0,1) (got %g)", c->dropout);
    return DESCENT_OK;
}
