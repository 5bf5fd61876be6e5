/* landscape-impl.h — internals shared by the entropy-landscape files (not installed). */
#ifndef HJDL_LANDSCAPE_IMPL_H
#define HJDL_LANDSCAPE_IMPL_H

#include <stddef.h>

#include "hjdl/landscape.h"

/* The landscape object (landscape.h), shared by landscape*.c. */
struct hj_landscape {
    size_t N, d;
    double t;
    double *y;      /* (N, d) */
    double *g;      /* (N) */
    double *box_lo; /* (d) atoms' bounding box */
    double *box_hi; /* (d) */
    /* scratch filled by kernel() */
    double *pi;     /* (N) */
    double *l;      /* (N) log pi */
    double *r;      /* (N) l + H */
    double *S;      /* (N, d) (y - ybar)/(2t) */
    double *P;      /* (N) */
    double *T;      /* (N) */
    double *q;      /* (N) a direction in atom space */
    double *ybar;   /* (d) */
    double *work;   /* (4 d + 2 d^2) */
    double H;
};

/* Fill L's scratch (pi, l, r, S, ybar, H) at (x, eps) (landscape.c). */
void hj__landscape_kernel(hj_landscape *L, double eps, const double *x);

/* True when the n values are finite. */
int hj__landscape_all_finite(const double *v, size_t n);

/* The longest side of the atoms' bounding box (1 when the box is a point). */
double hj__landscape_box_side(const hj_landscape *L);

/* HJ_OK when L, eps > 0 finite and the point x (d) are usable. */
hj_status hj__landscape_check_point(const hj_landscape *L, double eps, const double *x,
                                    hj_error *err);

/* Scaled residual F = eps grad H (d), Jacobian J = eps hess H (d, d) (may
 * be NULL) and the curvature scale (1/eps) sum pi (|r|+1)|s|^2 at x; H and
 * gscale = sum pi |r| |s| (the gradient's scale) when not NULL. */
double hj__landscape_residual(hj_landscape *L, double eps, const double *x, double *H, double *F,
                              double *J, double *gscale);

/* True when x (d) lies in the box [lo, hi] (always, when lo or hi is NULL). */
int hj__landscape_inside(const double *x, const double *lo, const double *hi, size_t d);

/* Descent (sign = -1) or ascent (+1) of H from x0 to the minimum (maximum)
 * whose basin holds x0 (landscape_newton.c has the method); 0 with x (d),
 * or -1. mem: 5 d + d^2 doubles. */
int hj__landscape_descend(hj_landscape *L, double eps, const double *x0, const double *lo,
                          const double *hi, double sign, double maxstep, double diam, double *x,
                          double *mem);

/* Solve A z = b in place (A (n, n) destroyed, b (n) becomes z) by Gaussian
 * elimination with partial pivoting. Returns 0, or -1 when a pivot is at
 * most tiny (numerically singular). For the tiny systems of Newton steps and
 * continuation (n <= 2d + 1), where LAPACK's call overhead would dominate. */
int hj__landscape_lu_solve(double *A, double *b, size_t n, double tiny);

/* Eigen-decomposition of the symmetric (d, d) matrix V in place: lam (d),
 * eigenvectors in the columns of V (V[k*d + i] = component k of vector i).
 * Closed form for d <= 2, LAPACK above. 0 or -1. */
int hj__landscape_sym_eig(double *V, size_t d, double *lam);

/* The modified Newton step p (d) = -sum_i (v_i . g) / max(|lam_i|, lam_floor) v_i
 * for the eigenpairs (lam (d), V (d, d) as from hj__landscape_sym_eig) of a
 * Hessian and the gradient g (d): a descent direction whatever the
 * Hessian's signs. */
void hj__landscape_abs_newton_step(const double *V, const double *lam, const double *g, size_t d,
                                   double lam_floor, double *p);

#endif /* HJDL_LANDSCAPE_IMPL_H */
