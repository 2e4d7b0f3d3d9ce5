/* SPDX-License-Identifier: MIT */
/*
 * model_load.c - descent_model_load: a network from a model file, or from a
 * checkpoint (its model; the training state is dropped), told apart by
 * their magic bytes. Everything that takes a model (info, eval, predict,
 * export, --init-model) takes a checkpoint through it.
 */
#include "base.h"
#include "binio.h"

#include <string.h>

static const char CHECKPOINT_MAGIC[8] = {'D', 'S', 'C', 'N', 'T', 'C', 'K', 'P'};

int descent_file_is_checkpoint(const char *path) {
    if (!path) return 0;
    FILE *f = descent_open_input(path, NULL);
    if (!f) return 0;
    char magic[8];
    const int yes = fread(magic, 1, 8, f) == 8 && memcmp(magic, CHECKPOINT_MAGIC, 8) == 0;
    fclose(f);
    return yes;
}

int descent_model_load(descent_net **out, const char *path, descent_error *err) {
    REQUIRE_ARG(err, out);
    REQUIRE_ARG(err, path);
    *out = NULL;
    /* a file that cannot be read is the model reader's to report */
    if (!descent_file_is_checkpoint(path)) return model_load_file(out, path, err);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    descent_checkpoint *ck = NULL;
    const int rc = descent_checkpoint_load(path, out, &cfg, &ck, NULL, 0, err);
    descent_checkpoint_free(ck);
    return rc;
}
