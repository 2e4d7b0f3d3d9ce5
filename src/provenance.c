/* SPDX-License-Identifier: MIT */
/*
 * provenance.c - how a network was made, carried with it into model files
 * and checkpoints: the descent version, the training configuration that
 * decides the result, the sizes and checksums of the training and
 * validation data, and the best validation loss. A network fine-tuned from
 * another keeps that one's provenance as its parent.
 *
 * The record holds only what decides the parameters (not ranks, threads,
 * file names, times or checkpoint settings), so two runs that must give the
 * same model (any ranks in reproducible mode, a resumed run and a straight
 * one) also give the same provenance, byte for byte.
 */
#include "provenance.h"

#include "net.h"

#include <stdlib.h>
#include <string.h>

/* A growing text; on the first failed allocation it stays NULL */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...) {
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { t->failed = 1; break; }
        if (t->s && t->len + (size_t)n < t->cap) { t->len += (size_t)n; return; }
        const size_t cap = (t->len + (size_t)n + 1) * 2;
        char *s = realloc(t->s, cap);
        if (!s) { t->failed = 1; break; }
        t->s = s;
        t->cap = cap;
    }
    free(t->s);
    t->s = NULL;
}

static void add_data(text *t, const char *role, const uint64_t id[FP_LEN]) {
    char what[160];
    data_identity_text(what, sizeof what, id);
    text_add(t, "%s data: %s\n", role, what);
}

char *provenance_record(const descent_train_config *cfg, int bf16_between_ranks,
                        const uint64_t train_id[FP_LEN],
                        const uint64_t *val_id, double best_val_loss, int best_epoch) {
    text t = {0};
    text_add(&t, "trained by descent %s\n", DESCENT_VERSION_STRING);
    text_add(&t, "optimizer: %s", descent_optimizer_name(cfg->optimizer));
    if (cfg->optimizer == DESCENT_OPT_MOMENTUM) text_add(&t, ", momentum %g", cfg->momentum);
    if (cfg->optimizer == DESCENT_OPT_ADAM)
        text_add(&t, ", beta1 %g, beta2 %g, eps %g", cfg->beta1, cfg->beta2, cfg->eps);
    text_add(&t, "\nlearning rate: %g, %s schedule, warm-up ", cfg->lr,
             descent_lr_schedule_name(cfg->schedule));
    if (cfg->warmup_epochs) text_add(&t, "%d epochs\n", cfg->warmup_epochs);
    else if (cfg->warmup_steps) text_add(&t, "%ld steps\n", cfg->warmup_steps);
    else text_add(&t, "none\n");
    text_add(&t, "batch: %zu, epochs: %d, seed: %llu\n", cfg->batch, cfg->epochs,
             (unsigned long long)cfg->seed);
    text_add(&t, "sums: %s\n", cfg->reproducible ? "exact (fixed-point)"
                               : bf16_between_ranks ? "float, bfloat16 between ranks" : "float");
    text_add(&t, "regularisation: weight decay %g, dropout %g\n", cfg->weight_decay, cfg->dropout);
    if (cfg->patience > 0) text_add(&t, "early stopping: patience %d epochs\n", cfg->patience);
    add_data(&t, "training", train_id);
    if (val_id) add_data(&t, "validation", val_id);
    if (best_epoch > 0)
        text_add(&t, "best validation loss: %.9g in epoch %d\n", best_val_loss, best_epoch);
    return t.s;
}

/* record, then the parent's lines indented under "fine-tuned from:" */
static char *render(const char *record, const char *parent) {
    text t = {0};
    text_add(&t, "%s", record);
    if (parent) text_add(&t, "fine-tuned from:\n");
    for (const char *line = parent; line && *line;) {
        const char *end = strchr(line, '\n');
        const int n = end ? (int)(end - line) : (int)strlen(line);
        text_add(&t, "  %.*s\n", n, line);
        line += n + (end != NULL);
    }
    return t.s;
}

int net_set_provenance(descent_net *net, const char *record, const char *parent) {
    if (!record) parent = NULL; /* a parent belongs to a record */
    char *r = record ? strdup(record) : NULL, *p = parent ? strdup(parent) : NULL;
    char *full = record ? render(record, parent) : NULL;
    if ((record && (!r || !full)) || (parent && !p)) {
        free(r);
        free(p);
        free(full);
        return DESCENT_E_NOMEM;
    }
    free(net->prov_record);
    free(net->prov_parent);
    free(net->prov_text);
    net->prov_record = r;
    net->prov_parent = p;
    net->prov_text = full;
    return DESCENT_OK;
}

const char *descent_net_provenance(const descent_net *net) {
    return net ? net->prov_text : NULL;
}
