/* test_kernels.c — the blocked SIMD kernels (LSE forward, fused readout loss/gradient, vector exp) against naive long-double references, finite differences and each other. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/kernels.h"
#include "hjdl/lse.h"
#include "hjdl/model.h"
#include "model/model-impl.h"
#include "naive_ref.h"
#include "optim/optim-impl.h"

/* Gibbs weights below this may be flushed to 0 (the kernels' documented
 * clamp of exponents at -708 and flush of weights under 1e-307). */
#define FLUSH_FLOOR 1e-307

/* ---- LSE forward ----------------------------------------------------------------- */

typedef struct fw_case {
    size_t n, N, d;
    double eps;
    int kind; /* 0 random, 1 dyadic ties, 2 logits +-1e300, 3 spread past the -708 flush */
} fw_case;

/* Fill a layer and points for a case. */
static void make_case(nr_rng *r, const fw_case *c, double *w, double *b, double *x)
{
    const size_t N = c->N, d = c->d, n = c->n;
    switch (c->kind) {
    case 1: /* small dyadic numbers: logits exact, many exact ties */
        for (size_t k = 0; k < N * d; k++)
            w[k] = nr_dyadic(r, 2, 4);
        for (size_t j = 0; j < N; j++)
            b[j] = nr_dyadic(r, 2, 4);
        for (size_t k = 0; k < n * d; k++)
            x[k] = nr_dyadic(r, 2, 2);
        break;
    case 2: /* biases +-1e300 dominate the logits */
        nr_fill_normal(r, w, N * d, 1.0);
        for (size_t j = 0; j < N; j++)
            b[j] = (nr_next(r) & 1) ? 1e300 * nr_unif(r, 0.5, 1.0) : -1e300 * nr_unif(r, 0.5, 1.0);
        nr_fill_unif(r, x, n * d, -2.0, 2.0);
        break;
    case 3: /* logits spread over ~1500 eps: weights from 1 down past exp(-708) */
        nr_fill_normal(r, w, N * d, 1.0 / sqrt((double)d));
        for (size_t j = 0; j < N; j++)
            b[j] = -c->eps * 1500.0 * (double)j / (double)(N > 1 ? N - 1 : 1);
        nr_fill_unif(r, x, n * d, -1e-3, 1e-3);
        break;
    default:
        nr_fill_normal(r, w, N * d, 1.0 / sqrt((double)d));
        nr_fill_normal(r, b, N, 0.5);
        nr_fill_unif(r, x, n * d, -2.0, 2.0);
    }
}

/* The layer at one point in long double, max-shifted (well conditioned at
 * every eps, unlike the unshifted sum): f, pi (N), grad (d). eps == 0: max
 * with pi uniform over the exact ties. */
static long double naive_layer(const double *w, const double *b, size_t N, size_t d, double eps,
                               const double *x, long double *pi, long double *grad)
{
    long double *z = nr_xmalloc(N * sizeof *z), m, s = 0.0L, f;
    nr_logits(w, b, N, d, x, z);
    m = z[0];
    for (size_t j = 1; j < N; j++)
        if (z[j] > m)
            m = z[j];
    if (eps == 0.0) {
        for (size_t j = 0; j < N; j++)
            s += (z[j] == m);
        for (size_t j = 0; j < N; j++)
            pi[j] = (z[j] == m) / s;
        f = m;
    } else {
        for (size_t j = 0; j < N; j++)
            s += expl((z[j] - m) / eps);
        for (size_t j = 0; j < N; j++)
            pi[j] = expl((z[j] - m) / eps) / s;
        f = m + eps * logl(s);
    }
    for (size_t k = 0; k < d; k++) {
        grad[k] = 0.0L;
        for (size_t j = 0; j < N; j++)
            grad[k] += pi[j] * w[j * d + k];
    }
    free(z);
    return f;
}

