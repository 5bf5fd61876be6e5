/* noisy.c — viscosity = noise: the controlled noisy residual system under the Hopf–Cole feedback, one path and Monte Carlo with common random numbers across step sizes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/hopf.h"
#include "hjdl/pmp.h"
#include "hjdl/rng.h"
#include "pmp/pmp-impl.h"

#define MC_CHUNK 512   /* paths advanced together (one batched Hopf–Cole call per step) */

hj_status hj_noisy_control_check(const hj_noisy_control *nc, hj_error *err)
{
    if (nc == NULL)
        return hj_error_set(err, HJ_EINVAL, "noisy control: NULL problem");
    hj_status st = hj_atoms_check(&nc->atoms, err);
    if (st != HJ_OK)
        return st;
    if (!(nc->tau > 0.0) || !isfinite(nc->tau))
        return hj_error_set(err, HJ_EINVAL, "noisy control: tau = %g must be finite and > 0", nc->tau);
    if (!(nc->T > 0.0) || !isfinite(nc->T))
        return hj_error_set(err, HJ_EINVAL, "noisy control: horizon T = %g must be finite and > 0",
                            nc->T);
    if (!(nc->eps >= 0.0) || !isfinite(nc->eps))
        return hj_error_set(err, HJ_EINVAL, "noisy control: eps = %g must be finite and >= 0", nc->eps);
    return HJ_OK;
}

hj_status hj_noisy_control_value(const hj_noisy_control *nc, const double *x0, double *value,
                                 hj_error *err)
{
    hj_status st = hj_noisy_control_check(nc, err);
    if (st != HJ_OK)
        return st;
    if (x0 == NULL || value == NULL)
        return hj_error_set(err, HJ_EINVAL, "noisy control: NULL x0 or value");
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.u_norm = value;
    return hj_hopf_cole_eval(&nc->atoms, NULL, x0, 1, nc->T + nc->tau, nc->eps, &o, err);
}

/* grad u at the n points x (n, d), time s, into g (n, d); or u~ into u (n). */
static hj_status eval_grad(const hj_noisy_control *nc, const double *x, size_t n, double s, double *g,
                           hj_error *err)
{
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.grad = g;
    return hj_hopf_cole_eval(&nc->atoms, NULL, x, n, s, nc->eps, &o, err);
}

static hj_status eval_terminal(const hj_noisy_control *nc, const double *x, size_t n, double *u,
                               hj_error *err)
{
    hj_hc_out o;
    memset(&o, 0, sizeof o);
    o.u_norm = u;
    return hj_hopf_cole_eval(&nc->atoms, NULL, x, n, nc->tau, nc->eps, &o, err);
}

hj_status hj_noisy_control_path(const hj_noisy_control *nc, const double *x0, size_t K,
                                const double *xi, double *X, double *cost, hj_error *err)
{
    hj_status st = hj_noisy_control_check(nc, err);
    if (st != HJ_OK)
        return st;
    if (x0 == NULL || cost == NULL || K == 0)
        return hj_error_set(err, HJ_EINVAL, "noisy control path: NULL x0/cost or K = 0");
    if (xi == NULL && nc->eps > 0.0)
        return hj_error_set(err, HJ_EINVAL, "noisy control path: eps > 0 needs the increments xi");
    const size_t d = nc->atoms.d;
    const double h = nc->T / (double)K, sig = sqrt(2.0 * nc->eps * h);
    double *x = malloc(2 * d * sizeof *x);
    if (x == NULL)
        return hj_error_set(err, HJ_ENOMEM, "noisy control path: out of memory");
    double *g = x + d, J = 0.0;
    memcpy(x, x0, d * sizeof *x);
    if (X != NULL)
        memcpy(X, x0, d * sizeof *X);
    for (size_t k = 0; k < K && st == HJ_OK; k++) {
        const double s = nc->T - (double)k * h + nc->tau;   /* remaining time + tau */
        if ((st = eval_grad(nc, x, 1, s, g, err)) != HJ_OK)
            break;
        for (size_t a = 0; a < d; a++) {
            const double alpha = -2.0 * g[a];
            J += 0.25 * h * alpha * alpha;
            x[a] += h * alpha + (sig > 0.0 ? sig * xi[k * d + a] : 0.0);
        }
        if (X != NULL)
            memcpy(X + (k + 1) * d, x, d * sizeof *X);
    }
    double gT = NAN;
    if (st == HJ_OK)
        st = eval_terminal(nc, x, 1, &gT, err);
    free(x);
    if (st == HJ_OK)
        *cost = J + gT;
    return st;
}

/* n standard normals (Box–Muller, both values of each pair used). */
static void fill_normals(hj_rng *r, double *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        double u1 = hj_rng_uniform(r), u2 = hj_rng_uniform(r);
        if (u1 <= 0.0)
            u1 = 0x1.0p-53;
        const double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586476925 * u2;
        v[i++] = rad * cos(ang);
        if (i < n)
            v[i++] = rad * sin(ang);
    }
}

/* Welford accumulator. */
typedef struct welford {
    double n, mean, m2;
} welford;

static void welford_add(welford *w, double v)
{
    w->n += 1.0;
    double dlt = v - w->mean;
    w->mean += dlt / w->n;
    w->m2 += dlt * (v - w->mean);
}

