/* SPDX-License-Identifier: MIT */
/* A Fashion-MNIST subset: 2,000 training images, 3 epochs of a relu network
 * with softmax/cross-entropy must reach at least 0.72 accuracy on the first
 * 1,000 test images. Skipped (exit 77) where the data set is not installed. */
#include <descent/descent.h>
#include <unistd.h>

#include "testutil.h"

#define DIR "/usr/share/datasets/fashion-mnist/"

static void subset_reaches_accuracy(void) {
    if (access(DIR "train-images-idx3-ubyte.gz", R_OK) != 0)
        SKIP_SCENARIO(DIR " is not installed (apt-get install dataset-fashion-mnist)");
    descent_data *train = NULL, *test = NULL;
    descent_error err;
    CHECK(descent_data_load_idx(&train, DIR "train-images-idx3-ubyte.gz",
                                DIR "train-labels-idx1-ubyte.gz", &err) == 0, "%s", err.msg);
    CHECK(descent_data_load_idx(&test, DIR "t10k-images-idx3-ubyte.gz",
                                DIR "t10k-labels-idx1-ubyte.gz", &err) == 0, "%s", err.msg);
    if (!train || !test) {
        descent_data_free(train);
        descent_data_free(test);
        return;
    }
    CHECK(descent_data_count(train) == 60000 && descent_data_features(train) == 784 &&
              descent_data_outputs(train) == 10, "shape of the training set");
    CHECK(descent_data_count(test) == 10000, "test count");
    descent_data_truncate(train, 2000);
    descent_data_truncate(test, 1000);
    const int sizes[3] = {784, 64, 10};
    const descent_act acts[2] = {DESCENT_ACT_RELU, DESCENT_ACT_SOFTMAX};
    descent_net *net;
    CHECK(descent_net_create(&net, 2, sizes, acts, DESCENT_COST_XENT, &err) == 0, "%s", err.msg);
    descent_net_init(net, 1);
    descent_train_config cfg;
    descent_train_config_default(&cfg);
    cfg.epochs = 3;
    cfg.batch = 32;
    cfg.lr = 0.1;
    CHECK(descent_train(net, train, NULL, &cfg, NULL, &err) == 0, "%s", err.msg);
    descent_eval_result res;
    CHECK(descent_evaluate(net, test, &res, NULL, &err) == 0, "%s", err.msg);
    printf("fashion subset: test accuracy %.4f, loss %.4f\n", res.accuracy, res.loss);
    CHECK(res.accuracy >= 0.72, "accuracy %.4f below 0.72", res.accuracy);
    descent_net_free(net);
    descent_data_free(train);
    descent_data_free(test);
}

int main(int argc, char **argv) {
    static const scenario scenarios[] = {SCENARIO(subset_reaches_accuracy)};
    return RUN_SCENARIOS(argc, argv, scenarios);
}