/* Compare hj__lse_forward_impl (simd path and portable path) with nr_lse_layer. */
static void check_forward_case(const fw_case *c, uint64_t seed, nr_check *chk)
{
    const size_t n = c->n, N = c->N, d = c->d;
    nr_rng r;
    nr_seed(&r, seed);
    double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
    double *x = nr_xmalloc(n * d * sizeof *x), *f = nr_xmalloc(n * sizeof *f);
    double *pi = nr_xmalloc(n * N * sizeof *pi), *g = nr_xmalloc(n * d * sizeof *g);
    long double *pr = nr_xmalloc(N * sizeof *pr), *gr = nr_xmalloc(d * sizeof *gr);
    make_case(&r, c, w, b, x);
    const hj_lse_layer L = {N, d, w, b, c->eps};
    const double mw = nr_max_row_norm(w, N, d);
    for (int simd = 1; simd >= 0; simd--) {
        memset(f, 0xff, n * sizeof *f); /* NaN: an output never written shows */
        memset(pi, 0xff, n * N * sizeof *pi);
        memset(g, 0xff, n * d * sizeof *g);
        assert_int_equal(hj__lse_forward_impl(&L, x, n, f, pi, g, simd), 0);
        for (size_t i = 0; i < n; i++) {
            const double *xi = x + i * d;
            const long double fr = naive_layer(w, b, N, d, c->eps, xi, pr, gr);
            const double scale = nr_logit_scale(w, b, N, d, xi);
            /* logit rounding (~d ulp of the scale) is amplified by 1/eps in the weights */
            const double kappa = c->eps > 0.0 ? 1.0 + scale / c->eps : 1.0;
            nr_close(chk, f[i], fr, 1e-13 * (fabsl(fr) + scale) + 1e-300,
                     "simd=%d n=%zu N=%zu d=%zu eps=%g kind=%d: f[%zu]", simd, n, N, d, c->eps,
                     c->kind, i);
            long double psum = 0.0L;
            for (size_t j = 0; j < N; j++) {
                psum += pi[i * N + j];
                nr_close(chk, pi[i * N + j], pr[j], 1e-12 * (double)pr[j] * kappa + FLUSH_FLOOR,
                         "simd=%d n=%zu N=%zu d=%zu eps=%g kind=%d: pi[%zu][%zu]", simd, n, N, d,
                         c->eps, c->kind, i, j);
            }
            nr_close(chk, (double)psum, 1.0L, 1e-14 * (double)N + 1e-15,
                     "simd=%d N=%zu eps=%g: sum pi row %zu", simd, N, c->eps, i);
            for (size_t k = 0; k < d; k++)
                nr_close(chk, g[i * d + k], gr[k], 1e-12 * kappa * mw + 1e-300,
                         "simd=%d n=%zu N=%zu d=%zu eps=%g kind=%d: grad[%zu][%zu]", simd, n, N,
                         d, c->eps, c->kind, i, k);
        }
        /* f alone and f + grad alone agree bit for bit with the full call */
        double *f2 = nr_xmalloc(n * sizeof *f2), *g2 = nr_xmalloc(n * d * sizeof *g2);
        assert_int_equal(hj__lse_forward_impl(&L, x, n, f2, NULL, g2, simd), 0);
        nr_true(chk, memcmp(f, f2, n * sizeof *f) == 0 && memcmp(g, g2, n * d * sizeof *g) == 0,
                "simd=%d n=%zu N=%zu d=%zu: outputs independent of pi being requested", simd, n,
                N, d);
        free(f2);
        free(g2);
    }
    free(w), free(b), free(x), free(f), free(pi), free(g), free(pr), free(gr);
}

static void forward_should_match_naive_reference(void **state)
{
    (void)state;
    nr_check chk;
    nr_check_init(&chk, "forward vs naive");
    const size_t ns[] = {1, 7, 8, 9, 23};
    const size_t Ns[] = {1, 2, 8, 9, 16, 17, 31, 100};
    const size_t ds[] = {1, 2, 3, 64};
    const double epss[] = {0.0, 1e-300, 1e-3, 0.3, 1.0, 1e300};
    uint64_t seed = 1;
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
        for (size_t bi = 0; bi < sizeof Ns / sizeof *Ns; bi++)
            for (size_t ci = 0; ci < sizeof ds / sizeof *ds; ci++)
                for (size_t e = 0; e < sizeof epss / sizeof *epss; e++) {
                    if (ds[ci] == 64 && (ns[a] > 9 || Ns[bi] > 17))
                        continue; /* keep the d = 64 cases few */
                    fw_case c = {ns[a], Ns[bi], ds[ci], epss[e], 0};
                    check_forward_case(&c, seed++, &chk);
                }
    assert_true(nr_check_report(&chk));
}

