/* exp_influence.c — C12, the `influence` experiment: closed-form O(N) leave-one-out and neuron ablation vs brute
 * force and their cost (part (a), here); the trained models on Fashion-MNIST (part (b)) are in
 * exp_influence_trained.c. */
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
 * Part (b), Fashion-MNIST: exp_influence_trained.c.
 */

#define IF_NAME "influence"
#define IF_T 0.5
#define IF_NV 2
#define IF_D 3
#define IF_TOL 1e-12
#define IF_MARGIN 1.0
#define IF_NCASE 7

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
        hj_status st = hj__exp_brute_loo(p->y, p->g, p->v, N, p->d, nv, p->x, p->t, p->eps, k, p->pi, Pk, err);
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

hj_status hj__exp_influence(const hj_experiment_options *opt, hj_result *res, hj_error *err)
{
    hj_result_param_num(res, "quick", opt->quick, NULL);
    hj_result_param_num(res, "seed", (double)opt->seed, NULL);
    hj_result_param_num(res, "check_tolerance", IF_TOL, NULL);
    hj_status st = if_part_a(opt, res, err);
    if (st == HJ_OK)
        st = hj__exp_influence_trained(opt, res, err);
    if (st == HJ_OK)
        hj_experiment_progress(opt, IF_NAME, "done", 1.0);
    return st;
}
