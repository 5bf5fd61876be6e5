/* naive_ref.c — plain long-double reference formulas, a PRNG, finite differences and check bookkeeping for the tests. */
#include "naive_ref.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ---- PRNG ----------------------------------------------------------------- */

void nr_seed(nr_rng *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t nr_next(nr_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double nr_unif(nr_rng *r, double lo, double hi)
{
    double u = (double)(nr_next(r) >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
}

double nr_normal(nr_rng *r)
{
    double u1 = ((double)(nr_next(r) >> 11) + 0.5) * 0x1.0p-53; /* (0, 1) */
    double u2 = (double)(nr_next(r) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

long nr_int(nr_rng *r, long lo, long hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1u;
    return lo + (long)(nr_next(r) % span);
}

double nr_dyadic(nr_rng *r, long kmax, long denom)
{
    return (double)nr_int(r, -kmax, kmax) / (double)denom;
}

void nr_fill_unif(nr_rng *r, double *a, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = nr_unif(r, lo, hi);
}

void nr_fill_normal(nr_rng *r, double *a, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        a[i] = scale * nr_normal(r);
}

void nr_random_layer(nr_rng *r, size_t N, size_t d, double wscale, double bscale, double *w, double *b)
{
    nr_fill_normal(r, w, N * d, wscale / sqrt((double)d));
    nr_fill_normal(r, b, N, bscale);
}

/* ---- test plumbing ---------------------------------------------------------- */

void *nr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

double nr_max_abs(const double *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* ---- log-sum-exp ------------------------------------------------------------ */

long double nr_lse(const long double *z, size_t N, long double eps, long double *pi)
{
    if (eps == 0.0L) {
        long double m = z[0];
        for (size_t j = 1; j < N; j++)
            if (z[j] > m)
                m = z[j];
        size_t k = 0;
        for (size_t j = 0; j < N; j++)
            if (z[j] == m)
                k++;
        if (pi != NULL)
            for (size_t j = 0; j < N; j++)
                pi[j] = (z[j] == m) ? 1.0L / (long double)k : 0.0L;
        return m;
    }
    /* a_j = z_j / eps; in long double this is finite even for 1e300/1e-300. */
    long double amax = z[0] / eps;
    for (size_t j = 1; j < N; j++) {
        long double a = z[j] / eps;
        if (a > amax)
            amax = a;
    }
    if (fabsl(amax) <= 11000.0L) {
        /* Direct, unshifted: every exp(a_j) is representable (or harmlessly
         * underflows next to exp(amax)). */
        long double S = 0.0L;
        for (size_t j = 0; j < N; j++)
            S += expl(z[j] / eps);
        if (pi != NULL)
            for (size_t j = 0; j < N; j++)
                pi[j] = expl(z[j] / eps) / S;
        return eps * logl(S);
    }
    /* Pairwise accumulation L <- log(e^L + e^a). */
    long double L = z[0] / eps;
    for (size_t j = 1; j < N; j++) {
        long double a = z[j] / eps;
        if (a > L)
            L = a + log1pl(expl(L - a));
        else
            L = L + log1pl(expl(a - L));
    }
    if (pi != NULL)
        for (size_t j = 0; j < N; j++)
            pi[j] = expl(z[j] / eps - L);
    return eps * L;
}

void nr_logits(const double *w, const double *b, size_t N, size_t d, const double *x,
               long double *z)
{
    for (size_t j = 0; j < N; j++) {
        long double s = b[j];
        for (size_t k = 0; k < d; k++)
            s += (long double)w[j * d + k] * (long double)x[k];
        z[j] = s;
    }
}

double nr_logit_scale(const double *w, const double *b, size_t N, size_t d, const double *x)
{
    double best = 0.0;
    for (size_t j = 0; j < N; j++) {
        double s = fabs(b[j]);
        for (size_t k = 0; k < d; k++)
            s += fabs(w[j * d + k] * x[k]);
        if (s > best)
            best = s;
    }
    return best;
}

double nr_max_row_norm(const double *w, size_t N, size_t d)
{
    long double best = 0.0L;
    for (size_t j = 0; j < N; j++) {
        long double s = 0.0L;
        for (size_t k = 0; k < d; k++)
            s += (long double)w[j * d + k] * w[j * d + k];
        if (s > best)
            best = s;
    }
    return (double)sqrtl(best);
}

void nr_lse_layer(const double *w, const double *b, size_t N, size_t d, double eps,
                  const double *x, long double *f, long double *pi, long double *grad,
                  long double *cov)
{
    long double *z = malloc(N * sizeof *z);
    long double *p = malloc(N * sizeof *p);
    long double *mean = malloc(d * sizeof *mean);
    if (z == NULL || p == NULL || mean == NULL)
        abort(); /* test support only */
    nr_logits(w, b, N, d, x, z);
    long double fv = nr_lse(z, N, eps, p);
    for (size_t k = 0; k < d; k++) {
        long double s = 0.0L;
        for (size_t j = 0; j < N; j++)
            s += p[j] * w[j * d + k];
        mean[k] = s;
    }
    if (f != NULL)
        *f = fv;
    if (pi != NULL)
        memcpy(pi, p, N * sizeof *p);
    if (grad != NULL)
        memcpy(grad, mean, d * sizeof *mean);
    if (cov != NULL) {
        for (size_t k = 0; k < d; k++)
            for (size_t l = 0; l < d; l++) {
                long double s = 0.0L;
                for (size_t j = 0; j < N; j++)
                    s += p[j] * (w[j * d + k] - mean[k]) * (w[j * d + l] - mean[l]);
                cov[k * d + l] = s;
            }
    }
    free(z);
    free(p);
    free(mean);
}

long double nr_entropy(const long double *pi, size_t N)
{
    long double H = 0.0L;
    for (size_t j = 0; j < N; j++)
        if (pi[j] > 0.0L)
            H -= pi[j] * logl(pi[j]);
    return H;
}

long double nr_layer_entropy(const double *w, const double *b, size_t N, size_t d,
                             double eps, const double *x)
{
    long double *p = malloc(N * sizeof *p);
    if (p == NULL)
        abort();
    nr_lse_layer(w, b, N, d, eps, x, NULL, p, NULL, NULL);
    long double H = nr_entropy(p, N);
    free(p);
    return H;
}

/* ---- Hopf–Cole ------------------------------------------------------------- */

static long double quad_form(const long double *Ainv, const long double *v, size_t d)
{
    long double s = 0.0L;
    for (size_t k = 0; k < d; k++) {
        if (Ainv == NULL) {
            s += v[k] * v[k];
        } else {
            for (size_t l = 0; l < d; l++)
                s += v[k] * Ainv[k * d + l] * v[l];
        }
    }
    return s;
}

void nr_hopf_costs(const double *y, const double *g, size_t N, size_t d,
                   const long double *Ainv, const double *x, double t, long double *c)
{
    long double *v = malloc(d * sizeof *v);
    if (v == NULL)
        abort();
    for (size_t j = 0; j < N; j++) {
        for (size_t k = 0; k < d; k++)
            v[k] = (long double)x[k] - (long double)y[j * d + k];
        c[j] = (long double)g[j] + quad_form(Ainv, v, d) / (4.0L * t);
    }
    free(v);
}

long double nr_quadratic(const long double *Ainv, const double *x, size_t d, double t)
{
    long double *v = malloc(d * sizeof *v);
    if (v == NULL)
        abort();
    for (size_t k = 0; k < d; k++)
        v[k] = x[k];
    long double q = quad_form(Ainv, v, d) / (4.0L * t);
    free(v);
    return q;
}

void nr_hopf(const double *y, const double *g, size_t N, size_t d, const long double *Ainv,
             const double *x, double t, double eps, long double *u, long double *pi,
             long double *grad, long double *dudt, long double *hess, long double *H)
{
    long double *c = malloc(N * sizeof *c);
    long double *p = malloc(N * sizeof *p);
    long double *ybar = malloc(d * sizeof *ybar);
    long double *v = malloc(d * sizeof *v);
    long double *C = malloc(d * d * sizeof *C);
    long double *T = malloc(d * d * sizeof *T);
    if (!c || !p || !ybar || !v || !C || !T)
        abort();
    nr_hopf_costs(y, g, N, d, Ainv, x, t, c);
    for (size_t j = 0; j < N; j++)
        c[j] = -c[j];
    long double uv = -nr_lse(c, N, eps, p);
    for (size_t j = 0; j < N; j++)
        c[j] = -c[j];
    for (size_t k = 0; k < d; k++) {
        long double s = 0.0L;
        for (size_t j = 0; j < N; j++)
            s += p[j] * y[j * d + k];
        ybar[k] = s;
    }
    if (u != NULL)
        *u = uv;
    if (pi != NULL)
        memcpy(pi, p, N * sizeof *p);
    if (H != NULL)
        *H = nr_entropy(p, N);
    if (grad != NULL) {
        for (size_t k = 0; k < d; k++)
            v[k] = ((long double)x[k] - ybar[k]) / (2.0L * t);
        for (size_t k = 0; k < d; k++) {
            if (Ainv == NULL) {
                grad[k] = v[k];
            } else {
                long double s = 0.0L;
                for (size_t l = 0; l < d; l++)
                    s += Ainv[k * d + l] * v[l];
                grad[k] = s;
            }
        }
    }
    if (dudt != NULL) {
        long double s = 0.0L;
        for (size_t j = 0; j < N; j++) {
            for (size_t k = 0; k < d; k++)
                v[k] = (long double)x[k] - (long double)y[j * d + k];
            s += p[j] * quad_form(Ainv, v, d);
        }
        *dudt = -s / (4.0L * t * t);
    }
    if (hess != NULL) {
        /* C = Cov_pi(y), centred */
        for (size_t k = 0; k < d; k++)
            for (size_t l = 0; l < d; l++) {
                long double s = 0.0L;
                for (size_t j = 0; j < N; j++)
                    s += p[j] * (y[j * d + k] - ybar[k]) * (y[j * d + l] - ybar[l]);
                C[k * d + l] = s;
            }
        /* T = Ainv C Ainv (or C) */
        for (size_t k = 0; k < d; k++)
            for (size_t l = 0; l < d; l++) {
                long double s = 0.0L;
                if (Ainv == NULL) {
                    s = C[k * d + l];
                } else {
                    for (size_t a = 0; a < d; a++)
                        for (size_t bb = 0; bb < d; bb++)
                            s += Ainv[k * d + a] * C[a * d + bb] * Ainv[bb * d + l];
                }
                T[k * d + l] = s;
            }
        for (size_t k = 0; k < d; k++)
            for (size_t l = 0; l < d; l++) {
                long double I = (Ainv == NULL) ? (k == l ? 1.0L : 0.0L) : Ainv[k * d + l];
                long double h = I / (2.0L * t);
                if (eps > 0.0)
                    h -= T[k * d + l] / (4.0L * t * t * eps);
                hess[k * d + l] = h;
            }
    }
    free(c);
    free(p);
    free(ybar);
    free(v);
    free(C);
    free(T);
}

/* ---- linear algebra ---------------------------------------------------------- */

int nr_inverse(const double *A, size_t d, long double *Ainv, long double *logdet)
{
    long double *M = malloc(d * 2 * d * sizeof *M);
    if (M == NULL)
        abort();
    size_t w2 = 2 * d;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < w2; j++)
            M[i * w2 + j] = (j < d) ? (long double)A[i * d + j] : ((j - d == i) ? 1.0L : 0.0L);
    long double ld = 0.0L;
    int rc = 0;
    for (size_t col = 0; col < d; col++) {
        size_t piv = col;
        for (size_t i = col + 1; i < d; i++)
            if (fabsl(M[i * w2 + col]) > fabsl(M[piv * w2 + col]))
                piv = i;
        if (M[piv * w2 + col] == 0.0L) {
            rc = -1;
            break;
        }
        if (piv != col)
            for (size_t j = 0; j < w2; j++) {
                long double tmp = M[col * w2 + j];
                M[col * w2 + j] = M[piv * w2 + j];
                M[piv * w2 + j] = tmp;
            }
        long double p = M[col * w2 + col];
        ld += logl(fabsl(p));
        for (size_t j = 0; j < w2; j++)
            M[col * w2 + j] /= p;
        for (size_t i = 0; i < d; i++) {
            if (i == col)
                continue;
            long double f = M[i * w2 + col];
            if (f != 0.0L)
                for (size_t j = 0; j < w2; j++)
                    M[i * w2 + j] -= f * M[col * w2 + j];
        }
    }
    if (rc == 0) {
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++)
                Ainv[i * d + j] = M[i * w2 + d + j];
        if (logdet != NULL)
            *logdet = ld;
    }
    free(M);
    return rc;
}

void nr_sym_eigvals(const long double *S, size_t d, long double *ev)
{
    long double *a = malloc(d * d * sizeof *a);
    if (a == NULL)
        abort();
    memcpy(a, S, d * d * sizeof *a);
    for (int sweep = 0; sweep < 100; sweep++) {
        long double off = 0.0L, all = 0.0L;
        for (size_t p = 0; p < d; p++)
            for (size_t q = 0; q < d; q++) {
                all += a[p * d + q] * a[p * d + q];
                if (p != q)
                    off += a[p * d + q] * a[p * d + q];
            }
        if (off <= 1e-40L * all || off == 0.0L)
            break;
        for (size_t p = 0; p + 1 < d; p++)
            for (size_t q = p + 1; q < d; q++) {
                long double apq = a[p * d + q];
                if (apq == 0.0L)
                    continue;
                long double theta = (a[q * d + q] - a[p * d + p]) / (2.0L * apq);
                long double tt = (theta >= 0.0L ? 1.0L : -1.0L) /
                                 (fabsl(theta) + sqrtl(theta * theta + 1.0L));
                long double c = 1.0L / sqrtl(tt * tt + 1.0L);
                long double s = tt * c;
                for (size_t k = 0; k < d; k++) { /* A <- A J */
                    long double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < d; k++) { /* A <- J^T A */
                    long double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
            }
    }
    for (size_t k = 0; k < d; k++)
        ev[k] = a[k * d + k];
    free(a);
}

long double nr_sym_eigmax(const long double *S, size_t d)
{
    long double *ev = malloc(d * sizeof *ev);
    if (ev == NULL)
        abort();
    nr_sym_eigvals(S, d, ev);
    long double m = ev[0];
    for (size_t k = 1; k < d; k++)
        if (ev[k] > m)
            m = ev[k];
    free(ev);
    return m;
}

/* ---- finite differences -------------------------------------------------------- */

/* Largest power of two <= h, so that x +- h, x +- 2h are exact for most x. */
static double pow2_floor(double h)
{
    int ex;
    frexp(h, &ex);
    return ldexp(1.0, ex - 1);
}

double nr_fd1(nr_scalar_fn fn, void *ctx, double *x, size_t k, double h)
{
    h = pow2_floor(h);
    double x0 = x[k];
    x[k] = x0 - 2.0 * h;
    double fm2 = fn(x, ctx);
    x[k] = x0 - h;
    double fm1 = fn(x, ctx);
    x[k] = x0 + h;
    double fp1 = fn(x, ctx);
    x[k] = x0 + 2.0 * h;
    double fp2 = fn(x, ctx);
    x[k] = x0;
    return (fm2 - 8.0 * fm1 + 8.0 * fp1 - fp2) / (12.0 * h);
}

static double mixed(nr_scalar_fn fn, void *ctx, double *x, size_t k, size_t l, double h)
{
    double xk = x[k], xl = x[l];
    double s = 0.0;
    for (int a = -1; a <= 1; a += 2)
        for (int b = -1; b <= 1; b += 2) {
            x[k] = xk + a * h;
            x[l] = xl + b * h;
            s += (double)(a * b) * fn(x, ctx);
        }
    x[k] = xk;
    x[l] = xl;
    return s / (4.0 * h * h);
}

double nr_fd2(nr_scalar_fn fn, void *ctx, double *x, size_t k, size_t l, double h)
{
    h = pow2_floor(h);
    if (k != l)
        return (4.0 * mixed(fn, ctx, x, k, l, h) - mixed(fn, ctx, x, k, l, 2.0 * h)) / 3.0;
    double x0 = x[k];
    double f0 = fn(x, ctx);
    x[k] = x0 - 2.0 * h;
    double fm2 = fn(x, ctx);
    x[k] = x0 - h;
    double fm1 = fn(x, ctx);
    x[k] = x0 + h;
    double fp1 = fn(x, ctx);
    x[k] = x0 + 2.0 * h;
    double fp2 = fn(x, ctx);
    x[k] = x0;
    return (-fm2 + 16.0 * fm1 - 30.0 * f0 + 16.0 * fp1 - fp2) / (12.0 * h * h);
}

/* ---- check bookkeeping ------------------------------------------------------------ */

void nr_check_init(nr_check *c, const char *name)
{
    memset(c, 0, sizeof *c);
    c->name = name;
}

int nr_close(nr_check *c, double got, long double ref, double tol, const char *fmt, ...)
{
    double err;
    if ((long double)got == ref)
        err = 0.0;
    else if (isnan(got) || isnan(ref) || isinf(got) || isinf(ref))
        err = INFINITY;
    else
        err = (double)fabsl((long double)got - ref);
    double ratio = (err == 0.0) ? 0.0 : err / tol;
    c->n++;
    int ok = ratio <= 1.0;
    if (ratio > c->worst_ratio || c->worst_where[0] == '\0') {
        c->worst_ratio = ratio;
        c->worst_err = err;
        c->worst_tol = tol;
        c->worst_got = got;
        c->worst_ref = (double)ref;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->worst_where, sizeof c->worst_where, fmt, ap);
        va_end(ap);
    }
    if (!ok) {
        if (c->nfail == 0) {
            char where[200];
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(where, sizeof where, fmt, ap);
            va_end(ap);
            snprintf(c->first_fail, sizeof c->first_fail, "got %.17g ref %.17Lg err %.3e tol %.3e at %s",
                     got, ref, err, tol, where);
        }
        c->nfail++;
    }
    return ok;
}

int nr_true(nr_check *c, int cond, const char *fmt, ...)
{
    c->n++;
    if (!cond) {
        if (c->nfail == 0) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->first_fail, sizeof c->first_fail, fmt, ap);
            va_end(ap);
        }
        c->nfail++;
    }
    return cond;
}

int nr_check_report(const nr_check *c)
{
    printf("[%s] %ld checks, %ld failed; worst |err|/tol = %.3g (err %.3e, tol %.3e, got %.17g, ref %.17g) at %s\n",
           c->name, c->n, c->nfail, c->worst_ratio, c->worst_err, c->worst_tol, c->worst_got,
           c->worst_ref, c->worst_where[0] ? c->worst_where : "-");
    if (c->nfail > 0)
        printf("[%s] FIRST FAILURE: %s\n", c->name, c->first_fail);
    fflush(stdout);
    return c->nfail == 0;
}

void nr_expect_error(nr_check *c, hj_status st, const hj_error *e, const char *what)
{
    nr_true(c, st != HJ_OK, "%s: returned HJ_OK", what);
    nr_true(c, st == HJ_OK || e->code == st, "%s: err.code %d != returned %d", what, (int)e->code, (int)st);
    nr_true(c, st == HJ_OK || e->msg[0] != '\0', "%s: empty err.msg", what);
}
