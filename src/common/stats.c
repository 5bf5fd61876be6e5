/* stats.c — means, standard deviations, least-squares slopes, rank correlation. */
#include "hjdl/stats.h"

#include <math.h>
#include <stdlib.h>

void hj_mean_sd(const double *v, size_t n, double *mean, double *sd)
{
    double m = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++)
        m += v[i];
    m = n ? m / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    if (mean)
        *mean = m;
    if (sd)
        *sd = n > 1 ? sqrt(s / (double)(n - 1)) : 0.0;
}

hj_status hj_fit_line(const double *x, const double *y, size_t n, double *slope,
                      double *intercept, double *slope_se, hj_error *err)
{
    if (n < 3)
        return hj_error_set(err, HJ_EINVAL, "line fit needs at least 3 points (got %zu)", n);
    double mx, my;
    hj_mean_sd(x, n, &mx, NULL);
    hj_mean_sd(y, n, &my, NULL);
    double sxx = 0.0, sxy = 0.0;
    for (size_t i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (!(sxx > 0.0))
        return hj_error_set(err, HJ_EINVAL, "line fit: all x are equal");
    double b = sxy / sxx, a = my - b * mx, rss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - a - b * x[i];
        rss += r * r;
    }
    if (slope)
        *slope = b;
    if (intercept)
        *intercept = a;
    if (slope_se)
        *slope_se = sqrt(rss / (double)(n - 2) / sxx);
    return HJ_OK;
}

hj_status hj_fit_power_law(const double *x, const double *y, size_t n, double *exponent,
                           double *log_prefactor, double *exponent_se, hj_error *err)
{
    double *lx = malloc((n ? n : 1) * sizeof *lx), *ly = malloc((n ? n : 1) * sizeof *ly);
    if (lx == NULL || ly == NULL) {
        free(lx);
        free(ly);
        return hj_error_set(err, HJ_ENOMEM, "power-law fit: out of memory");
    }
    hj_status st = HJ_OK;
    for (size_t i = 0; i < n && st == HJ_OK; i++) {
        if (!(x[i] > 0.0) || !(y[i] > 0.0))
            st = hj_error_set(err, HJ_EDOM, "power-law fit: point %zu (%g, %g) is not positive", i, x[i], y[i]);
        lx[i] = log(x[i]);
        ly[i] = log(y[i]);
    }
    if (st == HJ_OK)
        st = hj_fit_line(lx, ly, n, exponent, log_prefactor, exponent_se, err);
    free(lx);
    free(ly);
    return st;
}

/* Average ranks (1-based) of v (n) into r, ties sharing their mean rank. */
static hj_status ranks(const double *v, size_t n, double *r, hj_error *err)
{
    size_t *idx = malloc(n * sizeof *idx);
    if (idx == NULL)
        return hj_error_set(err, HJ_ENOMEM, "spearman: out of memory");
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    /* insertion sort on a copy of indices is O(n^2); use a simple merge sort */
    size_t *tmp = malloc(n * sizeof *tmp);
    if (tmp == NULL) {
        free(idx);
        return hj_error_set(err, HJ_ENOMEM, "spearman: out of memory");
    }
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = v[idx[j]] < v[idx[i]] ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[k++] = idx[i++];
            while (j < hi)
                tmp[k++] = idx[j++];
        }
        size_t *s = idx;
        idx = tmp;
        tmp = s;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]])
            j++;
        double avg = 0.5 * (double)(i + j) + 1.0;
        for (size_t k = i; k <= j; k++)
            r[idx[k]] = avg;
        i = j + 1;
    }
    free(idx);
    free(tmp);
    return HJ_OK;
}

hj_status hj_spearman(const double *a, const double *b, size_t n, double *rho, hj_error *err)
{
    if (n < 2)
        return hj_error_set(err, HJ_EINVAL, "spearman: need at least 2 points");
    double *ra = malloc(n * sizeof *ra), *rb = malloc(n * sizeof *rb);
    hj_status st = HJ_OK;
    if (ra == NULL || rb == NULL)
        st = hj_error_set(err, HJ_ENOMEM, "spearman: out of memory");
    if (st == HJ_OK)
        st = ranks(a, n, ra, err);
    if (st == HJ_OK)
        st = ranks(b, n, rb, err);
    if (st == HJ_OK) {
        double ma, mb, sab = 0, saa = 0, sbb = 0;
        hj_mean_sd(ra, n, &ma, NULL);
        hj_mean_sd(rb, n, &mb, NULL);
        for (size_t i = 0; i < n; i++) {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        *rho = (saa > 0 && sbb > 0) ? sab / sqrt(saa * sbb) : NAN;
    }
    free(ra);
    free(rb);
    return st;
}
