/* atoms.c — the atoms type's validation, the metric A of the anisotropic
 * Hamiltonian, and the checks every evaluation over atoms shares. The logit
 * kernel itself is inline in atoms.h. */
#include "hjdl/atoms.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core-impl.h"

struct hj_metric {
    size_t d;
    double *A;      /* (d, d) */
    double *Ainv;   /* (d, d) */
    double logdet;  /* log det A */
};

hj_status hj_metric_alloc(hj_metric **out, const double *A, size_t d, hj_error *err)
{
    if (out == NULL || A == NULL)
        return hj_error_set(err, HJ_EINVAL, "metric: NULL argument");
    *out = NULL;
    if (d == 0)
        return hj_error_set(err, HJ_EINVAL, "metric: dimension d = 0");
    size_t bad;
    if (!hj__all_finite(A, d * d, &bad))
        return hj_error_set(err, HJ_ENAN, "metric: A[%zu][%zu] is not finite", bad / d, bad % d);
    double scale = 0.0;
    for (size_t k = 0; k < d * d; k++)
        scale = fmax(scale, fabs(A[k]));
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < a; b++)
            if (fabs(A[a * d + b] - A[b * d + a]) > 1e-12 * scale)
                return hj_error_set(err, HJ_EDOM,
                                    "metric: A is not symmetric (A[%zu][%zu] != A[%zu][%zu])",
                                    a, b, b, a);
    hj_metric *m = calloc(1, sizeof *m);
    double *mem = malloc(2 * d * d * sizeof *mem);
    if (m == NULL || mem == NULL) {
        free(m);
        free(mem);
        return hj_error_set(err, HJ_ENOMEM, "metric: out of memory");
    }
    m->d = d;
    m->A = mem;
    m->Ainv = mem + d * d;
    memcpy(m->A, A, d * d * sizeof *mem);
    memcpy(m->Ainv, A, d * d * sizeof *mem);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, m->Ainv, (lapack_int)d);
    if (info != 0) {
        hj_metric_free(m);
        return hj_error_set(err, HJ_EDOM, "metric: A is not positive definite");
    }
    m->logdet = 0.0;
    for (size_t k = 0; k < d; k++)
        m->logdet += 2.0 * log(m->Ainv[k * d + k]);
    info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, m->Ainv, (lapack_int)d);
    if (info != 0) {
        hj_metric_free(m);
        return hj_error_set(err, HJ_EDOM, "metric: A is singular");
    }
    for (size_t a = 0; a < d; a++)
        for (size_t b = a + 1; b < d; b++)
            m->Ainv[a * d + b] = m->Ainv[b * d + a];
    *out = m;
    return HJ_OK;
}

void hj_metric_free(hj_metric *m)
{
    if (m == NULL)
        return;
    free(m->A);
    free(m);
}

size_t hj_metric_dim(const hj_metric *m) { return m ? m->d : 0; }
const double *hj_metric_A(const hj_metric *m) { return m ? m->A : NULL; }
const double *hj_metric_Ainv(const hj_metric *m) { return m ? m->Ainv : NULL; }
double hj_metric_logdet(const hj_metric *m) { return m ? m->logdet : 0.0; }

hj_status hj_atoms_check(const hj_atoms *a, hj_error *err)
{
    if (a == NULL)
        return hj_error_set(err, HJ_EINVAL, "atoms: NULL");
    if (a->N == 0)
        return hj_error_set(err, HJ_EINVAL, "atoms: no atoms (N = 0)");
    if (a->d == 0)
        return hj_error_set(err, HJ_EINVAL, "atoms: dimension d = 0");
    if (a->y == NULL || a->g == NULL)
        return hj_error_set(err, HJ_EINVAL, "atoms: NULL positions or heights");
    size_t bad;
    if (!hj__all_finite(a->y, a->N * a->d, &bad))
        return hj_error_set(err, HJ_ENAN, "atoms: y[%zu][%zu] is not finite",
                            bad / a->d, bad % a->d);
    if (!hj__all_finite(a->g, a->N, &bad))
        return hj_error_set(err, HJ_ENAN, "atoms: g[%zu] is not finite", bad);
    return HJ_OK;
}

hj_status hj_check_time(double t, const char *who, hj_error *err)
{
    if (!(t > 0.0) || !isfinite(t))
        return hj_error_set(err, HJ_EINVAL, "%s: time t must be finite and > 0 (got %g)", who, t);
    return HJ_OK;
}

hj_status hj_check_eps(double eps, const char *who, hj_error *err)
{
    if (!(eps >= 0.0) || !isfinite(eps))
        return hj_error_set(err, HJ_EINVAL, "%s: eps must be a finite number >= 0 (got %g)", who,
                            eps);
    return HJ_OK;
}

hj_status hj_metric_check_dim(const hj_metric *metric, size_t d, const char *who, hj_error *err)
{
    if (metric != NULL && metric->d != d)
        return hj_error_set(err, HJ_ESHAPE, "%s: metric is %zu-dimensional, data are %zu-dimensional",
                            who, metric->d, d);
    return HJ_OK;
}

hj_status hj_points_check(const double *x, size_t n, size_t d, const char *who, hj_error *err)
{
    if (x == NULL && n > 0)
        return hj_error_set(err, HJ_EINVAL, "%s: points x are NULL", who);
    size_t bad;
    if (n > 0 && !hj__all_finite(x, n * d, &bad))
        return hj_error_set(err, HJ_ENAN, "%s: point x[%zu][%zu] is not finite", who, bad / d,
                            bad % d);
    return HJ_OK;
}

hj_status hj_atoms_check_eval(const hj_atoms *a, const hj_metric *metric, const double *x,
                              size_t n, double t, double eps, const char *who, hj_error *err)
{
    hj_status st = hj_atoms_check(a, err);
    if (st == HJ_OK)
        st = hj_check_time(t, who, err);
    if (st == HJ_OK)
        st = hj_metric_check_dim(metric, a->d, who, err);
    if (st == HJ_OK)
        st = hj_check_eps(eps, who, err);
    if (st == HJ_OK)
        st = hj_points_check(x, n, a->d, who, err);
    return st;
}
