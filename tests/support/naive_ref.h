/* naive_ref.h — plain reference computations for the core tests, written from the math, not from the library. */
#ifndef HJDL_TESTS_NAIVE_REF_H
#define HJDL_TESTS_NAIVE_REF_H

#include "hjdl/status.h"

/*
 * Everything here is deliberately simple: long double arithmetic, explicit
 * sums, textbook formulas. None of it calls libhjdl, so a test that compares
 * the library with these functions compares two independent computations.
 *
 * Shapes (row-major):
 *   w (N, d), b (N), x (d)           an LSE layer and one point
 *   y (N, d), g (N)                  Hopf–Cole atoms
 *   Ainv (d, d)                      inverse metric (NULL means identity)
 *   pi (N), grad (d), cov (d, d)     outputs, caller-owned
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- deterministic PRNG (splitmix64) ------------------------------------ */

typedef struct nr_rng {
    uint64_t s;
} nr_rng;

void nr_seed(nr_rng *r, uint64_t seed);
uint64_t nr_next(nr_rng *r);
/* Uniform on [lo, hi). */
double nr_unif(nr_rng *r, double lo, double hi);
/* Standard normal (Box–Muller). */
double nr_normal(nr_rng *r);
/* Uniform integer in [lo, hi] (inclusive). */
long nr_int(nr_rng *r, long lo, long hi);
/* k / denom with k uniform in [-kmax, kmax]: arithmetic on these is exact. */
double nr_dyadic(nr_rng *r, long kmax, long denom);
void nr_fill_unif(nr_rng *r, double *a, size_t n, double lo, double hi);
void nr_fill_normal(nr_rng *r, double *a, size_t n, double scale);
/* Random LSE layer: w (N, d) entries ~ N(0, wscale^2 / d), b (N) ~ N(0, bscale^2). */
void nr_random_layer(nr_rng *r, size_t N, size_t d, double wscale, double bscale, double *w, double *b);

/* ---- test plumbing ---------------------------------------------------------- */

/* malloc(n) (at least one byte); fails the running cmocka test when it
 * returns NULL. */
void *nr_xmalloc(size_t n);

/* max_i |a_i| (0 for n = 0; NaN entries are ignored, as fmax does). */
double nr_max_abs(const double *a, size_t n);

/* ---- log-sum-exp, Gibbs weights ------------------------------------------ */

/* eps log sum_j exp(z_j / eps) in long double; pi (N, may be NULL) gets the
 * Gibbs weights. eps == 0: max z_j with pi uniform over the exact ties.
 * For eps > 0 the sum is formed directly, unshifted, when every z_j/eps lies
 * in the range of expl; otherwise it is accumulated pairwise with
 * log(e^a + e^b) = a + log1p(e^(b - a)), a >= b (exact in exact arithmetic). */
long double nr_lse(const long double *z, size_t N, long double eps, long double *pi);

/* Logits z_j = w_j . x + b_j in long double. z: (N). */
void nr_logits(const double *w, const double *b, size_t N, size_t d, const double *x,
               long double *z);

/* max_j (|b_j| + sum_k |w_jk x_k|): the size of the terms forming a logit,
 * i.e. the scale of its rounding error. */
double nr_logit_scale(const double *w, const double *b, size_t N, size_t d, const double *x);

/* max_j |w_j| (Euclidean row norm). */
double nr_max_row_norm(const double *w, size_t N, size_t d);

/* Full naive LSE layer at one point: f, pi (N), grad = E_pi[w] (d),
 * cov = Cov_pi(w) (d, d) (centred, two-pass). Any output may be NULL. */
void nr_lse_layer(const double *w, const double *b, size_t N, size_t d, double eps,
                  const double *x, long double *f, long double *pi, long double *grad,
                  long double *cov);

/* H(pi) = -sum pi log pi with 0 log 0 = 0. */
long double nr_entropy(const long double *pi, size_t N);

/* Entropy of the Gibbs weights of the layer at x (eps > 0 or 0). */
long double nr_layer_entropy(const double *w, const double *b, size_t N, size_t d,
                             double eps, const double *x);

/* ---- Hopf–Cole ------------------------------------------------------------ */

