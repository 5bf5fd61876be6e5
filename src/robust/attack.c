/* attack.c — FGSM and PGD (l2, linf, random restarts) on classifiers, with the exact input gradient.
 *
 * Points are processed in chunks of CHUNK; within a chunk the points still
 * under attack (not yet misclassified) are gathered into contiguous buffers
 * for the model calls:
 *   cur  (B, d_raw)  current iterates (raw space)     x0 (B, d_raw) clean points
 *   best (B, d_raw)  iterate of largest loss so far   gbuf (B, d_raw) gathered iterates
 *   xp   (B, d_in)   preprocessed gathered iterates   F (B, C) class scores
 *   gout (B, C)      loss gradient w.r.t. the scores  gx (B, d_in), graw (d_raw)
 * Loss (to be increased): margin max_{c != y} F_c - F_y (gout = e_c* - e_y)
 * or cross-entropy log sum_c exp F_c - F_y (gout = softmax(F) - e_y).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/rng.h"
#include "hjdl/robust.h"
#include "hjdl/vec.h"
#include "robust/robust-impl.h"

#define CHUNK 256

void hj_attack_options_default(hj_attack_options *o)
{
    memset(o, 0, sizeof *o);
    o->method = HJ_ATTACK_PGD;
    o->norm = HJ_ATTACK_L2;
    o->loss = HJ_ATTACK_MARGIN;
    o->radius = 0.0;
    o->steps = 50;
    o->step_size = 0.0;
    o->restarts = 1;
    o->seed = 1;
}

static hj_status check_opts(const hj_attack_options *o, int need_radius, hj_error *err)
{
    if (o == NULL)
        return hj_error_set(err, HJ_EINVAL, "attack: NULL options");
    if (o->method != HJ_ATTACK_PGD && o->method != HJ_ATTACK_FGSM)
        return hj_error_set(err, HJ_EINVAL, "attack: unknown method %d", (int)o->method);
    if (o->norm != HJ_ATTACK_L2 && o->norm != HJ_ATTACK_LINF)
        return hj_error_set(err, HJ_EINVAL, "attack: unknown norm %d", (int)o->norm);
    if (o->loss != HJ_ATTACK_MARGIN && o->loss != HJ_ATTACK_XENT)
        return hj_error_set(err, HJ_EINVAL, "attack: unknown loss %d", (int)o->loss);
    if (need_radius && !(o->radius > 0.0 && isfinite(o->radius)))
        return hj_error_set(err, HJ_EINVAL, "attack: radius %g must be > 0 and finite", o->radius);
    if (o->steps == 0)
        return hj_error_set(err, HJ_EINVAL, "attack: steps must be >= 1");
    if (o->restarts == 0)
        return hj_error_set(err, HJ_EINVAL, "attack: restarts must be >= 1 (the first start is the clean point)");
    if (!(o->step_size >= 0.0 && isfinite(o->step_size)))
        return hj_error_set(err, HJ_EINVAL, "attack: step size %g must be >= 0 and finite (0: 2.5 radius/steps)",
                            o->step_size);
    return HJ_OK;
}

hj_status hj_attack_options_check(const hj_attack_options *o, hj_error *err)
{
    return check_opts(o, 1, err);
}

/* Loss of scores F (C) for label y, and its gradient gout (C) (may be NULL). */
static double loss_and_grad(hj_attack_loss kind, const double *F, size_t C, size_t y, double *gout)
{
    if (kind == HJ_ATTACK_MARGIN) {
        size_t cs = y == 0 ? 1 : 0;
        for (size_t c = 0; c < C; c++)
            if (c != y && F[c] > F[cs])
                cs = c;
        if (gout) {
            memset(gout, 0, C * sizeof *gout);
            gout[cs] = 1.0;
            gout[y] = -1.0;
        }
        return F[cs] - F[y];
    }
    double mx = F[0];
    for (size_t c = 1; c < C; c++)
        mx = F[c] > mx ? F[c] : mx;
    double s = 0.0;
    for (size_t c = 0; c < C; c++)
        s += exp(F[c] - mx);
    if (gout)
        for (size_t c = 0; c < C; c++)
            gout[c] = exp(F[c] - mx) / s - (c == y);
    return mx + log(s) - F[y];
}

/* Project cur onto the ball of radius rho around x0 (d). */
static void project(hj_attack_norm norm, const double *x0, double rho, size_t d, double *cur)
{
    if (norm == HJ_ATTACK_LINF) {
        for (size_t k = 0; k < d; k++) {
            double t = cur[k] - x0[k];
            t = t > rho ? rho : (t < -rho ? -rho : t);
            cur[k] = x0[k] + t;
        }
        return;
    }
    double r2 = 0.0;
    for (size_t k = 0; k < d; k++)
        r2 += (cur[k] - x0[k]) * (cur[k] - x0[k]);
    if (r2 > rho * rho) {
        double f = rho / sqrt(r2);
        for (size_t k = 0; k < d; k++)
            cur[k] = x0[k] + f * (cur[k] - x0[k]);
    }
}

