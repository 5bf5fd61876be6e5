/* viscous.c — viscous HJ by Hopf–Cole: heat equation on a grid (Crank–Nicolson 1-D, Peaceman–Rachford ADI 2-D). */
#include "hjdl/pde.h"

#include <math.h>
#include <stdlib.h>

#include "pde/pde-impl.h"

/*
 * Method.
 *   w = exp(-(u - c)/eps), c = min of g0 on the grid (so 0 <= w <= 1 at
 *   t = 0), solves w_t = eps Lap w exactly when u solves the viscous HJ
 *   equation; the solver advances w and returns u = c - eps log w.
 *
 * Space: second-order central Laplacian per axis, L w_i = (w_{i-1} - 2 w_i
 *   + w_{i+1}) / h^2. Boundary: homogeneous Neumann (dw/dn = 0, i.e.
 *   du/dn = 0), imposed by the reflected ghost node w_{-1} = w_1,
 *   w_n = w_{n-2}; it is second-order accurate and conserves the trapezoid
 *   integral of w. Any boundary condition is an artefact for a problem on
 *   R^d: pick a box large enough that w is negligible at its edge.
 *
 * Time: nsteps equal steps dt = t / nsteps.
 *   1-D Crank–Nicolson  (I - mu L) w+ = (I + mu L) w,  mu = eps dt / (2 h^2).
 *   2-D Peaceman–Rachford ADI
 *       (I - mu_x Lx) w* = (I + mu_y Ly) w,
 *       (I - mu_y Ly) w+ = (I + mu_x Lx) w*,   mu_k = eps dt / (2 h_k^2).
 *   Both are second order and unconditionally stable, but they barely damp
 *   the highest grid frequencies when mu is large (amplification -> -1 /
 *   +1), so non-smooth or very steep data (w = exp(-g0/eps) with small eps
 *   is steep) would leave a slowly decaying grid-scale oscillation. Rannacher
 *   start-up: the first min(2, nsteps) steps are each replaced by two
 *   implicit-Euler half steps (in 2-D the split form
 *   (I - mu_x Lx)(I - mu_y Ly) w+ = w), which damp those modes strongly;
 *   the overall scheme stays second order in dt.
 *   Every implicit stage is a tridiagonal system with constant coefficients
 *   per axis, solved by the Thomas algorithm with a factorisation computed
 *   once (diagonally dominant, so no pivoting is needed). LAPACK's dgtsv
 *   would refactor the same matrix for each of the n lines of every stage.
 *
 * Output: u = c - eps log w; where w is 0 (underflow) or negative (rounding
 *   noise far in the tails), u = +inf. u is only meaningful where w is well
 *   above the scheme's absolute error, i.e. away from the far tails.
 */

/* Thomas factorisation of the n x n matrix I - mu L (Neumann rows):
 *   row 0:      (1 + 2mu) x0 - 2mu x1
 *   row i:      -mu x_{i-1} + (1 + 2mu) x_i - mu x_{i+1}
 *   row n-1:    -2mu x_{n-2} + (1 + 2mu) x_{n-1}
 * cp (n) holds the modified super-diagonal, inv (n) the reciprocal pivots. */
typedef struct tri_factor {
    size_t n;
    double mu;
    double *cp;  /* (n) */
    double *inv; /* (n) */
} tri_factor;

static double tri_sub(const tri_factor *F, size_t i)
{
    return (i + 1 == F->n) ? -2.0 * F->mu : -F->mu;
}

static void tri_factorise(tri_factor *F)
{
    const size_t n = F->n;
    const double mu = F->mu, diag = 1.0 + 2.0 * mu;
    double m = diag;
    F->inv[0] = 1.0 / m;
    F->cp[0] = -2.0 * mu / m;
    for (size_t i = 1; i < n; i++) {
        m = diag - tri_sub(F, i) * F->cp[i - 1];
        F->inv[i] = 1.0 / m;
        F->cp[i] = (i + 1 < n) ? -mu / m : 0.0;
    }
}

/* Solve (I - mu L) x = r in place for `lines` lines of length F->n: element
 * i of line l is x[l*between + i*along]. */
static void tri_solve_lines(const tri_factor *F, double *x, size_t along, size_t lines,
                            size_t between)
{
    const size_t n = F->n;
    for (size_t l = 0; l < lines; l++) {
        double *v = x + l * between;
        v[0] *= F->inv[0];
        for (size_t i = 1; i < n; i++)
            v[i * along] = (v[i * along] - tri_sub(F, i) * v[(i - 1) * along]) * F->inv[i];
        for (size_t i = n - 1; i-- > 0;)
            v[i * along] -= F->cp[i] * v[(i + 1) * along];
    }
}

/* out = (I + mu L) in along lines as in tri_solve_lines (Neumann ghosts);
 * out and in must not alias. */