static double welford_se(const welford *w)
{
    if (w->n < 2.0)
        return NAN;
    return sqrt(w->m2 / (w->n - 1.0) / w->n);
}

hj_status hj_noisy_control_mc(const hj_noisy_control *nc, const double *x0, size_t M,
                              const size_t *K, size_t n_levels, uint64_t seed, hj_mc_level *out,
                              hj_error *err)
{
    hj_status st = hj_noisy_control_check(nc, err);
    if (st != HJ_OK)
        return st;
    if (x0 == NULL || K == NULL || out == NULL || n_levels == 0 || M < 2)
        return hj_error_set(err, HJ_EINVAL, "noisy control MC: NULL argument, no levels or M < 2");
    size_t Kmax = 0;
    for (size_t l = 0; l < n_levels; l++) {
        if (K[l] == 0)
            return hj_error_set(err, HJ_EINVAL, "noisy control MC: K[%zu] = 0", l);
        if (K[l] > Kmax)
            Kmax = K[l];
    }
    for (size_t l = 0; l < n_levels; l++)
        if (Kmax % K[l] != 0)
            return hj_error_set(err, HJ_EINVAL,
                                "noisy control MC: K[%zu] = %zu does not divide the finest K = %zu",
                                l, K[l], Kmax);
    const size_t d = nc->atoms.d, B = MC_CHUNK, nl = n_levels;
    double *pos = malloc(nl * B * d * sizeof *pos), *acc = malloc(nl * B * d * sizeof *acc);
    double *cost = malloc(nl * B * sizeof *cost), *cv = malloc(nl * B * sizeof *cv);
    double *xi = malloc(B * d * sizeof *xi), *g = malloc(B * d * sizeof *g), *u = malloc(B * sizeof *u);
    welford *wj = calloc(2 * nl, sizeof *wj);
    if (!pos || !acc || !cost || !cv || !xi || !g || !u || !wj) {
        st = hj_error_set(err, HJ_ENOMEM, "noisy control MC: out of memory");
        goto done;
    }
    hj_rng rng;
    hj_rng_seed(&rng, seed);
    for (size_t done_paths = 0; done_paths < M && st == HJ_OK; done_paths += B) {
        const size_t b = M - done_paths < B ? M - done_paths : B;
        for (size_t l = 0; l < nl; l++)
            for (size_t i = 0; i < b; i++)
                memcpy(pos + (l * B + i) * d, x0, d * sizeof *pos);
        memset(acc, 0, nl * B * d * sizeof *acc);
        memset(cost, 0, nl * B * sizeof *cost);
        memset(cv, 0, nl * B * sizeof *cv);
        for (size_t j = 0; j < Kmax && st == HJ_OK; j++) {
            if (nc->eps > 0.0)
                fill_normals(&rng, xi, b * d);
            for (size_t l = 0; l < nl && st == HJ_OK; l++) {
                const size_t m = Kmax / K[l];
                double *al = acc + l * B * d, *pl = pos + l * B * d;
                if (nc->eps > 0.0)
                    for (size_t q = 0; q < b * d; q++)
                        al[q] += xi[q];
                if ((j + 1) % m != 0)
                    continue;
                /* step k of level l, with the normalised sum of its m fine increments */
                const size_t k = (j + 1) / m - 1;
                const double h = nc->T / (double)K[l], sig = sqrt(2.0 * nc->eps * h);
                const double s = nc->T - (double)k * h + nc->tau, rs = 1.0 / sqrt((double)m);
                if ((st = eval_grad(nc, pl, b, s, g, err)) != HJ_OK)
                    break;
                for (size_t i = 0; i < b; i++)
                    for (size_t a = 0; a < d; a++) {
                        const size_t q = i * d + a;
                        const double alpha = -2.0 * g[q], z = al[q] * rs;
                        cost[l * B + i] += 0.25 * h * alpha * alpha;
                        cv[l * B + i] += sig * g[q] * z;
                        pl[q] += h * alpha + sig * z;
                    }
                memset(al, 0, b * d * sizeof *al);
            }
        }
        for (size_t l = 0; l < nl && st == HJ_OK; l++) {
            if ((st = eval_terminal(nc, pos + l * B * d, b, u, err)) != HJ_OK)
                break;
            for (size_t i = 0; i < b; i++) {
                const double J = cost[l * B + i] + u[i];
                welford_add(&wj[2 * l], J);
                welford_add(&wj[2 * l + 1], J - cv[l * B + i]);
            }
        }
    }
    if (st == HJ_OK)
        for (size_t l = 0; l < nl; l++) {
            out[l].K = K[l];
            out[l].mean = wj[2 * l].mean;
            out[l].se = welford_se(&wj[2 * l]);
            out[l].mean_cv = wj[2 * l + 1].mean;
            out[l].se_cv = welford_se(&wj[2 * l + 1]);
            if (!isfinite(out[l].mean) || !isfinite(out[l].mean_cv))
                st = hj_error_set(err, HJ_ENAN, "noisy control MC: non-finite mean at K = %zu", K[l]);
        }
done:
    free(pos), free(acc), free(cost), free(cv), free(xi), free(g), free(u), free(wj);
    return st;
}
