/* exp_influence.c — C12: closed-form O(N) leave-one-out and neuron ablation vs brute force and their cost; attribution vs retraining and Koh–Liang influence on Fashion-MNIST. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/exp-common.h"
#include "experiments/experiments-impl.h"
#include "hjdl/dataset.h"
#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "hjdl/optim.h"
#include "hjdl/plot.h"
#include "hjdl/rng.h"
#include "hjdl/stats.h"

/*
 * Part (a), synthetic. Atoms y_j ~ U[-1,1]^d, g_j ~ U[0, 1/2], values
 * v_j ~ N(0, I_nv), one query x ~ U[-1,1]^d, t = 1/2; the same atoms as an
 * LSE layer (w_j = y_j/(2t), b_j = -g_j - |y_j|^2/(4t)) for ablation. Seven
 * cases per problem (IF_NCASE): eps = 0; eps = 0 with an exact tie planted
 * at the arg-max (the nearest atom copied into another slot, with its own
 * value); a dominant atom (the nearest atom's g lowered by IF_MARGIN, so the
 * gap between the two smallest costs is >= 1) at eps = gap/30 (1 - pi_max ~
 * N e^-30: 1 - pi in floating point cancels) and at eps = 1e-10 gap (every
 * other weight underflows); and eps = eps* / 10, eps*, 10 eps* with
 * eps* = N^(-1/d). Brute force removes the atom (neuron) by moving it to
 * the end and evaluating the other N-1 from scratch with hj_hopf_cole_eval
 * (hj_lse_forward). Differences: LOO relative to max_j |v_j| per column,
 * ablation relative to max_j |z_j| + eps log N (a bound on |f|).
 * Timing at eps*: all N changes at one point, closed form (one call) vs
 * brute force (N recomputations), best of three batches.
 *
 * Part (b), Fashion-MNIST (see hj__exp_influence for the comparisons).
 */

#define IF_NAME "influence"
#define IF_T 0.5
#define IF_NV 2
#define IF_D 3
#define IF_TOL 1e-12
#define IF_MARGIN 1.0
#define IF_NCASE 7
#define IF_CLASS_A 0        /* T-shirt/top */
#define IF_CLASS_B 6        /* Shirt */
#define IF_PCA 10
#define IF_MODEL_EPS 1.0
#define IF_LR 0.02
#define IF_DAMP 1e-2        /* Koh–Liang damping lambda: (H + lambda I) s = grad L_test */
#define IF_CG_TOL 1e-10
#define IF_CG_CHECK 1e-6    /* true relative residual the CG solution must reach */
#define IF_FD_REL 1e-5      /* Hessian-vector products: central differences of the gradient */

static const char *const IF_CASE_NAMES[IF_NCASE] = {
    "eps = 0", "eps = 0, tie at the arg-max", "dominant atom, eps = gap/30", "dominant atom, eps = 1e-10 gap",
    "eps = eps*/10", "eps = eps*", "eps = 10 eps*"};

static void if_swap_rows(double *a, size_t i, size_t j, size_t cols)
{
    if (i == j)
        return;
    for (size_t c = 0; c < cols; c++) {
        double t = a[i * cols + c];
        a[i * cols + c] = a[j * cols + c];
        a[j * cols + c] = t;
    }
}

/* ---- part (a): one random problem ------------------------------------------ */

typedef struct if_prob {
    size_t N, d, nv;
    double t, eps;
    double *y, *g, *v;      /* atoms (N, d), (N); values (N, nv) */
    double *w, *b;          /* the same atoms as an LSE layer (N, d), (N) */
    double *x;              /* (d) */
    double *pi;             /* (N) brute-force scratch */
    double *P, *delta;      /* closed form: (nv), (N, nv) */
    double f, *dab;         /* closed form: f, (N) */
    double *mem;
} if_prob;

static hj_status if_prob_alloc(if_prob *p, size_t N, size_t d, size_t nv, hj_error *err)
{
    memset(p, 0, sizeof *p);
    p->N = N, p->d = d, p->nv = nv, p->t = IF_T;
    p->mem = malloc((2 * N * d + 4 * N + 2 * N * nv + d + nv) * sizeof *p->mem);
    if (p->mem == NULL)
        return hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory (N = %zu)", N);
    p->y = p->mem;
    p->w = p->y + N * d;
    p->g = p->w + N * d;
    p->b = p->g + N;
    p->pi = p->b + N;
    p->dab = p->pi + N;
    p->v = p->dab + N;
    p->delta = p->v + N * nv;
    p->x = p->delta + N * nv;
    p->P = p->x + d;
    return HJ_OK;
}

/* Costs c_j = g_j + |x - y_j|^2/(4t): index of the smallest, and the gap to the second. */
static size_t if_nearest(const if_prob *p, double *gap)
{
    double c1 = INFINITY, c2 = INFINITY;
    size_t j1 = 0;
    for (size_t j = 0; j < p->N; j++) {
        double q = 0.0;
        for (size_t k = 0; k < p->d; k++)
            q += (p->x[k] - p->y[j * p->d + k]) * (p->x[k] - p->y[j * p->d + k]);
        double c = p->g[j] + q / (4.0 * p->t);
        if (c < c1) {
            c2 = c1;
            c1 = c;
            j1 = j;
        } else if (c < c2) {
            c2 = c;
        }
    }
    *gap = c2 - c1;
    return j1;
}

/* Fill the base problem from seed and apply case c (sets eps, the weights). */
static hj_status if_prob_setup(if_prob *p, uint64_t seed, int c, hj_error *err)
{
    hj_rng r;
    hj_rng_seed(&r, seed);
    const size_t N = p->N, d = p->d;
    for (size_t i = 0; i < N * d; i++)
        p->y[i] = hj_rng_range(&r, -1.0, 1.0);
    for (size_t j = 0; j < N; j++)
        p->g[j] = hj_rng_range(&r, 0.0, 0.5);
    for (size_t i = 0; i < N * p->nv; i++)
        p->v[i] = hj_rng_normal(&r);
    for (size_t k = 0; k < d; k++)
        p->x[k] = hj_rng_range(&r, -1.0, 1.0);
    double gap;
    size_t j1 = if_nearest(p, &gap);
    const double es = hj_critical_eps(N, d);
    switch (c) {
    case 0:
        p->eps = 0.0;
        break;
    case 1: {
        size_t s = (j1 + 1 + (size_t)(hj_rng_uniform(&r) * (double)(N - 1))) % N;
        memcpy(p->y + s * d, p->y + j1 * d, d * sizeof *p->y);
        p->g[s] = p->g[j1];
        p->eps = 0.0;
        break;
    }
    case 2:
    case 3:
        p->g[j1] -= IF_MARGIN;
        if_nearest(p, &gap);
        p->eps = c == 2 ? gap / 30.0 : 1e-10 * gap;
        break;
    default:
        p->eps = (c == 4 ? 0.1 : c == 5 ? 1.0 : 10.0) * es;
        break;
    }
    return hj_atoms_to_weights(p->y, p->g, N, d, p->t, NULL, p->w, p->b, err);
}

static hj_status if_closed_loo(if_prob *p, hj_error *err)
{
    hj_atoms at = {p->N, p->d, p->y, p->g};
    return hj_influence_loo_atoms(&at, NULL, p->x, 1, p->t, p->eps, p->v, p->nv, p->P, p->delta, err);
}

static hj_status if_closed_abl(if_prob *p, hj_error *err)
{
    hj_lse_layer L = {p->N, p->d, p->w, p->b, p->eps};
    return hj_influence_ablation(&L, p->x, 1, &p->f, p->dab, err);
}

/* Brute-force P_{-k} (nv) at one point x (d): atom k of y (N, d), g (N),
 * v (N, nv) is swapped to the end, hj_hopf_cole_eval runs on the other
 * N-1 (weights into pi, N scratch), and the rows are swapped back. */