static void forward_edge_cases_should_match_naive_reference(void **state)
{
    (void)state;
    nr_check chk;
    nr_check_init(&chk, "forward edge cases");
    const fw_case cases[] = {
        /* exact ties, eps = 0 and tiny */
        {9, 17, 1, 0.0, 1}, {13, 40, 2, 0.0, 1}, {5, 9, 3, 1e-300, 1}, {17, 33, 2, 0.25, 1},
        /* logits +-1e300 at every temperature */
        {9, 17, 2, 1e-300, 2}, {9, 17, 2, 1.0, 2}, {9, 17, 2, 1e300, 2}, {3, 1, 2, 1e300, 2},
        /* weights running past the -708 flush */
        {11, 50, 2, 1.0, 3}, {11, 129, 1, 0.01, 3}, {8, 64, 4, 1e-200, 3},
        /* 1/eps not a normal number: the dividing variant */
        {9, 20, 2, 1e-310, 0}, {9, 2, 2, 5e307, 0},
        /* random sizes that are not multiples of the block (8) or vector (8) */
        {37, 61, 5, 0.07, 0}, {101, 3, 64, 2.0, 0}, {64, 1, 1, 0.5, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        check_forward_case(&cases[k], 1000 + k, &chk);
    /* random sizes */
    nr_rng r;
    nr_seed(&r, 77);
    for (int rep = 0; rep < 12; rep++) {
        fw_case c = {(size_t)nr_int(&r, 1, 40), (size_t)nr_int(&r, 1, 70),
                     (size_t)nr_int(&r, 1, 12), pow(10.0, nr_unif(&r, -4.0, 2.0)), 0};
        check_forward_case(&c, 5000 + (uint64_t)rep, &chk);
    }
    assert_true(nr_check_report(&chk));
}

/* Per-point results must not depend on the thread count (they never did). */
static void forward_should_not_depend_on_thread_count(void **state)
{
    (void)state;
#ifdef _OPENMP
    const size_t n = 403, N = 203, d = 3;
    nr_rng r;
    nr_seed(&r, 9);
    double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b), *x = nr_xmalloc(n * d * sizeof *x);
    nr_fill_normal(&r, w, N * d, 1.0);
    nr_fill_normal(&r, b, N, 1.0);
    nr_fill_unif(&r, x, n * d, -2.0, 2.0);
    const hj_lse_layer L = {N, d, w, b, 0.05};
    double *out[3][3];
    const int threads[3] = {1, 2, 3};
    const int saved = omp_get_max_threads();
    for (int t = 0; t < 3; t++) {
        out[t][0] = nr_xmalloc(n * sizeof(double));
        out[t][1] = nr_xmalloc(n * N * sizeof(double));
        out[t][2] = nr_xmalloc(n * d * sizeof(double));
        omp_set_num_threads(threads[t]);
        assert_int_equal(hj_lse_forward(&L, x, n, out[t][0], out[t][1], out[t][2], NULL), HJ_OK);
    }
    omp_set_num_threads(saved);
    for (int t = 1; t < 3; t++) {
        assert_memory_equal(out[0][0], out[t][0], n * sizeof(double));
        assert_memory_equal(out[0][1], out[t][1], n * N * sizeof(double));
        assert_memory_equal(out[0][2], out[t][2], n * d * sizeof(double));
    }
    for (int t = 0; t < 3; t++)
        for (int k = 0; k < 3; k++)
            free(out[t][k]);
    free(w), free(b), free(x);
#else
    skip();
#endif
}

/* A pi big enough to be streamed out (HJ_STREAM_MIN_BYTES), at a pointer
 * that is not 64-byte aligned and with rows of N = 1001 (every row starts at
 * a different alignment), must equal bit for bit the same rows computed in
 * small slices (plain stores): streaming changes where the bytes go, not
 * what they are. */
static void streamed_pi_should_equal_plain_stores(void **state)
{
    (void)state;
    const size_t N = 1001, d = 3, n = HJ_STREAM_MIN_BYTES / (N * sizeof(double)) + 13;
    const size_t slice = 97;
    nr_rng r;
    nr_seed(&r, 21);
    double *w = nr_xmalloc(N * d * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
    double *x = nr_xmalloc(n * d * sizeof *x);
    nr_fill_normal(&r, w, N * d, 1.0);
    nr_fill_normal(&r, b, N, 1.0);
    nr_fill_unif(&r, x, n * d, -2.0, 2.0);
    const hj_lse_layer L = {N, d, w, b, 0.05};
    double *f1 = nr_xmalloc(n * sizeof *f1), *f2 = nr_xmalloc(n * sizeof *f2);
    double *big = nr_xmalloc((n * N + 1) * sizeof *big), *pi1 = big + 1; /* misaligned */
    double *pi2 = nr_xmalloc(n * N * sizeof *pi2);
    memset(big, 0xff, (n * N + 1) * sizeof *big);
    assert_true(n * N * sizeof(double) >= HJ_STREAM_MIN_BYTES);
    assert_int_equal(hj__lse_forward_impl(&L, x, n, f1, pi1, NULL, 1), 0);
    for (size_t i0 = 0; i0 < n; i0 += slice) {
        const size_t m = n - i0 < slice ? n - i0 : slice;
        assert_true(m * N * sizeof(double) < HJ_STREAM_MIN_BYTES);
        assert_int_equal(hj__lse_forward_impl(&L, x + i0 * d, m, f2 + i0, pi2 + i0 * N, NULL, 1), 0);
    }
    assert_memory_equal(f1, f2, n * sizeof *f1);
    assert_memory_equal(pi1, pi2, n * N * sizeof *pi1);
    /* and it is the Gibbs measure: rows sum to 1 */
    for (size_t i = 0; i < n; i += 211) {
        double sum = 0.0;
        for (size_t j = 0; j < N; j++)
            sum += pi1[i * N + j];
        assert_true(fabs(sum - 1.0) < 1e-12);
    }
    free(w), free(b), free(x), free(f1), free(f2), free(big), free(pi2);
}

/* ---- fused readout loss + gradient ---------------------------------------------- */

typedef struct ro_problem {
    hj_model m;
    size_t n, d, N;
    double *x, *y;
} ro_problem;

/* A readout problem: lse:N regression (C = 0; targets |x|, with output
 * scale when scaled) or lse-class:N with C classes (random labels), on n
 * points of U[-2,2]^d, parameters spread so the Gibbs weights are far from
 * uniform. */
static void ro_make(ro_problem *p, size_t n, size_t d, size_t N, size_t C, int scaled, double eps,
                    uint64_t seed)
{
    char spec[32];
    hj_arch arch;
    hj_error e;
    snprintf(spec, sizeof spec, C ? "lse-class:%zu" : "lse:%zu", N);
    assert_int_equal(hj_arch_parse(spec, d, C, scaled, &arch, &e), HJ_OK);
    assert_int_equal(hj_model_init(&p->m, &arch, eps, 1.0, seed, &e), HJ_OK);
    p->n = n, p->d = d, p->N = N;
    const size_t NT = N * (C ? C : 1);
    nr_rng r;
    nr_seed(&r, seed);
    nr_fill_normal(&r, p->m.params, NT * d, 1.0);
    nr_fill_normal(&r, p->m.params + NT * d, NT, 0.3);
    if (scaled) {
        p->m.params[arch.n_params - 2] = 1.3;
        p->m.params[arch.n_params - 1] = -0.2;
    }
    p->x = nr_xmalloc(n * d * sizeof *p->x);
    p->y = nr_xmalloc(n * sizeof *p->y);
    nr_fill_unif(&r, p->x, n * d, -2.0, 2.0);
    for (size_t i = 0; i < n; i++) {
        if (C) {
            p->y[i] = (double)nr_int(&r, 0, (long)C - 1);
            continue;
        }
        double s = 0.0;
        for (size_t k = 0; k < d; k++)
            s += p->x[i * d + k] * p->x[i * d + k];
        p->y[i] = sqrt(s);
    }
}

static void ro_free(ro_problem *p)
{
    hj_model_free(&p->m);
    free(p->x);
    free(p->y);
}

/* Naive loss and gradient (long double) from each point's class scores
 * F_c = the LSE_eps of class c's W logits (one class for a regression,
 * F = f) and dL/dF:
 *   regression  L = mean (a f_i + c - y_i)^2, dL/df_i = g_i a with
 *               g_i = 2 r_i / n, dL/da = sum_i g_i f_i, dL/dc = sum_i g_i;
 *   classifier  L = mean (log sum_c exp F_c - F_y),
 *               dL/dF_c = (softmax_c - [c == y]) / n;
 * dL/dw_jk = sum_i dL/dF_c pi_ij x_ik and dL/db_j = sum_i dL/dF_c pi_ij for
 * neuron j of class c. For each gradient entry, scale (P) receives the size
 * of its terms with pi_ij replaced by 1, and cond (P) with pi_ij replaced by
 * pi_ij (1 - pi_ij): logit errors of at most dz move pi_ij by about
 * 2 pi_ij (1 - pi_ij) dz / eps or less. */
static long double ro_naive(const ro_problem *p, long double *grad, double *scale, double *cond)
{
    const size_t n = p->n, d = p->d, W = p->N, C = p->m.arch.n_classes, nseg = C ? C : 1;
    const size_t P = p->m.arch.n_params, NT = nseg * W;
    const int scaled = p->m.arch.output_scale;
    const double *w = p->m.params, *b = w + NT * d;
    const long double a = scaled ? p->m.params[P - 2] : 1.0L, c = scaled ? p->m.params[P - 1] : 0.0L;
    long double *pi = nr_xmalloc(NT * sizeof *pi), *F = nr_xmalloc(nseg * sizeof *F);
    long double *gF = nr_xmalloc(nseg * sizeof *gF), *gd = nr_xmalloc(d * sizeof *gd);
    long double loss = 0.0L;
    for (size_t k = 0; k < P; k++)
        grad[k] = 0.0L, scale[k] = 0.0, cond[k] = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *xi = p->x + i * d;
        for (size_t s = 0; s < nseg; s++)
            F[s] = naive_layer(w + s * W * d, b + s * W, W, d, p->m.eps, xi, pi + s * W, gd);
        if (C == 0) {
            const long double r = a * F[0] + c - p->y[i], gi = 2.0L * r / (long double)n;
            loss += r * r;
            gF[0] = gi * a;
            if (scaled) {
                grad[P - 2] += gi * F[0];
                grad[P - 1] += gi;
                scale[P - 2] += fabs((double)(gi * F[0]));
                scale[P - 1] += fabs((double)gi);
            }
        } else {
            const size_t y = (size_t)p->y[i];
            long double M = -INFINITY, S = 0.0L;
            for (size_t s = 0; s < C; s++)
                M = F[s] > M ? F[s] : M;
            for (size_t s = 0; s < C; s++)
                S += expl(F[s] - M);
            loss += M + logl(S) - F[y];
            for (size_t s = 0; s < C; s++)
                gF[s] = (expl(F[s] - M) / S - (s == y)) / (long double)n;
        }
        for (size_t j = 0; j < NT; j++) {
            const long double t = gF[j / W] * pi[j];
            const double gs = fabs((double)gF[j / W]), gc = gs * (double)(pi[j] * (1.0L - pi[j]));
            for (size_t k = 0; k < d; k++) {
                grad[j * d + k] += t * xi[k];
                scale[j * d + k] += gs * fabs(xi[k]);
                cond[j * d + k] += gc * fabs(xi[k]);
            }
            grad[NT * d + j] += t;
            scale[NT * d + j] += gs;
            cond[NT * d + j] += gc;
        }
    }
    free(pi), free(F), free(gF), free(gd);
    return loss / (long double)n;
}

/* Both kernels of hj__readout_loss_grad_impl (blocked, rows) against
 * ro_naive. lscale bounds the class scores (and a regression's residuals);
 * logit errors of a few ulp of it move a gradient entry by about its cond
 * times lscale / eps. */
static void ro_check_naive(nr_check *chk, const ro_problem *p, size_t q)
{
    const size_t P = p->m.arch.n_params, C = p->m.arch.n_classes, NT = p->N * (C ? C : 1);
    const double eps = p->m.eps;
    long double *gr = nr_xmalloc(P * sizeof *gr);
    double *scale = nr_xmalloc(P * sizeof *scale), *cond = nr_xmalloc(P * sizeof *cond);
    double *g = nr_xmalloc(P * sizeof *g);
    const long double lr = ro_naive(p, gr, scale, cond);
    double lscale = 0.0;
    for (size_t i = 0; i < p->n; i++)
        lscale = fmax(lscale, nr_logit_scale(p->m.params, p->m.params + NT * p->d, NT, p->d,
                                             p->x + i * p->d) +
                                  (C ? 0.0 : fabs(p->y[i])) + eps * log((double)p->N));
    /* a regression's loss is a mean of squares of residuals of size lscale */
    const double loss_tol = (C ? 1e-13 : 4e-13 * lscale) * (lscale + 1.0) + 1e-300;
    const double amp = eps > 0.0 ? lscale / eps : 0.0;
    for (int simd = 1; simd >= 0; simd--) {
        double loss = NAN;
        hj_error e;
        assert_int_equal(hj__readout_loss_grad_impl(&p->m, p->m.params, p->x, p->y, p->n, &loss, g, simd, &e),
                         HJ_OK);
        nr_close(chk, loss, lr, loss_tol, "case %zu simd=%d: loss", q, simd);
        for (size_t k = 0; k < P; k++)
            nr_close(chk, g[k], gr[k], 1e-12 * (scale[k] + amp * cond[k]) + 1e-300,
                     "case %zu simd=%d (n=%zu d=%zu N=%zu classes=%zu eps=%g): grad[%zu]", q,
                     simd, p->n, p->d, p->N, C, eps, k);
    }
    free(gr), free(scale), free(cond), free(g);
}

/* Fourth-order central differences of the loss through the public
 * hj_model_loss_grad, at about 20 of the parameters. */
static void ro_check_fd(nr_check *chk, ro_problem *p, size_t q)
{
    const size_t P = p->m.arch.n_params;
    hj_workspace *ws;
    hj_error e;
    assert_int_equal(hj_workspace_alloc(&ws, &p->m, p->n, &e), HJ_OK);
    double *g = nr_xmalloc(P * sizeof *g), loss;
    assert_int_equal(hj_model_loss_grad(&p->m, p->m.params, ws, p->x, p->y, p->n, &loss, g, &e), HJ_OK);
    double gmax = 1e-3;
    for (size_t k = 0; k < P; k++)
        gmax = fmax(gmax, fabs(g[k]));
    for (size_t k = 0; k < P; k += (P > 40 ? P / 20 : 1)) {
        const double save = p->m.params[k], h = 1e-5, off[4] = {-2.0, -1.0, 1.0, 2.0};
        double l[4];
        for (int j = 0; j < 4; j++) {
            p->m.params[k] = save + off[j] * h;
            assert_int_equal(hj_model_loss_grad(&p->m, p->m.params, ws, p->x, p->y, p->n, &l[j], NULL, &e),
                             HJ_OK);
        }
        p->m.params[k] = save;
        const double fd = (l[0] - 8.0 * l[1] + 8.0 * l[2] - l[3]) / (12.0 * h);
        nr_close(chk, g[k], fd, 1e-6 * (fabs(fd) + gmax), "case %zu: dL/dparam[%zu]", q, k);
    }
    free(g);
    hj_workspace_free(ws);
}

static void readout_should_match_naive_reference(void **state)
{
    (void)state;
    nr_check chk;
    nr_check_init(&chk, "readout vs naive");
    const struct {
        size_t n, d, N;
        int scaled;
        double eps;
    } cases[] = {
        {1, 1, 1, 0, 0.5},     {7, 1, 9, 0, 0.1},    {9, 2, 17, 1, 0.05},  {23, 4, 40, 0, 0.2},
        {50, 3, 31, 1, 1.0},   {17, 64, 10, 0, 0.3}, {64, 2, 200, 0, 0.01}, {33, 1, 500, 0, 0.002},
        {12, 2, 8, 1, 1e-300}, {12, 2, 8, 0, 1e3}, {10, 2, 16, 0, 0.0},  {41, 5, 33, 1, 1e-3},
    };
    for (size_t q = 0; q < sizeof cases / sizeof *cases; q++) {
        ro_problem p;
        ro_make(&p, cases[q].n, cases[q].d, cases[q].N, 0, cases[q].scaled, cases[q].eps, 300 + q);
        ro_check_naive(&chk, &p, q);
        ro_free(&p);
    }
    assert_true(nr_check_report(&chk));
}

/* Central differences of the loss (through the public hj_model_loss_grad),
 * for regression readouts and a classifier. */
static void readout_gradient_should_match_finite_differences(void **state)
{
    (void)state;
    nr_check chk;
    nr_check_init(&chk, "readout finite differences");
    const struct {
        size_t n, d, N;
        int scaled;
        double eps;
    } cases[] = {{19, 2, 13, 0, 0.3}, {40, 1, 50, 1, 0.1}, {9, 4, 24, 0, 0.5}};
    ro_problem pc;
    ro_make(&pc, 203, 3, 11, 4, 0, 0.2, 1234);
    ro_check_fd(&chk, &pc, 99);
    ro_free(&pc);
    for (size_t q = 0; q < sizeof cases / sizeof *cases; q++) {
        ro_problem p;
        ro_make(&p, cases[q].n, cases[q].d, cases[q].N, 0, cases[q].scaled, cases[q].eps, 700 + q);
        ro_check_fd(&chk, &p, q);
        ro_free(&p);
    }
    assert_true(nr_check_report(&chk));
}

/* For a given thread count the result is bit-for-bit reproducible; across
 * thread counts the partial sums are grouped differently but agree closely. */
static void ro_check_deterministic(const ro_problem *p, int simd)
{
    const size_t P = p->m.arch.n_params;
    double *g1 = nr_xmalloc(P * sizeof *g1), *g2 = nr_xmalloc(P * sizeof *g2), l1, l2;
    hj_error e;
    assert_int_equal(hj__readout_loss_grad_impl(&p->m, p->m.params, p->x, p->y, p->n, &l1, g1, simd, &e),
                     HJ_OK);
    assert_int_equal(hj__readout_loss_grad_impl(&p->m, p->m.params, p->x, p->y, p->n, &l2, g2, simd, &e),
                     HJ_OK);
    assert_memory_equal(&l1, &l2, sizeof l1);
    assert_memory_equal(g1, g2, P * sizeof *g1);
#ifdef _OPENMP
    const int saved = omp_get_max_threads();
    double gmax = 0.0;
    for (size_t k = 0; k < P; k++)
        gmax = fmax(gmax, fabs(g1[k]));
    double *g3 = nr_xmalloc(P * sizeof *g3);
    for (int t = 1; t <= 3; t++) {
        omp_set_num_threads(t);
        assert_int_equal(hj__readout_loss_grad_impl(&p->m, p->m.params, p->x, p->y, p->n, &l2, g2, simd, &e),
                         HJ_OK);
        double again;
        assert_int_equal(hj__readout_loss_grad_impl(&p->m, p->m.params, p->x, p->y, p->n, &again, g3, simd, &e),
                         HJ_OK);
        assert_memory_equal(g2, g3, P * sizeof *g2);
        assert_memory_equal(&l2, &again, sizeof l2);
        assert_true(fabs(l2 - l1) <= 1e-13 * l1);
        for (size_t k = 0; k < P; k++)
            assert_true(fabs(g2[k] - g1[k]) <= 1e-12 * gmax);
    }
    free(g3);
    omp_set_num_threads(saved);
#endif
    free(g1), free(g2);
}

static void readout_should_be_deterministic(void **state)
{
    (void)state;
    ro_problem p;
    for (int simd = 1; simd >= 0; simd--) { /* the blocked kernel where it runs, and the rows */
        ro_make(&p, 1001, 2, 150, 0, 1, 0.05, 42);
        ro_check_deterministic(&p, simd);
        ro_free(&p);
        ro_make(&p, 1001, 5, 37, 10, 0, 0.1, 43);
        ro_check_deterministic(&p, simd);
        ro_free(&p);
    }
}

/* ---- the same for lse-class readouts (C classes of W neurons each) ----- */

static void readout_classifier_should_match_naive_reference(void **state)
{
    (void)state;
    nr_check chk;
    nr_check_init(&chk, "classifier readout vs naive");
    const struct {
        size_t n, d, W, C;
        double eps;
    } cases[] = {
        {1, 1, 1, 2, 0.5},   {7, 2, 9, 3, 0.1},     {9, 3, 8, 2, 0.05},   {23, 4, 17, 10, 0.2},
        {50, 1, 31, 4, 1.0}, {17, 50, 12, 10, 0.3}, {33, 2, 40, 5, 0.01}, {12, 2, 8, 3, 1e-300},
        {12, 2, 8, 3, 1e3},  {10, 2, 16, 3, 0.0},   {41, 5, 3, 7, 1e-3},
    };
    for (size_t q = 0; q < sizeof cases / sizeof *cases; q++) {
        ro_problem p;
        ro_make(&p, cases[q].n, cases[q].d, cases[q].W, cases[q].C, 0, cases[q].eps, 900 + q);
        ro_check_naive(&chk, &p, q);
        ro_free(&p);
    }
    assert_true(nr_check_report(&chk));
}

/* ---- vector exp ------------------------------------------------------------------ */

/* Distance in units in the last place between two finite doubles of the same sign. */
static double ulp_dist(double a, double b)
{
    if (a == b)
        return 0.0;
    int64_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    if ((ia < 0) != (ib < 0))
        return INFINITY;
    return fabs((double)(ia - ib));
}

static void vector_exp_should_match_libm_within_4_ulp(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 3);
    const size_t n = 20011; /* not a multiple of the vector width */
    double *v = nr_xmalloc(n * sizeof *v), *in = nr_xmalloc(n * sizeof *in);
    const double special[] = {0.0, -0.0, 1.0, -1.0, -708.0, -708.5, -709.0, -720.0, -745.0,
                              -745.2, -746.0, -1000.0, 709.0, 709.78, 709.79, 710.0, 1e300,
                              -1e300, 1e-300, -1e-300, INFINITY, -INFINITY, NAN};
    const size_t ns = sizeof special / sizeof *special;
    for (size_t i = 0; i < n; i++) {
        if (i < ns)
            in[i] = special[i];
        else if (i % 3 == 0) /* subnormal results */
            in[i] = nr_unif(&r, -745.2, -708.0);
        else
            in[i] = nr_unif(&r, -745.0, 709.7);
    }
    memcpy(v, in, n * sizeof *v);
    hj__exp_inplace(v, n);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double ref = exp(in[i]);
        if (isnan(ref)) {
            assert_true(isnan(v[i]));
            continue;
        }
        const double u = ulp_dist(v[i], ref);
        if (!(u <= 4.0))
            fail_msg("exp(%.17g): got %.17g, libm %.17g (%g ulp)", in[i], v[i], ref, u);
        worst = fmax(worst, u);
    }
    printf("vector exp: worst %g ulp over %zu values\n", worst, n);
    free(v), free(in);
}