static void explicit_lines(const double *in, double *out, size_t n, double mu, size_t along,
                           size_t lines, size_t between)
{
    for (size_t l = 0; l < lines; l++) {
        const double *a = in + l * between;
        double *b = out + l * between;
        b[0] = a[0] + 2.0 * mu * (a[along] - a[0]);
        for (size_t i = 1; i + 1 < n; i++) {
            double c = a[i * along];
            b[i * along] = c + mu * (a[(i - 1) * along] - 2.0 * c + a[(i + 1) * along]);
        }
        b[(n - 1) * along] =
            a[(n - 1) * along] + 2.0 * mu * (a[(n - 2) * along] - a[(n - 1) * along]);
    }
}

/* Solve the viscous HJ equation on G up to time t with nsteps steps (see the
 * method comment above and pde.h). eps > 0, t > 0, nsteps >= 1, g0 finite
 * on every node. u (hj_grid_size(G)) receives the normalised solution
 * u(., t); nodes where w vanished get +inf. HJ_ENOMEM if scratch cannot be
 * allocated. */
hj_status hj_pde_viscous_solve(const hj_grid *G, hj_scalar_fn g0, void *ctx,
                               double eps, double t, size_t nsteps,
                               double *u, hj_error *err)
{
    hj_status st = hj__pde_check_grid(G, "viscous solve grid", err);
    if (st != HJ_OK)
        return st;
    if (g0 == NULL)
        return hj_error_set(err, HJ_EINVAL, "viscous solve: initial data g0 is NULL");
    if (u == NULL)
        return hj_error_set(err, HJ_EINVAL, "viscous solve: output buffer u is NULL");
    if (!isfinite(eps) || !(eps > 0.0))
        return hj_error_set(err, HJ_EINVAL,
                            "viscous solve: eps must be finite and > 0 (got %g)", eps);
    if (!isfinite(t) || !(t > 0.0))
        return hj_error_set(err, HJ_EINVAL, "viscous solve: t must be finite and > 0 (got %g)", t);
    if (nsteps == 0)
        return hj_error_set(err, HJ_EINVAL, "viscous solve: nsteps must be >= 1");

    const size_t N = hj_grid_size(G), d = G->d;
    const size_t n0 = G->n[0], n1 = (d == 2) ? G->n[1] : 1;
    const size_t nmax = (n1 > n0) ? n1 : n0;
    /* scratch: tmp (N) + two factorisations (cp, inv: 2 * nmax each) */
    double *tmp = malloc((N + 4 * nmax) * sizeof *tmp);
    if (tmp == NULL)
        return hj_error_set(err, HJ_ENOMEM, "viscous solve: cannot allocate %zu doubles",
                            N + 4 * nmax);

    /* w lives in u until the final transform. */
    double *w = u;
    st = hj__pde_sample(G, g0, ctx, "g0", w, err);
    if (st != HJ_OK) {
        free(tmp);
        return st;
    }
    double c = w[0];
    for (size_t j = 1; j < N; j++)
        if (w[j] < c)
            c = w[j];
    for (size_t j = 0; j < N; j++)
        w[j] = exp(-(w[j] - c) / eps);

    const double dt = t / (double)nsteps;
    tri_factor F[2];
    for (size_t k = 0; k < d; k++) {
        double h = hj__pde_spacing(G, k);
        F[k].n = G->n[k];
        F[k].mu = eps * dt / (2.0 * h * h);
        F[k].cp = tmp + N + 2 * k * nmax;
        F[k].inv = F[k].cp + nmax;
        tri_factorise(&F[k]);
    }
    /* An implicit-Euler half step (dt/2) has matrix I - eps (dt/2) L_k / h_k^2
     * ... = I - mu_k L, the same as the Crank–Nicolson implicit part. */
    const size_t nrannacher = nsteps < 2 ? nsteps : 2;
    for (size_t step = 0; step < nsteps; step++) {
        if (step < nrannacher) {
            for (int half = 0; half < 2; half++) {
                tri_solve_lines(&F[0], w, 1, n1, n0);
                if (d == 2)
                    tri_solve_lines(&F[1], w, n0, n0, 1);
            }
        } else if (d == 1) {
            explicit_lines(w, tmp, n0, F[0].mu, 1, 1, n0);
            tri_solve_lines(&F[0], tmp, 1, 1, n0);
            for (size_t j = 0; j < N; j++)
                w[j] = tmp[j];
        } else {
            explicit_lines(w, tmp, n1, F[1].mu, n0, n0, 1);
            tri_solve_lines(&F[0], tmp, 1, n1, n0);
            explicit_lines(tmp, w, n0, F[0].mu, 1, n1, n0);
            tri_solve_lines(&F[1], w, n0, n0, 1);
        }
    }
    free(tmp);

    for (size_t j = 0; j < N; j++)
        u[j] = (w[j] > 0.0) ? c - eps * log(w[j]) : INFINITY;
    return HJ_OK;
}