static hj_status if_bf_loo_k(double *y, double *g, double *v, size_t N, size_t d, size_t nv, const double *x,
                             double t, double eps, size_t k, double *pi, double *Pk, hj_error *err)
{
    const size_t last = N - 1;
    if_swap_rows(y, k, last, d);
    if_swap_rows(g, k, last, 1);
    if_swap_rows(v, k, last, nv);
    hj_atoms at = {N - 1, d, y, g};
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.pi = pi;
    hj_status st = hj_hopf_cole_eval(&at, NULL, x, 1, t, eps, &o, err);
    for (size_t c = 0; c < nv; c++)
        Pk[c] = 0.0;
    for (size_t j = 0; j < last && st == HJ_OK; j++)
        for (size_t c = 0; c < nv; c++)
            Pk[c] += pi[j] * v[j * nv + c];
    if_swap_rows(y, k, last, d);
    if_swap_rows(g, k, last, 1);
    if_swap_rows(v, k, last, nv);
    return st;
}

/* Brute-force LOO: P_{-k} from hj_hopf_cole_eval on the other N-1 atoms, for
 * every k; *worst = max relative difference to the closed form in p. */
static hj_status if_brute_loo(if_prob *p, double *worst, hj_error *err)
{
    const size_t N = p->N, nv = p->nv;
    double vmax[IF_NV] = {0};
    for (size_t j = 0; j < N; j++)
        for (size_t c = 0; c < nv; c++)
            vmax[c] = fmax(vmax[c], fabs(p->v[j * nv + c]));
    double wst = 0.0;
    for (size_t k = 0; k < N; k++) {
        double Pk[IF_NV];
        hj_status st = if_bf_loo_k(p->y, p->g, p->v, N, p->d, nv, p->x, p->t, p->eps, k, p->pi, Pk, err);
        if (st != HJ_OK)
            return st;
        for (size_t c = 0; c < nv; c++)
            wst = fmax(wst, fabs(p->P[c] + p->delta[k * nv + c] - Pk[c]) / vmax[c]);
    }
    *worst = wst;
    return HJ_OK;
}

/* Brute-force ablation: f_{-k} from hj_lse_forward on the other N-1 neurons. */
static hj_status if_brute_abl(if_prob *p, double *worst, hj_error *err)
{
    const size_t N = p->N, d = p->d, last = N - 1;
    double zmax = 0.0;
    for (size_t j = 0; j < N; j++) {
        double z = p->b[j];
        for (size_t k = 0; k < d; k++)
            z += p->w[j * d + k] * p->x[k];
        zmax = fmax(zmax, fabs(z));
    }
    const double S = zmax + p->eps * log((double)N);
    double wst = 0.0;
    for (size_t k = 0; k < N; k++) {
        if_swap_rows(p->w, k, last, d);
        if_swap_rows(p->b, k, last, 1);
        hj_lse_layer L = {N - 1, d, p->w, p->b, p->eps};
        double fk = NAN;
        hj_status st = hj_lse_forward(&L, p->x, 1, &fk, NULL, NULL, err);
        if_swap_rows(p->w, k, last, d);
        if_swap_rows(p->b, k, last, 1);
        if (st != HJ_OK)
            return st;
        wst = fmax(wst, fabs(p->f + p->dab[k] - fk) / S);
    }
    *worst = wst;
    return HJ_OK;
}

typedef enum { IF_W_LOO_CF, IF_W_LOO_BF, IF_W_ABL_CF, IF_W_ABL_BF } if_work;

static hj_status if_do(if_prob *p, if_work w, hj_error *err)
{
    double tmp;
    switch (w) {
    case IF_W_LOO_CF:
        return if_closed_loo(p, err);
    case IF_W_LOO_BF:
        return if_brute_loo(p, &tmp, err);
    case IF_W_ABL_CF:
        return if_closed_abl(p, err);
    case IF_W_ABL_BF:
        return if_brute_abl(p, &tmp, err);
    }
    return HJ_OK;
}

/* Seconds per call of w: best of three batches, each repeated until it
 * lasts min_s. */
static hj_status if_time(if_prob *p, if_work w, double min_s, double *per_call, hj_error *err)
{
    double best = INFINITY;
    for (int b = 0; b < 3; b++) {
        size_t reps = 0;
        double t0 = hj__exp_now_seconds(), el;
        do {
            hj_status st = if_do(p, w, err);
            if (st != HJ_OK)
                return st;
            reps++;
            el = hj__exp_now_seconds() - t0;
        } while (el < min_s);
        best = fmin(best, el / (double)reps);
    }
    *per_call = best;
    return HJ_OK;
}