/* The Gibbs-weight exp (t <= 0, flushed below 1e-307) against expl: where
 * the weight is kept within 1.02 ulp for the inline AVX-512 and AVX2 exps
 * (the bound exp_avx512.h and exp_avx2.h document) and 4 ulp for the
 * portable path (libmvec's documented bound), exactly 0 where expl(t) < 1e-307 by more than the
 * rounding of the threshold, and for -inf and NaN. */
static void gibbs_exp_should_match_expl_and_flush(void **state)
{
    (void)state;
    nr_rng r;
    nr_seed(&r, 11);
    const size_t n = 200003; /* not a multiple of the vector width */
    double *v = nr_xmalloc(n * sizeof *v), *in = nr_xmalloc(n * sizeof *in);
    const double special[] = {0.0, -0.0, -1e-300, -4.9e-324, -0x1p-60, -0.5, -1.0,
                              -0.021660849392498290, -0.021660849392498291, /* ln2/32 edges */
                              -0.043321698784996582, -0.043321698784996575, /* ln2/16 (AVX2) */
                              -700.0, -706.89, -706.9, -708.0, -745.0, -1e300,
                              -INFINITY, NAN};
    const size_t ns = sizeof special / sizeof *special;
    for (size_t i = 0; i < n; i++) {
        if (i < ns)
            in[i] = special[i];
        else if (i % 4 == 0) /* near the flush */
            in[i] = nr_unif(&r, -708.0, -705.0);
        else if (i % 4 == 1) /* the table's interval edges and small t */
            in[i] = -ldexp(nr_unif(&r, 0.0, 1.0), -(int)(i % 60));
        else
            in[i] = nr_unif(&r, -706.9, 0.0);
    }
    for (int simd = 1; simd >= 0; simd--) {
        const double tol = simd && hj__kernels() != HJ_KERNELS_PORTABLE ? 1.02 : 4.0;
        memcpy(v, in, n * sizeof *v);
        hj__exp_nonpos_impl(v, n, simd);
        double worst = 0.0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(in[i]) || in[i] == -INFINITY) {
                assert_true(v[i] == 0.0);
                continue;
            }
            const long double ref = expl((long double)in[i]);
            if (ref < 0.999999L * 1e-307L) {
                if (v[i] != 0.0)
                    fail_msg("simd=%d: exp(%.17g) = %.17g should be flushed", simd, in[i], v[i]);
                continue;
            }
            if (v[i] == 0.0 && ref < 1.000001L * 1e-307L)
                continue; /* at the threshold either is right */
            const double u = (double)(fabsl((long double)v[i] - ref) /
                                      ldexpl(1.0L, ilogbl(ref) - 52));
            if (!(u <= tol))
                fail_msg("simd=%d: exp(%.17g): got %.17g, expl %.21Lg (%g ulp)", simd, in[i],
                         v[i], ref, u);
            worst = fmax(worst, u);
        }
        printf("Gibbs-weight exp (simd=%d, %s kernels): worst %.3f ulp over %zu values\n", simd,
               hj__kernels_name(hj__kernels()), worst, n);
    }
    free(v), free(in);
}

