/* exp_common.c — small helpers shared by the experiment files (see exp-common.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/exp-common.h"

double *hj__exp_dnew(const char *exp, size_t n, hj_error *err)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    if (p == NULL)
        hj_error_set(err, HJ_ENOMEM, "%s: cannot allocate %zu doubles", exp, n);
    return p;
}

hj_status hj__exp_figure(hj_result *res, const hj_plot *p, const char *caption, hj_error *err)
{
    hj_error e = {0};
    if (hj_plot_render(res->dir, p, &e) != HJ_OK) {
        hj_result_note(res, "Figure %s was not rendered (%s); its CSV and .gp script are kept.", p->name,
                       e.msg);
        return HJ_OK;
    }
    return hj_result_figure(res, p->name, caption, err);
}

void hj__exp_fit_lines(hj_plot *p, const double *x, const double *y, size_t n, double slope, double se,
                       double icpt, double pred, const char *label, hj__exp_fit_text *t)
{
    if (!isfinite(slope))
        return;
    snprintf(t->fit, sizeof t->fit, "exp(%.10g)*x**(%.10g)", icpt, slope);
    snprintf(t->fit_title, sizeof t->fit_title, "%s: slope %.3f +/- %.3f", label, slope, se);
    double mlx = 0.0, mly = 0.0;
    for (size_t i = 0; i < n; i++)
        mlx += log(x[i]) / (double)n, mly += log(y[i]) / (double)n;
    snprintf(t->pred, sizeof t->pred, "exp(%.10g)*x**(%g)", mly - pred * mlx, pred);
    snprintf(t->pred_title, sizeof t->pred_title, "predicted slope %g", pred);
    p->functions[0] = t->fit, p->function_titles[0] = t->fit_title;
    p->functions[1] = t->pred, p->function_titles[1] = t->pred_title;
    p->n_functions = 2;
}

hj_status hj__exp_slope_measurement(hj_result *res, const double *x, const double *y, size_t n,
                                    hj_claim_measurement *m, double *icpt, hj_error *err)
{
    hj_error fe = {0};
    double slope = NAN, se = NAN, a = NAN;
    m->n_parts = 0;
    if (hj_fit_power_law(x, y, n, &slope, &a, &se, &fe) != HJ_OK)
        hj_result_note(res, "Power-law fit failed: %s.", fe.msg);
    m->value = slope;
    if (icpt)
        *icpt = a;
    hj_status st = hj_claim_part(m, "fit", hj_claim_half_width_se(se, n > 2 ? n - 2 : 1), err);
    if (st != HJ_OK)
        return st;
    double range = 0.0;
    const size_t h = (n + 1) / 2;
    if (n >= 6 && isfinite(slope)) {
        double lo = NAN, hi = NAN;
        if (hj_fit_power_law(x, y, h, &lo, NULL, NULL, &fe) != HJ_OK ||
            hj_fit_power_law(x + (n - h), y + (n - h), h, &hi, NULL, NULL, &fe) != HJ_OK)
            range = NAN;
        else
            range = fmax(fabs(lo - slope), fabs(hi - slope));
    }
    return hj_claim_part(m, "fit range", range, err);
}

static int cmp_double(const void *a, const void *b);

/* OLS slope of the points of (u, v) whose u lies in [lo, hi], gathered into su, sv. */
static hj_status slope_within(const double *u, const double *v, size_t n, double lo, double hi, double *su,
                              double *sv, double *b, hj_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (u[i] >= lo && u[i] <= hi)
            su[k] = u[i], sv[k] = v[i], k++;
    return hj_fit_line(su, sv, k, b, NULL, NULL, err);
}