static hj_status if_part_a(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    const size_t d = opt->d ? opt->d : IF_D;
    size_t ladder[8], nl = 0;
    if (opt->N) {
        if (opt->N < 4)
            return hj_error_set(err, HJ_EINVAL, IF_NAME ": N = %zu is too small (>= 4)", opt->N);
        const double fr[5] = {0.01, 1.0 / 30.0, 0.1, 1.0 / 3.0, 1.0};
        for (int i = 0; i < 5; i++) {
            size_t v = (size_t)llround(fr[i] * (double)opt->N);
            if (v >= 4 && (nl == 0 || v > ladder[nl - 1]))
                ladder[nl++] = v;
        }
    } else if (opt->quick) {
        const size_t q[4] = {30, 100, 300, 1000};
        memcpy(ladder, q, sizeof q);
        nl = 4;
    } else {
        const size_t f[6] = {30, 100, 300, 1000, 3000, 10000};
        memcpy(ladder, f, sizeof f);
        nl = 6;
    }
    const double min_s = opt->quick ? 0.01 : 0.05;
    hj_result_param_num(res, "a_d", (double)d, NULL);
    hj_result_param_num(res, "a_t", IF_T, NULL);
    hj_result_param_num(res, "a_n_values", IF_NV, NULL);
    hj_result_param_num(res, "a_N_max", (double)ladder[nl - 1], NULL);
    hj_result_param_num(res, "a_N_ladder_size", (double)nl, NULL);

    size_t cap = nl * 3 * IF_NCASE;
    double *rows = malloc(cap * 6 * sizeof *rows), *tim = malloc(nl * 5 * sizeof *tim);
    if (rows == NULL || tim == NULL) {
        free(rows), free(tim);
        return hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory");
    }
    size_t nrow = 0;
    double worst[3][2] = {{0}};   /* group (eps = 0, dominant, regular) x (LOO, ablation) */
    hj_status st = HJ_OK;
    for (size_t li = 0; li < nl && st == HJ_OK; li++) {
        const size_t N = ladder[li];
        const size_t npts = opt->quick ? 2 : (N <= 1000 ? 3 : N <= 3000 ? 2 : 1);
        if_prob p;
        if ((st = if_prob_alloc(&p, N, d, IF_NV, err)) != HJ_OK)
            break;
        double tl[4] = {NAN, NAN, NAN, NAN};
        for (size_t pt = 0; pt < npts && st == HJ_OK; pt++) {
            const uint64_t seed = opt->seed * 1000003ULL + N * 7919ULL + pt;
            for (int c = 0; c < IF_NCASE && st == HJ_OK; c++) {
                double wl, wa;
                if ((st = if_prob_setup(&p, seed, c, err)) != HJ_OK || (st = if_closed_loo(&p, err)) != HJ_OK ||
                    (st = if_closed_abl(&p, err)) != HJ_OK || (st = if_brute_loo(&p, &wl, err)) != HJ_OK ||
                    (st = if_brute_abl(&p, &wa, err)) != HJ_OK)
                    break;
                const int grp = c <= 1 ? 0 : c <= 3 ? 1 : 2;
                worst[grp][0] = fmax(worst[grp][0], wl);
                worst[grp][1] = fmax(worst[grp][1], wa);
                double row[6] = {(double)N, (double)pt, (double)c, p.eps, wl, wa};
                memcpy(rows + 6 * nrow++, row, sizeof row);
                if (c == 5 && pt == 0) {   /* timing at eps* on the first point */
                    for (int w = 0; w < 4 && st == HJ_OK; w++)
                        st = if_time(&p, (if_work)w, min_s, &tl[w], err);
                }
            }
        }
        free(p.mem);
        double tr[5] = {(double)N, tl[0], tl[1], tl[2], tl[3]};
        memcpy(tim + 5 * li, tr, sizeof tr);
        hj_experiment_progress(opt, IF_NAME, "closed form vs brute force", 0.45 * (double)(li + 1) / (double)nl);
    }
    if (st != HJ_OK)
        goto out;

    static const char *const gname[3] = {"eps = 0 (with and without exact ties at the arg-max)",
                                         "one dominant atom: 1 - pi_max ~ N e^-30 and underflowing to 0",
                                         "eps = eps*/10, eps*, 10 eps*"};
    static const char *const gkey[3] = {"eps0", "dominant", "regular"};
    for (int gi = 0; gi < 3 && st == HJ_OK; gi++) {
        char name[256], key[64];
        snprintf(name, sizeof name,
                 "closed-form LOO P_{-k} = P + pi_k (P - v_k)/(1 - pi_k) vs recomputation without atom k, all k, "
                 "N up to %zu, %s: max |diff| / max|v|", ladder[nl - 1], gname[gi]);
        st = hj_result_check(res, "C12", name, worst[gi][0], IF_TOL, err);
        if (st == HJ_OK) {
            snprintf(name, sizeof name,
                     "closed-form ablation f_{-k} = f + eps log(1 - pi_k) vs recomputation without neuron k, all k, "
                     "N up to %zu, %s: max |diff| / (max|z| + eps log N)", ladder[nl - 1], gname[gi]);
            st = hj_result_check(res, "C12", name, worst[gi][1], IF_TOL, err);
        }
        snprintf(key, sizeof key, "max_rel_diff_loo_%s", gkey[gi]);
        hj_result_metric(res, key, worst[gi][0], NULL);
        snprintf(key, sizeof key, "max_rel_diff_ablation_%s", gkey[gi]);
        hj_result_metric(res, key, worst[gi][1], NULL);
    }
    if (st != HJ_OK)
        goto out;

    /* exponents of the cost in N */
    double ex[4] = {NAN, NAN, NAN, NAN}, se[4] = {NAN, NAN, NAN, NAN}, lp[4] = {NAN, NAN, NAN, NAN};
    static const char *const tkey[4] = {"loo_closed_form", "loo_brute_force", "ablation_closed_form",
                                        "ablation_brute_force"};
    if (nl >= 3) {
        double Ns[8], tv[8];
        for (int w = 0; w < 4; w++) {
            for (size_t li = 0; li < nl; li++) {
                Ns[li] = tim[5 * li];
                tv[li] = tim[5 * li + 1 + (size_t)w];
            }
            hj_error e2;
            if (hj_fit_power_law(Ns, tv, nl, &ex[w], &lp[w], &se[w], &e2) != HJ_OK)
                ex[w] = se[w] = lp[w] = NAN;
            char key[64];
            snprintf(key, sizeof key, "time_exponent_%s", tkey[w]);
            hj_result_metric(res, key, ex[w], NULL);
            snprintf(key, sizeof key, "time_exponent_se_%s", tkey[w]);
            hj_result_metric(res, key, se[w], NULL);
            snprintf(key, sizeof key, "seconds_at_Nmax_%s", tkey[w]);
            hj_result_metric(res, key, tv[nl - 1], NULL);
        }
    }
    const double *tl = tim + 5 * (nl - 1);
    hj_result_metric(res, "speedup_at_Nmax_loo", tl[2] / tl[1], NULL);
    hj_result_metric(res, "speedup_at_Nmax_ablation", tl[4] / tl[3], NULL);
    {
        static const char *const names[] = {"N", "point", "case", "eps", "loo_max_rel_diff", "ablation_max_rel_diff"};
        static const char *const tnames[] = {"N", "loo_closed_form_s", "loo_brute_force_s", "ablation_closed_form_s",
                                             "ablation_brute_force_s"};
        st = hj_result_write_csv(res, "influence_exactness.csv", names, rows, nrow, 6, err);
        if (st == HJ_OK)
            st = hj_result_write_csv(res, "influence_timing.csv", tnames, tim, nl, 5, err);
        if (st != HJ_OK)
            goto out;
    }
    {
        hj_plot pl;
        memset(&pl, 0, sizeof pl);
        char titles[4][96], fns[4][96];
        static const char *const lab[4] = {"LOO closed form", "LOO brute force", "ablation closed form",
                                           "ablation brute force"};
        pl.name = "influence_timing";
        pl.title = "C12: all N leave-one-out / ablation changes at one point";
        pl.xlabel = "N (atoms / neurons)";
        pl.ylabel = "seconds";
        pl.logx = pl.logy = 1;
        for (int w = 0; w < 4; w++) {
            snprintf(titles[w], sizeof titles[w], "%s (fit slope %.2f +- %.2f)", lab[w], ex[w], se[w]);
            pl.series[pl.n_series++] = (hj_plot_series){"influence_timing.csv", 1, 2 + w, 0, titles[w], "points", NULL};
            if (isfinite(ex[w])) {
                snprintf(fns[w], sizeof fns[w], "exp(%.10g)*x**(%.10g)", lp[w], ex[w]);
                pl.functions[pl.n_functions] = fns[w];
                pl.function_titles[pl.n_functions++] = "";
            }
        }
        hj__exp_figure(res, &pl,
                       "Time to obtain every leave-one-out (or ablation) change at one point: the closed form is one "
                       "O(N) pass, brute force recomputes the predictor N times (O(N^2)); lines are the fitted power laws.", NULL);
    }
    hj_result_note(res,
                   "(a) Closed form vs brute force on random problems (d = %zu, t = 1/2, %d value columns, N = %zu..%zu, "
                   "7 eps cases each): worst LOO difference %.2g (eps = 0), %.2g (pi_max -> 1), %.2g (eps*/10..10 eps*) "
                   "relative to max|v|; worst ablation difference %.2g, %.2g, %.2g relative to max|z| + eps log N. "
                   "Cost of all N changes at one point: closed form ~ N^%.2f (LOO) and N^%.2f (ablation), brute force "
                   "~ N^%.2f and N^%.2f; at N = %zu the closed form is %.3g (LOO) and %.3g (ablation) times faster.",
                   d, IF_NV, ladder[0], ladder[nl - 1], worst[0][0], worst[1][0], worst[2][0], worst[0][1],
                   worst[1][1], worst[2][1], ex[0], ex[2], ex[1], ex[3], ladder[nl - 1], tl[2] / tl[1],
                   tl[4] / tl[3]);
    {
        char buf[512];
        size_t len = 0;
        for (int c = 0; c < IF_NCASE && len < sizeof buf; c++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d = %s", c ? "; " : "", c, IF_CASE_NAMES[c]);
        hj_result_note(res, "Column 'case' of influence_exactness.csv: %s.", buf);
    }
out:
    free(rows);
    free(tim);
    return st;
}

/* ---- part (b): Fashion-MNIST --------------------------------------------------- */

typedef struct if_data {
    size_t n_tr, n_te, d;
    double *xtr, *ytr, *xte, *yte;   /* PCA features (n, d); labels 0/1 */
} if_data;

static void if_data_free(if_data *D)
{
    free(D->xtr), free(D->ytr), free(D->xte), free(D->yte);
    memset(D, 0, sizeof *D);
}

/* The first n_tr (n_te) training (test) images of classes A and B, PCA to d
 * fitted on the training subset. HJ_EIO etc. when the data set is missing. */
static hj_status if_data_load(size_t n_tr, size_t n_te, size_t d, if_data *D, hj_error *err)
{
    memset(D, 0, sizeof *D);
    hj_dataset ds;
    hj_status st = hj_dataset_load("fashion-mnist", NULL, &ds, err);
    if (st != HJ_OK)
        return st;
    const size_t raw = ds.x_train.cols;
    double *rtr = malloc(n_tr * raw * sizeof *rtr), *rte = malloc(n_te * raw * sizeof *rte);
    D->xtr = malloc(n_tr * d * sizeof *D->xtr);
    D->xte = malloc(n_te * d * sizeof *D->xte);
    D->ytr = malloc(n_tr * sizeof *D->ytr);
    D->yte = malloc(n_te * sizeof *D->yte);
    hj_preprocess pre;
    memset(&pre, 0, sizeof pre);
    if (!rtr || !rte || !D->xtr || !D->xte || !D->ytr || !D->yte) {
        st = hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory (data)");
        goto out;
    }
    for (int part = 0; part < 2; part++) {
        const hj_matrix *X = part == 0 ? &ds.x_train : &ds.x_test, *Y = part == 0 ? &ds.y_train : &ds.y_test;
        const size_t want = part == 0 ? n_tr : n_te;
        double *dst = part == 0 ? rtr : rte, *lab = part == 0 ? D->ytr : D->yte;
        size_t got = 0;
        for (size_t i = 0; i < X->rows && got < want; i++) {
            int c = (int)Y->data[i];
            if (c != IF_CLASS_A && c != IF_CLASS_B)
                continue;
            memcpy(dst + got * raw, X->data + i * raw, raw * sizeof *dst);
            lab[got++] = c == IF_CLASS_A ? 0.0 : 1.0;
        }
        if (got < want) {
            st = hj_error_set(err, HJ_EINVAL, IF_NAME ": only %zu images of classes %d/%d", got, IF_CLASS_A, IF_CLASS_B);
            goto out;
        }
    }
    if ((st = hj_preprocess_fit(&pre, HJ_PRE_PCA, rtr, n_tr, raw, d, err)) != HJ_OK ||
        (st = hj_preprocess_apply(&pre, rtr, n_tr, D->xtr, err)) != HJ_OK ||
        (st = hj_preprocess_apply(&pre, rte, n_te, D->xte, err)) != HJ_OK)
        goto out;
    D->n_tr = n_tr, D->n_te = n_te, D->d = d;
out:
    hj_preprocess_free(&pre);
    hj_dataset_free(&ds);
    free(rtr), free(rte);
    if (st != HJ_OK)
        if_data_free(D);
    return st;
}

/* Mean and sd of the finite entries of v (n); *cnt their number. */
static void if_mean_sd_finite(const double *v, size_t n, double *mean, double *sd, size_t *cnt)
{
    double *tmp = malloc((n + 1) * sizeof *tmp);
    size_t m = 0;
    if (tmp != NULL)
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i]))
                tmp[m++] = v[i];
    *cnt = m;
    *mean = *sd = NAN;
    if (m > 0)
        hj_mean_sd(tmp, m, mean, sd);
    free(tmp);
}