/* Naive Hopf–Cole solution at one point (x (d), time t, eps >= 0) with the
 * metric |v|^2_{Ainv} = v^T Ainv v (Ainv NULL: identity):
 *   c_j = g_j + |x - y_j|^2_{Ainv}/(4t),  u = -eps log sum exp(-c_j/eps),
 *   eps = 0: u = min c_j, pi uniform on the exact minimisers.
 * Closed-form derivatives (all optional, NULL to skip; at eps = 0 hess gets
 * only the smooth part Ainv/(2t)):
 *   grad = Ainv (x - ybar)/(2t), dudt = -E_pi |x - y|^2_{Ainv}/(4t^2),
 *   hess = Ainv/(2t) - Ainv Cov_pi(y) Ainv/(4 t^2 eps),
 *   H = -sum pi log pi. */
void nr_hopf(const double *y, const double *g, size_t N, size_t d, const long double *Ainv,
             const double *x, double t, double eps, long double *u, long double *pi,
             long double *grad, long double *dudt, long double *hess, long double *H);

/* The costs c_j above (N). */
void nr_hopf_costs(const double *y, const double *g, size_t N, size_t d,
                   const long double *Ainv, const double *x, double t, long double *c);

/* x^T Ainv x / (4t) (Ainv NULL: identity). */
long double nr_quadratic(const long double *Ainv, const double *x, size_t d, double t);

/* ---- small dense linear algebra ------------------------------------------ */

/* Inverse of A (d, d) by Gauss–Jordan elimination with partial pivoting, in
 * long double. Returns 0 on success, -1 if a pivot vanishes. logdet (may be
 * NULL) receives log|det A|. */
int nr_inverse(const double *A, size_t d, long double *Ainv, long double *logdet);

/* Eigenvalues of a symmetric matrix S (d, d) by cyclic Jacobi rotations;
 * ev (d) unsorted. */
void nr_sym_eigvals(const long double *S, size_t d, long double *ev);
/* Largest eigenvalue of symmetric S (d, d). */
long double nr_sym_eigmax(const long double *S, size_t d);

/* ---- finite differences --------------------------------------------------- */

/* A scalar function of a point. Both stencils round h down to a power of two
 * (so the displaced points are exact for most x). */
typedef double (*nr_scalar_fn)(const double *x, void *ctx);

/* 4th-order central first derivative along coordinate k with step h:
 *   [f(x-2h) - 8f(x-h) + 8f(x+h) - f(x+2h)] / (12h). x (dim) is restored. */
double nr_fd1(nr_scalar_fn fn, void *ctx, double *x, size_t k, double h);
/* 4th-order central second derivative d^2 f / dx_k dx_l (k == l: 5-point
 * stencil; k != l: Richardson extrapolation of the 4-point mixed stencil at
 * steps h and 2h). x is restored. */
double nr_fd2(nr_scalar_fn fn, void *ctx, double *x, size_t k, size_t l, double h);

/* ---- check bookkeeping ----------------------------------------------------- */

/* Accumulates comparisons; remembers the worst ratio |got - ref| / tol and a
 * description of where it happened, so a failure says which numbers disagree. */
typedef struct nr_check {
    const char *name;
    long n;              /* comparisons made */
    long nfail;          /* comparisons over tolerance */
    double worst_ratio;  /* max |got - ref| / tol (inf for NaN mismatch) */
    double worst_err;
    double worst_tol;
    double worst_got;
    double worst_ref;
    char worst_where[256];
    char first_fail[400];
} nr_check;

void nr_check_init(nr_check *c, const char *name);
/* Compare got with ref to absolute tolerance tol (> 0). Equal infinities and
 * exact equality pass; NaN on one side only is an infinite error. Returns 1 if
 * within tolerance. */
int nr_close(nr_check *c, double got, long double ref, double tol, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Record a boolean property. Returns cond. */
int nr_true(nr_check *c, int cond, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Print "name: n checks, worst ratio ..., where ..." and return 1 if every
 * comparison passed. */
int nr_check_report(const nr_check *c);
/* Record that a library call failed properly: a non-OK status equal to
 * err->code, with a non-empty message. */
void nr_expect_error(nr_check *c, hj_status st, const hj_error *e, const char *what);

#endif /* HJDL_TESTS_NAIVE_REF_H */