hj_status hj__exp_sweep_slope(hj_result *res, const double *x, const double *y, size_t n, int loglog,
                              hj_claim_measurement *m, double *icpt, hj_error *err)
{
    m->n_parts = 0;
    m->value = NAN;
    if (icpt)
        *icpt = NAN;
    double *u = hj__exp_dnew("slope", 5 * n, err);
    if (u == NULL)
        return HJ_ENOMEM;
    double *v = u + n, *w = u + 2 * n, *su = u + 3 * n, *sv = u + 4 * n;
    for (size_t i = 0; i < n; i++) {
        u[i] = loglog ? log(x[i]) : x[i];
        v[i] = loglog ? log(y[i]) : y[i];
    }
    hj_error fe = {0};
    double b = NAN, a = NAN, se = NAN, range = 0.0;
    if (hj_fit_line(u, v, n, &b, &a, &se, &fe) != HJ_OK || !isfinite(b)) {
        hj_result_note(res, "Slope fit failed: %s.", fe.msg[0] ? fe.msg : "a value is not finite");
        b = se = NAN;
    }
    memcpy(w, u, n * sizeof *w);
    qsort(w, n, sizeof *w, cmp_double);
    size_t nx = 0;
    for (size_t i = 0; i < n; i++)
        if (nx == 0 || w[i] != w[nx - 1])
            w[nx++] = w[i];
    if (nx >= 3 && isfinite(b)) {
        const size_t h = (nx + 1) / 2;
        double bl = NAN, bu = NAN;
        if (slope_within(u, v, n, w[0], w[h - 1], su, sv, &bl, &fe) != HJ_OK ||
            slope_within(u, v, n, w[nx - h], w[nx - 1], su, sv, &bu, &fe) != HJ_OK)
            range = NAN;
        else
            range = fmax(fabs(bl - b), fabs(bu - b));
    }
    free(u);
    m->value = b;
    if (icpt)
        *icpt = a;
    hj_status st = hj_claim_part(m, "fit", hj_claim_half_width_se(se, n > 2 ? n - 2 : 1), err);
    return st != HJ_OK ? st : hj_claim_part(m, "fit range", range, err);
}

/* Slope of (u, v) over k >= 2 points: the difference quotient for two, OLS beyond. */
static hj_status slope_of(const double *u, const double *v, size_t k, double *b, hj_error *err)
{
    if (k == 2) {
        *b = (v[1] - v[0]) / (u[1] - u[0]);
        return HJ_OK;
    }
    return hj_fit_line(u, v, k, b, NULL, NULL, err);
}

hj_status hj__exp_paired_slope(hj_result *res, const double *x, const double *y, size_t nx, size_t S,
                               int loglog, hj_claim_measurement *m, hj_error *err)
{
    m->n_parts = 0;
    m->value = NAN;
    double *u = hj__exp_dnew("slope", 3 * nx + 3 * S + 3, err);
    if (u == NULL)
        return HJ_ENOMEM;
    double *v = u + nx, *w = u + 2 * nx, *bs = u + 3 * nx, *bl = bs + S + 1, *bu = bl + S + 1;
    /* u: x in increasing order, ord: their indices (nx is a handful: insertion sort) */
    size_t ord[64];
    hj_status st = HJ_OK;
    if (nx < 3 || nx > 64 || S == 0) {
        hj_result_note(res, "Paired slope: %zu x values and %zu seeds cannot be fitted.", nx, S);
        goto parts;
    }
    for (size_t e = 0; e < nx; e++) {
        size_t k = e;
        while (k > 0 && x[ord[k - 1]] > x[e])
            ord[k] = ord[k - 1], k--;
        ord[k] = e;
    }
    for (size_t e = 0; e < nx; e++)
        u[e] = loglog ? log(x[ord[e]]) : x[ord[e]];
    const size_t h = (nx + 1) / 2;
    hj_error fe = {0};
    for (size_t s = 0; s < S; s++) {
        for (size_t e = 0; e < nx; e++)
            v[e] = loglog ? log(y[ord[e] * S + s]) : y[ord[e] * S + s];
        if (hj_fit_line(u, v, nx, &bs[s], NULL, NULL, &fe) != HJ_OK || slope_of(u, v, h, &bl[s], &fe) != HJ_OK ||
            slope_of(u + nx - h, v + nx - h, h, &bu[s], &fe) != HJ_OK) {
            hj_result_note(res, "Paired slope fit failed for seed %zu: %s.", s + 1, fe.msg);
            goto parts;
        }
    }
    double sd = NAN, ml = NAN, mu = NAN;
    hj_mean_sd(bs, S, &m->value, &sd);
    hj_mean_sd(bl, S, &ml, NULL);
    hj_mean_sd(bu, S, &mu, NULL);
    if (!isfinite(m->value))
        m->value = NAN;
    w[0] = S > 1 ? hj_claim_half_width_se(sd / sqrt((double)S), S - 1) : NAN;
    w[1] = fmax(fabs(ml - m->value), fabs(mu - m->value));
    st = hj_claim_part(m, "seeds", w[0], err);
    if (st == HJ_OK)
        st = hj_claim_part(m, "fit range", w[1], err);
    free(u);
    return st;
parts:
    free(u);
    st = hj_claim_part(m, "seeds", NAN, err);
    return st != HJ_OK ? st : hj_claim_part(m, "fit range", NAN, err);
}