/*
 * (b1) The Hopf–Cole (Gibbs) classifier with the training points as atoms
 * (g = 0, t = 1/2, eps_G), P(x) = sum_j pi_j(x) onehot(y_j). Closed-form LOO of
 * P and of the test cross-entropy L = -log P_y(x), the latter exactly from
 * the ablation formula: L = (u_y - u)/eps with u the Hopf–Cole value of all
 * atoms and u_y of the atoms of class y, so
 *     L_{-k} - L = ([y_k = y] (u_{y,-k} - u_y) - (u_{-k} - u))/eps,
 * each term eps log(1 - pi) from hj_influence_ablation_atoms. Both against
 * brute force (removing k, recomputing with hj_hopf_cole_eval). G (n_tr)
 * receives the mean over the test points of L_{-k} - L: the Gibbs proxy for
 * the trained model's influence.
 */
static hj_status if_gibbs(const hj_experiment_options *opt, hj_result *res, const if_data *D, double eps, double *G,
                          hj_error *err)
{
    const size_t n = D->n_tr, m = D->n_te, d = D->d;
    double *Y = malloc(n * d * sizeof *Y), *g0 = calloc(n, sizeof *g0), *V = malloc(n * 2 * sizeof *V);
    double *P = malloc(m * 2 * sizeof *P), *delta = malloc(m * n * 2 * sizeof *delta), *pi = malloc(m * n * sizeof *pi);
    double *du = malloc(m * n * sizeof *du), *dL = malloc(m * n * sizeof *dL), *pk = malloc(n * sizeof *pk);
    double *Yc = malloc(n * d * sizeof *Yc), *duc = malloc(m * n * sizeof *duc), *ent = malloc(m * sizeof *ent);
    double *rho1 = malloc(m * sizeof *rho1), *rho2 = malloc(m * sizeof *rho2), *a1 = malloc(n * sizeof *a1);
    double *a2 = malloc(n * sizeof *a2), *tab = malloc(m * 6 * sizeof *tab);
    size_t *pos = malloc(n * sizeof *pos);
    hj_status st = HJ_OK;
    if (!Y || !g0 || !V || !P || !delta || !pi || !du || !dL || !pk || !Yc || !duc || !ent || !rho1 || !rho2 || !a1 ||
        !a2 || !tab || !pos) {
        st = hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory (Gibbs classifier)");
        goto out;
    }
    memcpy(Y, D->xtr, n * d * sizeof *Y);
    for (size_t j = 0; j < n; j++) {
        V[2 * j] = D->ytr[j] == 0.0;
        V[2 * j + 1] = D->ytr[j] == 1.0;
    }
    hj_atoms at = {n, d, Y, g0};
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.pi = pi;
    o.entropy = ent;
    if ((st = hj_influence_loo_atoms(&at, NULL, D->xte, m, IF_T, eps, V, 2, P, delta, err)) != HJ_OK ||
        (st = hj_hopf_cole_eval(&at, NULL, D->xte, m, IF_T, eps, &o, err)) != HJ_OK ||
        (st = hj_influence_ablation_atoms(&at, NULL, D->xte, m, IF_T, eps, NULL, du, err)) != HJ_OK)
        goto out;
    /* per-class ablation: duc[i][k] for k in the test point's class */
    for (int c = 0; c < 2 && st == HJ_OK; c++) {
        size_t nc = 0;
        for (size_t j = 0; j < n; j++)
            if (D->ytr[j] == (double)c) {
                memcpy(Yc + nc * d, Y + j * d, d * sizeof *Yc);
                pos[j] = nc++;
            }
        hj_atoms ac = {nc, d, Yc, g0};
        double *tmp = malloc(m * nc * sizeof *tmp);
        if (tmp == NULL) {
            st = hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory");
            break;
        }
        st = hj_influence_ablation_atoms(&ac, NULL, D->xte, m, IF_T, eps, NULL, tmp, err);
        for (size_t i = 0; i < m && st == HJ_OK; i++) {
            if (D->yte[i] != (double)c)
                continue;
            for (size_t j = 0; j < n; j++)
                duc[i * n + j] = D->ytr[j] == (double)c ? tmp[i * nc + pos[j]] : 0.0;
        }
        free(tmp);
    }
    if (st != HJ_OK)
        goto out;
    for (size_t i = 0; i < m; i++)
        for (size_t k = 0; k < n; k++)
            dL[i * n + k] = (duc[i * n + k] - du[i * n + k]) / eps;

    /* brute force */
    double worst_p = 0.0, worst_l = 0.0, acc = 0.0;
    size_t skipped = 0;
    for (size_t i = 0; i < m && st == HJ_OK; i++) {
        const size_t yi = (size_t)D->yte[i];
        double Py = 0.0;
        for (size_t j = 0; j < n; j++)
            Py += pi[i * n + j] * V[2 * j + yi];
        acc += (P[2 * i + yi] > 0.5);
        const double L = -log(Py);
        for (size_t k = 0; k < n && st == HJ_OK; k++) {
            double Pk[2];
            if ((st = if_bf_loo_k(Y, g0, V, n, d, 2, D->xte + i * d, IF_T, eps, k, pk, Pk, err)) != HJ_OK)
                break;
            for (size_t c = 0; c < 2; c++)
                worst_p = fmax(worst_p, fabs(P[2 * i + c] + delta[(i * n + k) * 2 + c] - Pk[c]));
            if (Py > 1e-300 && Pk[yi] > 1e-300)
                worst_l = fmax(worst_l, fabs(dL[i * n + k] - (-log(Pk[yi]) - L)) / fmax(1.0, L));
            else
                skipped++;
        }
        /* Spearman over the training points at this test point */
        for (size_t k = 0; k < n; k++) {
            a1[k] = pi[i * n + k];
            a2[k] = fabs(delta[(i * n + k) * 2]) + fabs(delta[(i * n + k) * 2 + 1]);
        }
        if (hj_spearman(a1, a2, n, &rho1[i], NULL) != HJ_OK)
            rho1[i] = NAN;
        for (size_t k = 0; k < n; k++)
            a2[k] = fabs(dL[i * n + k]);
        if (hj_spearman(a1, a2, n, &rho2[i], NULL) != HJ_OK)
            rho2[i] = NAN;
        double row[6] = {(double)i, D->yte[i], P[2 * i + yi], ent[i], rho1[i], rho2[i]};
        memcpy(tab + 6 * i, row, sizeof row);
        hj_experiment_progress(opt, IF_NAME, "Gibbs classifier: brute-force leave-one-out", 0.45 + 0.1 * (double)(i + 1) / (double)m);
    }
    if (st != HJ_OK)
        goto out;
    if ((st = hj_result_check(res, "C12",
                              "Fashion-MNIST Gibbs classifier (atoms = training points): closed-form LOO of the class "
                              "probabilities = recomputation without each training point, all test x training pairs: max |diff|",
                              worst_p, IF_TOL, err)) != HJ_OK ||
        (st = hj_result_check(res, "C12",
                              "Fashion-MNIST Gibbs classifier: LOO change of the test cross-entropy from the ablation "
                              "formula ((u_{y,-k} - u_y) - (u_{-k} - u))/eps = recomputation: max |diff| / max(1, L)",
                              worst_l, IF_TOL, err)) != HJ_OK)
        goto out;
    for (size_t k = 0; k < n; k++) {
        double s = 0.0;
        for (size_t i = 0; i < m; i++)
            s += dL[i * n + k];
        G[k] = s / (double)m;
    }
    double r1m, r1s, r2m, r2s, hm, hs;
    size_t c1, c2, ch;
    if_mean_sd_finite(rho1, m, &r1m, &r1s, &c1);
    if_mean_sd_finite(rho2, m, &r2m, &r2s, &c2);
    if_mean_sd_finite(ent, m, &hm, &hs, &ch);
    hj_result_metric(res, "gibbs_test_accuracy", acc / (double)m, NULL);
    hj_result_metric(res, "gibbs_mean_entropy", hm, NULL);
    hj_result_metric(res, "gibbs_spearman_pi_vs_abs_loo_mean", r1m, NULL);
    hj_result_metric(res, "gibbs_spearman_pi_vs_abs_loo_sd", r1s, NULL);
    hj_result_metric(res, "gibbs_spearman_pi_vs_abs_loo_n_test", (double)c1, NULL);
    hj_result_metric(res, "gibbs_spearman_pi_vs_abs_loss_loo_mean", r2m, NULL);
    hj_result_metric(res, "gibbs_spearman_pi_vs_abs_loss_loo_sd", r2s, NULL);
    hj_result_metric(res, "gibbs_spearman_pi_vs_abs_loss_loo_n_test", (double)c2, NULL);
    hj_result_metric(res, "gibbs_spearman_n_train_per_test_point", (double)n, NULL);
    hj_result_metric(res, "gibbs_max_rel_diff_loo", worst_p, NULL);
    hj_result_metric(res, "gibbs_max_rel_diff_loss_loo", worst_l, NULL);
    {
        static const char *const names[] = {"test_point", "label", "P_true_class", "entropy",
                                            "spearman_pi_vs_abs_loo", "spearman_pi_vs_abs_loss_loo"};
        st = hj_result_write_csv(res, "influence_fmnist_gibbs.csv", names, tab, m, 6, err);
    }
    hj_result_note(res,
                   "(b1) Gibbs classifier on Fashion-MNIST (classes %d vs %d, %zu training atoms, %zu test points, PCA "
                   "to %zu, eps = %.4g, t = 1/2; test accuracy %.3f, mean entropy %.3f of log N = %.3f): closed-form "
                   "LOO = brute force to %.2g (probabilities) and %.2g (cross-entropy, via the ablation formula)%s. "
                   "Per test point, Spearman over the %zu training points between pi_k and |P_{-k} - P|_1: "
                   "%.3f +- %.3f (mean +- sd over %zu test points); between pi_k and |L_{-k} - L|, the size of the exact "
                   "LOO change of the test cross-entropy: %.3f +- %.3f (%zu test points). (Within a class the signed "
                   "change is monotone in pi_k by the formula.)",
                   IF_CLASS_A, IF_CLASS_B, n, m, d, eps, acc / (double)m, hm, log((double)n), worst_p, worst_l,
                   skipped ? " (pairs with P_y below 1e-300 skipped)" : "", n, r1m, r1s, c1, r2m, r2s, c2);
out:
    free(Y), free(g0), free(V), free(P), free(delta), free(pi), free(du), free(dL), free(pk), free(Yc), free(duc);
    free(ent), free(rho1), free(rho2), free(a1), free(a2), free(tab), free(pos);
    return st;
}