/* The weights the blocked kernels form, e = exp((z - m) s) with s = 1/eps
 * (the form that rounds k from (z - m) times s 8/ln2 or s 16/ln2, off the
 * chain through t: exp_avx2.h), against expl of t = (z - m) s as rounded
 * to double: within the same 1.02 ulp, flushed where expl(t) < 1e-307.
 * With d = 1, x = 0 every logit is its bias exactly, the row's largest is
 * 0, so z - m = b_j exactly; s = 1/eps for eps = 0.1 (inexact), 0.5 and
 * 1/3. The biases sweep the whole range [-706.9 eps, 0] and the flush. */
static void blocked_weights_should_match_expl_and_flush(void **state)
{
    (void)state;
    const hj__kernel_set set = hj__kernels();
    if (set == HJ_KERNELS_PORTABLE) {
        printf("blocked weights: portable kernels, no blocked path to test\n");
        return;
    }
    nr_rng r;
    nr_seed(&r, 23);
    const size_t N = 40000;
    const double eps_list[] = {0.1, 0.5, 1.0 / 3.0};
    double *w = nr_xmalloc(N * sizeof *w), *b = nr_xmalloc(N * sizeof *b);
    for (size_t e = 0; e < sizeof eps_list / sizeof *eps_list; e++) {
        const double eps = eps_list[e];
        for (size_t j = 0; j < N; j++) {
            w[j] = 1.0;
            const double t = j == 0 ? 0.0 : j % 3 == 0 ? nr_unif(&r, -708.0, -705.0)
                                     : j % 3 == 1   ? -ldexp(nr_unif(&r, 0.0, 1.0), -(int)(j % 60))
                                                    : nr_unif(&r, -706.9, 0.0);
            b[j] = t * eps;
        }
        hj__packed_layer pk;
        assert_int_equal(hj__pack_layer(&pk, w, b, N, 1, eps), 0);
        assert_true(pk.inv_eps != 0.0);
        double *Z = hj__alloc_aligned(HJ_BLK_P * pk.Np), *xT = hj__alloc_aligned(HJ_VEC);
        double m[HJ_BLK_P], sum[HJ_BLK_P];
        for (size_t p = 0; p < HJ_BLK_P; p++)
            xT[p] = 0.0;
        hj__lse_block(set, &pk, xT, Z, m, sum);
        double worst = 0.0;
        for (size_t p = 0; p < HJ_BLK_P; p++) {
            assert_true(m[p] == 0.0);
            for (size_t j = 0; j < N; j++) {
                const double t = b[j] * pk.inv_eps, v = Z[p * pk.Np + j];
                const long double ref = expl((long double)t);
                if (ref < 0.999999L * 1e-307L) {
                    if (v != 0.0)
                        fail_msg("%s eps=%g: exp(%.17g) = %.17g should be flushed",
                                 hj__kernels_name(set), eps, t, v);
                    continue;
                }
                if (v == 0.0 && ref < 1.000001L * 1e-307L)
                    continue;
                const double u =
                    (double)(fabsl((long double)v - ref) / ldexpl(1.0L, ilogbl(ref) - 52));
                if (!(u <= 1.02))
                    fail_msg("%s eps=%g: exp(%.17g): got %.17g, expl %.21Lg (%g ulp)",
                             hj__kernels_name(set), eps, t, v, ref, u);
                worst = fmax(worst, u);
            }
        }
        printf("blocked weights (%s kernels, eps = %g): worst %.3f ulp over %zu values\n",
               hj__kernels_name(set), eps, worst, N);
        free(Z), free(xT);
        hj__packed_free(&pk);
    }
    free(w), free(b);
}