hj_status hj__exp_local_slopes(hj_result *res, const char *name, const char *title, const char *xlabel,
                               const double *x, const double *y, size_t nx, size_t k,
                               const char *const *titles, int loglog, double pred, const char *caption,
                               hj_error *err)
{
    if (nx < 2 || k == 0 || k > 4)
        return hj_error_set(err, HJ_EINVAL, "local slopes: %zu x values, %zu quantities", nx, k);
    double tab[64 * 5];
    if (nx - 1 > 64)
        return hj_error_set(err, HJ_EINVAL, "local slopes: at most 65 x values (got %zu)", nx);
    const char *names[5] = {"x_mid", NULL, NULL, NULL, NULL};
    for (size_t i = 0; i + 1 < nx; i++) {
        double *row = tab + i * (k + 1);
        const double u0 = loglog ? log(x[i]) : x[i], u1 = loglog ? log(x[i + 1]) : x[i + 1];
        row[0] = loglog ? exp(0.5 * (u0 + u1)) : 0.5 * (u0 + u1);
        for (size_t q = 0; q < k; q++) {
            const double a = y[q * nx + i], b = y[q * nx + i + 1];
            row[1 + q] = ((loglog ? log(b) : b) - (loglog ? log(a) : a)) / (u1 - u0);
        }
    }
    char csv[96];
    snprintf(csv, sizeof csv, "%s.csv", name);
    hj_plot p = {0};
    p.name = name;
    p.title = title;
    p.xlabel = xlabel;
    p.ylabel = loglog ? "local slope Δlog y / Δlog x" : "local slope Δy / Δx";
    p.logx = loglog;
    for (size_t q = 0; q < k; q++) {
        names[1 + q] = titles[q];
        p.series[p.n_series++] = (hj_plot_series){NULL, 1, 2 + (int)q, 0, titles[q], "linespoints", NULL};
    }
    hj_status st = hj_result_write_csv(res, csv, names, tab, nx - 1, k + 1, err);
    if (st != HJ_OK)
        return st;
    for (size_t q = 0; q < k; q++)
        p.series[q].csv = csv;
    char fpred[48], tpred[48];
    if (isfinite(pred)) {
        snprintf(fpred, sizeof fpred, "%.17g", pred);
        snprintf(tpred, sizeof tpred, "predicted slope %g", pred);
        p.functions[0] = fpred, p.function_titles[0] = tpred, p.n_functions = 1;
    }
    return hj__exp_figure(res, &p, caption, err);
}

hj_status hj__exp_interleave_part(const double *x, const double *y, size_t n, hj_claim_measurement *m,
                                  hj_error *err)
{
    double part = NAN;
    if (n >= 6 && isfinite(m->value)) {
        double *buf = hj__exp_dnew("interleaved sub-grids", 2 * n, err);
        if (buf == NULL)
            return HJ_ENOMEM;
        part = 0.0;
        for (size_t par = 0; par < 2 && isfinite(part); par++) {
            size_t k = 0;
            for (size_t i = par; i < n; i += 2, k++)
                buf[k] = x[i], buf[n + k] = y[i];
            double b = NAN;
            hj_error fe = {0};
            if (hj_fit_power_law(buf, buf + n, k, &b, NULL, NULL, &fe) != HJ_OK)
                part = NAN;
            else
                part = fmax(part, fabs(b - m->value));
        }
        free(buf);
    }
    return hj_claim_part(m, "grid oscillation", part, err);
}

