/* lse_hopf.c — an LSE layer and its Hopf-Cole check: f_eps(x) + u_eps(x, t) = |x|^2/(4t).
 *
 * A layer f(x) = eps log sum_j exp((w_j.x + b_j)/eps) of N = 3 neurons in
 * d = 2 is evaluated at a few points; its weights are turned into the
 * initial data (y_j, g_j) of the viscous HJ equation at time t, whose
 * Hopf-Cole solution u is evaluated independently at the same points. The
 * program prints both and exits 1 unless f + u matches |x|^2/(4t) to 1e-12.
 * Build: cc lse_hopf.c $(pkg-config --cflags --libs hjdl) -lm
 */
#include <math.h>
#include <stdio.h>

#include <hjdl/hjdl.h>

int main(void)
{
    enum { N = 3, D = 2, P = 4 };
    const double w[N * D] = {1.0, 0.5, -0.5, 2.0, 0.0, -1.0};     /* (N, D) */
    const double b[N] = {0.1, -0.3, 0.2};                          /* (N) */
    const double x[P * D] = {0.0, 0.0, 1.0, -1.0, 0.3, 0.7, -2.0, 0.5}; /* (P, D) */
    const double eps = 0.25, t = 0.5;
    hj_lse_layer L = {N, D, w, b, eps};
    double f[P], y[N * D], g[N], u[P];
    hj_error err = {0};
    if (hj_lse_forward(&L, x, P, f, NULL, NULL, &err) != HJ_OK ||
        hj_weights_to_atoms(w, b, N, D, t, NULL, y, g, &err) != HJ_OK) {
        fprintf(stderr, "lse_hopf: %s\n", err.msg);
        return 2;
    }
    hj_atoms a = {N, D, y, g};
    hj_hc_out out = {0};
    out.u = u;
    if (hj_hopf_cole_eval(&a, NULL, x, P, t, eps, &out, &err) != HJ_OK) {
        fprintf(stderr, "lse_hopf: %s\n", err.msg);
        return 2;
    }
    double worst = 0.0;
    for (int i = 0; i < P; i++) {
        const double *xi = x + i * D;
        double q = (xi[0] * xi[0] + xi[1] * xi[1]) / (4.0 * t); /* |x|^2/(4t), by hand */
        double gap = fabs(f[i] + u[i] - q) / fmax(1.0, fabs(q));
        worst = fmax(worst, gap);
        printf("x = (%5.2f, %5.2f)  f = %+.15f  u = %+.15f  f + u - |x|^2/4t = %.2e\n", xi[0], xi[1], f[i],
               u[i], f[i] + u[i] - q);
    }
    printf("largest relative gap %.3e (tolerance 1e-12): %s\n", worst, worst <= 1e-12 ? "ok" : "FAILED");
    return worst <= 1e-12 ? 0 : 1;
}