/* ---- the kernel set ---------------------------------------------------------------- */

/* HJDL_KERNELS's rule on every kind of CPU (the flags passed in, not this
 * CPU's): unset or empty gives the widest set, a supported name that set,
 * a set the CPU lacks or an unknown name an error naming the value. */
static void kernel_set_rule_should_choose_and_refuse(void **state)
{
    (void)state;
    static const char *const names[] = {"portable", "avx2", "avx512"};
    for (int a512 = 0; a512 <= 1; a512++)
        for (int a2 = a512; a2 <= 1; a2++) { /* AVX-512F CPUs have AVX2 and FMA */
            const hj__kernel_set widest = a512 ? HJ_KERNELS_AVX512 : a2 ? HJ_KERNELS_AVX2
                                                                        : HJ_KERNELS_PORTABLE;
            hj__kernel_set set;
            hj_error e;
            assert_int_equal(hj__kernels_parse(NULL, a512, a2, &set, &e), HJ_OK);
            assert_int_equal(set, widest);
            assert_int_equal(hj__kernels_parse("", a512, a2, &set, &e), HJ_OK);
            assert_int_equal(set, widest);
            for (int k = 0; k < 3; k++) {
                const int have = k == 2 ? a512 : k == 1 ? a2 : 1;
                const hj_status st = hj__kernels_parse(names[k], a512, a2, &set, &e);
                if (have) {
                    assert_int_equal(st, HJ_OK);
                    assert_int_equal(set, k);
                    assert_string_equal(hj__kernels_name(set), names[k]);
                } else {
                    assert_int_equal(st, HJ_EINVAL);
                    assert_non_null(strstr(e.msg, names[k]));
                    assert_non_null(strstr(e.msg, "lacks"));
                }
            }
            for (const char *bad = "AVX2"; bad; bad = strcmp(bad, "AVX2") == 0 ? "sse" : NULL) {
                assert_int_equal(hj__kernels_parse(bad, a512, a2, &set, &e), HJ_EINVAL);
                assert_non_null(strstr(e.msg, bad));
                assert_non_null(strstr(e.msg, "unknown"));
            }
        }
}