/* ---- (b2) the trained model: retraining, Koh–Liang, Gibbs proxy ------------------ */

typedef struct if_kl {
    hj_model *m;          /* parameters are overwritten during Hessian-vector products */
    hj_workspace *ws;
    const double *x, *y;  /* training data */
    size_t n, P;
    double *theta, *tmp, *gp, *gm;   /* (P) each */
} if_kl;

/* Training-loss gradient at params th into g. */
static hj_status if_grad_at(if_kl *K, const double *th, double *g, hj_error *err)
{
    double loss;
    return hj_model_loss_grad(K->m, th, K->ws, K->x, K->y, K->n, &loss, g, err);
}

static double if_dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* out = (H + lambda I) v, H v by central differences of the gradient. */
static hj_status if_hvp(if_kl *K, const double *v, double *out, hj_error *err)
{
    const size_t P = K->P;
    const double nv = sqrt(if_dot(v, v, P)), nt = sqrt(if_dot(K->theta, K->theta, P));
    if (nv == 0.0) {
        memset(out, 0, P * sizeof *out);
        return HJ_OK;
    }
    const double h = IF_FD_REL * (1.0 + nt) / nv;
    for (size_t i = 0; i < P; i++)
        K->tmp[i] = K->theta[i] + h * v[i];
    hj_status st = if_grad_at(K, K->tmp, K->gp, err);
    for (size_t i = 0; i < P && st == HJ_OK; i++)
        K->tmp[i] = K->theta[i] - h * v[i];
    if (st == HJ_OK)
        st = if_grad_at(K, K->tmp, K->gm, err);
    memcpy(K->m->params, K->theta, P * sizeof *K->theta);
    if (st != HJ_OK)
        return st;
    for (size_t i = 0; i < P; i++)
        out[i] = (K->gp[i] - K->gm[i]) / (2.0 * h) + IF_DAMP * v[i];
    return HJ_OK;
}

/* Conjugate gradients for (H + lambda I) s = b; *relres the true relative
 * residual |b - A s|/|b| recomputed at the end, *iters the iterations. */
