/* train_predict.c — train an LSE model, save it, load it back and predict.
 *
 * Fits y = sqrt(1 + x^2) on 64 points of [-2, 2] with one lse:16 layer
 * (Adam, 2000 steps), writes the model to the path given (default
 * model.hjm), loads it, and predicts again: the loaded model must give
 * bit-identical predictions and the training RMSE must be below 0.05.
 * Build: cc train_predict.c $(pkg-config --cflags --libs hjdl) -lm
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <hjdl/hjdl.h>

enum { N_POINTS = 64 };

static int fail(const char *what, const hj_error *err)
{
    fprintf(stderr, "train_predict: %s: %s\n", what, err->msg);
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "model.hjm";
    double x[N_POINTS], y[N_POINTS], p1[N_POINTS], p2[N_POINTS];
    for (int i = 0; i < N_POINTS; i++) {
        x[i] = -2.0 + 4.0 * i / (N_POINTS - 1);
        y[i] = sqrt(1.0 + x[i] * x[i]);
    }
    hj_error err = {0};
    hj_arch arch;
    hj_model m = {0}, back = {0};
    if (hj_arch_parse("lse:16", 1, 0, 0, &arch, &err) != HJ_OK)
        return fail("arch", &err);
    if (hj_model_init(&m, &arch, 0.1, 1.0, 7, &err) != HJ_OK)
        return fail("init", &err);
    hj_train_options to;
    hj_train_options_default(&to);
    to.iters = 2000;
    to.lr = 0.02;
    if (hj_model_train(&m, x, y, N_POINTS, &to, NULL, &err) != HJ_OK ||
        hj_model_predict(&m, x, N_POINTS, p1, &err) != HJ_OK)
        return fail("train", &err);
    if (hj_model_save(&m, path, &err) != HJ_OK || hj_model_load(&back, path, &err) != HJ_OK ||
        hj_model_predict(&back, x, N_POINTS, p2, &err) != HJ_OK)
        return fail(path, &err);
    double se = 0.0;
    for (int i = 0; i < N_POINTS; i++)
        se += (p1[i] - y[i]) * (p1[i] - y[i]);
    double rmse = sqrt(se / N_POINTS);
    int same = memcmp(p1, p2, sizeof p1) == 0;
    printf("training RMSE %.4g (below 0.05: %s); saved to %s; loaded model predicts %s\n", rmse,
           rmse < 0.05 ? "yes" : "NO", path, same ? "identically" : "DIFFERENTLY");
    hj_model_free(&m);
    hj_model_free(&back);
    return rmse < 0.05 && same ? 0 : 1;
}