void hj__exp_local_log_slopes(const double *x, const double *y, size_t n, double *xm, double *s)
{
    for (size_t i = 0; i + 1 < n; i++) {
        xm[i] = sqrt(x[i] * x[i + 1]);
        const double dx = log(x[i + 1] / x[i]);
        s[i] = (y[i] > 0.0 && y[i + 1] > 0.0 && dx != 0.0) ? log(y[i + 1] / y[i]) / dx : NAN;
    }
}

double hj__exp_seed_half_width(const double *v, size_t k, double *mean)
{
    double sd = NAN;
    hj_mean_sd(v, k, mean, &sd);
    if (k == 0)
        *mean = NAN;
    return k >= 2 ? hj_claim_half_width_se(sd / sqrt((double)k), k - 1) : NAN;
}

hj_status hj__exp_seed_slope_measurement(hj_result *res, const double *x, const double *Y, size_t S,
                                         size_t n, hj_claim_measurement *m, double *icpt, double *slopes,
                                         hj_error *err)
{
    double *gm = hj__exp_dnew("slope over seeds", n + S, err);
    if (gm == NULL)
        return err ? err->code : HJ_ENOMEM;
    double *sl = gm + n;
    for (size_t i = 0; i < n; i++) {
        double l = 0.0;
        for (size_t s = 0; s < S; s++)
            l += log(Y[s * n + i]) / (double)S;
        gm[i] = exp(l);
    }
    hj_status st = hj__exp_slope_measurement(res, x, gm, n, m, icpt, err);
    size_t ok = 0;
    for (size_t s = 0; s < S; s++) {
        hj_error fe = {0};
        double a;
        sl[s] = NAN;
        if (hj_fit_power_law(x, Y + s * n, n, &sl[s], &a, NULL, &fe) == HJ_OK && isfinite(sl[s]))
            ok++;
        if (slopes)
            slopes[s] = sl[s];
    }
    double mean = NAN, sd = NAN;
    hj_mean_sd(sl, S, &mean, &sd);
    double hw = S < 2 ? 0.0 : ok < S ? NAN : hj_claim_half_width_se(sd / sqrt((double)S), S - 1);
    if (st == HJ_OK)
        st = hj_claim_part(m, "seeds", hw, err);
    free(gm);
    return st;
}

void hj__exp_fisher_interval(double rho, size_t n, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 4 || !isfinite(rho))
        return;
    const double r = fmax(-1.0 + 1e-15, fmin(1.0 - 1e-15, rho));
    const double z = atanh(r), h = 1.959963984540054 / sqrt((double)n - 3.0);
    *lo = tanh(z - h);
    *hi = tanh(z + h);
}

hj_status hj__exp_bound_checks(hj_result *res, const char *lhs, const char *paper, const char *over,
                               const double worst[3], hj_error *err)
{
    const char *bound[3] = {paper, "R_MEB^2/eps", "diam^2/(4 eps)"};
    for (size_t k = 0; k < 3; k++) {
        char name[128];
        snprintf(name, sizeof name, "%s / (%s), max over %s", lhs, bound[k], over);
        hj_status st = hj_result_check(res, "C10", name, worst[k], 1.0, err);
        if (st != HJ_OK)
            return st;
    }
    return HJ_OK;
}

void hj__exp_progress_eps_seed(const hj_experiment_options *opt, const char *exp, double eps, size_t seed,
                               double fraction)
{
    char stage[64];
    snprintf(stage, sizeof stage, "eps %g, seed %zu", eps, seed);
    hj_experiment_progress(opt, exp, stage, fraction);
}

double hj__exp_relerr(double a, double b, double scale)
{
    return fabs(a - b) / (scale > 1e-300 ? scale : 1e-300);
}