static hj_status if_cg(if_kl *K, const double *b, double *s, double *relres, size_t *iters, int *breakdown,
                       hj_error *err)
{
    const size_t P = K->P, maxit = 20 * P;
    double *r = malloc(3 * P * sizeof *r);
    if (r == NULL)
        return hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory (CG)");
    double *p = r + P, *Ap = p + P;
    memset(s, 0, P * sizeof *s);
    memcpy(r, b, P * sizeof *r);
    memcpy(p, b, P * sizeof *p);
    const double bn = sqrt(if_dot(b, b, P));
    double rs = if_dot(r, r, P);
    size_t it = 0;
    hj_status st = HJ_OK;
    *breakdown = 0;
    while (it < maxit && sqrt(rs) > IF_CG_TOL * bn) {
        if ((st = if_hvp(K, p, Ap, err)) != HJ_OK)
            break;
        const double pAp = if_dot(p, Ap, P);
        if (!(pAp > 0.0)) {
            *breakdown = 1;
            break;
        }
        const double al = rs / pAp;
        for (size_t i = 0; i < P; i++) {
            s[i] += al * p[i];
            r[i] -= al * Ap[i];
        }
        const double rs2 = if_dot(r, r, P);
        for (size_t i = 0; i < P; i++)
            p[i] = r[i] + (rs2 / rs) * p[i];
        rs = rs2;
        it++;
    }
    if (st == HJ_OK && (st = if_hvp(K, s, Ap, err)) == HJ_OK) {
        double e = 0.0;
        for (size_t i = 0; i < P; i++)
            e += (b[i] - Ap[i]) * (b[i] - Ap[i]);
        *relres = sqrt(e) / bn;
    }
    *iters = it;
    free(r);
    return st;
}

static hj_status if_train(hj_model *m, const double *x, const double *y, size_t n, size_t iters, uint64_t seed,
                          hj_workspace *ws, double *loss0, double *loss1, hj_error *err)
{
    hj_status st = hj_model_loss_grad(m, m->params, ws, x, y, n, loss0, NULL, err);
    if (st != HJ_OK)
        return st;
    hj_train_options to;
    hj_train_options_default(&to);
    to.optimizer = HJ_OPT_ADAM;
    to.lr = IF_LR;
    to.iters = iters;
    to.batch = 0;
    to.seed = seed;
    hj_train_result tr;
    memset(&tr, 0, sizeof tr);
    st = hj_model_train(m, x, y, n, &to, &tr, err);
    free(tr.loss_trace);
    if (st != HJ_OK)
        return st;
    return hj_model_loss_grad(m, m->params, ws, x, y, n, loss1, NULL, err);
}

/* Adam steps of every model fit: --iters, else 300 (quick) or 1500. */
static size_t if_model_steps(const hj_experiment_options *opt)
{
    return opt->iters ? opt->iters : (opt->quick ? 300 : 1500);
}

/* What one trained model's comparison produced (for the notes and figures). */
typedef struct if_model_run {
    const char *arch;       /* architecture string */
    const char *tag;        /* metric suffix and CSV name part */
    size_t iters;           /* Adam steps of every fit of this run */
    double rho_rk, rho_rg, rho_kg, slope, worst_ratio, relres;
    size_t n_rm;
} if_model_run;

/*
 * (b2) A trained lse-class model on the same data: Adam, full batch, a
 * fixed number of steps from one seeded init; for n_rm random training
 * points k, retraining without k from the same init; the change of the mean
 * test cross-entropy compared with Koh & Liang's prediction and with the
 * Gibbs proxy G (n_tr). Writes influence_fmnist_removed_TAG.csv (columns in
 * `names` below) and metrics with suffix TAG; run receives the summary.
 */
static hj_status if_trained(const hj_experiment_options *opt, hj_result *res, const if_data *D, const double *G,
                            if_model_run *run, hj_error *err)
{
    const size_t n = D->n_tr, m = D->n_te, d = D->d;
    const size_t iters = run->iters;
    const size_t n_rm = opt->quick ? 15 : 100;
    hj_arch arch;
    hj_model m0, mb, mk, mh;
    memset(&m0, 0, sizeof m0), memset(&mb, 0, sizeof mb), memset(&mk, 0, sizeof mk), memset(&mh, 0, sizeof mh);
    hj_workspace *ws = NULL;
    double *xr = malloc((n - 1) * d * sizeof *xr), *yr = malloc((n - 1) * sizeof *yr);
    double *tab = malloc(n_rm * 7 * sizeof *tab), *klall = malloc(n * sizeof *klall);
    double *R = malloc(n_rm * sizeof *R), *KL = malloc(n_rm * sizeof *KL), *GS = malloc(n_rm * sizeof *GS);
    double *bvec = NULL, *svec = NULL, *gk = NULL, *kmem = NULL;
    size_t *perm = malloc(n * sizeof *perm);
    char key[96], file[128];
    hj_status st = HJ_OK;
    run->n_rm = n_rm;
    if (!xr || !yr || !tab || !klall || !R || !KL || !GS || !perm) {
        st = hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory (retraining)");
        goto out;
    }
    if ((st = hj_arch_parse(run->arch, d, 2, 0, &arch, err)) != HJ_OK ||
        (st = hj_model_init(&m0, &arch, IF_MODEL_EPS, IF_T, opt->seed * 31ULL + 5ULL, err)) != HJ_OK ||
        (st = hj_model_copy(&mb, &m0, err)) != HJ_OK ||
        (st = hj_workspace_alloc(&ws, &m0, n > m ? n : m, err)) != HJ_OK)
        goto out;
    const size_t P = arch.n_params;
    double l0, l1, worst_ratio, Lte;
    if ((st = if_train(&mb, D->xtr, D->ytr, n, iters, opt->seed, ws, &l0, &l1, err)) != HJ_OK ||
        (st = hj_model_loss_grad(&mb, mb.params, ws, D->xte, D->yte, m, &Lte, NULL, err)) != HJ_OK)
        goto out;
    worst_ratio = l1 / l0;
    const double base_l0 = l0, base_l1 = l1;

    /* removed points: a seeded random subset */
    hj_rng rng;
    hj_rng_seed(&rng, opt->seed * 977ULL + 3ULL);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = 0; i < n_rm; i++) {
        size_t j = i + (size_t)(hj_rng_uniform(&rng) * (double)(n - i));
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (size_t r = 0; r < n_rm && st == HJ_OK; r++) {
        const size_t k = perm[r];
        size_t c = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == k)
                continue;
            memcpy(xr + c * d, D->xtr + j * d, d * sizeof *xr);
            yr[c++] = D->ytr[j];
        }
        hj_model_free(&mk);
        double Lk;
        if ((st = hj_model_copy(&mk, &m0, err)) != HJ_OK ||
            (st = if_train(&mk, xr, yr, n - 1, iters, opt->seed, ws, &l0, &l1, err)) != HJ_OK ||
            (st = hj_model_loss_grad(&mk, mk.params, ws, D->xte, D->yte, m, &Lk, NULL, err)) != HJ_OK)
            break;
        worst_ratio = fmax(worst_ratio, l1 / l0);
        R[r] = Lk - Lte;
        tab[7 * r] = (double)k;
        tab[7 * r + 1] = D->ytr[k];
        tab[7 * r + 2] = l0;
        tab[7 * r + 3] = l1;
        tab[7 * r + 4] = R[r];
    }
    if (st != HJ_OK)
        goto out;
    run->worst_ratio = worst_ratio;

    /* Koh–Liang: s = (H + lambda I)^{-1} grad L_test; predicted change on removing k: s . grad l_k / n */
    bvec = malloc(P * sizeof *bvec);
    svec = malloc(P * sizeof *svec);
    gk = malloc(P * sizeof *gk);
    kmem = malloc(4 * P * sizeof *kmem);
    if (!bvec || !svec || !gk || !kmem) {
        st = hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory (Koh-Liang)");
        goto out;
    }
    if ((st = hj_model_copy(&mh, &mb, err)) != HJ_OK)
        goto out;
    if_kl K = {&mh, ws, D->xtr, D->ytr, n, P, kmem, kmem + P, kmem + 2 * P, kmem + 3 * P};
    memcpy(K.theta, mb.params, P * sizeof *K.theta);
    double Lt, relres = NAN;
    size_t cg_it = 0;
    int brk = 0;
    if ((st = hj_model_loss_grad(&mb, mb.params, ws, D->xte, D->yte, m, &Lt, bvec, err)) != HJ_OK ||
        (st = if_cg(&K, bvec, svec, &relres, &cg_it, &brk, err)) != HJ_OK)
        goto out;
    run->relres = relres;
    for (size_t k = 0; k < n && st == HJ_OK; k++) {
        double lk;
        st = hj_model_loss_grad(&mb, mb.params, ws, D->xtr + k * d, D->ytr + k, 1, &lk, gk, err);
        klall[k] = if_dot(svec, gk, P) / (double)n;
    }
    if (st != HJ_OK)
        goto out;
    for (size_t r = 0; r < n_rm; r++) {
        KL[r] = klall[perm[r]];
        GS[r] = G[perm[r]];
        tab[7 * r + 5] = KL[r];
        tab[7 * r + 6] = GS[r];
    }
    run->rho_rk = run->rho_rg = run->rho_kg = NAN;
    hj_spearman(R, KL, n_rm, &run->rho_rk, NULL);
    hj_spearman(R, GS, n_rm, &run->rho_rg, NULL);
    hj_spearman(klall, G, n, &run->rho_kg, NULL);
    /* least-squares slope (through 0) of the retrained change on the Koh–Liang prediction: 1 if equal in scale */
    double sxy = 0.0, sxx = 0.0;
    for (size_t r = 0; r < n_rm; r++) {
        sxy += KL[r] * R[r];
        sxx += KL[r] * KL[r];
    }
    run->slope = sxx > 0.0 ? sxy / sxx : NAN;
    double rmax = 0.0, rmean = 0.0, kmean = 0.0;
    for (size_t r = 0; r < n_rm; r++) {
        rmax = fmax(rmax, fabs(R[r]));
        rmean += fabs(R[r]) / (double)n_rm;
        kmean += fabs(KL[r]) / (double)n_rm;
    }
    const struct {
        const char *k;
        double v;
    } mets[] = {{"model_train_loss_initial", base_l0},
                {"model_train_loss_final", base_l1},
                {"model_test_loss", Lte},
                {"model_cg_iterations", (double)cg_it},
                {"model_cg_relative_residual", relres},
                {"model_cg_breakdown", (double)brk},
                {"spearman_retrain_vs_koh_liang", run->rho_rk},
                {"spearman_retrain_vs_gibbs_proxy", run->rho_rg},
                {"spearman_retrain_n_removed", (double)n_rm},
                {"spearman_koh_liang_vs_gibbs_proxy", run->rho_kg},
                {"spearman_koh_liang_vs_gibbs_proxy_n", (double)n},
                {"retrain_on_koh_liang_slope", run->slope},
                {"retrain_abs_change_mean", rmean},
                {"retrain_abs_change_max", rmax},
                {"koh_liang_abs_change_mean", kmean}};
    for (size_t i = 0; i < sizeof mets / sizeof mets[0]; i++) {
        snprintf(key, sizeof key, "%s_%s", mets[i].k, run->tag);
        hj_result_metric(res, key, mets[i].v, NULL);
    }
    {
        static const char *const names[] = {"train_index", "label", "train_loss_initial", "train_loss_final",
                                            "retrained_delta_test_loss", "koh_liang_delta", "gibbs_proxy_delta"};
        snprintf(file, sizeof file, "influence_fmnist_removed_%s.csv", run->tag);
        if ((st = hj_result_write_csv(res, file, names, tab, n_rm, 7, err)) != HJ_OK)
            goto out;
    }
    hj_result_note(res,
                   "(b2) %s (eps = %g), %zu points, %zu Adam steps (lr %g): train loss %.4f -> %.4f, test %.4f; CG "
                   "%zu its, residual %.2g%s. Spearman: retrain vs Koh-Liang %.3f (n = %zu), retrain vs Gibbs proxy "
                   "%.3f (n = %zu), Koh-Liang vs Gibbs proxy %.3f (n = %zu); retrain/Koh-Liang slope %.3g; mean |change| "
                   "%.2g retrained (max %.2g) vs %.2g predicted.",
                   run->arch, IF_MODEL_EPS, n, iters, IF_LR, base_l0, base_l1, Lte, cg_it, relres,
                   brk ? " (CG met non-positive curvature)" : "", run->rho_rk, n_rm, run->rho_rg, n_rm, run->rho_kg,
                   n, run->slope, rmean, rmax, kmean);
