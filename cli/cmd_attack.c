/* cmd_attack.c — `hjdl attack`: FGSM / PGD against a classifier; clean and robust accuracy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/limits.h"
#include "hjdl/data.h"
#include "hjdl/model.h"
#include "hjdl/robust.h"

static const char DESCRIPTION[] =
    "Attacks a classifier at labelled points within ||delta|| <= R (l2 or linf, in the\n"
    "raw feature space of --x, through the model's stored preprocessing) using the\n"
    "exact input gradient of the loss. PGD: --steps steps of size --step-size\n"
    "(default 2.5 R / steps) along the normalised gradient (l2) or its sign (linf),\n"
    "each followed by projection onto the ball; --restarts starts, the first from the\n"
    "clean point, the others uniform in the ball; a point stops at its first\n"
    "misclassified iterate. FGSM: one step of size R. Loss: the margin\n"
    "max_{c != y} F_c - F_y (default) or the softmax cross-entropy.\n"
    "Labels: --labels FILE (one column, one row per point) or, without it, the last\n"
    "column of --x (which then has the model's feature columns plus one).\n"
    "Prints to stdout: points, clean accuracy, robust accuracy (label still\n"
    "predicted after the attack; misclassified clean points count as broken) and the\n"
    "attack success rate among clean-correct points. --out writes the adversarial\n"
    "points (feature columns, then label and adv_class, the class predicted there).";

/* Columns of --out: the feature names of --x (x1.. without a header), label, adv_class. */
typedef struct adv_columns {
    char *const *names; /* the model's feature names, or NULL */
    size_t dr;   /* feature columns */
} adv_columns;

static void adv_column_name(size_t k, char *buf, size_t len, const void *ctx)
{
    const adv_columns *c = ctx;
    if (k < c->dr && c->names)
        snprintf(buf, len, "%s", c->names[k]);
    else if (k < c->dr)
        snprintf(buf, len, "x%zu", k + 1);
    else
        snprintf(buf, len, "%s", k == c->dr ? "label" : "adv_class");
}