double hj__exp_rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num) / fmax(sqrt(den), 1e-300);
}

void hj__exp_fill_normal(hj_rng *rng, double *v, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        v[i] = scale * hj_rng_normal(rng);
}

void hj_experiment_progress(const hj_experiment_options *opt, const char *experiment,
                            const char *stage, double fraction)
{
    if (opt && opt->progress)
        opt->progress(experiment, stage, fraction, opt->progress_ctx);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hj__exp_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

hj_status hj__exp_fd_gradient(hj__exp_fd_loss fn, const void *ctx, double *v, size_t len,
                              double step, double *out, hj_error *err)
{
    for (size_t i = 0; i < len; i++) {
        const double keep = v[i];
        double lp = NAN, lm = NAN;
        v[i] = keep + step;
        hj_status st = fn(ctx, &lp, err);
        v[i] = keep - step;
        if (st == HJ_OK)
            st = fn(ctx, &lm, err);
        v[i] = keep;
        if (st != HJ_OK)
            return st;
        out[i] = (lp - lm) / (2.0 * step);
    }
    return HJ_OK;
}

hj_status hj__exp_resnet_loss(const void *ctx, double *loss, hj_error *err)
{
    const hj__exp_resnet_eval *e = ctx;
    if (e->from == e->net->K) {
        *loss = hj_resnet_terminal_cost(e->net, e->tg, e->x, e->n, NULL);
        return HJ_OK;
    }
    hj_resnet sub = *e->net;
    sub.K -= e->from;
    sub.theta += e->from * hj_resnet_layer_params(sub.D);
    hj_status st = hj_resnet_forward(&sub, e->x, e->n, e->work, err);
    if (st == HJ_OK)
        *loss = hj_resnet_terminal_cost(&sub, e->tg, e->work + sub.K * e->n * sub.D, e->n, NULL);
    return st;
}

hj_status hj__exp_bifurcation_figure(hj_result *res, const char *name, const char *title,
                                     const char *cp_csv, const char *folds_csv, int with_folds,
                                     const char *caption, hj_error *err)
{
    hj_plot p = {0};
    p.name = name;
    p.title = title;
    p.xlabel = "eps";
    p.ylabel = "H at the critical point";
    p.logx = 1;
    p.series[0] = (hj_plot_series){cp_csv, 1, 4, 0, "minima", "points", "$5 == 0"};
    p.series[1] = (hj_plot_series){cp_csv, 1, 4, 0, "saddles", "points", "$5 == 1"};
    p.series[2] = (hj_plot_series){cp_csv, 1, 4, 0, "maxima", "points", "$5 == 2"};
    p.n_series = 3;
    if (with_folds)
        p.series[p.n_series++] = (hj_plot_series){folds_csv, 1, 5, 0, "folds", "points", NULL};
    return hj__exp_figure(res, &p, caption, err);
}

/* Swap rows i and j of a (rows, cols). */
static void exp_swap_rows(double *a, size_t i, size_t j, size_t cols)
{
    if (i == j)
        return;
    for (size_t c = 0; c < cols; c++) {
        double t = a[i * cols + c];
        a[i * cols + c] = a[j * cols + c];
        a[j * cols + c] = t;
    }
}

/* Brute-force P_{-k} (nv) at one point x (d): atom k of y (N, d), g (N),
 * v (N, nv) is swapped to the end, hj_hopf_cole_eval runs on the other
 * N-1 (weights into pi, N scratch), and the rows are swapped back. */
hj_status hj__exp_brute_loo(double *y, double *g, double *v, size_t N, size_t d, size_t nv, const double *x,
                            double t, double eps, size_t k, double *pi, double *Pk, hj_error *err)
{
    const size_t last = N - 1;
    exp_swap_rows(y, k, last, d);
    exp_swap_rows(g, k, last, 1);
    exp_swap_rows(v, k, last, nv);
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
    exp_swap_rows(y, k, last, d);
    exp_swap_rows(g, k, last, 1);
    exp_swap_rows(v, k, last, nv);
    return st;
}