/* A uniform random point of the ball of radius rho around x0 into cur (d). */
static void random_start(hj_attack_norm norm, const double *x0, double rho, size_t d, hj_rng *rng,
                         double *cur)
{
    if (norm == HJ_ATTACK_LINF) {
        for (size_t k = 0; k < d; k++)
            cur[k] = x0[k] + hj_rng_range(rng, -rho, rho);
        return;
    }
    double r2 = 0.0;
    for (size_t k = 0; k < d; k++) {
        cur[k] = hj_rng_normal(rng);
        r2 += cur[k] * cur[k];
    }
    double f = r2 > 0.0 ? rho * pow(hj_rng_uniform(rng), 1.0 / (double)d) / sqrt(r2) : 0.0;
    for (size_t k = 0; k < d; k++)
        cur[k] = x0[k] + f * cur[k];
}

/* Move cur (d) by step a along the gradient g (d): normalised (l2) or its sign (linf). */
static void ascend(hj_attack_norm norm, const double *g, double a, size_t d, double *cur)
{
    if (norm == HJ_ATTACK_LINF) {
        for (size_t k = 0; k < d; k++)
            cur[k] += g[k] > 0.0 ? a : (g[k] < 0.0 ? -a : 0.0);
        return;
    }
    double gn = 0.0;
    for (size_t k = 0; k < d; k++)
        gn += g[k] * g[k];
    if (!(gn > 0.0))
        return;
    gn = sqrt(gn);
    for (size_t k = 0; k < d; k++)
        cur[k] += a * g[k] / gn;
}

typedef struct chunk {
    const hj_model *m;
    hj_workspace *ws;
    const hj_attack_options *o;
    size_t C, d, draw;
    double *cur, *best, *bestloss, *gbuf, *xp, *F, *gout, *gx, *graw;
    size_t *act; /* active indices within the chunk */
    int *done;
} chunk;

/* Evaluate the iterates of the na active points: scores, success, best-so-far.
 * A success is recorded in x_adv/adv_class and marks the point done.
 * With grad != 0 the loss gradients (raw space) are left in graw rows. */
static hj_status evaluate(chunk *K, size_t na, const size_t *lab, size_t base, double *x_adv,
                          size_t *adv_class, int grad, hj_error *err)
{
    const size_t C = K->C, d = K->d, draw = K->draw;
    for (size_t a = 0; a < na; a++)
        memcpy(K->gbuf + a * draw, K->cur + K->act[a] * draw, draw * sizeof(double));
    hj_status st = hj_preprocess_apply(&K->m->pre, K->gbuf, na, K->xp, err);
    if (st == HJ_OK)
        st = hj_model_forward(K->m, K->ws, K->xp, na, K->F, err);
    if (st != HJ_OK)
        return st;
    for (size_t a = 0; a < na; a++) {
        const size_t i = K->act[a];
        const double *F = K->F + a * C;
        size_t pred = hj_vec_argmax(F, C);
        double loss = loss_and_grad(K->o->loss, F, C, lab[i], grad ? K->gout + a * C : NULL);
        if (pred != lab[i]) {
            K->done[i] = 1;
            memcpy(x_adv + (base + i) * draw, K->cur + i * draw, draw * sizeof(double));
            if (adv_class)
                adv_class[base + i] = pred;
            continue;
        }
        if (loss > K->bestloss[i]) {
            K->bestloss[i] = loss;
            memcpy(K->best + i * draw, K->cur + i * draw, draw * sizeof(double));
        }
    }
    if (!grad)
        return HJ_OK;
    st = hj_model_input_gradient(K->m, K->ws, K->xp, na, K->gout, K->gx, err);
    if (st != HJ_OK)
        return st;
    for (size_t a = 0; a < na; a++)
        hj__robust_grad_to_raw(&K->m->pre, K->gx + a * d, K->graw + a * draw);
    return HJ_OK;
}

/* The indices of the chunk's points not yet done into K->act; returns how many. */
static size_t gather_active(chunk *K, size_t B)
{
    size_t na = 0;
    for (size_t i = 0; i < B; i++)
        if (!K->done[i])
            K->act[na++] = i;
    return na;
}