out:
    hj_workspace_free(ws);
    hj_model_free(&m0), hj_model_free(&mb), hj_model_free(&mk), hj_model_free(&mh);
    free(xr), free(yr), free(tab), free(klall), free(R), free(KL), free(GS), free(perm);
    free(bvec), free(svec), free(gk), free(kmem);
    return st;
}

/* Rank-correlation claims (hjdl's, source HJDL) of one trained model: the
 * retrained leave-one-out change of its mean test cross-entropy against
 * (i) Koh-Liang's influence of the same trained model and (ii) the exact
 * closed-form leave-one-out of the Gibbs predictor on the training points
 * (a different model: atoms = training points). Spearman over the removed
 * points; parts "Fisher z" (the larger side of the 95 % Fisher interval)
 * and the training budget (|rho at 2 steps - rho at steps|, run b2 = run b
 * at twice the steps). */
static hj_status if_rank_claims(hj_result *res, const if_model_run *b, const if_model_run *b2, hj_error *err)
{
    /* Fixed before any run: the threshold 0.5 is hjdl's (the paper states no
     * number); the tolerance 0.1 is about the 95 % Fisher half-width at 100
     * removals (1.96/sqrt(97) = 0.2 in z, ~0.1-0.15 in rho near 0.5): a
     * smaller difference cannot matter at this sample size. */
    static const double P = 0.5, TOL = 0.1;
    for (int c = 0; c < 2; c++) {
        const double rho = c == 0 ? b->rho_rk : b->rho_rg, rho2 = c == 0 ? b2->rho_rk : b2->rho_rg;
        double lo, hi;
        hj__exp_fisher_interval(rho, b->n_rm, &lo, &hi);
        hj_claim_measurement m = {0};
        m.value = rho;
        hj_status st = hj_claim_part(&m, "Fisher z (removals)", fmax(hi - rho, rho - lo), err);
        if (st == HJ_OK)
            st = hj_claim_part(&m, HJ_CLAIM_PART_BUDGET, fabs(rho2 - rho), err);
        if (st != HJ_OK)
            return st;
        char stmt[384];
        snprintf(stmt, sizeof stmt,
                 "Trained %s (Fashion-MNIST PCA-10, %zu Adam steps; every leave-one-out fit retrained from the same init, not warm-started): "
                 "Spearman over %zu removed training points between the retrained change of its mean test "
                 "cross-entropy and %s is at least 0.5",
                 b->arch, b->iters, b->n_rm,
                 c == 0 ? "the Koh-Liang influence of the same trained model"
                        : "the exact closed-form leave-one-out of the Gibbs predictor on the training points "
                          "(a different model)");
        hj_claim_spec sp = {.claim = "C12",
                            .source = HJ_SOURCE_HJDL,
                            .statement = stmt,
                            .paper_words = NULL,
                            .form = HJ_FORM_AT_LEAST,
                            .predicted = P,
                            .tolerance = TOL,
                            .tolerance_reason = "hjdl's threshold 0.5 (the paper states no number); 0.1 is about "
                                                "the Fisher 95 % half-width at 100 removals, a smaller difference "
                                                "cannot matter",
                            .trained = 1};
        if ((st = hj_result_claim_add(res, &sp, &m, err)) != HJ_OK)
            return st;
    }
    return HJ_OK;
}