int cmd_attack(int argc, char **argv)
{
    const char *x_path = NULL, *lab_path = NULL, *out_path = NULL, *norm_s = "2", *method_s = "pgd";
    const char *loss_s = "margin", *pos[1];
    double radius = 0.0, step = 0.0;
    size_t steps = 50, restarts = 1, npos = 0, threads = 0;
    uint64_t seed = 1;
    cli_io io = {0};
    const cli_opt opts[] = {
        {"x", CLI_INPUT, &x_path, "FILE", "inputs, the model's raw feature columns [+ label column]; '-': stdin", 1},
        {"labels", CLI_INPUT, &lab_path, "FILE", "labels, one column (default: the last column of --x)", 0},
        {"norm", CLI_STRING, &norm_s, "2|inf", "threat model: l2 or linf ball (default 2)", 0},
        {"radius", CLI_DOUBLE, &radius, "R", "radius of the ball, > 0 (required)", 1},
        {"method", CLI_STRING, &method_s, "M", "pgd or fgsm (default pgd)", 0},
        {"loss", CLI_STRING, &loss_s, "L", "margin or xent (default margin)", 0},
        {"steps", CLI_SIZE, &steps, "S", "PGD steps per start (default 50)", 0},
        {"restarts", CLI_SIZE, &restarts, "K", "PGD starts, the first from the clean point (default 1)", 0},
        {"step-size", CLI_DOUBLE, &step, "A", "PGD step (default 2.5 R / steps)", 0},
        {"seed", CLI_U64, &seed, "S", "seed of the random starts (default 1)", 0},
        {"out", CLI_OUTPUT, &out_path, "FILE", "write the adversarial points (.csv, .tsv, .npy, .npz; default: none)", 0},
        CLI_IO_OPTIONS(io),
        CLI_SEQUENCE_ID_OPTION(io),
        CLI_THREADS_OPTION(threads),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, pos, 1, &npos, "attack");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "attack",
                       "MODEL --x FILE [--labels FILE] --radius R [--norm 2|inf] [--steps S] [--restarts K] [options]",
                       DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_error("attack", "give the model file (see 'hjdl attack --help')");
    hj_attack_options o;
    hj_attack_options_default(&o);
    if (strcmp(norm_s, "2") == 0 || strcmp(norm_s, "l2") == 0)
        o.norm = HJ_ATTACK_L2;
    else if (strcmp(norm_s, "inf") == 0 || strcmp(norm_s, "linf") == 0)
        o.norm = HJ_ATTACK_LINF;
    else
        return cli_error("attack", "--norm: '%s' is not 2 or inf", norm_s);
    if (strcmp(method_s, "pgd") == 0)
        o.method = HJ_ATTACK_PGD;
    else if (strcmp(method_s, "fgsm") == 0)
        o.method = HJ_ATTACK_FGSM;
    else
        return cli_error("attack", "--method: '%s' is not pgd or fgsm", method_s);
    if (strcmp(loss_s, "margin") == 0)
        o.loss = HJ_ATTACK_MARGIN;
    else if (strcmp(loss_s, "xent") == 0)
        o.loss = HJ_ATTACK_XENT;
    else
        return cli_error("attack", "--loss: '%s' is not margin or xent", loss_s);
    if (radius > HJ_MAX_SCALE)
        return cli_error("attack", "--radius %g is beyond %g: the attacked points would overflow a double",
                         radius, HJ_MAX_SCALE);
    o.radius = radius, o.steps = steps, o.restarts = restarts, o.step_size = step, o.seed = seed;
    hj_error err = {0};
    if (hj_attack_options_check(&o, &err) != HJ_OK)
        return cli_error("attack", "%s", err.msg + (strncmp(err.msg, "attack: ", 8) == 0 ? 8 : 0));

    hj_model m = {0};
    hj_matrix X = {0}, Y = {0}, A = {0};
    double *xs = NULL, *lab = NULL, *xadv = NULL, *F = NULL;
    size_t *cls = NULL;
    double *xin = NULL, *labv = NULL;
    size_t tcol;
    if ((rc = cli_check_output(out_path, "out", "attack")) != CLI_OK)
        return rc;
    if (hj_model_load(&m, pos[0], &err) != HJ_OK) {
        rc = cli_report("attack", &err);
        goto done;
    }
    if (lab_path && (rc = cli_read_matrix(lab_path, &io, &Y, "attack")) != CLI_OK)
        goto done;
    if (m.arch.n_classes < 2) {
        rc = cli_error("attack", "%s is a regression model; attacks need a classifier", pos[0]);
        goto done;
    }
    if ((rc = cli_model_table(&m, x_path, &io, pos[0], !lab_path, &X, &xin, &tcol, lab_path ? NULL : &labv, "attack")) !=
        CLI_OK)
        goto done;
    const size_t n = X.rows, dr = m.pre.d_raw, C = m.arch.n_classes;
    if (lab_path && (Y.cols != 1 || Y.rows != n)) {
        rc = cli_error("attack", "%s: expected one label column with %zu rows, got %zu x %zu", lab_path, n, Y.rows,
                       Y.cols);
        goto done;
    }
    if (!lab_path && labv == NULL) {
        rc = cli_error("attack", "%s has no label column%s%s; add it or give --labels FILE", x_path,
                       m.target_name ? " " : "", m.target_name ? m.target_name : "");
        goto done;
    }
    xs = xin, xin = NULL;
    lab = malloc(n * sizeof *lab);
    xadv = malloc(n * dr * sizeof *xadv);
    F = malloc(n * C * sizeof *F);
    cls = malloc(n * sizeof *cls);
    if (!lab || !xadv || !F || !cls) {
        rc = cli_error("attack", "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        if (lab_path && !cli_label_class(&m, NULL, Y.data[i], &c)) {
            rc = cli_error("attack", "%s: label %g of point %zu is not one of the model's classes", lab_path,
                           Y.data[i], i + 1);
            goto done;
        }
        lab[i] = lab_path ? (double)c : labv[i];
    }
    if (hj_model_predict(&m, xs, n, F, &err) != HJ_OK || hj_attack(&m, xs, lab, n, &o, NULL, xadv, cls, &err) != HJ_OK) {
        rc = cli_report("attack", &err);
        goto done;
    }
    size_t clean = 0, robust = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t c = 1; c < C; c++)
            if (F[i * C + c] > F[i * C + k])
                k = c;
        clean += k == (size_t)lab[i];
        robust += cls[i] == (size_t)lab[i];
    }
    if (out_path) {
        if (hj_matrix_alloc(&A, n, dr + 2, &err) != HJ_OK) {
            rc = cli_error("attack", "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(A.data + i * (dr + 2), xadv + i * dr, dr * sizeof *xadv);
            A.data[i * (dr + 2) + dr] = lab[i];
            A.data[i * (dr + 2) + dr + 1] = (double)cls[i];
        }
        const adv_columns ac = {m.feature_names, dr};
        if ((rc = cli_write_table("attack", out_path, &A, adv_column_name, &ac)) != CLI_OK)
            goto done;
    }
    const double stepv = o.method == HJ_ATTACK_FGSM ? radius : (step > 0.0 ? step : 2.5 * radius / (double)steps);
    FILE *say = out_path && strcmp(out_path, "-") == 0 ? stderr : stdout; /* stdout may carry the points */
    fprintf(say, "points %zu\n", n);
    fprintf(say, "clean accuracy %.4f\n", n ? (double)clean / (double)n : 0.0);
    fprintf(say, "robust accuracy %.4f\n", n ? (double)robust / (double)n : 0.0);
    fprintf(say, "attack success rate %.4f\n", clean ? (double)(clean - robust) / (double)clean : 0.0);
    fprintf(say, "attack %s l%s radius %.6g steps %zu restarts %zu step-size %.6g loss %s\n", method_s,
           o.norm == HJ_ATTACK_L2 ? "2" : "inf", radius, o.method == HJ_ATTACK_FGSM ? (size_t)1 : steps,
           o.method == HJ_ATTACK_FGSM ? (size_t)1 : restarts, stepv, loss_s);
done:
    free(xin), free(labv);
    free(xs), free(lab), free(xadv), free(F), free(cls);
    hj_matrix_free(&A);
    hj_matrix_free(&X);
    hj_matrix_free(&Y);
    hj_model_free(&m);
    return rc;
}