hj_status hj_attack(const hj_model *m, const double *x, const double *labels, size_t n,
                    const hj_attack_options *o, const double *radii, double *x_adv,
                    size_t *adv_class, hj_error *err)
{
    hj_status st = check_opts(o, radii == NULL, err);
    if (st != HJ_OK)
        return st;
    if (m == NULL || m->params == NULL)
        return hj_error_set(err, HJ_EINVAL, "attack: NULL model");
    if (m->arch.n_classes < 2)
        return hj_error_set(err, HJ_EINVAL, "attack: the model is a regression model; attacks need a classifier");
    if (n == 0)
        return HJ_OK;
    if (x == NULL || labels == NULL || x_adv == NULL)
        return hj_error_set(err, HJ_EINVAL, "attack: NULL points, labels or output");
    const size_t C = m->arch.n_classes, d = m->arch.d_in, draw = m->pre.d_raw;
    for (size_t i = 0; i < n; i++) {
        double y = labels[i];
        if (!(y >= 0.0 && y < (double)C && y == floor(y)))
            return hj_error_set(err, HJ_EINVAL, "attack: label %g of point %zu is not a class 0..%zu", y, i, C - 1);
        if (radii && !(radii[i] >= 0.0 && isfinite(radii[i])))
            return hj_error_set(err, HJ_EINVAL, "attack: radius %g of point %zu must be >= 0 and finite", radii[i], i);
        for (size_t k = 0; k < draw; k++)
            if (!isfinite(x[i * draw + k]))
                return hj_error_set(err, HJ_ENAN, "attack: x[%zu][%zu] is not finite", i, k);
    }
    const size_t B = n < CHUNK ? n : CHUNK;
    chunk K = {0};
    K.m = m, K.o = o, K.C = C, K.d = d, K.draw = draw;
    size_t nd = 4 * B * draw + B + B * d + 2 * B * C + B * d;
    double *mem = malloc(nd * sizeof *mem);
    size_t *lab = malloc((n + B) * sizeof *lab);
    K.done = malloc(B * sizeof *K.done);
    if (mem == NULL || lab == NULL || K.done == NULL) {
        st = hj_error_set(err, HJ_ENOMEM, "attack: cannot allocate %zu doubles", nd);
        goto done;
    }
    K.cur = mem, K.best = K.cur + B * draw, K.gbuf = K.best + B * draw, K.graw = K.gbuf + B * draw;
    K.bestloss = K.graw + B * draw, K.xp = K.bestloss + B, K.F = K.xp + B * d, K.gout = K.F + B * C;
    K.gx = K.gout + B * C;
    K.act = lab + n;
    for (size_t i = 0; i < n; i++)
        lab[i] = (size_t)labels[i];
    if ((st = hj_workspace_alloc(&K.ws, m, B, err)) != HJ_OK)
        goto done;
    const int pgd = o->method == HJ_ATTACK_PGD;
    const size_t starts = pgd ? o->restarts : 1, steps = pgd ? o->steps : 1;
    for (size_t base = 0; base < n && st == HJ_OK; base += B) {
        const size_t nb = n - base < B ? n - base : B;
        const double *x0 = x + base * draw;
        memcpy(K.cur, x0, nb * draw * sizeof *K.cur);
        memcpy(K.best, x0, nb * draw * sizeof *K.best);
        for (size_t i = 0; i < nb; i++)
            K.done[i] = 0, K.bestloss[i] = -INFINITY;
        /* clean points: misclassified ones are done (x_adv = x) */
        size_t na = gather_active(&K, nb);
        if ((st = evaluate(&K, na, lab + base, base, x_adv, adv_class, 0, err)) != HJ_OK)
            break;
        for (size_t r = 0; r < starts && st == HJ_OK; r++) {
            na = gather_active(&K, nb);
            if (na == 0)
                break;
            if (r > 0) {
                for (size_t a = 0; a < na; a++) {
                    const size_t i = K.act[a], gi = base + i;
                    const double rho = radii ? radii[gi] : o->radius;
                    hj_rng rng;
                    hj_rng_seed(&rng, o->seed * 0x9E3779B97F4A7C15ULL + gi * 0xD1B54A32D192ED03ULL + r);
                    random_start(o->norm, x0 + i * draw, rho, draw, &rng, K.cur + i * draw);
                }
            } else {
                for (size_t a = 0; a < na; a++)
                    memcpy(K.cur + K.act[a] * draw, x0 + K.act[a] * draw, draw * sizeof *K.cur);
            }
            for (size_t s = 0; s < steps && st == HJ_OK; s++) {
                na = gather_active(&K, nb);
                if (na == 0)
                    break;
                if ((st = evaluate(&K, na, lab + base, base, x_adv, adv_class, 1, err)) != HJ_OK)
                    break;
                for (size_t a = 0; a < na; a++) {
                    const size_t i = K.act[a];
                    if (K.done[i])
                        continue;
                    const double rho = radii ? radii[base + i] : o->radius;
                    const double step = !pgd ? rho : (o->step_size > 0.0 ? o->step_size : 2.5 * rho / (double)steps);
                    ascend(o->norm, K.graw + a * draw, step, draw, K.cur + i * draw);
                    project(o->norm, x0 + i * draw, rho, draw, K.cur + i * draw);
                }
            }
            if (st != HJ_OK)
                break;
            na = gather_active(&K, nb);
            if (na > 0)
                st = evaluate(&K, na, lab + base, base, x_adv, adv_class, 0, err);
        }
        if (st != HJ_OK)
            break;
        for (size_t i = 0; i < nb; i++)
            if (!K.done[i]) {
                memcpy(x_adv + (base + i) * draw, K.best + i * draw, draw * sizeof(double));
                if (adv_class)
                    adv_class[base + i] = lab[base + i];
            }
    }
done:
    hj_workspace_free(K.ws);
    free(mem);
    free(lab);
    free(K.done);
    return st;
}