/* The set in force is the one HJDL_KERNELS names (ctest runs this file once
 * per set the CPU has): without this the per-set runs could all test the
 * default set and pass. */
static void kernel_set_should_follow_the_environment(void **state)
{
    (void)state;
    const char *want = getenv("HJDL_KERNELS");
    printf("kernel set in force: %s (HJDL_KERNELS=%s)\n", hj__kernels_name(hj__kernels()),
           want ? want : "unset");
    if (want != NULL && want[0] != '\0')
        assert_string_equal(hj__kernels_name(hj__kernels()), want);
}

/* ---- Adam update ------------------------------------------------------------------ */

/* The vectorised update keeps the scalar formula's operations and order, so
 * it must give exactly the bits of this plain loop (the textbook update). */
static void adam_update_should_equal_plain_loop_bitwise(void **state)
{
    (void)state;
    const size_t n = 37; /* vector part and scalar tail */
    const double lr = 0.006, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    nr_rng r;
    nr_seed(&r, 11);
    double p[37], m[37], v[37], pr[37], mr[37], vr[37], g[37];
    nr_fill_normal(&r, p, n, 1.0);
    memcpy(pr, p, sizeof p);
    memset(m, 0, sizeof m), memset(v, 0, sizeof v), memset(mr, 0, sizeof mr), memset(vr, 0, sizeof vr);
    for (size_t t = 1; t <= 6; t++) {
        nr_fill_normal(&r, g, n, t == 3 ? 1e-160 : 1.0); /* one step with tiny gradients */
        hj__adam_step(p, g, m, v, t, n, lr, b1, b2, eps);
        const double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
        for (size_t i = 0; i < n; i++) {
            mr[i] = b1 * mr[i] + (1.0 - b1) * g[i];
            vr[i] = b2 * vr[i] + (1.0 - b2) * g[i] * g[i];
            const double mhat = mr[i] / c1, vhat = vr[i] / c2;
            pr[i] -= lr * mhat / (sqrt(vhat) + eps);
        }
        assert_memory_equal(p, pr, sizeof p);
        assert_memory_equal(m, mr, sizeof m);
        assert_memory_equal(v, vr, sizeof v);
    }
}

int main(void)
{
    hj_error e;
    if (hj__kernels_check(&e) != HJ_OK) { /* a set this CPU lacks: ctest counts it skipped */
        printf("skipped: %s\n", e.msg);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_set_rule_should_choose_and_refuse),
        cmocka_unit_test(kernel_set_should_follow_the_environment),
        cmocka_unit_test(forward_should_match_naive_reference),
        cmocka_unit_test(forward_edge_cases_should_match_naive_reference),
        cmocka_unit_test(forward_should_not_depend_on_thread_count),
        cmocka_unit_test(streamed_pi_should_equal_plain_stores),
        cmocka_unit_test(readout_should_match_naive_reference),
        cmocka_unit_test(readout_gradient_should_match_finite_differences),
        cmocka_unit_test(readout_should_be_deterministic),
        cmocka_unit_test(readout_classifier_should_match_naive_reference),
        cmocka_unit_test(vector_exp_should_match_libm_within_4_ulp),
        cmocka_unit_test(gibbs_exp_should_match_expl_and_flush),
        cmocka_unit_test(blocked_weights_should_match_expl_and_flush),
        cmocka_unit_test(adam_update_should_equal_plain_loop_bitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