static hj_status if_part_b(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    const size_t n_tr = opt->quick ? 100 : 300, n_te = opt->quick ? 40 : 100, d = IF_PCA;
    hj_experiment_progress(opt, IF_NAME, "loading Fashion-MNIST", 0.46);
    if_data D;
    hj_error le;
    hj_error_clear(&le);
    if (if_data_load(n_tr, n_te, d, &D, &le) != HJ_OK) {
        if (le.code == HJ_ENOMEM || le.code == HJ_EINVAL)
            return hj_error_set(err, le.code, "%s", le.msg);
        hj_result_metric(res, "fmnist_available", 0.0, NULL);
        hj_result_note(res, "(b) skipped: Fashion-MNIST could not be loaded (%s).", le.msg);
        return HJ_OK;
    }
    hj_result_metric(res, "fmnist_available", 1.0, NULL);
    const double eps = isnan(opt->eps) ? hj_critical_eps(n_tr, d) : opt->eps;
    const size_t iters = if_model_steps(opt);
    hj_result_param_num(res, "b_n_train", (double)n_tr, NULL);
    hj_result_param_num(res, "b_n_test", (double)n_te, NULL);
    hj_result_param_num(res, "b_pca_dims", (double)d, NULL);
    hj_result_param_num(res, "b_class_a", IF_CLASS_A, NULL);
    hj_result_param_num(res, "b_class_b", IF_CLASS_B, NULL);
    hj_result_param_num(res, "b_gibbs_eps", eps, NULL);
    hj_result_param_text(res, "b_models", "lse-class:4, lse-class:1", NULL);
    hj_result_param_num(res, "b_model_eps", IF_MODEL_EPS, NULL);
    hj_result_param_num(res, "b_model_lr", IF_LR, NULL);
    hj_result_param_num(res, "b_model_steps", (double)iters, NULL);
    hj_result_param_num(res, "b_koh_liang_damping", IF_DAMP, NULL);
    /* runs[0..1] at the budget `iters`, runs[2..3] the same at 2 iters (the budget part of the claims) */
    if_model_run runs[4] = {{.arch = "lse-class:4", .tag = "lse_class4", .iters = iters},
                            {.arch = "lse-class:1", .tag = "lse_class1", .iters = iters},
                            {.arch = "lse-class:4", .tag = "lse_class4_budget2x", .iters = 2 * iters},
                            {.arch = "lse-class:1", .tag = "lse_class1_budget2x", .iters = 2 * iters}};
    double *G = malloc(n_tr * sizeof *G);
    hj_status st = G ? HJ_OK : hj_error_set(err, HJ_ENOMEM, IF_NAME ": out of memory");
    if (st == HJ_OK && !(eps > 0.0))
        st = hj_error_set(err, HJ_EINVAL, IF_NAME ": the Gibbs classifier needs eps > 0 (got %g)", eps);
    if (st == HJ_OK)
        st = if_gibbs(opt, res, &D, eps, G, err);
    for (int r = 0; r < 4 && st == HJ_OK; r++) {
        char stage[96];
        snprintf(stage, sizeof stage, "retraining %s, %zu steps", runs[r].arch, runs[r].iters);
        hj_experiment_progress(opt, IF_NAME, stage, 0.55 + 0.1 * r);
        st = if_trained(opt, res, &D, G, &runs[r], err);
    }
    for (int r = 0; r < 2 && st == HJ_OK; r++)
        st = if_rank_claims(res, &runs[r], &runs[r + 2], err);
    if (st != HJ_OK)
        goto out;
    {
        char name[256];
        snprintf(name, sizeof name,
                 "every training run (the full fit and each leave-one-out retraining from the same init, %s and %s) "
                 "lowered its training loss: max final/initial loss < 1", runs[0].arch, runs[1].arch);
        if ((st = hj_result_check(res, "C12", name, fmax(runs[0].worst_ratio, runs[1].worst_ratio), 1.0, err)) != HJ_OK)
            goto out;
        snprintf(name, sizeof name,
                 "Koh-Liang: conjugate gradients on (H + %g I) s = grad L_test (H by finite-difference Hessian-vector "
                 "products of the training-loss gradient), %s and %s: true relative residual", IF_DAMP, runs[0].arch,
                 runs[1].arch);
        if ((st = hj_result_check(res, "C12", name, fmax(runs[0].relres, runs[1].relres), IF_CG_CHECK, err)) != HJ_OK)
            goto out;
    }
    {
        hj_plot pl;
        memset(&pl, 0, sizeof pl);
        char t0[96], t1[96];
        snprintf(t0, sizeof t0, "%s (Spearman %.2f, n = %zu)", runs[0].arch, runs[0].rho_rk, runs[0].n_rm);
        snprintf(t1, sizeof t1, "%s (Spearman %.2f, n = %zu)", runs[1].arch, runs[1].rho_rk, runs[1].n_rm);
        pl.name = "influence_retrain_vs_koh_liang";
        pl.title = "C12: removing one training point (Fashion-MNIST, T-shirt vs shirt)";
        pl.xlabel = "Koh-Liang prediction of the change of the mean test loss";
        pl.ylabel = "change measured by retraining";
        pl.series[pl.n_series++] = (hj_plot_series){"influence_fmnist_removed_lse_class4.csv", 6, 5, 0, t0, "points", NULL};
        pl.series[pl.n_series++] = (hj_plot_series){"influence_fmnist_removed_lse_class1.csv", 6, 5, 0, t1, "points", NULL};
        pl.functions[0] = "x";
        pl.function_titles[0] = "y = x";
        pl.n_functions = 1;
        hj__exp_figure(res, &pl,
                       "Leave-one-out retraining (same init, same number of full-batch Adam steps) vs the Koh-Liang "
                       "influence (1/n) grad L_test^T (H + 0.01 I)^{-1} grad l_k, one point per removed training point.", NULL);
        char g0[96], g1[96];
        snprintf(g0, sizeof g0, "%s (Spearman %.2f, n = %zu)", runs[0].arch, runs[0].rho_rg, runs[0].n_rm);
        snprintf(g1, sizeof g1, "%s (Spearman %.2f, n = %zu)", runs[1].arch, runs[1].rho_rg, runs[1].n_rm);
        memset(&pl, 0, sizeof pl);
        pl.name = "influence_retrain_vs_gibbs";
        pl.title = "C12: retraining vs the Gibbs (pi-attribution) proxy";
        pl.xlabel = "exact LOO change of the Gibbs classifier's mean test cross-entropy";
        pl.ylabel = "trained model: change measured by retraining";
        pl.series[pl.n_series++] = (hj_plot_series){"influence_fmnist_removed_lse_class4.csv", 7, 5, 0, g0, "points", NULL};
        pl.series[pl.n_series++] = (hj_plot_series){"influence_fmnist_removed_lse_class1.csv", 7, 5, 0, g1, "points", NULL};
        hj__exp_figure(res, &pl,
                       "The same removed points: the Gibbs proxy is the closed-form leave-one-out change of the test "
                       "cross-entropy of the Hopf-Cole classifier whose atoms are the training points.", NULL);
    }
    hj_result_note(res,
                   "(b2) compares, per removed training point k, the change of the mean test cross-entropy after "
                   "retraining without k with Koh-Liang's (1/n) grad L_test^T (H + %g I)^{-1} grad l_k and with the "
                   "Gibbs proxy (mean exact LOO change of the Gibbs classifier's test cross-entropy; a model's own pi "
                   "is over neurons, not training points). lse-class:1 is a linear softmax (convex): Koh-Liang should "
                   "track retraining there, a test of the Hessian-inverse machinery; lse-class:4 is non-convex, and "
                   "where its retrained changes are far larger than any first-order prediction the fixed-budget fit "
                   "has moved to another solution, which no influence function describes. The claims (hjdl's, the "
                   "paper states no value) ask for Spearman >= 0.5 with a Fisher-z interval and the shift of rho "
                   "when every fit's Adam budget doubles.",
                   IF_DAMP);
out:
    free(G);
    if_data_free(&D);
    return st;
}

hj_status hj__exp_influence(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    hj_result_param_num(res, "quick", opt->quick, NULL);
    hj_result_param_num(res, "seed", (double)opt->seed, NULL);
    hj_result_param_num(res, "check_tolerance", IF_TOL, NULL);
    hj_status st = if_part_a(opt, res, err);
    if (st == HJ_OK)
        st = if_part_b(opt, res, err);
    if (st == HJ_OK)
        hj_experiment_progress(opt, IF_NAME, "done", 1.0);
    return st;
}
